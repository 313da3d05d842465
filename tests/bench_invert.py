"""Inversion benchmark (issue 20): each strategy alone and combined, at time budgets, on held-out real prompts, plus noisy
targets; writes data/results/invert_eval.json (the table in nbs/23_invert.ipynb reads it). Not run in CI.

    python tests/bench_invert.py --n 8 --seed 0 --n_flavors 76000   # the recorded run

The phrase embeddings are cached under ~/.cache/image2prompt/vocab (I2P_VOCAB_CACHE); a first run embeds ~120k phrases.
Time budgets are CPU seconds of the process per target (wall time on a quiet machine is at most that).
"""
import argparse
from image2prompt.invert import benchmark, bench_table

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--n', type=int, default=8); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--bs', type=int, default=8); p.add_argument('--k', type=int, default=16)
    p.add_argument('--n_flavors', type=int, default=None); p.add_argument('--out', default=None)
    a = p.parse_args()
    rec = benchmark(a.out, n=a.n, seed=a.seed, bs=a.bs, k=a.k, n_flavors=a.n_flavors)
    print(bench_table(rec).to_string(index=False))
