"Kill a `train` command with SIGKILL mid-run, start it again: it resumes from its checkpoint and ends where an uninterrupted run ends."
import os, sys, json, signal, subprocess, time
from pathlib import Path
import torch, pytest
from safetensors.torch import load_file
from image2prompt.learner import list_checkpoints

ARGS = ['--size', '32', '--lp_epochs', '150', '--bs', '4', '--lr', '3e-3', '--seed', '0', '--device', 'cpu']

def _cmd(data, out):
    return [sys.executable, str(Path(__file__).parent/'i2p_cli.py'), 'train', str(data/'train'), str(out), '--valid_dir', str(data/'valid'), *ARGS]

@pytest.fixture(scope='module')
def data(tmp_path_factory):
    from image2prompt.toyworld import build_dataset
    d = tmp_path_factory.mktemp('pairs')
    build_dataset(d/'train', 32, seed=1, tail_count=0, size=32, progress=False)
    build_dataset(d/'valid', 12, seed=2, tail_count=0, size=32, progress=False)
    return d

def _epochs_done(ckpt_dir):
    "Epochs in the newest checkpoint (None when there is none yet, or it was just replaced under us)."
    try: return json.loads((list_checkpoints(ckpt_dir)[-1]/'state.json').read_text())['epoch']
    except (IndexError, OSError, ValueError): return None

def test_kill_and_resume(data, tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS='1')
    full, killed = tmp_path/'full', tmp_path/'killed'
    subprocess.run(_cmd(data, full), check=True, env=env, capture_output=True)
    p = subprocess.Popen(_cmd(data, killed), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ckpt = killed/'ckpt_lp'; t0 = time.time()
    while not ((_epochs_done(ckpt) or 0) >= 2) and p.poll() is None and time.time() - t0 < 300: time.sleep(0.05)
    p.send_signal(signal.SIGKILL); p.wait()
    done = _epochs_done(ckpt)
    assert done is not None and 2 <= done < 150, f'the run was not interrupted mid-training (epochs done: {done})'
    assert not (killed/'regressor'/'model.safetensors').exists()
    out = subprocess.run(_cmd(data, killed), check=True, env=env, capture_output=True, text=True)
    assert 'validation mean cosine' in out.stdout
    a, b = load_file(full/'regressor'/'model.safetensors'), load_file(killed/'regressor'/'model.safetensors')
    assert a.keys() == b.keys()
    for k in a: torch.testing.assert_close(a[k], b[k], atol=1e-6, rtol=1e-5)
    h = json.loads((killed/'history.json').read_text()); assert [x['epoch'] for x in h] == list(range(1, 151))
