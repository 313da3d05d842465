"""Pair recall of dedup's HNSW path against exact on 3,000 synthetic prompts plus 200 exact copies of one row (issue 15, item 6).
Run: `python tests/bench_hnsw_recall.py` (embeds with MiniLM, cached in the system's temporary folder)."""
import json, os, tempfile
from image2prompt.datasets import synth_prompts
from image2prompt.embeddings import embed_prompts
from image2prompt.dedup import find_pairs, dedup

def pair_recall(embs, method, threshold=0.95, **kw):
    ref = set(zip(*find_pairs(embs, threshold, 'exact')[:2])); got = set(zip(*find_pairs(embs, threshold, method, **kw)[:2]))
    return len(ref & got) / max(len(ref), 1), len(ref)

if __name__ == '__main__':
    p = synth_prompts(3000, seed=0).prompt.tolist(); p = p + [p[0]] * 200
    e = embed_prompts(p, cache_dir=os.path.join(tempfile.gettempdir(), 'i2p_bench_cache'), progress=False)
    res = {}
    for m in ('ivf', 'hnsw'):
        r, n = pair_recall(e, m); kept = len(dedup(e, 0.95, m))
        res[m] = dict(pair_recall=round(r, 4), pairs=n, kept=kept, kept_exact=len(dedup(e, 0.95, 'exact')))
    print(json.dumps(res))
