"""Peak memory of one step at the real settings (512 px, the notebooks' batch sizes) on CPU stand-ins (issue 16).

Method: each recipe runs in its own process in the GPU-dtype mode (I2P_STANDIN_DTYPE=bf16: frozen modules in bf16,
trainable parameters fp32, bf16 autocast), with stand-in weights (05_standin). A thread samples the resident set
(/proc/self/statm) every 5 ms; `step_gb` is the peak during one training step / SeedSelect iteration minus the RSS
just before it (activations, gradients, optimizer state); `weights_gb` is the RSS after loading minus the RSS of the
bare process (torch imported). Their sum is an upper-bound estimate of the GPU memory of that step (CPU kernels keep
at least as much as CUDA's; fp16 on T4/P100 has the same sizes as bf16).
Usage: HF_HOME=DIR HF_HUB_OFFLINE=1 python tests/bench_memory.py [recipe ...]   (DIR from `python -m image2prompt.standin`)
"""
import os, sys, json, time, threading, subprocess
from pathlib import Path

def rss_gb(): return int(Path('/proc/self/statm').read_text().split()[1]) * os.sysconf('SC_PAGE_SIZE') / 2**30

class Peak:
    "Sample the RSS in a thread; `.peak` after the block."
    def __enter__(self):
        self.peak, self.run = rss_gb(), True
        def loop():
            while self.run: self.peak = max(self.peak, rss_gb()); time.sleep(0.005)
        self.t = threading.Thread(target=loop, daemon=True); self.t.start(); return self
    def __exit__(self, *a): self.run = False; self.t.join(); self.peak = max(self.peak, rss_gb())

def _synth(n, size):
    from image2prompt.standin import synth_image
    return [synth_image(i, size) for i in range(n)]

def dreambooth(lora=True):
    import torch
    from image2prompt.dreambooth import DreamBoothConfig, setup, DreamBoothDataset, batch_for, train_step, step_generator
    sd = 'stabilityai/stable-diffusion-2-1-base' if lora else 'stable-diffusion-v1-5/stable-diffusion-v1-5'
    kw = dict(lr=1e-4, rank=8, bs=1) if lora else dict(lora=False, lr=2e-6, bs=2, adam_8bit=True)
    cfg = DreamBoothConfig(sd, '.', resolution=512, mixed=True, grad_ckpt=True, **kw)
    base = rss_gb(); acc, m, params, opt = setup(cfg, 'cpu'); m.unet, opt = acc.prepare(m.unet, opt)
    ds = DreamBoothDataset(_synth(3, 512), 'a photo of sks dog', m.tokenizer, _synth(3, 512), 'a photo of a dog')
    b = batch_for(ds, 0, cfg.bs); w = rss_gb(); m.unet.train()
    with Peak() as p: train_step(acc, m, opt, b, step_generator(0, 0), cfg, params)
    return dict(recipe=f"dreambooth {'LoRA r8 SD 2.1-base' if lora else 'full UNet SD 1.5 (Adafactor)'}", px=512, bs=cfg.bs,
                samples_per_step=2 * cfg.bs, weights_gb=w - base, step_gb=p.peak - w)

def seedselect(n_seeds=1, chunk=None):
    import torch
    from diffusers import StableDiffusionPipeline
    from image2prompt.core import default_dtype
    from image2prompt.seedselect import freeze, make_embedder, SeedConfig, make_targets, seed_loss, rand_seeds, latent_shape
    dt = default_dtype('cpu', mixed=True); base = rss_gb()
    pipe = freeze(StableDiffusionPipeline.from_pretrained('stabilityai/stable-diffusion-2-1-base', torch_dtype=dt))
    emb = make_embedder('open_clip:ViT-H-14', device='cpu', dtype=dt)
    cfg = SeedConfig(steps=3, chunk=chunk)  # memory does not grow with steps: every UNet call is checkpointed
    tg = make_targets(pipe, 'a photo of a pine warbler', _synth(3, 512), emb, cfg.guidance_scale, device='cpu')
    z = rand_seeds(n_seeds, latent_shape(pipe), 0).requires_grad_(True); w = rss_gb()
    with Peak() as p: seed_loss(pipe, z, tg, emb, cfg)[0].sum().backward()
    return dict(recipe=f'seedselect SD 2.1-base + ViT-H-14, chunk {cfg.chunk_for(512, n_seeds)}', px=512, n_seeds=n_seeds,
                weights_gb=w - base, step_gb=p.peak - w, estimate_gb=cfg.memory_gb(n_seeds, 512))

def regressor(bs=64):
    import torch
    from image2prompt.regressor import load_backbone, Regressor, set_trainable
    base = rss_gb(); reg = set_trainable(Regressor(load_backbone('hf:openai/clip-vit-large-patch14', device='cpu')), 'last', 4)
    opt = torch.optim.AdamW([p for p in reg.parameters() if p.requires_grad], 1e-5); x = torch.randn(bs, 3, 224, 224); w = rss_gb()
    with Peak() as p:
        with torch.autocast('cpu', torch.bfloat16): l = reg(x).float().pow(2).mean()
        l.backward(); opt.step()
    return dict(recipe='regressor CLIP ViT-L/14, last 4 blocks (fp32 weights, bf16 autocast)', px=224, bs=bs, weights_gb=w - base, step_gb=p.peak - w)

RECIPES = dict(db_lora=lambda: dreambooth(True), db_full=lambda: dreambooth(False), seed_1=lambda: seedselect(1),
               seed_4=lambda: seedselect(4), regressor=regressor)

if __name__ == '__main__':
    os.environ.setdefault('I2P_STANDIN_DTYPE', 'bf16')
    if len(sys.argv) == 3 and sys.argv[1] == '--one':
        r = RECIPES[sys.argv[2]](); r['total_gb'] = r['weights_gb'] + r['step_gb']
        print(json.dumps({k: round(v, 2) if isinstance(v, float) else v for k, v in r.items()})); sys.exit()
    out, rows = Path(__file__).parents[1]/'data'/'results'/'standin_memory.json', []
    for name in sys.argv[1:] or list(RECIPES):
        t0 = time.time(); p = subprocess.run([sys.executable, __file__, '--one', name], capture_output=True, text=True)
        if p.returncode: print(name, 'failed:', p.stderr[-2000:]); continue
        rows.append(dict(json.loads(p.stdout.strip().splitlines()[-1]), seconds=round(time.time() - t0)))
        print(rows[-1], flush=True)
    old = json.loads(out.read_text()) if out.exists() else {}
    out.write_text(json.dumps({**old, **{r['recipe']: r for r in rows}}, indent=1))
