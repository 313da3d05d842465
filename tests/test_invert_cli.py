"`image2prompt invert`: targets .npy -> prompts.csv through the console script, and bad input refused with one line."
import os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from i2p_cli import run_cli as main
from image2prompt.core import InputError

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ['a portrait photo of a kangaroo wearing an orange hoodie', 'hulk, marvel, artwork by nicholas roerich']

@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from image2prompt.embeddings import embed_prompts
    d = tmp_path_factory.mktemp('inv')
    np.save(d/'t.npy', embed_prompts(PROMPTS, progress=False))
    np.save(d/'bad.npy', np.ones((2, 100), np.float32))
    (d/'bank.txt').write_text('a kangaroo in a hoodie, photo\na castle on a hill, oil painting\n')
    return d

def _args(d, targets, out):
    return ['invert', str(d/targets), '--out', str(out), '--strategies', 'ab', '--bank', str(d/'bank.txt'),
            '--n_flavors', '100', '--max_evals', '30', '--quiet']

def _run(args, d):
    exe = Path(sys.executable).parent/'image2prompt'
    cmd = [str(exe)] if exe.exists() else [sys.executable, str(ROOT/'tests'/'i2p_cli.py')]
    env = dict(os.environ, PYTHONPATH=str(ROOT), I2P_VOCAB_CACHE=str(d/'vocab'), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    return subprocess.run(cmd + args, capture_output=True, text=True, env=env, timeout=600)

def test_invert_in_process(setup, tmp_path, capsys):
    r = main(_args(setup, 't.npy', tmp_path/'p.csv'))
    df = pd.read_csv(tmp_path/'p.csv')
    assert list(df.columns) == ['prompt', 'cos'] and len(df) == 2 and r['n'] == 2
    assert df.prompt.str.strip().str.len().gt(0).all() and df.cos.between(0.3, 1.0001).all()
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith(str(tmp_path/'p.csv'))
    with pytest.raises(InputError, match=r'got shape \(2, 100\)'): main(_args(setup, 'bad.npy', tmp_path/'q.csv'))

def test_invert_console_script(setup, tmp_path):
    d = setup
    ok = _run(_args(d, 't.npy', tmp_path/'p.csv'), d)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert list(pd.read_csv(tmp_path/'p.csv').columns) == ['prompt', 'cos']
    assert ok.stdout.strip().splitlines()[-1].startswith('inverted 2 targets')
    bad = _run(_args(d, 'bad.npy', tmp_path/'q.csv'), d)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and 'got shape (2, 100)' in bad.stderr
    assert not (tmp_path/'q.csv').exists()
