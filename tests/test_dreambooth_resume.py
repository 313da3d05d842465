"Kill a DreamBooth run (SIGKILL) after a checkpoint, resume it, and get the weights of an uninterrupted run."
import os, sys, time, signal, subprocess
from pathlib import Path
import torch
from PIL import Image
from safetensors.torch import load_file

from image2prompt.test_utils import tiny_sd_pipeline
from image2prompt.learner import list_checkpoints

ARGS = ['--class_name', 'box', '--resolution', '32', '--n_class_images', '2', '--steps', '8', '--ckpt_every', '2',
        '--val_every', '0', '--gen_steps', '2', '--lr', '1e-2', '--device', 'cpu']


def _cmd(tiny, inst, out):
    "The `image2prompt dreambooth` command line, run in a child process (via `test_dreambooth.cli`)."
    code = 'import sys; sys.path.insert(0, %r); from test_dreambooth import cli; cli(sys.argv[1:])' % str(Path(__file__).parent)
    return [sys.executable, '-c', code, 'dreambooth', str(tiny), str(inst), '--out_dir', str(out)] + ARGS


def test_kill_and_resume(tmp_path):
    tiny = tiny_sd_pipeline(tmp_path/'tiny')
    inst = tmp_path/'inst'; inst.mkdir()
    for i in range(3): Image.new('RGB', (32, 32), (80*i, 100, 30)).save(inst/f'{i}.png')
    env = dict(os.environ, HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', OMP_NUM_THREADS='1')
    ref, run = tmp_path/'ref', tmp_path/'run'
    # one run, killed once its first checkpoint exists
    p = subprocess.Popen(_cmd(tiny, inst, run), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    t0 = time.time()
    while not list_checkpoints(run) and p.poll() is None and time.time() - t0 < 600: time.sleep(0.05)
    crashed = p.poll() is not None and not list_checkpoints(run)
    p.send_signal(signal.SIGKILL); p.wait()
    assert not crashed, p.stderr.read().decode()[-3000:]
    done = list_checkpoints(run)
    assert done and not (run/'pytorch_lora_weights.safetensors').exists(), 'the run finished before it could be killed'
    # resume to the end, and an uninterrupted reference run sharing the same class images
    r = subprocess.run(_cmd(tiny, inst, run), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert f'resumed from {done[-1].name}' in r.stdout
    # the reference run reads the same class images through --class_dir (a folder of files it did not write is refused as --out_dir)
    r2 = subprocess.run(_cmd(tiny, inst, ref) + ['--class_dir', str(run/'class_images')], env=env, capture_output=True, text=True)
    assert r2.returncode == 0, r2.stderr[-2000:]
    a, b = load_file(run/'pytorch_lora_weights.safetensors'), load_file(ref/'pytorch_lora_weights.safetensors')
    assert a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
