"""Generation overhead (issue 19, part 4): `gen_images` and `image2prompt generate` against a bare diffusers loop.

Sides, all in one process, alternating (the order rotates every repeat), on the same loaded pipeline, prompts, seeds, batch,
steps, guidance and scheduler:
- `bare`: `pipe(prompts[b], generator=[...], num_inference_steps, guidance_scale).images` per batch, nothing saved;
- `bare+save`: the same and `img.save(png)` per image plus one `metadata.jsonl` at the end (the least a folder needs);
- `gen_images`: `image2prompt.diffusion.gen_images` (atomic PNG writes, resumable metadata, the returned DataFrame);
- `cli`: `image2prompt generate PROMPTS.txt --pipeline P ...` in-process, which also loads the pipeline: compared with
  `bare_load`, the bare loop plus `load_pipeline` (the toy pipeline names its text encoder, so both load it the same way).
Ratios are medians over repeats of side / bare. The first batch of `gen_images` is checked to equal the bare loop's images.

    python tests/bench_generate_overhead.py                      # the recorded run: toy pipeline and SD 2.1-base stand-in
    python tests/bench_generate_overhead.py --only toy
"""
import os, sys, json, time, argparse, contextlib, shutil, statistics, tempfile
from pathlib import Path
import numpy as np, torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_dreambooth_vs_diffusers import run_meta, REPO

CASES = dict(  # name -> pipeline, images, batch, steps, guidance, size
    toy=dict(pipeline=None, n=32, bs=16, steps=20, guidance=5.0, size=None),
    sd21base=dict(pipeline='sd21-base', n=4, bs=2, steps=5, guidance=7.5, size=64))

@contextlib.contextmanager
def big_memory(lock:str|None):
    "Hold the machine's big-memory lock (a stand-in run takes ~5 GB) while the block runs; `None`/'': no lock."
    if not lock: yield; return
    import fcntl
    with open(lock, 'a') as f: fcntl.flock(f, fcntl.LOCK_EX); yield

def prompts_for(n:int)->list: return [f'a photo of a {c} house number {i}' for i, c in zip(range(n), ['red', 'green', 'blue', 'gold'] * n)]

def bare(pipe, prompts, seeds, c, out=None):
    "The bare diffusers loop; with `out`, PNGs and one metadata.jsonl written plainly."
    imgs = []
    for b in range(0, len(prompts), c['bs']):
        ims = pipe(prompts[b:b+c['bs']], generator=[torch.Generator().manual_seed(s) for s in seeds[b:b+c['bs']]],
                   num_inference_steps=c['steps'], guidance_scale=c['guidance'], **_size(c)).images
        if out:
            for i, im in enumerate(ims, b): im.save(Path(out)/f'{i:06d}.png')
        imgs += ims
    if out: (Path(out)/'metadata.jsonl').write_text(''.join(json.dumps(dict(file_name=f'{i:06d}.png', text=p, seed=s)) + '\n'
                                                            for i, (p, s) in enumerate(zip(prompts, seeds))))
    return imgs

def _size(c): return dict(height=c['size'], width=c['size']) if c['size'] else {}

PIPE_S = [0.]  # seconds spent inside pipeline `__call__`s so far

def time_pipeline_calls(cls):
    "Make every `cls.__call__` add its duration to `PIPE_S` (the denoising work, the same on every side)."
    f = cls.__call__
    if getattr(f, 'timed', False): return
    def call(self, *a, **k):
        t = time.perf_counter()
        try: return f(self, *a, **k)
        finally: PIPE_S[0] += time.perf_counter() - t
    call.timed = True; cls.__call__ = call

def timed(f)->tuple:
    "(total seconds, seconds inside the pipeline) of `f()`."
    p, t = PIPE_S[0], time.perf_counter(); f(); return time.perf_counter() - t, PIPE_S[0] - p

