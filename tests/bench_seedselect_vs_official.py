"""SeedSelect: this project against the official code (dvirsamuel/SeedSelect `main.py` + `SeedOptimizationStableDiffusion.py`).

Run by hand, not in CI. Both sides get the same SD 2.1-base stand-in, the same ViT-H-14 weights (open_clip layout for the project,
transformers `CLIPModel` layout for the official code: one set of random weights, see `standin.openclip_to_hf_clip`), the same
reference PNGs, the same initial noise, 20 DDIM steps, guidance 7.5, semantic weights (0.05, 0.25, 0.7) on the last 3 steps,
10*semantic + appearance, AdamW lr 0.1 -> 0.01 after 3 iterations, one seed. Each side runs in a fresh subprocess (peak RSS is
the child's own), the sides alternate, and the figures are medians over the repeats.

The official code is kept outside the project tree and patched only where a CPU run at a small size needs it
(`OFFICIAL/PATCH.diff`: the device, the hard-coded 512-px / 64x64-latent size and the `/inputs/huggingface_cache/` cache dir;
and two library-version fixes: `image_encoder=None` passed to the diffusers 0.42 pipeline's `__init__`, and Pillow 10's
`BILINEAR` for the removed `LINEAR`). OFFICIAL holds orig/ and patched/ (the whole repo at COMMIT, `git archive`), shim/,
PATCH.diff and COMMIT. Recorded run (2026-12-02): official commit 8a1f3d42, 3 reps, load ~1.
Two shims live in this script or beside the official copy, not in its code: a `pytorch_lightning` package holding only
`seed_everything` (not installed here), and `CLIPModel.get_image_features` returning the tensor as in transformers 4.x.

    HF_HOME=DIR HF_HUB_OFFLINE=1 python tests/bench_seedselect_vs_official.py --official REF_DIR/seedselect_official \\
        --size 64 --iters 4 --reps 3 --out data/results/peer_seedselect.json
(`python -m image2prompt.standin DIR sd21-base vit-h` makes DIR; the big models need ~10 GB RAM per side: run it under
`flock $TMPDIR/i2p_bigmem.lock` on a shared machine.)
"""
import argparse, json, os, platform, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path
import torch

PROMPT, OBJ, N_REFS, SEED = 'a red house sparrow', 'house sparrow', 5, 22
from image2prompt.standin import repo_id
HUB_SD, HUB_CLIP = repo_id('sd21-base'), repo_id('vit-h')  # the ids the stand-ins are written under

def write_refs(d:Path, size:int)->Path:
    "The toy world's renders of the concept as PNGs at the benchmark size (both sides read these files)."
    from image2prompt.toyworld import render_concept
    d.mkdir(parents=True, exist_ok=True)
    for i, im in enumerate(render_concept(OBJ, N_REFS, 0, color='red')[0]): im.convert('RGB').resize((size, size)).save(d/f'ref{i}.png')
    return d

