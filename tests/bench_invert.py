"""Inversion benchmark (issue 20): each strategy alone and combined, with anytime curves of mean MiniLM cosine against CPU
seconds per prompt, on held-out real prompts, plus noisy targets; writes data/results/invert_eval.json (the tables in
nbs/23_invert.ipynb read it). Not run in CI.

    python tests/bench_invert.py --n 32 --seed 0            # every run in one process
    # the recorded run: the same runs in parallel processes (one torch thread each), then merged
    python tests/bench_invert.py --n 32 --runs b-ci a c --noise --out /tmp/inv1.json
    python tests/bench_invert.py --n 32 --runs b --noise --out /tmp/inv2.json
    python tests/bench_invert.py --n 32 --runs abw --noise --out /tmp/inv3.json
    python tests/bench_invert.py --n 32 --runs abcw --noise --out /tmp/inv4.json
    python tests/bench_invert.py --n 32 --runs --noise 0.6 0.7 0.8 --out /tmp/inv5.json
    python tests/bench_invert.py --merge /tmp/inv[1-5].json

The phrase embeddings are cached under ~/.cache/image2prompt/vocab (I2P_VOCAB_CACHE); a first run embeds ~130k phrases.
Budgets are CPU seconds of the process per target (one torch thread: on a quiet 2-core machine two such processes run at
once, so the wall time per prompt is at most that).
"""
import argparse, json, platform, sys
import numpy as np, torch, transformers, sentence_transformers
from image2prompt.core import data_dir, save_json
from image2prompt.invert import benchmark, bench_table, noisy_table

def merge(paths)->dict:
    "One record from the records of parallel runs on the same targets."
    recs = [json.loads(open(p).read()) for p in paths]; rec = dict(recs[0])
    assert all(r['targets'] == rec['targets'] for r in recs), 'records of different targets'
    rec['runs'] = [x for r in recs for x in r['runs']]; rec['noisy'] = [x for r in recs for x in r['noisy']]
    rec['load_avg'] = [[r['load_avg_start'], r['load_avg_end']] for r in recs]
    return rec

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--n', type=int, default=32); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--bs', type=int, default=8); p.add_argument('--k', type=int, default=16)
    p.add_argument('--runs', nargs='*', default=None); p.add_argument('--noise', nargs='*', type=float, default=None)
    p.add_argument('--n_flavors', type=int, default=None); p.add_argument('--out', default=None)
    p.add_argument('--merge', nargs='*', default=None)
    a = p.parse_args()
    if a.merge:
        rec = merge(a.merge)
        rec['command'] = 'python tests/bench_invert.py ' + ' '.join(sys.argv[1:]) + '  (of the runs: ' + '; '.join(r.get('command', '?') for r in map(lambda q: json.loads(open(q).read()), a.merge)) + ')'
        save_json(a.out or data_dir()/'results'/'invert_eval.json', rec)
    else:
        kw = {k: v for k, v in dict(runs=a.runs, noise=a.noise).items() if v is not None}
        rec = benchmark(a.out, n=a.n, seed=a.seed, bs=a.bs, k=a.k, n_flavors=a.n_flavors, **kw)
        rec['command'] = 'python tests/bench_invert.py ' + ' '.join(sys.argv[1:])
        rec['versions'] = dict(python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                               sentence_transformers=sentence_transformers.__version__, numpy=np.__version__)
        rec['machine'] = f'{platform.machine()}, {platform.processor() or "cpu"}, {torch.get_num_threads()} torch thread(s) of a 2-core shared VM'
        save_json(a.out or data_dir()/'results'/'invert_eval.json', rec)
    print(bench_table(rec).to_string(index=False)); print(noisy_table(rec).to_string(index=False) if rec['noisy'] else '')
