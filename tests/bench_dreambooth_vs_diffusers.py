"""DreamBooth-LoRA: `image2prompt dreambooth` against diffusers' `examples/dreambooth/train_dreambooth_lora.py` (issue 19, part 1).

Both sides train the SD 1.5 stand-in (real architecture, random weights; `image2prompt.standin`) on the same 5 instance images
and the same pre-made class images (so neither side's class-image generation is timed), with the same resolution, rank,
batch, learning rate (constant), prior preservation, steps and checkpoint interval, fp32 on CPU.
The reference script runs unmodified (fetch it yourself: it is not part of this project) with only device/size arguments.

Method: every run is a fresh subprocess of this file (`--child`), alternating the two sides (ABBA...), repeated.
The child installs torch's global optimizer-step hook (`register_optimizer_step_post_hook`, no change to either side's code)
and records a timestamp and the process's VmRSS/VmHWM at every optimizer step, then runs the script with `runpy` or the
project's CLI in-process. Seconds per step: median of the step-to-step intervals after `--warmup` steps (the intervals
that include a checkpoint save are in the median too; the median is robust to them). Peak RSS: `os.wait4`'s ru_maxrss of
that child (whole run: load, train, checkpoints, final save), and VmHWM at the last optimizer step (training phase).
Then one more child loads both final LoRA files into a fresh stand-in pipeline with `load_lora_weights`, checks that
every tensor of the file is in the UNet (and nothing else), and reports the relative change of a fixed-seed image.

    python tests/bench_dreambooth_vs_diffusers.py --script REF_DIR/train_dreambooth_lora.py   # the recorded run
"""
import os, sys, json, time, argparse, platform, subprocess, statistics, shutil, tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
from image2prompt.standin import repo_id
SD15 = repo_id('sd15')  # the id the stand-in is written under
PROMPTS = dict(instance='a photo of sks dog', cls='a photo of a dog')

def rss_mb(key='VmRSS'):
    "The current (`VmRSS`) or peak (`VmHWM`) resident set of this process in MB."
    for l in Path('/proc/self/status').read_text().splitlines():
        if l.startswith(key + ':'): return int(l.split()[1]) / 1024

def run_meta()->dict:
    "Versions, machine and load, for a result file."
    import torch, diffusers, transformers, accelerate, peft
    return dict(python=platform.python_version(), torch=torch.__version__, diffusers=diffusers.__version__,
                transformers=transformers.__version__, accelerate=accelerate.__version__, peft=peft.__version__,
                machine=f'{platform.machine()} {os.cpu_count()} CPUs, {platform.platform()}',
                cpu=next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), ''),
                mem_gb=round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30, 1),
                torch_threads=torch.get_num_threads(), load_avg=os.getloadavg(), gpu=torch.cuda.is_available(),
                date=time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime()))

# ---- the two sides -------------------------------------------------------------------------------------------
def script_args(a, d:Path)->list:
    "The reference script's arguments: the shared settings, CPU fp32, no validation."
    return ['--pretrained_model_name_or_path', a.pretrained, '--instance_data_dir', str(d/'inst'), '--class_data_dir', str(d/'cls'),
            '--with_prior_preservation', '--prior_loss_weight', '1.0', '--num_class_images', str(a.n_class),
            '--instance_prompt', PROMPTS['instance'], '--class_prompt', PROMPTS['cls'], '--output_dir', str(d/'out'),
            '--resolution', str(a.resolution), '--center_crop', '--train_batch_size', str(a.bs), '--learning_rate', str(a.lr),
            '--lr_scheduler', 'constant', '--lr_warmup_steps', '0', '--max_train_steps', str(a.steps),
            '--checkpointing_steps', str(a.ckpt_every), '--checkpoints_total_limit', '2', '--rank', str(a.rank),
            '--seed', '0', '--mixed_precision', 'no', '--max_grad_norm', '1.0']

def project_args(a, d:Path)->list:
    "`image2prompt dreambooth` with the same settings."
    return ['dreambooth', a.pretrained, str(d/'inst'), '--out_dir', str(d/'out'), '--identifier', 'sks', '--class_name', 'dog',
            '--resolution', str(a.resolution), '--n_class_images', str(a.n_class), '--class_dir', str(d/'cls'),
            '--rank', str(a.rank), '--lr', str(a.lr), '--bs', str(a.bs), '--steps', str(a.steps),
            '--ckpt_every', str(a.ckpt_every), '--val_every', '0', '--seed', '0', '--device', 'cpu']

