"""Embedding throughput (issue 5): sentences/s of plain `SentenceTransformer.encode` against faster variants, with their
fidelity (cosine to the fp32 reference) and peak RSS. Not run in CI.

    OMP_NUM_THREADS=1 taskset -c 1 python tests/bench_embed.py   # 2,000 prompts, every method, 1 pinned core, 1 thread
    python tests/bench_embed.py --n 500 --methods plain,int8,onnx --threads 2

Prompts: the shipped sample prompts, a fifth of them lengthened to DiffusionDB's long tail (two prompts joined), so the mix
spans ~10 to ~110 word pieces. Each method runs in its own process (its peak RSS is its own, and thread settings don't
leak), after one warm-up batch, with `--threads` threads (torch, ONNX Runtime and OpenVINO alike). The machine is shared:
wall-clock rates depend on what else runs on the core, so the table also gives sentences per CPU-second of the process
(its own user+system time), and ratios to `plain` on both.
"""
import argparse, json, resource, subprocess, sys, time
from pathlib import Path
import numpy as np

METHODS = {  # name -> (description, fidelity class)
    'plain': 'SentenceTransformer.encode, batch 32, --threads torch threads (the reference)',
    'bs128': 'same, batch 128 (ST already sorts by length inside one encode call: bigger batches, same math)',
    'unsorted': 'batch 32 in input order, one encode call per batch (what a naive loop does; no length bucketing)',
    'threads2': 'batch 32, 2 torch threads whatever --threads says (on 1 pinned core: oversubscribed)',
    'int8': 'torch.ao.quantization.quantize_dynamic on nn.Linear (int8 weights, dynamic activations), batch 32',
    'int8_bs128': 'int8, batch 128',
    'maxlen128': 'fp32, max_seq_length 128 (truncates only prompts longer than 128 word pieces)',
    'onnx': 'ONNX Runtime, fp32 graph with its transformer fusions (load_embedder fast=onnx; needs onnx + onnxruntime)',
    'onnx-int8': 'ONNX Runtime, dynamic int8 MatMuls, per-channel weights (fast=onnx-int8; dedup only)',
    'openvino': 'OpenVINO, fp32 inference of the plain ONNX export (fast=openvino; needs onnx + openvino)',
}

def prompts(n, seed=0):
    import pandas as pd
    from image2prompt.core import asset
    p = pd.read_csv(asset('sample_prompts.csv')).prompt.tolist(); rng = np.random.default_rng(seed)
    out = [str(p[i]) for i in rng.integers(0, len(p), n)]
    for k in rng.choice(n, n // 5, replace=False): out[k] = out[k] + ', ' + p[int(rng.integers(0, len(p)))]
    return out

def cpu_s(): r = resource.getrusage(resource.RUSAGE_SELF); return r.ru_utime + r.ru_stime

def encode_with(method, texts, threads):
    import torch
    from image2prompt.embeddings import load_embedder, encode
    torch.set_num_threads(2 if method == 'threads2' else threads)
    fast = {'int8': 'int8', 'int8_bs128': 'int8', 'onnx': 'onnx', 'onnx-int8': 'onnx-int8', 'openvino': 'openvino'}.get(method)
    m = load_embedder(device='cpu', fast=fast, threads=threads)
    if method == 'maxlen128': m.max_seq_length = 128
    bs = 128 if method in ('bs128', 'int8_bs128') else 32
    encode(m, texts[:bs], bs)  # warm-up
    t, c = time.time(), cpu_s()
    if method == 'unsorted': e = np.concatenate([encode(m, texts[s:s+bs], bs) for s in range(0, len(texts), bs)])
    else: e = encode(m, texts, bs)
    return e, time.time() - t, cpu_s() - c, m.tokenizer

def child(a):
    texts = prompts(a.n, a.seed)
    try: e, dt, dc, tok = encode_with(a.method, texts, a.threads)
    except Exception as ex: return dict(method=a.method, error=f'{type(ex).__name__}: {str(ex)[:200]}')
    np.save(Path(a.dir)/f'{a.method}.npy', e)
    ntok = [len(x) for x in tok(texts[:500])['input_ids']]
    return dict(method=a.method, sent_s=len(texts) / dt, secs=dt, sent_cpu_s=len(texts) / dc, rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                tokens_mean=float(np.mean(ntok)), tokens_max=int(np.max(ntok)))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=2000); p.add_argument('--seed', type=int, default=0); p.add_argument('--threads', type=int, default=1)
    p.add_argument('--methods', default='plain,bs128,unsorted,threads2,int8,int8_bs128,maxlen128,onnx,onnx-int8,openvino')
    p.add_argument('--dir', default='/tmp/i2p_bench_embed'); p.add_argument('--method', default=None)
    a = p.parse_args(); Path(a.dir).mkdir(parents=True, exist_ok=True)
    if a.method: print(json.dumps(child(a))); return
    rows = []
    for m in a.methods.split(','):
        r = subprocess.run([sys.executable, __file__, '--method', m, '--n', str(a.n), '--seed', str(a.seed), '--dir', a.dir, '--threads', str(a.threads)], capture_output=True, text=True)
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else dict(method=m, error=r.stderr[-300:]))
        print(rows[-1], flush=True)
    ref = np.load(Path(a.dir)/'plain.npy'); base, base_c = rows[0]['sent_s'], rows[0]['sent_cpu_s']
    print(f"\n## embedding benchmark: {a.n} prompts, {rows[0].get('tokens_mean', 0):.0f} word pieces on average (max {rows[0].get('tokens_max', 0)}), all-MiniLM-L6-v2, CPU, {a.threads} thread(s)")
    print('| method | sent/s (wall) | ratio | sent/CPU-s | ratio (CPU) | mean cos vs fp32 | min cos vs fp32 | peak RSS (GB) | what |'); print('|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        if 'error' in r: print(f"| {r['method']} | - | - | - | - | - | - | - | not run: {r['error'].strip().splitlines()[-1][:120] if r['error'].strip() else 'failed'} |"); continue
        c = (np.load(Path(a.dir)/f"{r['method']}.npy") * ref).sum(1)
        print(f"| {r['method']} | {r['sent_s']:.1f} | {r['sent_s']/base:.2f} | {r['sent_cpu_s']:.1f} | {r['sent_cpu_s']/base_c:.2f} | {c.mean():.6f} | {c.min():.6f} | {r['rss_gb']:.2f} | {METHODS[r['method']]} |")

if __name__ == '__main__': main()
