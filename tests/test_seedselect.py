"SeedSelect: the CLI end to end on a tiny pipeline, bad input, and kill-and-resume."
import json
import numpy as np, pytest, torch
from PIL import Image
import image2prompt.seedselect as ss
from image2prompt.diffusion import save_pipeline
from image2prompt.test_utils import tiny_pipeline
from image2prompt.cli import run as main  # `run` returns the command's result; `main` is the console script (exit status)

torch.set_num_threads(1)

@pytest.fixture(scope='module')
def pipe_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp('pipe') / 'tiny'
    save_pipeline(tiny_pipeline(), d, text_encoder=False); return d

@pytest.fixture(scope='module')
def pipe(pipe_dir): return ss.freeze(ss.load_any_pipeline(pipe_dir, device='cpu'))

@pytest.fixture(scope='module')
def emb(): return ss.effnet_embedder(size=64)

def _refs(d, n=3, size=64, mode='RGB'):
    d.mkdir(parents=True, exist_ok=True); rng = np.random.default_rng(0)
    for i in range(n): Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).convert(mode).save(d / f'r{i}.png')
    return d

from image2prompt.cli import run as _cli

def test_cli_end_to_end(tmp_path, pipe_dir):
    refs, out = _refs(tmp_path / 'refs'), tmp_path / 'out'
    rows = _cli(['seedselect', '--prompt', 'a red star anise', '--refs', str(refs), '--out', str(out), '--pipeline', str(pipe_dir),
                 '--n_seeds', '2', '--steps', '2', '--iters', '2', '--lam', '0.9', '--device', 'cpu'])
    d = out / 'a_red_star_anise'
    assert rows[0]['name'] == 'a red star anise' and rows[0]['unet_evals'] > 0
    from safetensors.torch import load_file
    assert load_file(str(d / 'seeds.safetensors'))['zT'].shape == (2, 4, 8, 8)
    assert len(list(d.glob('seed_*.png'))) == 2 and len(json.loads((d / 'history.json').read_text())) == 2
    assert not list(d.glob('.*.tmp'))

def test_cli_help_and_missing_args(capsys):
    with pytest.raises(SystemExit): main(['seedselect', '--help'])
    assert '--refs' in capsys.readouterr().out
    with pytest.raises(ValueError, match='give --prompt and --refs'): _cli(['seedselect', '--out', 'x'])

def test_bad_refs(tmp_path):
    with pytest.raises(FileNotFoundError, match='does not exist'): ss.load_refs(tmp_path / 'nope')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ValueError, match='none found'): ss.load_refs(tmp_path / 'empty')
    refs = _refs(tmp_path / 'few', n=2)
    with pytest.raises(ValueError, match='5 asked but only 2'): ss.load_refs(refs, 64, n_refs=5)
    with pytest.warns(UserWarning, match='using 2'): assert ss.load_refs(refs, 64, n_refs=5, allow_fewer=True).shape == (2, 3, 64, 64)

def test_refs_wrong_size_and_mode(tmp_path):
    refs = _refs(tmp_path / 'gray', n=3, size=100, mode='L')
    with pytest.warns(UserWarning, match=r'converted to RGB 64x64.*r0.png: L \(100, 100\)'): x = ss.load_refs(refs, 64)
    assert x.shape == (3, 3, 64, 64) and x.dtype == torch.float32
    rgba = Image.new('RGBA', (64, 64), (255, 0, 0, 128))
    with pytest.warns(UserWarning, match='RGBA'): assert ss.load_refs([rgba], 64).shape == (1, 3, 64, 64)

def test_pipeline_without_vae(pipe):
    from types import SimpleNamespace
    p = SimpleNamespace(unet=pipe.unet, vae=None, text_encoder=pipe.text_encoder, tokenizer=pipe.tokenizer, scheduler=pipe.scheduler)
    with pytest.raises(ValueError, match='has no vae'): ss.make_targets(p, 'x', [Image.new('RGB', (64, 64))], None)

def test_concepts_file_errors(tmp_path):
    f = tmp_path / 'c.jsonl'; f.write_text('{"prompt": "a red star anise", "refs": "r"}\n{"prompt": "x"}\n')
    with pytest.raises(ValueError, match='line 2 needs'): ss._concepts_from(None, None, None, str(f))

def test_nan_keeps_best(pipe, emb):
    class NaNLater(torch.nn.Module):
        def __init__(self): super().__init__(); self.k = 0; self.model = emb.model
        def forward(self, x): self.k += 1; f = emb(x); return f * float('nan') if self.k > 2 else f
    tg = ss.make_targets(pipe, 'a red star anise', [Image.new('RGB', (64, 64), 'red')] * 2, emb, device='cpu')
    with pytest.warns(UserWarning, match='non-finite loss at iteration 2'):
        r = ss.seedselect(pipe, tg, NaNLater(), 2, ss.SeedConfig(steps=2, iters=5, sem_weights=(1.,)), progress=False)
    assert r['stop'] == 'nan at iteration 2' and torch.isfinite(r['best']).all() and r['iters'] == 3

def test_kill_and_resume(tmp_path, pipe, emb, monkeypatch):
    cs = [dict(name=n, prompt=f'a red {n}', refs=[Image.new('RGB', (64, 64), 'red')] * 2) for n in ('star anise', 'tree frog', 'moon jellyfish')]
    cfg = ss.SeedConfig(steps=2, iters=2, sem_weights=(1.,)); real, calls = ss.seedselect, []
    def dies_on_second(*a, **k):
        calls.append(1)
        if len(calls) == 2: raise KeyboardInterrupt('killed')
        return real(*a, **k)
    monkeypatch.setattr(ss, 'seedselect', dies_on_second)
    with pytest.raises(KeyboardInterrupt): ss.run_concepts(pipe, cs, emb, tmp_path, 2, cfg, device='cpu')
    assert ss.concept_done(tmp_path, 'star anise') and not ss.concept_done(tmp_path, 'tree frog')
    mt = (tmp_path / 'star_anise' / 'result.json').stat().st_mtime_ns
    monkeypatch.setattr(ss, 'seedselect', real)
    rows = ss.run_concepts(pipe, cs, emb, tmp_path, 2, cfg, warm=True, device='cpu')
    assert [r['name'] for r in rows] == [c['name'] for c in cs] and all(ss.concept_done(tmp_path, c['name']) for c in cs)
    assert (tmp_path / 'star_anise' / 'result.json').stat().st_mtime_ns == mt
