"""Dedup at scale (issue 5): 2M planted-duplicate clustered vectors through the approximate (IVF) path, and the exact
path on a subset in the same run. Not run in CI.

    OMP_NUM_THREADS=1 taskset -c 1 python tests/bench_dedup.py --dir /work/bench/dedup   # 2M rows, exact check on the first 200k, 1 core
    python tests/bench_dedup.py --n 200000 --exact_n 50000      # a quick run

Vectors are written chunk by chunk to a memory-mapped .npy (--dir) and every stage reads them chunk by chunk, so 10M rows
need disk, not memory (use --codec sq8 there: the IVF index then holds 1 byte per dimension). Each stage runs in its own
process so its peak RSS (ru_maxrss, which counts the memory-mapped pages it touched) is its own. The machine is shared:
times are noisy; ratios measured in the same run are the numbers to compare.
"""
import argparse, json, resource, subprocess, sys, time
from pathlib import Path
import numpy as np

def peak_rss_gb(): return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
def cpu_s(): r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime

def planted_truth(embs, group, threshold, bs=200_000):
    "All planted pairs (i, j), j < i, inside a planted group with exact cosine > threshold."
    pairs = []
    for s in range(0, len(group), bs):
        g = group[s:s+bs]; rows = np.flatnonzero(g >= 0) + s
        if not len(rows): continue
        o = np.argsort(group[rows], kind='stable'); rows = rows[o]; gg = group[rows]
        starts = np.flatnonzero(np.r_[True, gg[1:] != gg[:-1]]); x = np.asarray(embs[rows], np.float32)
        for a, b in zip(starts, np.r_[starts[1:], len(rows)]):
            S = x[a:b] @ x[a:b].T; ii, jj = np.nonzero(np.tril(S, -1) > threshold)
            r = rows[a:b]; pairs += [(max(r[p], r[q]), min(r[p], r[q])) for p, q in zip(ii, jj)]
    return set(pairs)

def phase_gen(a):
    from image2prompt.dedup import planted_embs
    f = Path(a.dir)/'embs.npy'
    if a.reuse and f.exists() and (Path(a.dir)/'group.npy').exists() and np.load(f, mmap_mode='r').shape[0] == a.n: return dict(gen_s=float('nan'), rss_gb=peak_rss_gb())
    t = time.time(); _, group = planted_embs(a.n, seed=a.seed, out=Path(a.dir)/'embs.npy', progress=True)
    np.save(Path(a.dir)/'group.npy', group)
    return dict(gen_s=time.time() - t, rss_gb=peak_rss_gb())

def phase_dedup(a):
    from image2prompt.dedup import find_pairs, greedy_keep
    embs = np.load(Path(a.dir)/'embs.npy', mmap_mode='r')
    n = a.n if a.phase == 'ivf' else a.exact_n; e = embs[:n]; kw = dict(nprobe=a.nprobe, codec=a.codec) if a.method == 'ivf' else {}
    t, c = time.time(), cpu_s(); i, j, sim = find_pairs(e, a.threshold, a.method, progress=True, **kw); t_pairs = time.time() - t
    kept, parent = greedy_keep(n, i, j); t_all, c_all = time.time() - t, cpu_s() - c
    np.savez(Path(a.dir)/f'{a.phase}.npz', i=i, j=j, parent=parent)
    return dict(n=n, method=a.method, pairs=len(i), kept=int(kept.sum()), pairs_s=t_pairs, dedup_s=t_all, cpu_s=c_all, rss_gb=peak_rss_gb())

def check(a, name, n):
    "Planted-pair recall and the threshold - 0.005 check for a saved run."
    embs = np.load(Path(a.dir)/'embs.npy', mmap_mode='r'); group = np.load(Path(a.dir)/'group.npy')[:n]
    z = np.load(Path(a.dir)/f'{name}.npz'); i, j, parent = z['i'], z['j'], z['parent']
    truth = planted_truth(embs[:n], group, a.threshold); found = set(zip(i.tolist(), j.tolist()))
    dropped = np.flatnonzero(parent != np.arange(n)); worst = 1.0
    for s in range(0, len(dropped), 100_000):
        d = dropped[s:s+100_000]
        sims = (np.asarray(embs[d], np.float32) * np.asarray(embs[parent[d]], np.float32)).sum(1)
        worst = min(worst, float(sims.min()))
    return dict(planted_pairs=len(truth), planted_recall=len(truth & found) / max(len(truth), 1),
                dropped=len(dropped), min_sim_dropped_to_parent=worst, threshold_check=worst >= a.threshold - 0.005)

