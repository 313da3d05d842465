"""Derived cost of the gold recipe's data loop on a T4 and an A100 (not run in CI; no GPU was measured).

    nice -n 10 python tests/bench_gold_loop_cost.py --out data/results/gold_loop_cost.json

FLOPs per unit of work are counted with `torch.utils.flop_counter.FlopCounterMode` on the stand-ins' exact architectures
(`standin.build_model` on the meta device: no weights, no memory, no time): the SD 2.1 UNet per sample and step at 512 px
(2.1-base, 64x64 latents) and 768 px (2.1, 96x96), its 23-layer text encoder per prompt (77 tokens), the VAE decoder per
image, and CLIP ViT-L/14's vision tower per image forward, and forward + backward with the top blocks trainable.
Each image costs `steps x 2` UNet evaluations (classifier-free guidance), 2 text encodings and one decode.
Time = FLOPs / (peak x utilisation), with the cards' published dense half-precision tensor peaks (T4: 65 TFLOPS fp16;
A100: 312 TFLOPS bf16/fp16) and a stated utilisation assumption per card (`CARDS`, or `--util` for both). Every figure is derived, none measured.
"""
import argparse, platform, sys, time
import torch
from torch.utils.flop_counter import FlopCounterMode
from image2prompt.core import save_json, data_dir
from image2prompt.standin import build_model, config_dir, GPU_SIZES

CARDS = {  # published dense half-precision tensor peaks; `util` is an assumption, not a measurement
    'T4': dict(peak_tflops=65.0, precision='fp16', util=0.2, source='NVIDIA T4 datasheet: 65 TFLOPS mixed precision (FP16/FP32)',
               why='a 70 W card that throttles below its boost clock under sustained load: 20% of peak'),
    'A100': dict(peak_tflops=312.0, precision='bf16', util=0.35, source='NVIDIA A100 datasheet: 312 TFLOPS BF16/FP16 tensor core (dense)',
                 why='batched half-precision UNet/ViT work with PyTorch SDPA kernels: 35% of peak')}
SCALES = {'smoke': dict(n_prompts=100, n_valid=50, n_new=50, rounds=2), 'small': dict(n_prompts=10_000, n_valid=1_000, n_new=2_000, rounds=3),
          'full': dict(n_prompts=500_000, n_valid=5_000, n_new=50_000, rounds=3)}
RECIPE = dict(steps=GPU_SIZES['gold_loop'][0]['steps'], lp_epochs=GPU_SIZES['gold_loop'][0]['lp_epochs'],
              ft_epochs=GPU_SIZES['gold_loop'][0]['ft_epochs'], n_blocks=4, unfreeze_per_round=2, cand_mult=4)


def flops(fn)->float:
    "FLOPs of `fn()` (forward, and backward if it calls it)."
    fc = FlopCounterMode(display=False)
    with fc: fn()
    return float(fc.get_total_flops())


def sd_flops(name:str, px:int)->dict:
    "Per-sample FLOPs of one UNet step, one text encoding and one VAE decode of SD stand-in `name` at `px`."
    d, h = config_dir(name), px // 8
    with torch.device('meta'), torch.no_grad():
        unet, te, vae = (build_model(d/c) for c in ('unet', 'text_encoder', 'vae'))
        c = torch.randn(1, 77, te.config.hidden_size)
        return dict(unet_step=flops(lambda: unet(torch.randn(1, 4, h, h), torch.tensor([500]), encoder_hidden_states=c)),
                    text=flops(lambda: te(torch.zeros(1, 77, dtype=torch.long))),
                    vae_decode=flops(lambda: vae.decode(torch.randn(1, 4, h, h))))


def clip_flops(blocks:list, bs:int=2)->dict:
    "Per-image FLOPs of CLIP ViT-L/14's vision tower: forward, and forward + backward with the top `n` blocks trainable."
    with torch.device('meta'):
        vm = build_model(config_dir('clip-l')).vision_model
        x = torch.randn(bs, 3, 224, 224)
        with torch.no_grad(): out = dict(fwd=flops(lambda: vm(pixel_values=x).pooler_output) / bs)
        for n in blocks:
            vm.requires_grad_(False)
            for m in [*vm.encoder.layers[-n:], vm.post_layernorm]: m.requires_grad_(True)
            out[f'ft_{n}'] = flops(lambda: vm(pixel_values=x).pooler_output.float().sum().backward()) / bs
    return out