def child(side:str, a, d:Path):
    "Run one side in this process with a step hook; write the step records to `d/steps.json`."
    import runpy
    t0, steps = time.time(), []
    def hook(opt, args, kwargs): steps.append(dict(t=time.time() - t0, rss=rss_mb(), hwm=rss_mb('VmHWM')))
    from torch.optim.optimizer import register_optimizer_step_post_hook
    register_optimizer_step_post_hook(hook)
    if side == 'script':
        sys.argv = [a.script] + script_args(a, d); runpy.run_path(a.script, run_name='__main__')
    else:
        from image2prompt.cli import main
        main(project_args(a, d))
    (d/'steps.json').write_text(json.dumps(dict(steps=steps, total_s=time.time() - t0, end_hwm=rss_mb('VmHWM'))))

# ---- data and one measured run -------------------------------------------------------------------------------
def make_data(root:Path, a):
    "Instance and class folders holding only images (the script reads every file in them as an image)."
    from image2prompt.standin import synth_image
    for sub, n, start in (('inst', 5, 0), ('cls', a.n_class, 100)):
        (root/sub).mkdir(parents=True, exist_ok=True)
        for i in range(start, start + n): synth_image(i, a.resolution).save(root/sub/f'{i:04d}.png')

def folder_files(d:Path)->dict:
    "name -> bytes of the files in `d`."
    return {str(f.relative_to(d)): f.stat().st_size for f in sorted(Path(d).rglob('*')) if f.is_file()}

def measure(side:str, a, root:Path, env:dict)->dict:
    "One fresh child run of `side`: step times, peak RSS, checkpoint and LoRA files."
    d = root/f'{side}_run'; shutil.rmtree(d, ignore_errors=True); d.mkdir()
    shutil.copytree(root/'data'/'inst', d/'inst'); shutil.copytree(root/'data'/'cls', d/'cls')
    cmd = [sys.executable, __file__] + sys.argv[1:] + ['--child', side, '--work', str(d)]
    la = os.getloadavg()[0]
    with open(d/'log.txt', 'w') as log: p = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    _, status, ru = os.wait4(p.pid, 0)  # this child's own resource use (getrusage(RUSAGE_CHILDREN) is a running maximum)
    if status: raise RuntimeError(f'{side} failed ({status}); see {d}/log.txt:\n' + (d/'log.txt').read_text()[-3000:])
    r = json.loads((d/'steps.json').read_text()); st = r['steps']; dt = [b['t'] - x['t'] for x, b in zip(st, st[1:])]
    cks = sorted((d/'out').glob('checkpoint-*'), key=lambda p: int(p.name.split('-')[1]))
    return dict(side=side, n_steps=len(st), s_per_step=statistics.median(dt[a.warmup:]), first_step_s=st[0]['t'],
                total_s=r['total_s'], peak_rss_mb=ru.ru_maxrss / 1024, train_hwm_mb=st[-1]['hwm'],
                load_avg=la, ckpt_files=folder_files(cks[-1]) if cks else {}, ckpt_mb=sum(folder_files(cks[-1]).values()) / 2**20 if cks else 0,
                n_ckpts_kept=len(cks), out_files={k: v for k, v in folder_files(d/'out').items() if not k.startswith('checkpoint-')},
                lora_mb=(d/'out'/'pytorch_lora_weights.safetensors').stat().st_size / 2**20)

# ---- loading both LoRA files into a fresh pipeline -------------------------------------------------------------
def load_check(files:dict, a)->dict:
    "Load each LoRA file into a fresh stand-in pipeline: tensors in the UNet, unexpected keys, relative image change."
    import torch, logging, numpy as np
    from diffusers import StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft.utils import get_peft_model_state_dict
    from safetensors.torch import load_file
    torch.set_num_threads(1)
    msgs = []
    class H(logging.Handler):
        def emit(self, rec): msgs.append(rec.getMessage())
    logging.getLogger('diffusers').addHandler(H()); logging.getLogger('peft').addHandler(H())
    pipe = StableDiffusionPipeline.from_pretrained(a.pretrained, safety_checker=None, requires_safety_checker=False)
    pipe.set_progress_bar_config(disable=True)
    def img(): return pipe(PROMPTS['instance'], num_inference_steps=a.gen_steps, height=a.resolution, width=a.resolution,
                           generator=torch.Generator().manual_seed(0), output_type='np').images[0]
    base, res = img(), {}
    for name, f in files.items():
        msgs.clear(); pipe.load_lora_weights(f, adapter_name=name)
        fsd = load_file(f); msd = {'unet.' + k: v for k, v in convert_state_dict_to_diffusers(get_peft_model_state_dict(pipe.unet, adapter_name=name)).items()}
        x = img(); pipe.delete_adapters(name)
        res[name] = dict(file_keys=len(fsd), loaded_keys=len(msd), keys_not_in_unet=len(set(fsd) - set(msd)), unet_lora_keys_not_in_file=len(set(msd) - set(fsd)),
                         max_abs_diff=max(float((fsd[k].float() - msd[k].float()).abs().max()) for k in set(fsd) & set(msd)),
                         unexpected_key_warnings=sum('unexpected keys' in m.lower() for m in msgs),
                         lora_b_rms=float(torch.cat([v.float().flatten() for k, v in fsd.items() if 'lora_B' in k or 'lora.up' in k]).pow(2).mean().sqrt()),
                         rel_image_change=float(np.linalg.norm(x - base) / np.linalg.norm(base)))
    res['base_unchanged_after_unload'] = bool(np.allclose(img(), base, atol=1e-6))
    return res