def run_case(name:str, c:dict, repeats:int, work:Path)->dict:
    from image2prompt.diffusion import load_pipeline, gen_images
    from image2prompt.cli import main as cli
    pipe, prompts = load_pipeline(c['pipeline']), prompts_for(c['n']); seeds = list(range(len(prompts)))
    time_pipeline_calls(type(pipe))
    (work/'prompts.txt').write_text('\n'.join(prompts) + '\n')
    ref = bare(pipe, prompts[:c['bs']], seeds[:c['bs']], c)  # warm-up, and the images every side must reproduce
    def fresh(d): shutil.rmtree(work/d, ignore_errors=True); (work/d).mkdir(); return work/d
    cli_args = lambda d: ['generate', str(work/'prompts.txt'), '--out_dir', str(d), '--seed', '0', '--steps', str(c['steps']),
                          '--guidance_scale', str(c['guidance']), '--bs', str(c['bs'])] + (['--pipeline', c['pipeline']] if c['pipeline'] else [])
    sides = dict(bare=lambda: bare(pipe, prompts, seeds, c),
                 **{'bare+save': lambda: bare(pipe, prompts, seeds, c, fresh('plain'))},
                 gen_images=lambda: gen_images(pipe, prompts, seeds, fresh('gen'), c['guidance'], c['steps'], c['bs'], progress=False, **_size(c)))
    if not c['size']:  # the CLI has no size option: it draws at the pipeline's native size
        sides.update(bare_load=lambda: bare(load_pipeline(c['pipeline']), prompts, seeds, c), cli=lambda: cli(cli_args(fresh('cli'))))
    times, inpipe, names = {k: [] for k in sides}, {k: [] for k in sides}, list(sides)
    for r in range(repeats):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t, pt = timed(sides[k]); times[k].append(t); inpipe[k].append(pt)
        print(name, r, {k: (round(v[-1], 2), round(inpipe[k][-1], 2)) for k, v in times.items()}, flush=True)
    same = all(np.array_equal(np.asarray(a), np.asarray(__import__('PIL.Image').Image.open(work/'gen'/f'{i:06d}_{i}.png').convert('RGB')))
               for i, a in enumerate(ref))
    med = {k: statistics.median(v) for k, v in times.items()}
    base = lambda k: 'bare_load' if k == 'cli' else 'bare'
    ratio = {k: round(statistics.median(t / b for t, b in zip(times[k], times[base(k)])), 3) for k in times if k not in ('bare', 'bare_load')}
    out = {k: [t - p for t, p in zip(times[k], inpipe[k])] for k in times}  # time outside the pipeline calls
    # the denoising work is the same on every side (same images); only the time around it differs systematically, so
    # `ratio_same_work` = 1 + (outside time of the side - outside time of its bare loop) / bare loop time
    same_work = {k: round(1 + (statistics.median(out[k]) - statistics.median(out[base(k)])) / med[base(k)], 4) for k in ratio}
    return dict(case=name, **{k: v for k, v in c.items() if k != 'pipeline'}, pipeline=c['pipeline'] or 'shipped toy pipeline',
                scheduler=type(pipe.scheduler).__name__, images_equal_bare=same, median_s={k: round(v, 3) for k, v in med.items()},
                ratio_over_bare=ratio, ratio_same_work=same_work, outside_pipe_s={k: round(statistics.median(v), 3) for k, v in out.items()},
                times_s={k: [round(x, 3) for x in v] for k, v in times.items()}, in_pipe_s={k: [round(x, 3) for x in v] for k, v in inpipe.items()})

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--only', choices=list(CASES)); p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--threads', type=int, default=1); p.add_argument('--lock', default=os.path.join(tempfile.gettempdir(), 'i2p_bigmem.lock'))
    p.add_argument('--out', default=str(REPO/'data'/'results'/'peer_generate_overhead.json'))
    a = p.parse_args(); torch.set_num_threads(a.threads)
    work = Path(tempfile.mkdtemp(prefix='i2p_genbench_'))
    if a.only != 'toy':  # before anything imports huggingface_hub, which reads HF_HOME once
        os.environ.update(HF_HOME=str(work/'hf_home'), HF_HUB_OFFLINE='1')
        from image2prompt.standin import write_standins
        write_standins(['sd21-base'], work/'hf_home')
    old = json.loads(Path(a.out).read_text())['cases'] if a.only and Path(a.out).exists() else []
    rows = [r for r in old if r['case'] != a.only]  # --only NAME replaces that case in an existing result file
    for name, c in CASES.items():
        if a.only not in (None, name): continue
        with big_memory(c['pipeline'] and a.lock): la = os.getloadavg(); row = run_case(name, c, a.repeats, work)
        rows.append(dict(row, command='python ' + ' '.join(['tests/bench_generate_overhead.py'] + sys.argv[1:]), meta=dict(run_meta(), load_avg_start=la)))
        print(json.dumps({k: row[k] for k in ('case', 'median_s', 'ratio_over_bare', 'ratio_same_work', 'outside_pipe_s', 'images_equal_bare')}))
    rows.sort(key=lambda r: list(CASES).index(r['case']))
    Path(a.out).write_text(json.dumps(dict(target='<= 1.05x the bare loop', cases=rows), indent=1) + '\n'); shutil.rmtree(work, ignore_errors=True)
