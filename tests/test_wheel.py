"The wheel carries its assets: build it, install it into a fresh venv outside the repo, run `image2prompt demo` there (issue 14)."
import os, shutil, subprocess, sys, sysconfig, venv, zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_FILES = ['setup.py', 'pyproject.toml', 'settings.ini', 'MANIFEST.in', 'README.md', 'constraints.txt']
MAX_MB = 50 # issue 29's limit: the shipped phrase table (assets/vocab, 12 MB) took the wheel from 18.6 to 31 MiB

def build_wheel(out:Path)->Path:
    "Build the wheel from a fresh copy of the build inputs (no stale `build/` folder can hide a missing file), offline."
    src = out/'src'; src.mkdir(parents=True)
    for f in BUILD_FILES: shutil.copy(ROOT/f, src/f)
    shutil.copytree(ROOT/'image2prompt', src/'image2prompt', ignore=shutil.ignore_patterns('__pycache__', '*.pyc', '.work'))
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', str(src), '-w', str(out)], check=True)
    return next(out.glob('image2prompt-*.whl'))

def clean_env(**kw)->dict:
    "This environment without what points at the repo's package (`PYTHONPATH`, the venv, the asset/data overrides)."
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'VIRTUAL_ENV', 'I2P_ASSETS', 'I2P_DATA')}
    return {**env, **kw}

def fresh_venv(d:Path, whl:Path)->Path:
    "A venv at `d` with `whl` installed (no deps); this interpreter's site-packages (the dependencies) visible through a `.pth`."
    venv.EnvBuilder(with_pip=False).create(d); py = d/'bin'/'python'
    subprocess.run([sys.executable, '-m', 'pip', '--python', str(py), 'install', '-q', '--no-deps', '--no-index', '--ignore-installed', str(whl)],
                   env=clean_env(), check=True)
    site = subprocess.run([py, '-c', "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True, check=True).stdout.strip()
    # a .pth line is a plain sys.path entry, appended after the venv's own site-packages: the editable install's finder
    # (a .pth inside that folder) is not executed, so the wheel's copy of image2prompt is the one imported
    (Path(site)/'i2p_deps.pth').write_text(sysconfig.get_paths()['purelib'] + '\n')
    return py

def test_wheel_demo_in_fresh_venv(tmp_path):
    whl = build_wheel(tmp_path/'dist')
    mb = whl.stat().st_size / 2**20
    names = zipfile.ZipFile(whl).namelist()
    for a in ('judge/judge.safetensors', 'toy_pipeline/unet/diffusion_pytorch_model.safetensors', 'regressor/model.safetensors',
              'toy_encoder/judge.safetensors', 'sample_prompts.csv', 'sample_prompts_minilm.npy', 'sample_images/metadata.jsonl',
              'vocab/codes.npz', 'vocab/phrases.txt', 'vocab/meta.json', 'vocab/fluency.npz'):
        assert f'image2prompt/assets/{a}' in names, a
    assert not any(n.startswith('data/') or '/results/' in n for n in names)  # records stay out of the package
    assert mb < MAX_MB, f'wheel is {mb:.1f} MB'
    py = fresh_venv(tmp_path/'venv', whl)
    env = clean_env(HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', OMP_NUM_THREADS='1', PATH=f"{py.parent}{os.pathsep}{os.environ.get('PATH', '')}")
    work = tmp_path/'work'; work.mkdir()
    where = subprocess.run([py, '-c', 'import image2prompt, image2prompt.core as c; print(image2prompt.__file__); print(c.assets_dir())'],
                           cwd=work, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(w).resolve().is_relative_to((tmp_path/'venv').resolve()) for w in where), where
    r = subprocess.run([py.parent/'image2prompt', 'demo', '--out', 'demo_out', '--device', 'cpu'], cwd=work, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    for f in ('submission.csv', 'prompts.csv', 'predictions.parquet', 'report.txt'): assert (work/'demo_out'/f).stat().st_size > 0, f
    assert 'mean cosine over 8 images' in (work/'demo_out'/'report.txt').read_text()
    print(f'wheel {whl.name}: {whl.stat().st_size:,} bytes ({mb:.1f} MiB)')
