"""Inversion benchmark (issue 20): each strategy alone and combined, with anytime curves of mean MiniLM cosine against CPU
seconds per prompt, on held-out real prompts, plus noisy targets; writes data/results/invert_eval.json (the tables in
nbs/23a_invert_benchmark.ipynb read it). Not run in CI.

    python tests/bench_invert.py --n 32 --seed 0            # every run in one process
    # the recorded run (2026-12-03, ~9 min on a quiet 2-core machine): the targets split over two processes (one torch
    # thread each), every run in each, then merged
    python tests/bench_invert.py --n 32 --runs a b-ci b c abw abcw --noise 0.6 0.7 0.8 --part 0 16 --out runs/p0.json &
    python tests/bench_invert.py --n 32 --runs a b-ci b c abw abcw --noise 0.6 0.7 0.8 --part 16 32 --out runs/p16.json
    python tests/bench_invert.py --merge runs/p0.json runs/p16.json

    # issue 29 (2026-12-07, a 2-core VM shared by 4 agents, load 3-9): the command's default (2000 evaluations, a count,
    # so that a loaded machine compares) on the shipped PQ rows against exact rows, and the fluency runs and Pareto curve
    python tests/bench_invert.py --n 32 --runs abw-2000 --noise --lams --exact_vocab --out runs/exact.json
    python tests/bench_invert.py --n 32 --runs b-ci abw-2000 abw-2000-fluent --noise --out data/results/invert_eval.json
    # the learned inverter (image2prompt/assets/inverter), alone and as the search's start, with no word said more than
    # twice: what was recorded (one process, one torch thread, load 8-10; 300 evaluations, predict's budget, for CPU's sake),
    # and the same search letting a word be said three times, the limit before
    python tests/bench_invert.py --n 32 --runs l1 l abw-300 labw-300 --noise --lams --out data/results/invert_learned.json
    python tests/bench_invert.py --n 32 --runs abw-300 --noise --lams --max_repeat 3 --out data/results/invert_repeat3.json
    # after the space-join fix (a joined phrase the prompt already had), abw-300 and labw-300 rerun and put in its place
    python tests/bench_invert.py --n 32 --runs abw-300 labw-300 --noise --lams --out runs/rerun300.json

    # issue 29, third session (2026-12-07): commas only and 16 additions a step by default; the old default (`-space`),
    # joins by 'with'/'and' (`-joins`), the CI-style anchor; the targets split over two processes, then merged; the
    # Pareto curve re-ranks the default search, and in a second record the joins' search
    python tests/bench_invert.py --n 32 --runs b-ci abw-150-space abw-150 abw-300-space abw-300 abw-300-joins abw-2000 \
        --noise --lams 0 0.01 0.02 0.05 0.1 0.2 0.5 --part 0 16 --out runs/c_p0.json   # and --part 16 32 --out runs/c_p16.json
    python tests/bench_invert.py --merge runs/c_p0.json runs/c_p16.json --out data/results/invert_commas.json
    python tests/bench_invert.py --n 32 --runs --noise --lams 0 0.01 0.02 0.05 0.1 0.2 0.5 1 --pareto_run abw-300-joins \
        --out data/results/invert_pareto_joins.json
    # the learned inverter trained longer (image2prompt train-inverter --out DIR --steps 1500 --decay_steps 1500)
    python tests/bench_invert.py --n 32 --runs l1 l labw-300 --noise --lams --learned DIR --out data/results/invert_learned2.json

The pool's rows come from the shipped PQ table (image2prompt/assets/vocab) unless --exact_vocab; phrases it lacks (the
held-out split's bank phrases) are embedded exactly and cached under ~/.cache/image2prompt/vocab (I2P_VOCAB_CACHE).
Budgets are CPU seconds of the process per target (one torch thread: on a quiet 2-core machine two such processes run at
once, so the wall time per prompt is at most that).
"""
import argparse, json, platform, sys
import numpy as np, pandas as pd, torch, transformers, sentence_transformers
from image2prompt.core import data_dir, save_json
from image2prompt.invert_benchmark import benchmark, bench_table, noisy_table, merge_pareto, text_stats, _stats
from image2prompt.invert import _lm, lm_nll

