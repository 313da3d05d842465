"""Peak memory of one step at the real settings (512 px, the notebooks' batch sizes) on CPU stand-ins (issue 16).

Method: each recipe runs in a fresh process, in fp32 on CPU, with stand-in weights (05_standin; real architectures,
random weights). A thread samples the resident set (/proc/self/statm) every 5 ms.
- `weights_fp32_gb`: RSS after loading the models minus RSS of the bare process (torch and the libraries imported).
- `frozen_gb` / `trainable_gb`: fp32 bytes of the frozen and trained parameters (counted, not sampled).
- `fwd_bwd_gb`: peak RSS during the forward + backward of one step minus RSS just before it (activations + gradients);
  `grads_gb`: RSS after the backward minus RSS before it; `opt_gb`: RSS growth of the first optimizer step (its state).
GPU estimate in half precision (`gpu_gb`), an upper bound:
  frozen/2 (frozen modules are cast to fp16/bf16 on the GPU; the regressor keeps fp32 weights: not halved there)
  + trainable (fp32 on the GPU) + optimizer state on the GPU (AdamW: 8 B/param; bitsandbytes AdamW8bit: 2 B/param)
  + fwd_bwd/2 + grads/2 (activations halved; the gradients inside the peak stay fp32, so their half is added back).
Halving activations is exact where the modules run in half (SeedSelect, generation, LoRA's frozen UNet) and an upper
bound's approximation under autocast (norms keep some fp32 activations): `fp32_gb` (nothing halved) bounds it from above.
CPU kernels keep at least what CUDA's memory-efficient attention keeps; fp16 (T4/P100) and bf16 have the same sizes.
Usage: HF_HOME=DIR HF_HUB_OFFLINE=1 python tests/bench_memory.py [recipe ...]   (DIR: `python -m image2prompt.standin DIR names`)
"""
import os, sys, json, time, threading, subprocess, platform
from pathlib import Path
from image2prompt.core import resolve_weights

def rss_gb(): return int(Path('/proc/self/statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**30

class Peak:
    "Sample the RSS in a thread; `.peak` (GB above the RSS at entry) after the block."
    def __enter__(self):
        import ctypes, gc
        gc.collect(); ctypes.CDLL('libc.so.6').malloc_trim(0)  # hand freed heap back, so that earlier steps do not hide this one's growth
        self.start = self.top = rss_gb(); self.run = True; self.by_phase = {}
        def loop():
            while self.run:
                r = rss_gb(); self.top = max(self.top, r); ph = PHASE[0]
                if ph: self.by_phase[ph] = max(self.by_phase.get(ph, 0.), r - self.start)
                time.sleep(0.005)
        self.t = threading.Thread(target=loop, daemon=True); self.t.start(); return self
    def __exit__(self, *a):
        self.run = False; self.t.join(); self.top = max(self.top, rss_gb()); self.peak, self.end = self.top - self.start, rss_gb() - self.start

PHASE = [None]  # the module last entered (forward or checkpoint recompute), set by `track_phases`

def track_phases(**mods):
    "Name the phase the RSS sampler attributes to: the last of `mods` whose forward (or recompute) started."
    for name, m in mods.items(): m.register_forward_pre_hook(lambda *a, name=name: PHASE.__setitem__(0, name))

def touch(*mods):
    "Read every parameter once: lazily mapped checkpoint pages become resident before the baseline, not during the step."
    for m in mods:
        for p in m.parameters(): p.detach().float().sum()

def _gb(ps, train:bool): return sum(p.numel() * p.element_size() for p in ps if p.requires_grad == train) / 2**30

def _synth(n, size):
    from image2prompt.standin import synth_image
    return [synth_image(i, size) for i in range(n)]

def _imports():
    import torch, diffusers, transformers, open_clip, accelerate, peft  # noqa: F401 (the bare process has the libraries loaded)
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '2')))

