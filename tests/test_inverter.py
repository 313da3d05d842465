"""The learned inverter (nbs/22b_inverter.ipynb): a missing or broken projector is refused in one line that names the
command that builds it; training killed by its step limit resumes to the weights of an uninterrupted run."""
import json, subprocess, sys
import pytest, torch
from image2prompt.core import InputError
from image2prompt.inverter import InverterTrainConfig, load_projector, train_inverter, inverter_dir

def test_missing_inverter_names_the_command(tmp_path):
    with pytest.raises(InputError, match=r'build it with `image2prompt train-inverter --out .*none`') as e:
        load_projector(tmp_path/'none')
    assert '\n' not in str(e.value)

def test_invert_strategy_l_without_inverter(tmp_path):
    from image2prompt.invert import InvertConfig, make_inverter
    with pytest.raises(InputError, match='image2prompt train-inverter'):
        make_inverter(InvertConfig(strategies='l'), learned=tmp_path/'none')

def test_broken_inverter(tmp_path):
    (tmp_path/'config.json').write_text(json.dumps(dict(d_in=384, d_lm=576, n_prefix=2, hidden=8)))
    (tmp_path/'projector.safetensors').write_bytes(b'not safetensors')
    with pytest.raises(InputError, match='rebuild it with `image2prompt train-inverter'):
        load_projector(tmp_path)

def test_shipped_inverter_loads():
    proj, cfg = load_projector(inverter_dir())
    assert proj(torch.zeros(1, 384)).shape == (1, cfg['n_prefix'], cfg['d_lm'])

def test_cli_options_from_config():
    r = subprocess.run([sys.executable, '-m', 'image2prompt', 'train-inverter', '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '--decay_steps' in r.stdout and '--no_bf16' in r.stdout

def test_resume_equals_one_run(tmp_path):
    from image2prompt.promptgen import load_lm
    lm, tok = load_lm('SmolLM2-135M', device='cpu', dtype=torch.float32)
    lm.requires_grad_(False)
    texts = ['a red fox in the snow, oil painting', 'a castle on a hill, by greg rutkowski', 'portrait of a cat, 8k'] * 4
    kw = dict(bs=4, n_prefix=2, hidden=16, max_len=12, ckpt_every=2, bf16=False)
    def run(out, steps):
        cfg = InverterTrainConfig(out=str(tmp_path/out), steps=steps, **kw)
        return train_inverter(cfg, lm, tok, texts=texts, progress=False)
    one, first, rest = run('one', 5), run('two', 2), run('two', 5)
    assert (one['step'], first['step'], rest['step'], rest['done']) == (5, 2, 5, True)
    a, b = load_projector(tmp_path/'one')[0].state_dict(), load_projector(tmp_path/'two')[0].state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
