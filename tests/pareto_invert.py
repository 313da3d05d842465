"""The Pareto curve of `invert`'s own pick: each setting searched once on held-out krea prompts, then the final pick
(`cos - lam * log-perplexity` over the candidates within `drop` of the best, as `Inverter.__call__` picks them) at each
fluency weight `lam`. Cosines of the picks are recomputed in float32; perplexity is SmolLM2-135M's per token.

    python tests/pareto_invert.py '[["default", {}], ["joins4", {"space": 4, "joins": "with,and"}]]' OUT.json 32 0
    python tests/pareto_invert.py '[["default", {}], ["ab", {"strategies": "ab"}]]' OUT.json 64 1   # other targets

Each entry is [name, config changes] (`strategies` among them; default 'abw'); batches of 8 targets, one torch thread.
Writes OUT.json after each setting (per target: the candidates, their search cosines and log-perplexities; per `lam`:
the picks and their stats), so a killed run keeps what it finished.
"""
import sys, json, time
import numpy as np, torch
from image2prompt.core import save_json
from image2prompt.embeddings import encode
from image2prompt.invert_benchmark import _bench_setup, _inverter, text_stats
from image2prompt.invert import InvertConfig, _lm, lm_nll

LAMS = (0, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2)

def candidates(inv, E:np.ndarray)->tuple:
    "Per target, the pick's candidates (text, search cosine, log-perplexity), and the CPU seconds per target."
    c, per, t0 = inv.cfg, [], time.process_time()
    for s in range(0, len(E), c.bs):
        T = E[s:s+c.bs]
        beams = inv.search(T, c.seed + s)
        for b, cs in zip(beams, inv._pick_cands(beams, T)):  # what `Inverter.__call__` weighs
            per.append(dict(cands=cs, cos=[b.seen[x] for x in cs], nll=inv._nll(cs).tolist()))
    return per, (time.process_time() - t0)/len(E)

def curve(per:list, emb, lm, E:np.ndarray, true_ppl:float, lams=LAMS)->list:
    "The pick at each `lam`: mean and min float32 cosine, `text_stats`, perplexity as a ratio of the true prompts'."
    out = []
    for lam in lams:
        texts = [p['cands'][int(np.argmax(np.array(p['cos']) - lam*np.array(p['nll'])))] for p in per]
        cos = (encode(emb, texts, bs=64) * E).sum(1)
        st = text_stats(texts, lm_nll(*lm, texts))
        out.append(dict(lam=lam, mean_cos=float(cos.mean()), min_cos=float(cos.min()), **st,
                        ratio=st['median_ppl']/true_ppl, texts=texts, cos=cos.tolist()))
        print(f"lam {lam:g}: cos {cos.mean():.4f}, median ppl {st['median_ppl']:.0f} ({out[-1]['ratio']:.2f}x)", flush=True)
    return out

def main(runs:list, out:str, n:int=32, seed:int=0):
    torch.set_num_threads(1)
    emb, tgt, _, E, pools, voc, real = _bench_setup(n, seed, None)
    lm = _lm('SmolLM2-135M')
    rec = dict(command=' '.join(sys.argv), n=n, seed=seed, true=text_stats(tgt, lm_nll(*lm, tgt)), targets=tgt, runs=[])
    for name, kw in runs:
        kw = dict(kw)
        s = kw.pop('strategies', 'abw')
        inv = _inverter(emb, voc, pools, s, InvertConfig(strategies=s, bs=8, seed=0, **kw), real, lm)
        print(name, flush=True)
        per, cpu = candidates(inv, E)
        rec['runs'].append(dict(name=name, strategies=s, config=kw, cpu_s_per_prompt=cpu, per=per,
                                curve=curve(per, emb, lm, E, rec['true']['median_ppl'])))
        save_json(out, rec)

if __name__ == '__main__': main(json.loads(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:5]))
