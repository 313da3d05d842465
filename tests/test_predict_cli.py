"`image2prompt predict` and `demo` end to end: submission format, corrupt images skipped, mismatched bank and checkpoint refused."
import json, shutil
from pathlib import Path
import numpy as np, pandas as pd, torch, pytest
from i2p_cli import run_cli as main
from image2prompt.core import asset, assets_dir

@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from image2prompt.toyworld import build_dataset
    from image2prompt.regressor import Regressor, timm_backbone, set_trainable, save_regressor
    from image2prompt.embeddings import embed_prompts, save_embeddings
    d = tmp_path_factory.mktemp('pred')
    build_dataset(d/'imgs', 10, seed=4, tail_count=0, size=32, progress=False)
    (d/'imgs'/'zz_corrupt.jpg').write_bytes(b'\xff\xd8\xff\xe0 truncated')
    torch.manual_seed(0); save_regressor(set_trainable(Regressor(timm_backbone(size=32)), 'head'), d/'reg')
    prompts = ['a red circle', 'two blue squares, night', 'a watercolor painting of a green tree']
    save_embeddings(d/'reg'/'bank.npy', embed_prompts(prompts, progress=False), pd.DataFrame(dict(prompt=prompts)))
    return d

def test_predict_cmd_skips_corrupt(setup, capsys):
    d = setup; r = main(['predict', str(d/'imgs'), '--out_dir', str(d/'out'), '--regressor', str(d/'reg'), '--k', '2', '--device', 'cpu'])
    assert r['n'] == 10 and [e['id'] for e in r['skipped']] == ['zz_corrupt']
    assert 'zz_corrupt.jpg' in capsys.readouterr().out
    sub = pd.read_csv(d/'out'/'submission.csv')
    assert list(sub.columns) == ['imgId_eId', 'val'] and len(sub) == 10*384
    ids = sorted(p.stem for p in (d/'imgs').glob('*.png'))
    assert sub.imgId_eId.tolist() == [f'{i}_{j}' for i in ids for j in range(384)]
    v = sub.val.values.reshape(10, 384); np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    pr = pd.read_csv(d/'out'/'prompts.csv'); assert len(pr) == 20 and set(pr.prompt) <= {'a red circle', 'two blue squares, night', 'a watercolor painting of a green tree'}
    pq = pd.read_parquet(d/'out'/'predictions.parquet'); assert pq.id.tolist() == ids and 'cosine' in pq

def test_bank_rows_mismatch_refused(setup, tmp_path):
    d = setup; bad = tmp_path/'bank'; shutil.copytree(d/'reg', bad)
    np.save(bad/'bank.npy', np.load(bad/'bank.npy')[:2])
    with pytest.raises(ValueError, match='2 rows but its prompt table has 3'):
        main(['predict', str(d/'imgs'), '--out_dir', str(tmp_path/'o'), '--regressor', str(bad), '--device', 'cpu'])

def test_checkpoint_of_other_backbone_refused(setup, tmp_path):
    d = setup; bad = tmp_path/'reg'; shutil.copytree(d/'reg', bad)
    cfg = json.loads((bad/'config.json').read_text())
    cfg['backbone'] = dict(kind='hf', name='tiny', config=dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                           num_attention_heads=2, image_size=32, patch_size=8))
    (bad/'config.json').write_text(json.dumps(cfg))
    with pytest.raises(ValueError, match='do not fit this backbone'):
        main(['predict', str(d/'imgs'), '--out_dir', str(tmp_path/'o'), '--regressor', str(bad), '--device', 'cpu'])

@pytest.mark.skipif(not (assets_dir()/'regressor'/'model.safetensors').exists(), reason='no shipped regressor yet')
def test_demo_on_shipped_default(tmp_path, capsys):
    from image2prompt.predict import demo_cmd
    r = demo_cmd(str(tmp_path/'demo'), device='cpu')
    n = len(list(asset('sample_images').glob('*.png')))
    assert r['n'] == n and not r['skipped'] and r['mean_cos'] > 0.5
    assert len(pd.read_csv(tmp_path/'demo'/'submission.csv')) == n*384
    assert 'mean cosine over' in capsys.readouterr().out
