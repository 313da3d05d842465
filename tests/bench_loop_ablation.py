"""The toy-world ablation of the data loop: targeted vs random new prompts (not run in CI).

    nice -n 5 python tests/bench_loop_ablation.py --root /tmp/loop_ablation --features pixels --rounds 3 --n_new 150 --n_base 1500

Base training set: `toyworld.build_dataset(n_base, seed=0, tail_count=6)` (head objects common, each tail object 6 times).
Validation: 600 renders whose objects are drawn uniformly from head + tail objects (seed 123), so weak tail areas count.
Both arms: same features, ridge head, seeds and round-0 model; `weak_quantile=0.5` (the similarity threshold is the median
validation cosine: with this cheap regressor no prompt is predicted below the recipe's absolute 0.4). Generator: the toy
renderer by default (`--generator render`), or a diffusion pipeline folder (`--generator toy` for data/toy_pipeline).
Writes the summary to data/loop_ablation.json (and the plot beside the runs). Resumable: rerunning skips finished steps."""
import argparse, json, time
from pathlib import Path
import numpy as np, torch
from image2prompt import toyworld as tw
from image2prompt.core import save_text, save_json, data_dir
from image2prompt.loop import run_loop, render_generator, pipeline_generator, ablation_summary, plot_ablation


def valid_folder(d:Path, n:int=600, seed:int=123)->Path:
    if (d/'metadata.jsonl').exists(): return d
    rng, rows = np.random.default_rng(seed), []; d.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        a = tw.sample_attrs(rng, tw.HEAD_OBJECTS + tw.TAIL_OBJECTS)
        r = dict(file_name=f'v{i:05d}.png', text=tw.to_prompt(a, rng), seed=10**8 + i, **a)
        tw.render_attrs(a, r['seed']).save(d/r['file_name']); rows.append(r)
    save_text(d/'metadata.jsonl', ''.join(json.dumps(r) + '\n' for r in rows)); return d


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default='/tmp/loop_ablation'); p.add_argument('--features', default='pixels')
    p.add_argument('--rounds', type=int, default=3); p.add_argument('--n_new', type=int, default=150)
    p.add_argument('--n_base', type=int, default=1500); p.add_argument('--generator', default='render')
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default=str(data_dir()/'loop_ablation.json'))
    a = p.parse_args(); torch.set_num_threads(a.threads); root = Path(a.root)
    if not (root/'train'/'metadata.jsonl').exists(): tw.build_dataset(root/'train', a.n_base, seed=0, tail_count=6, progress=False)
    valid = valid_folder(root/'valid')
    gen = render_generator() if a.generator == 'render' else pipeline_generator(None if a.generator == 'toy' else a.generator)
    works, times = {}, {}
    for strat in ('targeted', 'random'):
        works[strat] = root/f"{strat}_{a.features.replace(':', '_')}"; t = time.time()
        m = run_loop(works[strat], root/'train', valid, gen=gen, rounds=a.rounds, n_new=a.n_new, strategy=strat,
                     features=a.features, weak_quantile=0.5, log=lambda s: None)
        times[strat] = time.time() - t
        print(strat, m[['round', 'n_train', 'val_mean_cos', 'sim_spearman', 'filter_kept']].to_string(index=False), flush=True)
    s = ablation_summary(works) | dict(settings=vars(a) | dict(weak_quantile=0.5, tail_count=6, n_valid=600), wall_s=times)
    save_json(a.out, s); plot_ablation(s, root/'ablation.png')
    for arm, d in s['arms'].items(): print(f"{arm}: gain {d['gain']:+.4f}  worst {s['worst']} {d['worst']:+.4f}  rest {d['rest']:+.4f}")


if __name__ == '__main__': main()
