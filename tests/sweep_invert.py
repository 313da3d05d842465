"""Sweep `InvertConfig` settings on the inversion benchmark's held-out targets (32 krea prompts, seed 0, unless given).

    python tests/sweep_invert.py '[["tp75", "abw", {"max_evals": 500, "fluency": true, "tok_pow": 0.75}]]' OUT.json
    python tests/sweep_invert.py '[["default", "abw", {}]]' OUT.json 64 1   # 64 other held-out targets (seed 1)

Each entry is [name, strategies, config changes]; batches of 8 targets, one torch thread. Prints a row per setting and
writes them (with the prompts) to OUT.json after each, so a killed sweep keeps what it finished.
"""
import sys, json, os, torch
from image2prompt.core import save_json
from image2prompt.invert_benchmark import _bench_setup, _inverter, run_strategy, _stats, text_stats
from image2prompt.invert import InvertConfig, lm_nll, _lm

def main(runs:list, out:str, n:int=32, seed:int=0):
    torch.set_num_threads(1)
    emb, tgt, _, E, pools, voc, real = _bench_setup(n, seed, None)
    lm = _lm('SmolLM2-135M')
    rec = dict(command=' '.join(sys.argv), n=n, seed=seed, true=text_stats(tgt, lm_nll(*lm, tgt)), runs=[])
    for name, s, kw in runs:
        cfg = InvertConfig(strategies=s, bs=8, seed=0, **kw)
        load = os.getloadavg()[0]
        r = run_strategy(_inverter(emb, voc, pools, s, cfg, real, lm), E)
        st = _stats(lm, r)
        text = dict(median_ppl=round(st['median_ppl']), readable_median_ppl=round(st['readable_median_ppl']),
                    median_clip_tokens=st['median_clip_tokens'], n_word_over_2=st['n_word_over_2'])
        row = dict(name=name, strategies=s, config=kw, mean_cos=round(r['mean_cos'], 4), min_cos=min(r['cos']),
                   readable_mean_cos=round(r['readable_mean_cos'], 4), cpu_s_per_prompt=r['cpu_s_per_prompt'],
                   **text, load_avg_start=load)
        print({k: v for k, v in row.items() if k != 'config'}, flush=True)
        rec['runs'].append(dict(row, prompts=r['prompts'], cos=r['cos'], readable_prompts=r['readable_prompts']))
        save_json(out, rec)

if __name__ == '__main__': main(json.loads(sys.argv[1]), sys.argv[2], *map(int, sys.argv[3:5]))
