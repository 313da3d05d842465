"""Embedding throughput (issue 5): sentences/s of plain `SentenceTransformer.encode` against faster variants, with their
fidelity (cosine to the fp32 reference) and peak RSS. Not run in CI.

    nice -n 5 python tests/bench_embed.py              # 2,000 prompts, every method
    python tests/bench_embed.py --n 500 --methods plain,int8

Prompts: the shipped sample prompts, a fifth of them lengthened to DiffusionDB's long tail (two prompts joined), so the mix
spans ~30 to ~120 word pieces. Each method runs in its own process (its peak RSS is its own, and thread settings don't
leak), after one warm-up batch. The machine's 2 cores are shared with other developers: absolute numbers are noisy,
ratios to `plain` are measured back to back in one run.
"""
import argparse, json, os, resource, subprocess, sys, time
from pathlib import Path
import numpy as np

METHODS = {  # name -> (description, fidelity class)
    'plain': 'SentenceTransformer.encode, batch 32, torch default threads (the reference)',
    'bs128': 'same, batch 128 (ST already sorts by length inside one encode call: bigger batches, same math)',
    'unsorted': 'batch 32 in input order, one encode call per batch (what a naive loop does; no length bucketing)',
    'threads1': 'batch 32, torch.set_num_threads(1)',
    'int8': 'torch.ao.quantization.quantize_dynamic on nn.Linear (int8 weights, dynamic activations), batch 32',
    'int8_bs128': 'int8, batch 128',
    'maxlen128': 'fp32, max_seq_length 128 (truncates only prompts longer than 128 word pieces)',
    'onnx': "sentence-transformers backend='onnx' (needs optimum + onnxruntime)",
    'openvino': "sentence-transformers backend='openvino' (needs optimum-intel + openvino)",
}

def prompts(n, seed=0):
    import pandas as pd
    from image2prompt.core import data_dir
    p = pd.read_csv(data_dir()/'sample_prompts.csv').prompt.tolist(); rng = np.random.default_rng(seed)
    out = [str(p[i]) for i in rng.integers(0, len(p), n)]
    for k in rng.choice(n, n // 5, replace=False): out[k] = out[k] + ', ' + p[int(rng.integers(0, len(p)))]
    return out

def encode_with(method, texts):
    import torch
    from image2prompt.embeddings import load_embedder, encode
    if method == 'threads1': torch.set_num_threads(1)
    fast = {'int8': 'int8', 'int8_bs128': 'int8', 'onnx': 'onnx', 'openvino': 'openvino'}.get(method)
    m = load_embedder(device='cpu', fast=fast)
    if method == 'maxlen128': m.max_seq_length = 128
    bs = 128 if method in ('bs128', 'int8_bs128') else 32
    encode(m, texts[:bs], bs)  # warm-up
    t = time.time()
    if method == 'unsorted': e = np.concatenate([encode(m, texts[s:s+bs], bs) for s in range(0, len(texts), bs)])
    else: e = encode(m, texts, bs)
    return e, time.time() - t, m.tokenizer

def child(a):
    texts = prompts(a.n, a.seed)
    try: e, dt, tok = encode_with(a.method, texts)
    except Exception as ex: return dict(method=a.method, error=f'{type(ex).__name__}: {str(ex)[:200]}')
    np.save(Path(a.dir)/f'{a.method}.npy', e)
    ntok = [len(x) for x in tok(texts[:500])['input_ids']]
    return dict(method=a.method, sent_s=len(texts) / dt, secs=dt, rss_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                tokens_mean=float(np.mean(ntok)), tokens_max=int(np.max(ntok)))

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--n', type=int, default=2000); p.add_argument('--seed', type=int, default=0)
    p.add_argument('--methods', default='plain,bs128,unsorted,threads1,int8,int8_bs128,maxlen128,onnx,openvino')
    p.add_argument('--dir', default='/tmp/i2p_bench_embed'); p.add_argument('--method', default=None)
    a = p.parse_args(); Path(a.dir).mkdir(parents=True, exist_ok=True)
    if a.method: print(json.dumps(child(a))); return
    rows = []
    for m in a.methods.split(','):
        r = subprocess.run([sys.executable, __file__, '--method', m, '--n', str(a.n), '--seed', str(a.seed), '--dir', a.dir], capture_output=True, text=True)
        rows.append(json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else dict(method=m, error=r.stderr[-300:]))
        print(rows[-1], flush=True)
    ref = np.load(Path(a.dir)/'plain.npy'); base = rows[0]['sent_s']
    print(f"\n## embedding benchmark: {a.n} prompts, {rows[0].get('tokens_mean', 0):.0f} word pieces on average (max {rows[0].get('tokens_max', 0)}), all-MiniLM-L6-v2, CPU")
    print('| method | sent/s | ratio | mean cos vs fp32 | min cos vs fp32 | peak RSS (GB) | what |'); print('|---|---|---|---|---|---|---|')
    for r in rows:
        if 'error' in r: print(f"| {r['method']} | - | - | - | - | - | not run: {r['error'].strip().splitlines()[-1][:120] if r['error'].strip() else 'failed'} |"); continue
        c = (np.load(Path(a.dir)/f"{r['method']}.npy") * ref).sum(1)
        print(f"| {r['method']} | {r['sent_s']:.1f} | {r['sent_s']/base:.2f} | {c.mean():.6f} | {c.min():.6f} | {r['rss_gb']:.2f} | {METHODS[r['method']]} |")

if __name__ == '__main__': main()