def init_noise(size:int)->torch.Tensor:
    return torch.randn(1, 4, size // 8, size // 8, generator=torch.Generator().manual_seed(SEED))

def peak_rss_gb()->float: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20

def _feats(o): return o if torch.is_tensor(o) else o.pooler_output

def run_official(a)->dict:
    "The official optimize_seed on the official pipeline; per-iteration loss, time and UNet evaluations recorded from outside."
    os.environ.update(SEEDSELECT_DEVICE='cpu', SEEDSELECT_SIZE=str(a.size))
    sys.path[:0] = [str(Path(a.official)/'patched'), str(Path(a.official)/'shim')]
    import main as off
    from image2prompt.seedselect import UNetCounter
    t_load = time.perf_counter()
    sd_model, vae, clip_model, clip_transform = off.prepare_models()
    get = clip_model.get_image_features
    clip_model.get_image_features = lambda *x, **k: _feats(get(*x, **k))  # transformers 5 returns an output object
    t_load = time.perf_counter() - t_load
    refs = Path(a.refs)
    cen = off.clip_encode(clip_model, clip_transform, str(refs)).mean(dim=0); cen = cen / cen.norm(dim=-1, keepdim=True)
    vae_cen = off.vae_encode(vae, str(refs)).mean(dim=0).unsqueeze(0)
    rec, apply = [], sd_model.apply
    w = torch.tensor([0.05, 0.25, 0.7])
    def timed_apply(**kw):
        rec.append(dict(t=time.perf_counter(), evals=cnt.evals))
        lat, losses, img = apply(**kw)
        sem = (w @ torch.stack(losses).detach().squeeze(-1)).item()
        app = ((lat.detach() - vae_cen) ** 2).mean().item()
        rec[-1].update(sem=sem, app=app, loss=10 * sem + app)
        return lat, losses, img
    sd_model.apply = timed_apply
    with UNetCounter(sd_model.unet) as cnt:
        off.optimize_seed(init_noise(a.size), PROMPT, sd_model, clip_model, clip_transform.transforms, cen, vae_cen,
                          n_iters=a.iters, guidance_scale=7.5, lr=0.1)
        end = dict(t=time.perf_counter(), evals=cnt.evals)
    return _summary(rec, end, t_load)

def run_project(a)->dict:
    "This project's `optimize_seeds` with `SeedConfig()` (the public code's defaults) on the same stand-ins."
    from diffusers import StableDiffusionPipeline
    import image2prompt.seedselect as ss
    from image2prompt.standin import set_size
    t_load = time.perf_counter()
    pipe = ss.freeze(set_size(StableDiffusionPipeline.from_pretrained(HUB_SD, safety_checker=None, requires_safety_checker=False), a.size))
    emb = ss.make_embedder('open_clip:ViT-H-14', device='cpu')
    t_load = time.perf_counter() - t_load
    tg = ss.make_targets(pipe, PROMPT, a.refs, emb, 7.5, device='cpu')
    rec, seed_loss = [], ss.seed_loss
    def timed(pipe_, z, tg_, e, cfg):
        rec.append(dict(t=time.perf_counter(), evals=cnt.evals))
        out = seed_loss(pipe_, z, tg_, e, cfg)
        rec[-1].update(loss=out[0].item(), sem=out[1].item(), app=out[2].item())
        return out
    ss.seed_loss = timed
    with ss.UNetCounter(pipe.unet) as cnt:
        ss.optimize_seeds(pipe, init_noise(a.size), tg, emb, ss.SeedConfig(iters=a.iters), progress=False, counter=cnt)
        end = dict(t=time.perf_counter(), evals=cnt.evals)
    return _summary(rec, end, t_load)

def _summary(rec:list, end:dict, t_load:float)->dict:
    "Seconds and UNet evaluations of each iteration (start to next start; the last to the end), losses, peak RSS."
    nxt = rec[1:] + [end]
    return dict(sec_per_iter=[n['t'] - r['t'] for r, n in zip(rec, nxt)], evals_per_iter=[n['evals'] - r['evals'] for r, n in zip(rec, nxt)],
                loss=[r['loss'] for r in rec], sem=[r['sem'] for r in rec], app=[r['app'] for r in rec],
                load_s=t_load, peak_rss_gb=peak_rss_gb())

def child(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(SEED)  # the official vae_encode draws latent_dist.sample(): same draw in every repeat
    r = (run_official if a.side == 'official' else run_project)(a)
    Path(a.result).write_text(json.dumps(r))

def parent(a):
    work = Path(tempfile.mkdtemp(prefix='bench_ss_'))
    runs = {'official': [], 'project': []}
    for rep in range(a.reps):
        for side in (('official', 'project') if rep % 2 == 0 else ('project', 'official')):
            refs = write_refs(work/f'refs_{side}_{rep}', a.size)  # fresh folder: the official code caches its encodings in it
            res = work/f'{side}_{rep}.json'
            cmd = [sys.executable, __file__, '--side', side, '--refs', str(refs), '--result', str(res), '--size', str(a.size),
                   '--iters', str(a.iters), '--official', a.official, '--threads', str(a.threads)]
            t0 = time.perf_counter(); subprocess.run(cmd, check=True); wall = time.perf_counter() - t0
            runs[side].append(json.loads(res.read_text()) | dict(wall_s=wall))
            print(side, rep, {k: runs[side][-1][k] for k in ('sec_per_iter', 'evals_per_iter', 'loss', 'peak_rss_gb')}, flush=True)
    med = lambda side, f: statistics.median(f(r) for r in runs[side])
    # first iteration is warm-up; the project's last one stops before backward (nothing follows it), the official's does not:
    # time only the full iterations in between, the same work on both sides
    it_s = {s: med(s, lambda r: statistics.median(r['sec_per_iter'][1:-1] or r['sec_per_iter'][1:] or r['sec_per_iter'])) for s in runs}
    rss = {s: med(s, lambda r: r['peak_rss_gb']) for s in runs}
    ev = {s: med(s, lambda r: statistics.median(r['evals_per_iter'])) for s in runs}
    import diffusers, transformers, open_clip
    out = dict(command=' '.join([Path(sys.executable).name] + sys.argv), size=a.size, iters=a.iters, reps=a.reps, threads=a.threads,
               prompt=PROMPT, n_refs=N_REFS, seed=SEED, official_commit=(Path(a.official)/'COMMIT').read_text().strip() if (Path(a.official)/'COMMIT').exists() else None,
               sec_per_iter_median=it_s, peak_rss_gb_median=rss, unet_evals_per_iter=ev,
               ratio_time=it_s['project'] / it_s['official'], ratio_rss=rss['project'] / rss['official'],
               runs=runs, versions=dict(torch=torch.__version__, diffusers=diffusers.__version__, transformers=transformers.__version__,
                                        open_clip=open_clip.__version__, python=platform.python_version()),
               machine=dict(cpu=platform.processor() or platform.machine(), cores=os.cpu_count(), load_avg=os.getloadavg(), gpu=torch.cuda.is_available()))
    if a.out:
        from image2prompt.core import save_json
        save_json(a.out, out)
    print(json.dumps({k: out[k] for k in ('sec_per_iter_median', 'peak_rss_gb_median', 'unet_evals_per_iter', 'ratio_time', 'ratio_rss')}, indent=1))
    return out

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--official', required=True, help='a clone of the official SeedSelect code'); p.add_argument('--size', type=int, default=64)
    p.add_argument('--iters', type=int, default=4); p.add_argument('--reps', type=int, default=3); p.add_argument('--threads', type=int, default=1)
    p.add_argument('--out'); p.add_argument('--side'); p.add_argument('--refs'); p.add_argument('--result')
    a = p.parse_args()
    child(a) if a.side else parent(a)
