"""Streaming a DiffusionDB-shaped prompt table (issue 18): rows/s and peak RSS of `datasets.PromptStream` over a 2M-row
metadata parquet, against reading the whole column with pandas. Not run in CI.

    OMP_NUM_THREADS=1 python tests/bench_prompt_stream.py                  # 2M rows, 100k-row row groups, chunks of 65,536
    python tests/bench_prompt_stream.py --n 200000 --chunk 10000

The parquet (built once in --work) has DiffusionDB's metadata columns (image_name, prompt, part_id, seed, step, cfg,
sampler, width, height) with the shipped-style synthetic prompts (~146 characters on average) (`datasets.synth_prompts`, 20,000 distinct bases, each
row suffixed by its index so no two are equal). Each reader runs in its own process, so its peak RSS (ru_maxrss) is its own.

Measured 2026-12-02 on the 2-core dev machine (shared with other jobs), 2M rows (94 MiB parquet, 20 row groups):
  PromptStream, chunks of 65,536:   2.96 s, 675k rows/s, peak RSS 795 MB (582 MB of it is the imports: +213 MB)
  pd.read_parquet(prompt column):    3.11 s, 643k rows/s, peak RSS 1,419 MB (+837 MB, and it grows with the table)
A first run under contention streamed at 310k rows/s. At 200k rows the stream's peak stays at the imports' level.
"""
import argparse, json, os, resource, subprocess, sys, tempfile, time
from pathlib import Path

def build(path, n, rg):
    import numpy as np, pyarrow as pa, pyarrow.parquet as pq
    from image2prompt.datasets import synth_prompts
    base = synth_prompts(20_000, seed=0).prompt.tolist(); w = None
    for s in range(0, n, rg):
        i = np.arange(s, min(n, s + rg))
        t = pa.table(dict(image_name=[f'{k:08d}.webp' for k in i], prompt=[f'{base[k % len(base)]}, v{k}' for k in i],
                          part_id=i // 1000, seed=i * 7919 % 2**31, step=np.full(len(i), 50), cfg=np.full(len(i), 7.0),
                          sampler=np.full(len(i), 8), width=np.full(len(i), 512), height=np.full(len(i), 512)))
        w = w or pq.ParquetWriter(path, t.schema); w.write_table(t)
    w.close()

def run(path, how, chunk):
    import pandas as pd
    from image2prompt.datasets import PromptStream
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter(); n = chars = 0
    if how == 'stream':
        s = PromptStream(path, chunk=chunk)
        for c in s: n += len(c); chars += sum(map(len, c))
    else:
        ps = pd.read_parquet(path, columns=['prompt']).prompt.tolist(); n = len(ps); chars = sum(map(len, ps))
    dt = time.perf_counter() - t0
    print(json.dumps(dict(how=how, rows=n, chars=chars, secs=round(dt, 2), rows_per_s=round(n / dt),
                          rss_after_imports_mb=round(base),
                          peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))))

if __name__ == '__main__':
    a = argparse.ArgumentParser(); a.add_argument('--n', type=int, default=2_000_000); a.add_argument('--rg', type=int, default=100_000)
    a.add_argument('--chunk', type=int, default=65_536); a.add_argument('--work', default=os.path.join(tempfile.gettempdir(), 'bench_prompt_stream'))
    a.add_argument('--run', default=None)
    o = a.parse_args()
    if o.run: run(Path(o.work)/f'metadata_{o.n}.parquet', o.run, o.chunk); sys.exit()
    p = Path(o.work)/f'metadata_{o.n}.parquet'; p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists(): t0 = time.perf_counter(); build(p, o.n, o.rg); print(f'built {p} ({p.stat().st_size/2**20:.0f} MiB) in {time.perf_counter()-t0:.0f}s')
    for how in ('stream', 'pandas'):
        subprocess.run([sys.executable, __file__, '--run', how, '--n', str(o.n), '--chunk', str(o.chunk), '--work', o.work], check=True)
