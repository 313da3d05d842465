"DreamBooth CLI end to end and the bad-input cases of issue 9, on a tiny config-built pipeline."
import json, warnings, shutil
import numpy as np, pytest, torch
from PIL import Image
from safetensors.torch import load_file

from image2prompt.cli import run as main  # `run` returns the command's result; `main` is the console script (exit status)
from image2prompt.test_utils import tiny_sd_pipeline
from image2prompt.dreambooth import (load_instance_images, read_class_images, check_identifier, load_lora,
                                     save_lora, add_lora, gen)


@pytest.fixture(scope='module')
def tiny(tmp_path_factory): return tiny_sd_pipeline(tmp_path_factory.mktemp('pipe')/'tiny')


@pytest.fixture(scope='module')
def instances(tmp_path_factory):
    "Four instance images of mixed sizes and modes (RGBA, P, L, RGB)."
    d = tmp_path_factory.mktemp('inst')
    for i, (mode, sz) in enumerate([('RGBA', (40, 30)), ('P', (31, 64)), ('L', (64, 48)), ('RGB', (32, 32))]):
        img = Image.new('RGB', sz, (220, 40, 40)); img.paste((20, 20, 200), (sz[0]//4, sz[1]//4, 3*sz[0]//4, 3*sz[1]//4))
        img.convert(mode).save(d/f'img_{i}.png')
    return d


cli = main


def test_help():
    with pytest.raises(SystemExit) as e: main(['dreambooth', '--help'])
    assert e.value.code == 0


def _fresh(tiny):
    from diffusers import StableDiffusionPipeline
    p = StableDiffusionPipeline.from_pretrained(tiny); p.set_progress_bar_config(disable=True); return p


def test_mixed_instances(instances):
    imgs, rep = load_instance_images(instances, 32)
    assert [i.size for i in imgs] == [(32, 32)]*4 and {i.mode for i in imgs} == {'RGB'}
    assert rep['converted'] == {'RGBA': 1, 'P': 1, 'L': 1} and rep['resized'] == 3


def test_too_few_and_unreadable_instances(tmp_path, instances):
    with pytest.raises(ValueError, match='at least 3'): load_instance_images([next(instances.iterdir())], 32)
    for p in list(instances.iterdir())[:3]: shutil.copy(p, tmp_path)
    (tmp_path/'zz_broken.jpg').write_bytes(b'\xff\xd8 not really a jpeg')
    with pytest.raises(ValueError, match='zz_broken.jpg'): load_instance_images(tmp_path, 32)


def test_identifier_warning(tiny):
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(tiny/'tokenizer')
    with pytest.warns(UserWarning, match='split into'): check_identifier(tok, 'xqzvbnwplk')
    with warnings.catch_warnings(): warnings.simplefilter('error'); check_identifier(tok, 'sks')


def test_corrupt_class_images(tmp_path):
    for i in range(6): Image.new('RGB', (40, 40), (i*40, 0, 0)).save(tmp_path/f'class_{i:05d}.png')
    (tmp_path/'class_00001.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated'); (tmp_path/'class_00002.png').write_bytes(b'')
    with pytest.warns(UserWarning, match='skipped 2'): imgs, rep = read_class_images(tmp_path, 4, 32)
    assert len(imgs) == 4 and rep['skipped'] == 2
    with pytest.raises(ValueError, match='only 4 readable'): read_class_images(tmp_path, 5, 32)


def test_cli_lora_run_and_load(tiny, instances, tmp_path):
    out = tmp_path/'run'
    r = cli(['dreambooth', str(tiny), str(instances), '--out_dir', str(out), '--class_name', 'box', '--resolution', '32',
              '--n_class_images', '3', '--steps', '3', '--ckpt_every', '0', '--val_every', '3', '--gen_steps', '2', '--lr', '1e-2',
              '--rank', '4', '--lora_alpha', '8', '--train_text_encoder', '--device', 'cpu'])
    assert r['step'] == 3 and r['data']['n'] == 4 and r['data']['class']['n'] == 3
    cfg = json.loads((out/'dreambooth_config.json').read_text())
    assert cfg['class_name'] == 'box' and cfg['lora'] and cfg['train_text_encoder']
    assert len(list((out/'class_images').glob('class_*.png'))) == 3 and (out/'validation'/'step_00003.png').exists()
    sd, ksd = load_file(out/'pytorch_lora_weights.safetensors'), load_file(out/'pytorch_lora_weights_kohya.safetensors')
    assert any(k.startswith('unet.') for k in sd) and any(k.startswith('text_encoder.') for k in sd)
    assert all(v.item() == 8.0 for k, v in ksd.items() if k.endswith('.alpha'))
    # a fresh pipeline with the diffusers file == with the kohya file; both differ from the base; scale 0 is the base
    imgs = {}
    for name, f, s in [('base', None, 1.), ('diff', 'pytorch_lora_weights.safetensors', 1.), ('kohya', 'pytorch_lora_weights_kohya.safetensors', 1.),
                       ('zero', 'pytorch_lora_weights.safetensors', 0.)]:
        p = _fresh(tiny)
        if f: load_lora(p, out/f, scale=s)
        imgs[name] = np.asarray(gen(p, ['a photo of sks box'], [1], steps=2)[0], dtype=float)
    assert np.abs(imgs['diff'] - imgs['kohya']).max() <= 1 and np.abs(imgs['zero'] - imgs['base']).max() <= 1
    assert np.abs(imgs['diff'] - imgs['base']).mean() > 1


def test_lora_for_other_architecture(tiny, tmp_path):
    from diffusers import UNet2DConditionModel
    unet = UNet2DConditionModel(sample_size=4, block_out_channels=(32, 64), layers_per_block=1, cross_attention_dim=48,
                                down_block_types=('DownBlock2D', 'CrossAttnDownBlock2D'), up_block_types=('CrossAttnUpBlock2D', 'UpBlock2D'),
                                attention_head_dim=8)
    unet.requires_grad_(False); add_lora(unet); save_lora(tmp_path, unet)
    for f in ['pytorch_lora_weights.safetensors', 'pytorch_lora_weights_kohya.safetensors']:
        with pytest.raises(ValueError) as e: load_lora(_fresh(tiny), tmp_path/f)
        msg = str(e.value)
        assert 'unexpected keys' in msg and 'missing keys' in msg and 'down_blocks.1.attentions.0' in msg and 'in=48' in msg


def test_full_finetune_cli(tiny, instances, tmp_path):
    out = tmp_path/'full'
    r = cli(['dreambooth', str(tiny), str(instances), '--out_dir', str(out), '--full', '--no_prior', '--resolution', '32',
              '--steps', '2', '--ckpt_every', '0', '--val_every', '0', '--lr', '1e-3', '--device', 'cpu'])
    from diffusers import StableDiffusionPipeline
    p = StableDiffusionPipeline.from_pretrained(out/'pipeline')
    assert r['trained_params'] == sum(x.numel() for x in p.unet.parameters())
    assert not torch.equal(p.unet.conv_in.weight, _fresh(tiny).unet.conv_in.weight)