def dreambooth(lora=True):
    "One DreamBooth micro-step as `train_step` runs it (forward + backward, then the optimizer step), notebook 92's settings."
    from image2prompt.dreambooth import DreamBoothConfig, setup, DreamBoothDataset, batch_for, compute_loss, step_generator
    sd = 'sd21-base' if lora else 'sd15'
    kw = dict(lr=1e-4, rank=8, bs=1, adam_8bit=False) if lora else dict(lora=False, lr=2e-6, bs=2, adam_8bit=True)
    cfg = DreamBoothConfig(sd, '.', resolution=512, mixed=True, grad_ckpt=True, with_prior=True, **kw)
    base = rss_gb(); acc, m, params, opt = setup(cfg, 'cpu'); m.unet, opt = acc.prepare(m.unet, opt)
    ds = DreamBoothDataset(_synth(3, 512), 'a photo of sks dog', m.tokenizer, _synth(3, 512), 'a photo of a dog')
    touch(m.unet, m.vae, m.text_encoder); b = batch_for(ds, 0, cfg.bs); w = rss_gb() - base; m.unet.train()
    ps = [p for mod in (m.unet, m.vae, m.text_encoder) for p in mod.parameters()]
    with Peak() as fb:
        with acc.autocast(): l = compute_loss(m, b, step_generator(0, 0), cfg.with_prior, cfg.prior_loss_weight)[0]
        acc.backward(l)
    with Peak() as o: opt.step()
    n_train = sum(p.numel() for p in params)
    opt_gpu = (2 if cfg.adam_8bit else 8) * n_train / 2**30  # AdamW8bit on CUDA (bitsandbytes), fp32 AdamW otherwise
    return dict(recipe=f"92 DreamBooth {'LoRA r8, SD 2.1-base' if lora else 'full UNet, SD 1.5'}", notebook='92', px=512, bs=cfg.bs,
                samples_per_step=2 * cfg.bs, grad_ckpt=True, optimizer=f"{type(opt.optimizer).__name__} on CPU; "
                + ('AdamW8bit (bitsandbytes) on CUDA' if cfg.adam_8bit else 'AdamW'), weights_fp32_gb=w,
                frozen_gb=_gb(ps, False), trainable_gb=_gb(ps, True), fwd_bwd_gb=fb.peak, grads_gb=_gb(ps, True), rss_after_bwd_gb=fb.end, opt_gb=o.end,
                opt_gpu_gb=opt_gpu, frozen_half=True)

def _seed_setup(size=None):
    import torch
    from diffusers import StableDiffusionPipeline
    from image2prompt.seedselect import freeze, make_embedder
    from image2prompt.standin import set_size
    base = rss_gb()
    pipe = freeze(set_size(StableDiffusionPipeline.from_pretrained(resolve_weights('sd21-base'), torch_dtype=torch.float32), size))
    emb = make_embedder('open_clip:ViT-H-14', device='cpu', dtype=torch.float32); touch(pipe.unet, pipe.vae, pipe.text_encoder, emb)
    return pipe, emb, rss_gb() - base, [p for mod in (pipe.unet, pipe.vae, pipe.text_encoder, emb) for p in mod.parameters()]

def _seed_peak(pipe, emb, cfg, n_seeds):
    "Peak RSS above the start of one `seed_loss` forward + backward."
    from image2prompt.seedselect import make_targets, seed_loss, rand_seeds, latent_shape, image_size
    tg = make_targets(pipe, 'a photo of a pine warbler', _synth(3, image_size(pipe)), emb, cfg.guidance_scale, device='cpu')
    z = rand_seeds(n_seeds, latent_shape(pipe), 0).requires_grad_(True)
    with Peak() as fb: seed_loss(pipe, z, tg, emb, cfg)[0].sum().backward()
    return fb.peak, fb.by_phase