def load_child(a, d:Path):
    (d/'load.json').write_text(json.dumps(load_check(json.loads((d/'files.json').read_text()), a)))

def tiny_clip_sd(out:Path)->str:
    "A tiny random SD pipeline with a CLIP text encoder (the script loads only CLIP/T5/Roberta ones) and SD 1.5's tokenizer."
    import torch
    from diffusers import UNet2DConditionModel, AutoencoderKL, DDIMScheduler, StableDiffusionPipeline
    from transformers import CLIPTextModel, CLIPTextConfig, CLIPTokenizer
    from image2prompt.standin import build_standin
    tok = CLIPTokenizer.from_pretrained(next((build_standin('sd15')/'snapshots').iterdir())/'tokenizer'); torch.manual_seed(0)
    te = CLIPTextModel(CLIPTextConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=37, num_hidden_layers=2,
                                      num_attention_heads=4, max_position_embeddings=77, projection_dim=32))
    unet = UNet2DConditionModel(sample_size=8, block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=32, attention_head_dim=8,
                                down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'), up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D'))
    vae = AutoencoderKL(block_out_channels=(8, 16, 16, 16), down_block_types=['DownEncoderBlock2D']*4, up_block_types=['UpDecoderBlock2D']*4,
                        latent_channels=4, norm_num_groups=8, layers_per_block=1, sample_size=64)
    sch = DDIMScheduler(beta_schedule='scaled_linear', beta_start=0.00085, beta_end=0.012, clip_sample=False, set_alpha_to_one=False, steps_offset=1)
    StableDiffusionPipeline(vae=vae, text_encoder=te, tokenizer=tok, unet=unet, scheduler=sch, safety_checker=None, feature_extractor=None,
                            requires_safety_checker=False).save_pretrained(out)
    return str(out)

# ---- the driver ----------------------------------------------------------------------------------------------
def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--script', required=True, help='path of train_dreambooth_lora.py (diffusers v0.40.0)')
    p.add_argument('--pretrained', default=SD15, help="hub id or folder; 'tiny': a tiny CLIP pipeline (framework overhead only, ~1 GB)")
    p.add_argument('--lock', default=os.path.join(tempfile.gettempdir(), 'i2p_bigmem.lock'), help="held for the whole run (the machine's big-memory lock); '' for none")
    p.add_argument('--resolution', type=int, default=64); p.add_argument('--rank', type=int, default=4)
    p.add_argument('--bs', type=int, default=1); p.add_argument('--lr', type=float, default=1e-4)
    p.add_argument('--steps', type=int, default=25); p.add_argument('--ckpt_every', type=int, default=10)
    p.add_argument('--n_class', type=int, default=20); p.add_argument('--repeats', type=int, default=3)
    p.add_argument('--warmup', type=int, default=3, help='step intervals dropped before the median')
    p.add_argument('--gen_steps', type=int, default=5, help='denoising steps of the load check')
    p.add_argument('--threads', type=int, default=1, help='OMP_NUM_THREADS of every child')
    p.add_argument('--out', default=str(REPO/'data'/'results'/'peer_dreambooth_lora.json'))
    p.add_argument('--child', choices=['script', 'project', 'load']); p.add_argument('--work')
    return p.parse_args(argv)

