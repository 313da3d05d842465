"""The GPU dtype path on CPU (issue 16): with I2P_STANDIN_DTYPE=bf16, default_dtype(mixed=True) is bf16 and accelerate runs bf16
autocast, so frozen modules are half and trained ones fp32 as on a GPU. Items 1 and 2: class images and validation are
generated outside `accelerator.prepare` and crashed on mixed dtypes."""
import pytest
from pathlib import Path
from PIL import Image
from image2prompt.test_utils import tiny_sd_pipeline
from image2prompt.dreambooth import train_dreambooth, DreamBoothConfig


@pytest.fixture(scope='module')
def tiny(tmp_path_factory): return tiny_sd_pipeline(tmp_path_factory.mktemp('pipe')/'tiny')


@pytest.fixture(scope='module')
def inst(tmp_path_factory):
    d = tmp_path_factory.mktemp('inst')
    for i in range(3):
        img = Image.new('RGB', (32, 32), (200, 40, 40)); img.paste((30, 40, 210), (4+i, 4, 20+i, 20)); img.save(d/f'{i}.png')
    return d


def _reset_accelerate():
    from accelerate.state import AcceleratorState
    AcceleratorState._reset_state(reset_partial_state=True)  # a process-wide singleton: other tests use mixed_precision='no'


@pytest.fixture
def bf16(monkeypatch):
    monkeypatch.setenv('I2P_STANDIN_DTYPE', 'bf16'); _reset_accelerate()
    yield
    _reset_accelerate()


def _cfg(tiny, inst, out, **kw):
    return DreamBoothConfig(str(tiny), str(inst), out_dir=str(out), resolution=32, steps=1, bs=1, n_class_images=1, with_prior=True,
                            mixed=True, ckpt_every=0, val_every=1, gen_steps=2, **kw)


def test_full_finetune_bf16(bf16, tiny, inst, tmp_path):
    "Item 1: the fp32 UNet being trained in full meets the bf16 text encoder in `gen_class_images`."
    res = train_dreambooth(_cfg(tiny, inst, tmp_path, lora=False, lr=1e-5), 'cpu')
    assert res['step'] == 1 and (tmp_path/'validation'/'step_00001.png').exists()
    assert (Path(res['files']['pipeline'])/'model_index.json').exists()


def test_lora_validation_bf16(bf16, tiny, inst, tmp_path):
    "Item 2: the prepared UNet returns fp32 latents, which went into the bf16 VAE at the first validation grid."
    res = train_dreambooth(_cfg(tiny, inst, tmp_path, lora=True, lr=1e-4), 'cpu')
    assert res['step'] == 1 and (tmp_path/'validation'/'step_00001.png').exists()
    assert (tmp_path/'pytorch_lora_weights.safetensors').exists()