def seedselect(n_seeds=1, chunk=None):
    "One SeedSelect iteration (`seed_loss` forward + backward through sampler, decode and embedder), notebook 91's settings, 512 px."
    from image2prompt.seedselect import SeedConfig
    pipe, emb, w, ps = _seed_setup(); track_phases(unet=pipe.unet, decode=pipe.vae.decoder, embed=emb)
    # With chunks, every UNet call and every decode + embed is checkpointed per chunk, and the backward recomputes one at a
    # time: the peak is the larger of one UNet call and one decode + embed, plus a 64 KB latent per step. So one DDIM step
    # with one semantic term has the peak of 20 steps with three, at a third of the CPU time. `phase_peak_gb` splits the peak.
    cfg = SeedConfig(steps=1, sem_weights=(1.,), chunk=chunk)
    peak, phases = _seed_peak(pipe, emb, cfg, n_seeds); c = cfg.chunk_for(512, n_seeds)
    return dict(recipe=f'91 SeedSelect, SD 2.1-base + ViT-H-14, chunk {c}', notebook='91', px=512, n_seeds=n_seeds,
                chunk=c, grad_ckpt=cfg.grad_ckpt, weights_fp32_gb=w, frozen_gb=_gb(ps, False), trainable_gb=0.,
                fwd_bwd_gb=peak, grads_gb=0., opt_gb=0., opt_gpu_gb=0., frozen_half=True,
                phase_peak_gb=phases)  # 'unet': one UNet call (CFG batch 2) recomputed + backward; 'decode'/'embed': one decode + embed

