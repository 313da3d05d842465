"""Cold start (issue 29): build the wheel, install it into a fresh venv, and time, with a fresh HOME (no caches), the first
`image2prompt invert` of one target and the first `image2prompt predict` of the shipped sample images, then the same again
warm (wall and CPU seconds: on a shared machine the wall time follows the load). Not run in CI. `--root DIR` times another checkout's package (e.g. the commit before the shipped phrase table).

    python tests/bench_cold_start.py --n_images 5 --out data/results/cold_start.json
"""
import argparse, json, os, resource, shutil, subprocess, sys, tempfile, time
from pathlib import Path
import numpy as np
sys.path.insert(0, str(Path(__file__).parent))
from test_wheel import build_wheel, fresh_venv, clean_env

def timed(py, args, home, log):
    t, c = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([str(py), '-m', 'image2prompt'] + args, capture_output=True, text=True,
                       env=clean_env(HOME=str(home), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', MPLBACKEND='Agg', TOKENIZERS_PARALLELISM='false'))
    log.write_text(r.stdout + r.stderr)
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return dict(rc=r.returncode, wall_s=round(time.perf_counter() - t, 1), cpu_s=round(u.ru_utime + u.ru_stime - c.ru_utime - c.ru_stime, 1),
                load=round(os.getloadavg()[0], 2), said=[l for l in r.stderr.splitlines() if 'once' in l])

if __name__ == '__main__':
    p = argparse.ArgumentParser(); p.add_argument('--out', default=None); p.add_argument('--root', default=None); p.add_argument('--n_images', type=int, default=5)
    a = p.parse_args()
    d = Path(tempfile.mkdtemp())
    import test_wheel
    if a.root: test_wheel.ROOT = Path(a.root)
    py = fresh_venv(d/'venv', whl := build_wheel(d/'dist'))
    from image2prompt.embeddings import embed_prompts
    np.save(d/'t1.npy', embed_prompts(['A pizza sitting on top of a pan over a stove.'], progress=False))
    src = subprocess.run([str(py), '-c', 'from image2prompt.core import asset; print(asset("sample_images"))'], capture_output=True, text=True, env=clean_env()).stdout.strip()
    imgs = d/'imgs'; imgs.mkdir()
    for f in sorted(Path(src).glob('*.png'))[:a.n_images]: shutil.copy(f, imgs/f.name)  # the first n of the shipped sample images
    imgs = str(imgs)
    rec = dict(wheel_mb=round(whl.stat().st_size/2**20, 1), n_images=len(list(Path(imgs).glob('*.png'))), runs=[])
    home = d/'home'; home.mkdir()
    for run in ('cold', 'warm'):
        rec['runs'].append(dict(cmd='invert 1 target', run=run, **timed(py, ['invert', str(d/'t1.npy'), '--out', str(d/f'inv_{run}.csv')], home, d/f'inv_{run}.log')))
        rec['runs'].append(dict(cmd=f"predict {rec['n_images']} sample images", run=run, **timed(py, ['predict', imgs, '--out_dir', str(d/f'pred_{run}')], home, d/f'pred_{run}.log')))
        print(rec['runs'][-2:], flush=True)
    if a.out: Path(a.out).write_text(json.dumps(rec, indent=1))
    print(json.dumps(rec, indent=1))