def run_phase(a, phase, method):
    saved = Path(a.dir)/f'{phase}.json'
    if a.reuse and phase == 'exact' and saved.exists() and (Path(a.dir)/'exact.npz').exists():  # the exact path is the slow, unchanging reference
        print(f'exact subset reused from {saved}', flush=True); return json.loads(saved.read_text())
    args = [sys.executable, __file__, '--phase', phase, '--method', method] + [f'--{k}={v}' for k, v in vars(a).items() if k not in ('phase', 'method')]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode: sys.exit(f'phase {phase} failed:\n{r.stderr[-3000:]}')
    out = json.loads(r.stdout.strip().splitlines()[-1]); saved.write_text(json.dumps(out)); return out

def compare_subset(a):
    "Agreement of the IVF path with the exact path on the first exact_n rows."
    ze, zi = np.load(Path(a.dir)/'exact.npz'), np.load(Path(a.dir)/'ivf_sub.npz')
    pe, pi = set(zip(ze['i'].tolist(), ze['j'].tolist())), set(zip(zi['i'].tolist(), zi['j'].tolist()))
    ke, ki = ze['parent'] == np.arange(len(ze['parent'])), zi['parent'] == np.arange(len(zi['parent']))
    return dict(pair_recall_vs_exact=len(pe & pi) / max(len(pe), 1), false_pairs=len(pi - pe),
                kept_agree=float((ke == ki).mean()), kept_only_ivf=int((ki & ~ke).sum()), kept_only_exact=int((ke & ~ki).sum()))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=2_000_000); p.add_argument('--exact_n', type=int, default=200_000)
    p.add_argument('--dir', default='/tmp/i2p_bench_dedup'); p.add_argument('--threshold', type=float, default=0.95)
    p.add_argument('--nprobe', type=int, default=8); p.add_argument('--codec', default='fp16'); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--threads', type=int, default=1); p.add_argument('--phase', default=None); p.add_argument('--method', default='ivf')
    p.add_argument('--reuse', type=int, default=0, help='1: keep embs.npy/group.npy (and the exact subset result) from an earlier run with the same --n, --exact_n and --seed')
    a = p.parse_args()
    import faiss; faiss.omp_set_num_threads(a.threads)
    if a.phase: print(json.dumps({'gen': phase_gen}.get(a.phase, phase_dedup)(a))); return
    Path(a.dir).mkdir(parents=True, exist_ok=True); t0 = time.time()
    gen = run_phase(a, 'gen', 'ivf'); print('generated', gen, flush=True)
    big = run_phase(a, 'ivf', 'ivf'); big.update(check(a, 'ivf', a.n)); print('ivf', big, flush=True)
    sub_i = run_phase(a, 'ivf_sub', 'ivf'); sub_e = run_phase(a, 'exact', 'exact'); cmp = compare_subset(a)
    sub_i.update(check(a, 'ivf_sub', a.exact_n)); sub_e.update(check(a, 'exact', a.exact_n))
    rows = [('ivf', big), ('ivf (subset)', sub_i), ('exact (subset)', sub_e)]
    print(f'\n## dedup benchmark: threshold {a.threshold}, nprobe {a.nprobe}, codec {a.codec}, {a.threads} threads, generation {gen["gen_s"]:.0f} s')
    print('| path | rows | wall (s) | CPU (s) | peak RSS (GB) | pairs | kept | planted recall | min cos dropped->kept | thr-0.005 check |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for name, r in rows:
        print(f"| {name} | {r['n']:,} | {r['dedup_s']:.1f} | {r['cpu_s']:.1f} | {r['rss_gb']:.2f} | {r['pairs']:,} | {r['kept']:,} | {r['planted_recall']:.4f} | {r['min_sim_dropped_to_parent']:.4f} | {r['threshold_check']} |")
    print(f"\nsubset {a.exact_n:,}: exact/ivf time ratio {sub_e['dedup_s']/sub_i['dedup_s']:.1f}x wall, {sub_e['cpu_s']/sub_i['cpu_s']:.1f}x CPU; ivf pair recall vs exact {cmp['pair_recall_vs_exact']:.4f}, "
          f"false pairs {cmp['false_pairs']}, kept-set agreement {cmp['kept_agree']:.5f} (only ivf keeps {cmp['kept_only_ivf']}, only exact keeps {cmp['kept_only_exact']})")
    print(f'total wall {time.time()-t0:.0f} s')

if __name__ == '__main__': main()
