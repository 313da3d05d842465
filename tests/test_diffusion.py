"Diffusion stage: CLI, bad input, resumable generation, and kill-and-resume of a training run."
import json, os, signal, subprocess, sys, time, warnings
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image

from image2prompt.cli import run as main  # `run` returns the command's result; `main` is the console script (exit status)
from image2prompt.test_utils import tiny_pipeline
from image2prompt.diffusion import save_pipeline, gen_images, load_pipeline
from image2prompt.diffusion_train import read_pairs

torch.set_num_threads(1)

@pytest.fixture(scope='module')
def tiny_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('pipe')/'tiny'
    save_pipeline(tiny_pipeline(), d, text_encoder=False); return d

def _folder(d, n=24, bad=False):
    from image2prompt.toyworld import sample_prompts, render
    d = Path(d); d.mkdir(parents=True, exist_ok=True); rows = []
    for i, p in enumerate(sample_prompts(n, seed=3)):
        render(p, seed=i)[0].save(d/f'{i:03d}.png'); rows.append(dict(file_name=f'{i:03d}.png', text=p))
    if bad:
        Image.new('RGB', (80, 48), 'red').save(d/'wide.png'); rows.append(dict(file_name='wide.png', text='a red square'))
        rows.append(dict(file_name='missing.png', text='a blue circle'))
    (d/'metadata.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows)); return d

def test_cli_help(capsys):
    for c in ('train-diffusion', 'generate'):
        with pytest.raises(SystemExit): main([c, '--help'])
    out = capsys.readouterr().out
    assert '--unet_minutes' in out and '--guidance_scale' in out

def test_generate_cli_resumes(tmp_path, tiny_dir):
    (tmp_path/'p.txt').write_text('a red circle\n\nan unknown flurbish thing\n')
    args = ['generate', str(tmp_path/'p.txt'), '--out_dir', str(tmp_path/'g'), '--pipeline', str(tiny_dir), '--steps', '2', '--n_per_prompt', '2', '--bs', '3']
    df = main(args)
    assert len(df) == 4 and sorted(df.seed) == [0, 1, 2, 3]
    rows = [json.loads(l) for l in (tmp_path/'g'/'metadata.jsonl').read_text().splitlines()]
    assert {'file_name', 'text', 'seed', 'guidance_scale', 'steps'} <= set(rows[0])
    (tmp_path/'g'/df.file_name[1]).unlink()
    df2 = main(args)
    assert len(df2) == 4 and (tmp_path/'g'/df.file_name[1]).exists()
    assert len((tmp_path/'g'/'metadata.jsonl').read_text().splitlines()) == 5  # only the deleted image was redrawn

def test_empty_and_unknown_prompts(tmp_path, tiny_dir):
    pipe = load_pipeline(tiny_dir)
    df = gen_images(pipe, ['', 'qwzx blorp'], [1, 2], tmp_path, steps=2, progress=False)
    imgs = [np.asarray(Image.open(tmp_path/f)) for f in df.file_name]
    assert all(i.shape == (64, 64, 3) for i in imgs)

def test_bad_training_folder(tmp_path):
    d = _folder(tmp_path/'data', 4, bad=True)
    with warnings.catch_warnings(record=True): imgs, df, rep = read_pairs(d, progress=False)
    assert imgs.shape == (5, 64, 64, 3) and rep['cropped+resized'] == 1 and rep['read'] == 5
    assert sum(v for k, v in rep.items() if 'exist' in k) == 1
    with pytest.raises(FileNotFoundError): read_pairs(tmp_path/'nowhere', progress=False)

SCRIPT = '''
import sys, torch; torch.set_num_threads(1)
from image2prompt.diffusion_train import train_toy_pipeline
train_toy_pipeline(sys.argv[1], sys.argv[2], sys.argv[3], vae_epochs=1, unet_epochs=int(sys.argv[4]), vae_epoch_size=16, unet_epoch_size=64,
                   vae_bs=8, unet_bs=8, n_valid=8, progress=False, vae_chs=(8,8,8,8), unet_chs=(16,32), heads=4, unet_groups=8)
'''

def _run(args, **kw): return subprocess.Popen([sys.executable, '-c', SCRIPT, *map(str, args)], env=os.environ | dict(PYTHONWARNINGS='ignore'), **kw)

def test_kill_and_resume(tmp_path):
    data = _folder(tmp_path/'data', 48)
    out, work = tmp_path/'pipe', tmp_path/'work'; hist_f = work/'unet'/'history.json'
    p = _run([data, out, work, 50])
    t0 = time.time()
    while time.time() - t0 < 240 and not (hist_f.exists() and len(json.loads(hist_f.read_text())) >= 2): time.sleep(0.5)
    p.send_signal(signal.SIGKILL); p.wait()
    before = json.loads(hist_f.read_text()); k = len(before)
    assert 2 <= k < 50 and not out.exists()
    q = _run([data, out, work, k + 2]); assert q.wait(timeout=300) == 0
    after = json.loads(hist_f.read_text())
    assert [h["epoch"] for h in after] == list(range(1, k + 3))  # no lost and no repeated epochs (counted from 1)
    assert after[:k] == before  # the epochs before the kill were not redone
    assert load_pipeline(out).unet.config.block_out_channels == [16, 32]

STOCK = '''import sys, numpy as np, torch
from diffusers import DiffusionPipeline
pipe = DiffusionPipeline.from_pretrained(sys.argv[1]); pipe.set_progress_bar_config(disable=True)
img = pipe('a red circle above a blue house', num_inference_steps=4, generator=torch.Generator().manual_seed(0), output_type='np').images
assert 'image2prompt' not in sys.modules, 'image2prompt was imported'
np.save(sys.argv[2], img); print(type(pipe).__name__, type(pipe.text_encoder).__name__)
'''

def test_export_pipeline_loads_in_stock_diffusers(tmp_path, capsys):
    "`export-pipeline` writes the shipped toy pipeline complete; a process that never imports image2prompt loads and runs it."
    main(['export-pipeline', str(tmp_path/'toy')])
    assert f"to {tmp_path/'toy'}" in capsys.readouterr().out.strip().splitlines()[-1]
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}; env.pop('PYTHONPATH', None)  # nothing from the repo on the path
    r = subprocess.run([sys.executable, '-c', STOCK, str(tmp_path/'toy'), str(tmp_path/'img.npy')], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert r.stdout.split() == ['StableDiffusionPipeline', 'BertModel']
    img = np.load(tmp_path/'img.npy')
    ref = load_pipeline()('a red circle above a blue house', num_inference_steps=4, generator=torch.Generator().manual_seed(0), output_type='np').images
    assert img.shape == (1, 64, 64, 3) and img.std() > 0.05
    np.testing.assert_allclose(img, ref, atol=1e-4)  # the same image image2prompt's own loader makes

def test_export_pipeline_bad_source(tmp_path):
    from image2prompt.core import InputError
    with pytest.raises(InputError, match='nope: no such folder'): main(['export-pipeline', str(tmp_path/'o'), '--src', str(tmp_path/'nope')])
    with pytest.raises(InputError, match='no model_index.json'): main(['export-pipeline', str(tmp_path/'o'), '--src', str(tmp_path)])
    assert not (tmp_path/'o').exists()