def summarize(runs:list)->dict:
    "Medians per side and the project/script ratios."
    med = lambda side, k: statistics.median(r[k] for r in runs if r['side'] == side)
    keys = ('s_per_step', 'peak_rss_mb', 'train_hwm_mb', 'ckpt_mb', 'lora_mb', 'first_step_s', 'total_s')
    s = {side: {k: round(med(side, k), 3) for k in keys} for side in ('script', 'project')}
    s['ratio_project_over_script'] = {k: round(s['project'][k] / s['script'][k], 3) for k in keys}
    by = {(r['repeat'], r['side']): r for r in runs}; reps = sorted({r['repeat'] for r in runs})
    s['median_of_paired_ratios'] = {k: round(statistics.median(by[i, 'project'][k] / by[i, 'script'][k] for i in reps), 3) for k in keys}
    return s

def hub_home(home:Path)->Path:
    "An `HF_HOME` linking the SD 1.5 stand-in, with the `.no_exist` marker a cache filled online has for `tokenizer/config.json`."
    # transformers 5's AutoTokenizer (the script's) asks for that file and, offline, fails without the marker
    from image2prompt.standin import build_standin
    src = build_standin('sd15'); m = home/'hub'/src.name; h = (src/'refs'/'main').read_text().strip()
    if m.is_symlink(): m.unlink()
    shutil.rmtree(m, ignore_errors=True); (m/'refs').mkdir(parents=True); (m/'refs'/'main').write_text(h)
    (m/'snapshots').symlink_to(src/'snapshots', target_is_directory=True)
    (m/'.no_exist'/h/'tokenizer').mkdir(parents=True); (m/'.no_exist'/h/'tokenizer'/'config.json').touch()
    return home

def main(a):
    command, model = 'python ' + ' '.join(['tests/bench_dreambooth_vs_diffusers.py'] + sys.argv[1:]), a.pretrained
    root = Path(a.work or tempfile.mkdtemp(prefix='i2p_peer_db_')); home = hub_home(root/'hf_home')
    if a.pretrained == 'tiny': sys.argv += ['--pretrained', tiny_clip_sd(root/'tiny_sd')]; a.pretrained = sys.argv[-1]  # children read argv
    make_data(root/'data', a)
    env = dict(os.environ, HF_HOME=str(home), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', OMP_NUM_THREADS=str(a.threads),
               MKL_NUM_THREADS=str(a.threads), TOKENIZERS_PARALLELISM='false', PYTHONPATH=str(REPO))
    meta, runs = run_meta(), []
    for i in range(a.repeats):
        for side in (('script', 'project') if i % 2 == 0 else ('project', 'script')):
            runs.append(dict(measure(side, a, root, env), repeat=i)); print(json.dumps({k: v for k, v in runs[-1].items() if 'files' not in k}), flush=True)
    files = {s: str(root/f'{s}_run'/'out'/'pytorch_lora_weights.safetensors') for s in ('script', 'project')}
    (root/'files.json').write_text(json.dumps(files))
    subprocess.run([sys.executable, __file__] + sys.argv[1:] + ['--child', 'load', '--work', str(root)], env=env, check=True)
    rec = dict(command=command,
               reference=dict(file='examples/dreambooth/train_dreambooth_lora.py', repo='huggingface/diffusers', tag='v0.40.0',
                              commit='d035dcd7cc7c88e0a154609b62887d50bba9fdc2', run='unmodified, `python SCRIPT ARGS` (single process, CPU, fp32)'),
               settings=dict(model=model + (' (stand-in: real architecture, random weights)' if model == SD15 else ''), resolution=a.resolution, rank=a.rank, bs=a.bs,
                             lr=a.lr, lr_schedule='constant', prior_preservation=True, prior_loss_weight=1.0, n_instance=5, n_class=a.n_class,
                             steps=a.steps, ckpt_every=a.ckpt_every, ckpt_limit=2, validation=False, dtype='fp32', threads_per_run=a.threads),
               meta=dict(run_meta(), load_avg_start=meta['load_avg']), summary=summarize(runs), runs=runs,
               load_check=json.loads((root/'load.json').read_text()))
    Path(a.out).write_text(json.dumps(rec, indent=1) + '\n'); print(json.dumps(rec['summary'], indent=1)); print(json.dumps(rec['load_check'], indent=1))
    if not a.work: shutil.rmtree(root, ignore_errors=True)

if __name__ == '__main__':
    a = parse()
    if a.child == 'load': load_child(a, Path(a.work))
    elif a.child: child(a.child, a, Path(a.work))
    elif not a.lock: main(a)
    else:
        import fcntl
        with open(a.lock, 'a') as f: fcntl.flock(f, fcntl.LOCK_EX); main(a)  # released when the file closes
