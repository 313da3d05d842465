"""The toy-world ablation of the data loop: targeted vs random new prompts (not run in CI).

Renderer arm (the first stop's run, data/loop_ablation.json):

    nice -n 5 python tests/bench_loop_ablation.py --root WORK_DIR/loop_ablation --features pixels --rounds 3 --n_new 150 --n_base 1500

Diffusion-pipeline arm (data/results/loop_ablation_pipeline.json): every image, base training set and validation included, is drawn
by the shipped toy pipeline, and the regressor is the pretrained EfficientNet-Lite0 (128 px) with the loop's ridge head:

    taskset -c 1 python tests/bench_loop_ablation.py --root WORK_DIR/loop_pipe --generator toy --features timm:efficientnet_lite0 \\
        --rounds 3 --n_new 200 --n_base 2000 --seeds 0 1 2 3 4 --threads 1 --out data/results/loop_ablation_pipeline.json

Base training set: `toyworld.plan_dataset(n_base, ...)` with the long tail (renderer: seed 0, 6 per tail object; pipeline:
seed 20, 4 per tail object, the regressor experiment's training set). `--train DIR` reuses an existing folder instead.
Validation: 600 prompts whose objects are drawn uniformly from head + tail objects (seed 123), so weak tail areas count,
drawn by the same generator as the new images, with their attributes.

Regressor arm (data/results/loop_ablation_regressor.json): the pipeline arm with `train_regressor` as the model step
(EfficientNet-Lite0, linear probe then fine-tune of the last blocks, 1 block unfrozen in round 0 and one more per round,
warm-started from the previous round) instead of the ridge head. Shrunk to fit about an hour of one core on a loaded
machine: the base set is the first 800 images of the pipeline arm's 2000-image plan (shuffled, so a random 40%: tail
objects 0-4 times), 300 validation images, 2 rounds of 150 new images, 96 px, 3 LP epochs (cached features) + 1 FT epoch:

    OMP_NUM_THREADS=1 nice -n 10 python tests/bench_loop_ablation.py --root WORK_DIR/loop_reg --generator toy --model regressor \\
        --features timm:efficientnet_lite0 --size 96 --n_base 800 --base_plan 2000 --n_valid 300 --rounds 2 --n_new 150 \\
        --seeds 0 1 2 3 4 --threads 1 --out data/results/loop_ablation_regressor.json

Both arms: same features, model step (ridge head or regressor), seeds and round-0 model; `weak_quantile=0.5` (the similarity threshold is the median
validation cosine: with these cheap regressors no prompt is predicted below the recipe's absolute 0.4). Each `--seeds` value
is a repeat with other candidate prompts and image seeds. Writes the summary to `--out` (and the plot beside the runs).
Resumable: rerunning skips finished steps. `--merge` adds seeds to an existing `--out` (seeds 1 and 4 of the regressor arm were
run this way, with the same settings, after the machine ran out of time for them in the first invocation)."""
import argparse, json, os, platform, sys, tempfile, time
from pathlib import Path
import numpy as np, torch
from image2prompt import toyworld as tw
from image2prompt.core import save_text, save_json, data_dir
from image2prompt.loop import run_loop, render_generator, pipeline_generator, ablation_summary, plot_ablation


def valid_folder(d:Path, pipe=None, n:int=600, seed:int=123)->Path:
    "Validation prompts over head + tail objects; rendered, or drawn by `pipe` (with the prompts' attributes)."
    if (d/'metadata.jsonl').exists() and (pipe is None or (d/'done').exists()): return d
    rng = np.random.default_rng(seed); attrs = [tw.sample_attrs(rng, tw.HEAD_OBJECTS + tw.TAIL_OBJECTS) for _ in range(n)]
    texts = [tw.to_prompt(a, rng) for a in attrs]; seeds = [10**8 + i for i in range(n)]
    d.mkdir(parents=True, exist_ok=True)
    if pipe is None:
        for i, a in enumerate(attrs): tw.render_attrs(a, seeds[i]).save(d/f'v{i:05d}.png')
        rows = [dict(file_name=f'v{i:05d}.png', text=texts[i], seed=seeds[i], **a) for i, a in enumerate(attrs)]
        save_text(d/'metadata.jsonl', ''.join(json.dumps(r) + '\n' for r in rows))
    else:
        from image2prompt.diffusion import gen_images
        gen_images(pipe, texts, seeds, d, extra=attrs, progress=False); save_text(d/'done', '')
    return d


def train_folder(d:Path, n:int, pipe=None, plan:int|None=None)->Path:
    "The base training set: rendered, or the first `n` rows of `plan_dataset(plan)` drawn by `pipe` (the plan is shuffled)."
    if pipe is None:
        if not (d/'metadata.jsonl').exists(): tw.build_dataset(d, n, seed=0, tail_count=6, progress=False)
        return d
    from image2prompt.diffusion import gen_images
    rows = tw.plan_dataset(plan or n, seed=20, tail_count=4)[:n]
    gen_images(pipe, [r['text'] for r in rows], [r['seed'] for r in rows], d, progress=False); return d