def generate(n=2, slicing=False, to=12):
    "Text-to-image at 512 px, `n` images in one call (one denoising step: memory does not grow with steps); activations scaled to `to` images."
    import torch
    from diffusers import StableDiffusionPipeline
    base = rss_gb(); pipe = StableDiffusionPipeline.from_pretrained(resolve_weights('sd21-base'), torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    if slicing: pipe.vae.enable_slicing()
    touch(pipe.unet, pipe.vae, pipe.text_encoder)
    for mod in (pipe.unet, pipe.vae, pipe.text_encoder): mod.requires_grad_(False)  # frozen: counted as weights by `_gb(ps, False)`
    w = rss_gb() - base; ps = list(pipe.unet.parameters()) + list(pipe.vae.parameters()) + list(pipe.text_encoder.parameters())
    with torch.no_grad(), Peak() as fb: pipe(['a photo of a dog'] * n, num_inference_steps=1, height=512, width=512)
    k = 1 if slicing else to / n  # activations grow linearly with the images of one call (no-grad: one UNet call or one decode at a time)
    return dict(recipe=f"generation, SD 2.1-base, {to} images per call{', VAE slicing' if slicing else ''}", notebook='91/92', px=512, bs=to,
                measured_bs=n, measured_gb=fb.peak, scale=k, weights_fp32_gb=w, frozen_gb=_gb(ps, False), trainable_gb=0.,
                fwd_bwd_gb=fb.peak * k, grads_gb=0., opt_gb=0., opt_gpu_gb=0., frozen_half=True)

def regressor(bs=16, mode='last', n=4, to=64):
    "One fine-tune step of notebook 90's regressor (`train_epoch`'s body, EMA included) at batch `bs`, activations scaled to batch `to`."
    import torch
    from diffusers.training_utils import EMAModel
    from image2prompt.regressor import load_backbone, Regressor, set_trainable
    base = rss_gb(); reg = set_trainable(Regressor(load_backbone('hf:clip-l', device='cpu')), mode, n, 16)
    params = [p for p in reg.parameters() if p.requires_grad]
    touch(reg)
    opt = torch.optim.AdamW(params, 1e-5)
    _ema = EMAModel(params, decay=0.9998)  # held until the end: its shadow copy counts in the memory measured
    x = torch.randn(bs, 3, 224, 224)
    w = rss_gb() - base
    with Peak() as fb: reg(x).float().pow(2).mean().backward()
    with Peak() as o: opt.step()
    return dict(recipe=f"90 regressor, CLIP ViT-L/14 {'last 4 blocks' if mode == 'last' else 'LoRA r16 on 8 blocks'} + EMA",
                notebook='90', px=224, bs=to, measured_bs=bs, measured_gb=fb.peak, scale=to / bs, weights_fp32_gb=w,
                frozen_gb=_gb(reg.parameters(), False), trainable_gb=_gb(params, True), fwd_bwd_gb=(fb.peak - _gb(params, True)) * to / bs + _gb(params, True), grads_gb=_gb(params, True), rss_after_bwd_gb=fb.end, opt_gb=o.end, opt_gpu_gb=8 * sum(p.numel() for p in params) / 2**30,
                ema_gb=_gb(params, True), frozen_half=False)

def decode_check(sizes=(192, 256)):
    "The VAE decode of one image under gradient (SeedSelect's largest term) and without (generation), at small sizes that fit beside other jobs."
    import torch
    from diffusers import AutoencoderKL
    vae = AutoencoderKL.from_pretrained(resolve_weights('sd21-base'), subfolder='vae', torch_dtype=torch.float32).requires_grad_(False)
    touch(vae); r = dict(recipe='VAE decode of one image, SD 2.1-base (fp32, CPU)', notebook='-')
    for px in sizes:
        z = torch.randn(1, 4, px // 8, px // 8, requires_grad=True)
        with Peak() as g: vae.decode(z).sample.float().mean().backward()
        with torch.no_grad(), Peak() as n: vae.decode(z.detach()).sample
        r[f'grad_{px}_gb'], r[f'nograd_{px}_gb'] = g.peak, n.peak
        r[f'grad_512_half_from_{px}_gb'], r[f'nograd_512_half_from_{px}_gb'] = g.peak * (512 / px)**2 / 2, n.peak * (512 / px)**2 / 2
    return r

RECIPES = dict(decode_check=decode_check, seed_1=lambda: seedselect(1), db_lora=lambda: dreambooth(True),
               db_full=lambda: dreambooth(False), regressor=regressor, regressor_lora=lambda: regressor(16, 'lora', 8),
               gen=generate, gen_sliced=lambda: generate(2, True))

# Until a recipe is measured: exact parameter counts of the stand-ins (05_standin, millions) and the per-sample activation
# figures of issue 16 (CPU peak RSS on the stand-ins, halved; measured by the session that filed it, not re-measured here).
PARAMS_M = dict(sd21_unet=865.9, sd15_unet=859.5, vae=83.7, sd21_te=340.4, sd15_te=123.1, vit_h_visual=632.1)
ISSUE16_ACT_GB = dict(unet_per_sample=0.9, decode_per_image=2.8, embed_per_image=0.3)  # half precision, no checkpointing inside the call

# torch Adafactor's state of the SD 1.5 UNet: 457.6 M fp32 values for 859.5 M parameters (row and column factors over the last
# two dims, so 3x3 conv kernels barely shrink): 2.13 bytes/param, about 8-bit Adam's 2
ADAFACTOR_BPP = 2.13

def decode_512_half(r:dict, kind:str)->float:
    "GB per 512-px image in half precision of a VAE decode (`kind` 'grad' or 'nograd'), extended linearly in pixels from `decode_check`'s two sizes."
    (p1, g1), (p2, g2) = sorted((int(k.split('_')[1]), v) for k, v in r.items() if k.startswith(kind + '_') and k.count('_') == 2)
    return (g2 + (512**2 - p2**2) * (g2 - g1) / (p2**2 - p1**2)) / 2

def derived(measured:dict|None=None)->dict:
    "Rows for recipes not measured yet: weights from parameter counts, activations from `ISSUE16_ACT_GB` (an upper bound with checkpointing)."
    P, A, gb = PARAMS_M, ISSUE16_ACT_GB, lambda m, b: m * 1e6 * b / 2**30
    base = dict(px=512, derived=True, grads_gb=0., opt_gb=0., opt_gpu_gb=0., frozen_half=True, trainable_gb=0.)
    seed_act = max(2 * A['unet_per_sample'], A['decode_per_image'] + A['embed_per_image'])  # chunk 1: one UNet call (CFG: 2 rows) or one decode + embed
    full = lambda opt, bpp: dict(base, recipe='92 DreamBooth full UNet, SD 1.5', notebook='92', bs=2, optimizer=opt,
                                 frozen_gb=gb(P['vae'] + P['sd15_te'], 4), trainable_gb=gb(P['sd15_unet'], 4), grads_gb=gb(P['sd15_unet'], 4),
                                 opt_gpu_gb=gb(P['sd15_unet'], bpp), act_gb=4 * A['unet_per_sample'])
    rows = dict(seed_1=dict(base, recipe='91 SeedSelect, SD 2.1-base + ViT-H-14, chunk 1', notebook='91', n_seeds=4, chunk=1,
                            frozen_gb=gb(P['sd21_unet'] + P['vae'] + P['sd21_te'] + P['vit_h_visual'], 4), act_gb=seed_act),
                db_lora=dict(base, recipe='92 DreamBooth LoRA r8, SD 2.1-base', notebook='92', bs=1, optimizer='AdamW',
                             frozen_gb=gb(P['sd21_unet'] + P['vae'] + P['sd21_te'], 4), act_gb=2 * A['unet_per_sample']),
                db_full=full('AdamW8bit (bitsandbytes)', 2), db_full_adafactor=full('Adafactor (no bitsandbytes)', ADAFACTOR_BPP),
                db_full_adamw=full('fp32 AdamW (adam_8bit=False)', 8))
    if measured and 'decode_check' in measured:  # generation: the decode of all images of a call at once is its peak
        g = decode_512_half(measured['decode_check'], 'grad')
        rows['seed_1'].update(act_gb=max(2 * A['unet_per_sample'], g + A['embed_per_image']),
                              act_src=f"the VAE decode under gradient, {g:.2f} GB per image (decode_check) + the embedder's {A['embed_per_image']} GB (issue 16)")
        dec = decode_512_half(measured['decode_check'], 'nograd'); w = gb(P['sd21_unet'] + P['vae'] + P['sd21_te'], 4)
        for k, n, sl in (('gen', 12, False), ('gen_sliced', 12, True)):
            rows[k] = dict(base, recipe=f"generation, SD 2.1-base, {n} images per call{', VAE slicing' if sl else ''}", notebook='91/92', bs=n,
                           frozen_gb=w, act_gb=dec * (1 if sl else n), act_src=f"the VAE decode, {dec:.2f} GB per image (decode_check: measured at 192 and 256 px, extended linearly in pixels; the UNet call's not added)")
    for r in rows.values():
        r['gpu_gb'] = r['frozen_gb'] / 2 + r['trainable_gb'] + r['grads_gb'] + r['opt_gpu_gb'] + r['act_gb']
        r['fp32_act_gb'] = r['gpu_gb'] + r['act_gb']
        r['smallest_card'] = next((c for g, c in CARDS if r['gpu_gb'] <= g * 0.93), '> 80 GB')
    return rows

CARDS = [(16, '16 GB (T4, P100)'), (24, '24 GB (L4, A10, 3090/4090)'), (40, '40 GB (A100-40)'), (80, '80 GB (A100/H100-80)')]

def estimate(r:dict)->dict:
    "The GPU figures of a measured row (see the module docstring)."
    frozen = r['frozen_gb'] / 2 if r['frozen_half'] else r['frozen_gb']
    gpu = frozen + r['trainable_gb'] + r['opt_gpu_gb'] + r.get('ema_gb', 0) + r['fwd_bwd_gb'] / 2 + r['grads_gb'] / 2
    fp32 = frozen + r['trainable_gb'] + r['opt_gpu_gb'] + r.get('ema_gb', 0) + r['fwd_bwd_gb']
    card = next((c for g, c in CARDS if gpu <= g * 0.93), '> 80 GB')  # 7% headroom: CUDA context and allocator fragmentation
    return dict(gpu_gb=gpu, fp32_act_gb=fp32, smallest_card=card)

def versions()->dict:
    import torch, diffusers, transformers, open_clip, accelerate, peft
    return {m.__name__: m.__version__ for m in (torch, diffusers, transformers, open_clip, accelerate, peft)}

def _settings(r:dict)->str:
    if r['notebook'] == '91': return f"{r['px']} px, n_seeds 4 or any (chunk {r['chunk']}: one seed at a time under gradient), DDIM 20, checkpointed"
    if r['notebook'] == '92': return f"{r['px']} px, batch {r['bs']} + {r['bs']} class images, gradient checkpointing, {r['optimizer'].split('; ')[-1].replace(' on CUDA', '')}"
    if r['notebook'] == '90': return f"{r['px']} px, batch {r['bs']}, AdamW, fp32 weights + autocast"
    return f"{r['px']} px, {r['bs']} images per call, no grad"

def table(rows:dict)->str:
    "The memory table in markdown: measured rows, then `derived()` rows for recipes not measured yet."
    rows = {**{k: v for k, v in derived(rows).items() if k not in rows}, **rows}
    out = ['| recipe | settings | weights on the GPU | one step (fp32 on the CPU, above the weights) | GPU estimate, half precision | smallest card |',
           '|---|---|---|---|---|---|']
    for r in sorted(rows.values(), key=lambda r: r['recipe']):
        if 'gpu_gb' not in r: continue
        w_gpu = r['frozen_gb'] / (2 if r['frozen_half'] else 1) + r['trainable_gb']
        if r.get('derived'):
            step = (f"derived: activations {r['act_gb']:.1f} GB half ({r['act_src']})" if 'act_src' in r else
                    f"not measured yet: activations <= {r['act_gb']:.1f} GB half (issue 16's per-sample figures)")
        else:
            step = f"measured {r['fwd_bwd_gb'] + r['opt_gb']:.1f} GB"
            if r.get('scale', 1) != 1: step = f"measured {r['measured_gb']:.1f} GB at batch {r['measured_bs']}, so {r['fwd_bwd_gb'] + r['opt_gb']:.1f} GB at {r['bs']} (activations x{r['scale']:g})"
        out.append(f"| {r['recipe']} | {_settings(r)} | {w_gpu:.1f} GB | {step} | **{r['gpu_gb']:.1f} GB** (activations not halved: {r['fp32_act_gb']:.1f}) "
                   f"| {r['smallest_card']} |")
    return '\n'.join(out)

if __name__ == '__main__':
    if sys.argv[1:] == ['--table']:
        print(table(json.loads((Path(__file__).parents[1]/'data'/'results'/'memory_table.json').read_text())['rows'])); sys.exit()
    if len(sys.argv) == 3 and sys.argv[1] == '--one':
        _imports(); t0 = time.time(); r = RECIPES[sys.argv[2]]()
        r.update(estimate(r) if 'frozen_gb' in r else {}, seconds=round(time.time() - t0))
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()})); sys.exit()
    out = Path(__file__).parents[1]/'data'/'results'/'memory_table.json'
    for name in sys.argv[1:] or list(RECIPES):
        p = subprocess.run([sys.executable, __file__, '--one', name], capture_output=True, text=True)
        if p.returncode: print(name, 'failed:', p.stderr[-3000:], flush=True); continue
        row = json.loads(p.stdout.strip().splitlines()[-1]); print(name, json.dumps(row), flush=True)
        rows = {**(json.loads(out.read_text())['rows'] if out.exists() else {}), name: row}  # re-read: another run may have added rows
        row['load_avg_1min'] = round(os.getloadavg()[0], 1)  # CPU time grows with the load; the figures do not
        rows[name] = row
        cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), platform.machine())
        res = dict(command='HF_HOME=<stand-ins> HF_HUB_OFFLINE=1 nice -n 10 python tests/bench_memory.py RECIPE  (one fresh process per recipe; OMP_NUM_THREADS=2, 1 for the regressor)',
                   method=__doc__.split('Usage:')[0].strip(), versions=versions(),
                   machine=f'{cpu}, {os.cpu_count()} CPUs, {os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") / 2**30:.0f} GB RAM, no GPU',
                   date=time.strftime('%Y-%m-%d', time.gmtime()), rows=rows)
        out.write_text(json.dumps(res, indent=1) + '\n')
