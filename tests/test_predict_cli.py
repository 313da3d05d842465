"`image2prompt predict` and `demo` end to end: submission format, corrupt images skipped, inverted prompts beside the bank's nearest, mismatched bank and checkpoint refused."
import json, shutil
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
    d = setup; r = main(['predict', str(d/'imgs'), '--out_dir', str(d/'out'), '--regressor', str(d/'reg'), '--k', '2', '--device', 'cpu', '--invert', 'none'])
    assert r['n'] == 10 and [e['id'] for e in r['skipped']] == ['zz_corrupt']
    assert 'zz_corrupt.jpg' in capsys.readouterr().out
    sub = pd.read_csv(d/'out'/'submission.csv')
    assert list(sub.columns) == ['imgId_eId', 'val'] and len(sub) == 10*384
    ids = sorted(p.stem for p in (d/'imgs').glob('*.png'))
    assert sub.imgId_eId.tolist() == [f'{i}_{j}' for i in ids for j in range(384)]
    v = sub.val.values.reshape(10, 384); np.testing.assert_allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    pr = pd.read_csv(d/'out'/'prompts.csv'); assert len(pr) == 20 and set(pr.prompt) <= {'a red circle', 'two blue squares, night', 'a watercolor painting of a green tree'}
    pq = pd.read_parquet(d/'out'/'predictions.parquet'); assert pq.id.tolist() == ids and 'cosine' in pq

def test_predict_inverts_by_default(setup, tmp_path, monkeypatch):
    "Default prompts.csv: one inverted prompt per image (its MiniLM cosine to the prediction) and the bank's nearest beside it."
    from image2prompt.embeddings import embed_prompts
    from image2prompt.invert import readability
    d = setup; monkeypatch.setenv('I2P_VOCAB_CACHE', str(tmp_path/'vocab'))
    main(['predict', str(d/'imgs'), '--out_dir', str(tmp_path/'o'), '--regressor', str(d/'reg'), '--device', 'cpu',
          '--invert_flavors', '20', '--invert', 'ab', '--invert_evals', '60'])
    pr = pd.read_csv(tmp_path/'o'/'prompts.csv'); sub = pd.read_csv(tmp_path/'o'/'submission.csv')
    assert list(pr.columns) == ['id', 'prompt', 'cos', 'readable_prompt', 'readable_cos', 'bank_prompt', 'bank_score'] and len(pr) == 10
    assert (pr.readable_cos >= pr.cos - 0.03).all() and all(readability(p) == [] for p in pr.readable_prompt)
    assert set(pr.bank_prompt) <= {'a red circle', 'two blue squares, night', 'a watercolor painting of a green tree'}
    P = sub.val.values.reshape(10, 384); np.testing.assert_allclose((embed_prompts(pr.prompt.tolist(), progress=False) * P).sum(1), pr.cos, atol=1e-4)
    assert (pr.cos >= pr.bank_score - 1e-4).all() and all(readability(p) == [] for p in pr.prompt)
    main(['predict', str(d/'imgs'), '--out_dir', str(tmp_path/'plain'), '--regressor', str(d/'reg'), '--device', 'cpu', '--invert', 'none', '--k', '1'])
    assert sub.equals(pd.read_csv(tmp_path/'plain'/'submission.csv'))  # the inversion leaves the submission alone
    pq, pq0 = pd.read_parquet(tmp_path/'o'/'predictions.parquet'), pd.read_parquet(tmp_path/'plain'/'predictions.parquet')
    assert pq[pq0.columns].drop(columns='embedding').equals(pq0.drop(columns='embedding')) and pq.inverted_prompt.tolist() == pr.prompt.tolist()

def test_predict_default_is_deterministic_under_load(setup, tmp_path, monkeypatch):
    "Issue 28 #4: the default inversion stops at a count of evaluations, so a machine whose CPU clock runs 100x faster (a loaded one) writes the same prompts.csv."
    import image2prompt.invert as inv
    d = setup; monkeypatch.setenv('I2P_VOCAB_CACHE', str(tmp_path/'vocab'))
    args = lambda o: ['predict', str(d/'imgs'), '--out_dir', str(tmp_path/o), '--regressor', str(d/'reg'), '--device', 'cpu', '--invert', 'ab', '--invert_flavors', '20']
    main(args('a'))
    clock = iter(range(0, 10**9, 100))
    monkeypatch.setattr(inv.time, 'process_time', lambda: float(next(clock)))
    main(args('b'))
    a, b = pd.read_csv(tmp_path/'a'/'prompts.csv'), pd.read_csv(tmp_path/'b'/'prompts.csv')
    pd.testing.assert_frame_equal(a, b)

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
    from image2prompt.predict_experiment import demo_cmd
    r = demo_cmd(str(tmp_path/'demo'), device='cpu')
    n = len(list(asset('sample_images').glob('*.png')))
    assert r['n'] == n and not r['skipped'] and r['mean_cos'] > 0.5
    assert len(pd.read_csv(tmp_path/'demo'/'submission.csv')) == n*384
    assert 'mean cosine over' in capsys.readouterr().out