def run_seed(a, root:Path, train:Path, valid:Path, gen, seed:int)->dict:
    works, times = {}, {}
    for strat in ('targeted', 'random'):
        name = f"{strat}_{a.features.replace(':', '_')}" if a.generator == 'render' else f'{strat}_s{seed}'
        if a.model == 'regressor': name = f'{strat}_reg_s{seed}'
        works[strat] = root/name; t = time.time()
        kw = dict(seed=seed) if a.generator != 'render' else {}
        if a.model == 'regressor':
            kw |= dict(model='regressor', backbone=a.features, size=a.size, n_blocks=a.n_blocks, unfreeze_per_round=1,
                       lp_epochs=a.lp_epochs, ft_epochs=a.ft_epochs)
        m = run_loop(works[strat], train, valid, gen=gen, rounds=a.rounds, n_new=a.n_new, strategy=strat,
                     features=a.features, weak_quantile=0.5, log=lambda s: None, **kw)
        times[strat] = time.time() - t
        print(f'seed {seed}', strat, m[['round', 'n_train', 'val_mean_cos', 'sim_spearman', 'filter_kept']].to_string(index=False), flush=True)
    return ablation_summary(works) | dict(seed=seed, wall_s=times)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--root', default=os.path.join(tempfile.gettempdir(), 'loop_ablation')); p.add_argument('--features', default='pixels')
    p.add_argument('--rounds', type=int, default=3); p.add_argument('--n_new', type=int, default=150)
    p.add_argument('--n_base', type=int, default=1500); p.add_argument('--generator', default='render')
    p.add_argument('--train', default=None); p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--model', default='ridge', choices=['ridge', 'regressor']); p.add_argument('--size', type=int, default=None)
    p.add_argument('--n_blocks', type=int, default=1); p.add_argument('--lp_epochs', type=int, default=3)
    p.add_argument('--ft_epochs', type=int, default=1); p.add_argument('--n_valid', type=int, default=600)
    p.add_argument('--base_plan', type=int, default=None, help='draw the first N_BASE rows of a plan of this size')
    p.add_argument('--threads', type=int, default=2); p.add_argument('--out', default=str(data_dir()/'results'/'loop_ablation.json'))
    p.add_argument('--merge', action='store_true', help="keep the runs already in --out for seeds not run now (same settings)")
    a = p.parse_args(); torch.set_num_threads(a.threads); root = Path(a.root)
    pipe = None
    if a.generator != 'render':
        from image2prompt.diffusion import load_pipeline
        pipe = load_pipeline(None if a.generator == 'toy' else a.generator, device='cpu')
    train = Path(a.train) if a.train else train_folder(root/'train', a.n_base, pipe, a.base_plan)
    valid = valid_folder(root/'valid', pipe, a.n_valid)
    gen = render_generator() if pipe is None else pipeline_generator(pipe)
    settings = vars(a) | dict(weak_quantile=0.5, train=str(train), command=' '.join(sys.argv),
                              torch=torch.__version__, machine=platform.machine(), cpu=platform.processor() or platform.machine())
    runs = []
    for s in a.seeds:
        runs.append(run_seed(a, root, train, valid, gen, s))
        save_json(root/'partial.json', dict(settings=settings, runs=runs))  # what the finished seeds gave, if the run is cut short
    if a.merge and Path(a.out).exists():  # seeds finished by an earlier invocation with the same settings
        old = json.loads(Path(a.out).read_text()); kept = [r for r in old.get('runs', [old]) if r['seed'] not in a.seeds]
        runs = sorted(kept + runs, key=lambda r: r['seed']); a.seeds = [r['seed'] for r in runs]
        settings['merged_from'] = old.get('settings', {}).get('command')
    if len(runs) == 1: s = runs[0] | dict(settings=settings)
    else:
        arms = list(runs[0]['arms'])
        agg = {arm: {k: float(np.mean([r['arms'][arm][k] for r in runs])) for k in ('gain', 'worst', 'rest')} for arm in arms}
        wins = {k: int(sum(r['arms']['targeted'][k] > r['arms']['random'][k] for r in runs)) for k in ('gain', 'worst')}
        s = runs[0] | dict(settings=settings, seeds=a.seeds, runs=runs, mean=agg, targeted_wins=wins)
    save_json(a.out, s); plot_ablation(s, root/'ablation.png')
    for r in runs:
        for arm, d in r['arms'].items(): print(f"seed {r['seed']} {arm}: gain {d['gain']:+.4f}  worst {r['worst']} {d['worst']:+.4f}  rest {d['rest']:+.4f}")
    if len(runs) > 1: print('mean', json.dumps(s['mean']), 'targeted wins', s['targeted_wins'], 'of', len(runs))


if __name__ == '__main__': main()