def image_flops(sd:dict, steps:int)->float:
    "One generated image: `steps` x 2 UNet evaluations (guidance), 2 text encodings, one decode."
    return steps * 2 * sd['unet_step'] + 2 * sd['text'] + sd['vae_decode']


def round_flops(s:dict, r:int, img:float, clip:dict)->dict:
    "FLOPs of round `r`: train (LP: one pass; FT: `ft_epochs` passes with validation), evaluate, and generate the next round's images."
    n_train, nb = s['n_prompts'] + r * s['n_new'], RECIPE['n_blocks'] + r * RECIPE['unfreeze_per_round']
    lp = (n_train + s['n_valid']) * clip['fwd']
    ft = RECIPE['ft_epochs'] * (n_train * clip[f'ft_{nb}'] + s['n_valid'] * clip['fwd'])
    gen = s['n_new'] * img if r < s['rounds'] else 0.0
    return dict(round=r, n_train=n_train, blocks=nb, train=lp + ft, evaluate=s['n_valid'] * clip['fwd'], generate=gen)


def hours(f:float, card:dict)->float: return f / (card['peak_tflops'] * 1e12 * card['util']) / 3600


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--util', type=float, default=None, help="assumed share of the peak reached on both cards (default: each card's `util`)")
    p.add_argument('--out', default=str(data_dir()/'results'/'gold_loop_cost.json'))
    a = p.parse_args(); t0 = time.time()
    cards = {c: d | (dict(util=a.util) if a.util else {}) for c, d in CARDS.items()}
    sd = {'512 px (SD 2.1-base)': sd_flops('sd21-base', 512), '768 px (SD 2.1)': sd_flops('sd21', 768)}
    blocks = sorted({RECIPE['n_blocks'] + r * RECIPE['unfreeze_per_round'] for r in range(max(s['rounds'] for s in SCALES.values()) + 1)})
    clip = clip_flops(blocks)
    img = {k: image_flops(v, RECIPE['steps']) for k, v in sd.items()}
    per_hour = {c: {k: 3600 * card['peak_tflops'] * 1e12 * card['util'] / f for k, f in img.items()} for c, card in cards.items()}
    i512 = img['512 px (SD 2.1-base)']
    table = {}
    for name, s in SCALES.items():
        setup = (s['n_prompts'] + s['n_valid']) * i512
        rounds = [round_flops(s, r, i512, clip) for r in range(s['rounds'] + 1)]
        table[name] = dict(scale=s, setup_flops=setup, rounds=rounds,
                           hours={c: dict(setup_generate=hours(setup, card),
                                          rounds=[{k: hours(v, card) for k, v in r.items() if k in ('train', 'evaluate', 'generate')} | dict(round=r['round'])
                                                  for r in rounds]) for c, card in cards.items()})
    res = dict(status='derived', note='no GPU was measured: FLOP counts on the stand-ins x published peaks x an assumed utilisation',
               command=' '.join(['python'] + sys.argv), cards=cards, recipe=RECIPE, scales=SCALES,
               flops=dict(sd=sd, clip_l=clip, image=img), images_per_hour=per_hour, table=table,
               versions=dict(torch=torch.__version__, python=platform.python_version()), machine=platform.machine(), wall_s=round(time.time() - t0, 1))
    save_json(a.out, res)
    for c in CARDS: print(c, {k: round(v) for k, v in per_hour[c].items()}, 'images/h')
    for name, t in table.items():
        for c in CARDS:
            h = t['hours'][c]; print(name, c, f"setup {h['setup_generate']:.2f} h", [round(sum(v for k, v in r.items() if k != 'round'), 2) for r in h['rounds']])


if __name__ == '__main__': main()