def _join(runs:list, key=lambda r: r['name'])->list:
    "Runs of the same `key` over parts of the targets, as one run (means weighted by targets)."
    out = {}
    for r in runs:
        if key(r) not in out: out[key(r)] = dict(r, parts=1); continue
        o = out[key(r)]; n0, n1 = len(o['prompts']), len(r['prompts']); w = lambda a, b: (a*n0 + b*n1)/(n0 + n1)
        for k in ('mean_cos', 's_per_prompt', 'cpu_s_per_prompt', 'mean_cos_true', 'readable_mean_cos'):
            if k in r: o[k] = w(o[k], r[k])
        o['curve'] = {b: w(v, r['curve'][b]) if v is not None and r['curve'].get(b) is not None else None for b, v in o.get('curve', {}).items()}
        o['prompts'], o['cos'], o['parts'] = o['prompts'] + r['prompts'], o['cos'] + r['cos'], o['parts'] + 1
        if 'readable_prompts' in r: o['readable_prompts'] = o['readable_prompts'] + r['readable_prompts']
    return list(out.values())

def merge(paths)->dict:
    "One record from the records of parallel runs on the same targets."
    recs = [json.loads(open(p).read()) for p in paths]; rec = dict(recs[0])
    rec['runs'] = _join([x for r in recs for x in r['runs']]); rec['noisy'] = _join([x for r in recs for x in r['noisy']], key=lambda r: (r['name'], r['cos_target_true']))
    rec['targets'] = list(dict.fromkeys(t for r in recs for t in r['targets'])); rec['n'] = len(rec['targets'])
    rec['load_avg'] = [[r['load_avg_start'], r['load_avg_end']] for r in recs]
    lm = _lm('SmolLM2-135M') if any('median_ppl' in r for r in rec['runs']) else None
    for r in rec['runs']:  # medians of all the targets' texts, not of the parts' medians
        if 'median_ppl' in r: r.update(_stats(lm, r))
    if all(r.get('pareto') for r in recs): rec['pareto'] = merge_pareto([r['pareto'] for r in recs])
    if 'true' in rec:
        rec['true'] = text_stats(rec['targets'], lm_nll(*(lm or _lm('SmolLM2-135M')), rec['targets']))
    return rec

if __name__ == '__main__':
    p = argparse.ArgumentParser()
    p.add_argument('--n', type=int, default=32); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--bs', type=int, default=8); p.add_argument('--k', type=int, default=None)
    p.add_argument('--runs', nargs='*', default=None); p.add_argument('--noise', nargs='*', type=float, default=None)
    p.add_argument('--n_flavors', type=int, default=None); p.add_argument('--out', default=None)
    p.add_argument('--merge', nargs='*', default=None); p.add_argument('--noise_budget', type=float, default=2)
    p.add_argument('--part', nargs=2, type=int, default=None)
    p.add_argument('--exact_vocab', action='store_true'); p.add_argument('--lams', nargs='*', type=float, default=None)
    p.add_argument('--pareto_run', default='abw-2000')  # the run whose search the Pareto curve re-ranks
    p.add_argument('--learned', default=None)  # the learned inverter's folder (default: the shipped one)
    p.add_argument('--max_repeat', type=int, default=None)  # how often the search lets a word be said (default: invert.MAX_REPEAT)
    a = p.parse_args()
    if a.max_repeat is not None:
        import image2prompt.invert as inv_mod
        inv_mod.MAX_REPEAT = a.max_repeat  # fits_words reads it at each call
    if a.merge:
        rec = merge(a.merge)
        rec['command'] = 'python tests/bench_invert.py ' + ' '.join(sys.argv[1:]) + '  (of the runs: ' + '; '.join(r.get('command', '?') for r in map(lambda q: json.loads(open(q).read()), a.merge)) + ')'
        save_json(a.out or data_dir()/'results'/'invert_eval.json', rec)
    else:
        kw = {k: v for k, v in dict(runs=a.runs, noise=a.noise, lams=a.lams).items() if v is not None}
        rec = benchmark(a.out, n=a.n, seed=a.seed, bs=a.bs, k=a.k, n_flavors=a.n_flavors, noise_budget=a.noise_budget, part=a.part, shipped=not a.exact_vocab, learned=a.learned, pareto_run=a.pareto_run, **kw)
        rec['command'] = 'python tests/bench_invert.py ' + ' '.join(sys.argv[1:])
        rec['versions'] = dict(python=platform.python_version(), torch=torch.__version__, transformers=transformers.__version__,
                               sentence_transformers=sentence_transformers.__version__, numpy=np.__version__)
        rec['machine'] = f'{platform.machine()}, {platform.processor() or "cpu"}, {torch.get_num_threads()} torch thread(s) of a 2-core shared VM'
        save_json(a.out or data_dir()/'results'/'invert_eval.json', rec)
    print(bench_table(rec).to_string(index=False)); print(noisy_table(rec).to_string(index=False) if rec['noisy'] else '')
    if rec.get('pareto'): print(pd.DataFrame(rec['pareto']).drop(columns=['texts', 'cos', 'nll'], errors='ignore').round(3).to_string(index=False))
