"""The installed `image2prompt` console script, run as a subprocess the way users run it (issue 15): exit codes, one-line
user errors, output folders that hold another run, kills during `generate`, and bad images in `train`."""
import json, os, shutil, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent/'image2prompt') if (Path(sys.executable).parent/'image2prompt').exists() else shutil.which('image2prompt')
ENV = {**os.environ, 'PYTHONPATH': str(ROOT), 'OMP_NUM_THREADS': '1', 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1',
       'MPLBACKEND': 'Agg', 'TOKENIZERS_PARALLELISM': 'false', 'PYTHONWARNINGS': 'ignore'}
ENV.pop('I2P_DEBUG', None)

def i2p(*args, env=None, **kw):
    "Run the console script; the completed process (text output)."
    return subprocess.run([EXE, *map(str, args)], capture_output=True, text=True, env={**ENV, **(env or {})}, timeout=600, **kw)

def ok(r):
    assert r.returncode == 0, f'exit {r.returncode}\n{r.stderr[-3000:]}'
    return r.stdout.strip().splitlines()[-1]

def user_error(r, cmd:str, *words):
    "Exit 2, no traceback, and a last stderr line `image2prompt CMD: ...` naming `words`."
    assert r.returncode == 2, f'exit {r.returncode}\n{r.stderr[-3000:]}'
    assert 'Traceback' not in r.stderr, r.stderr[-3000:]
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith(f'image2prompt {cmd}:'), last
    for w in words: assert w in last, (w, last)
    return last

def test_console_script_is_this_worktree():
    r = subprocess.run([sys.executable, '-c', 'import image2prompt; print(image2prompt.__file__)'], capture_output=True, text=True, env=ENV)
    assert Path(r.stdout.strip()).parent == ROOT/'image2prompt' and EXE

@pytest.fixture(scope='module')
def work(tmp_path_factory):
    from image2prompt.toyworld import build_dataset
    from image2prompt.test_utils import tiny_pipeline
    from image2prompt.diffusion import save_pipeline
    d = tmp_path_factory.mktemp('cli')
    build_dataset(d/'A', 12, seed=1, tail_count=0, size=32, progress=False)
    build_dataset(d/'B', 16, seed=2, tail_count=0, size=32, progress=False)
    b = d/'B'; (b/'trunc.png').write_bytes((b/'000000.png').read_bytes()[:60]); (b/'empty.png').write_bytes(b'')
    (b/'text.png').write_text('not an image at all')
    rows = [json.loads(l) for l in (b/'metadata.jsonl').read_text().splitlines()]
    rows += [dict(file_name=f, text=f'a red circle {i}') for i, f in enumerate(['trunc.png', 'empty.png', 'text.png'])]
    (b/'metadata.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    save_pipeline(tiny_pipeline(), d/'tiny', text_encoder=False)
    return d

# ---- 1. exit 0 on success, one final line saying what was written; 13. usual file permissions ----------------------
def test_success_exits_0_with_one_line(tmp_path):
    r = i2p('build-toyworld', tmp_path/'ds', '--n', '20', '--tail_count', '1', '--size', '32')
    last = ok(r); assert str(tmp_path/'ds') in last and 'wrote 20 images' in last
    assert '{' not in r.stderr  # the return value is not printed
    umask = os.umask(0); os.umask(umask)
    assert (tmp_path/'ds'/'metadata.jsonl').stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    assert (tmp_path/'ds'/'000000.png').stat().st_mode & 0o777 == 0o666 & ~umask
    (tmp_path/'p.csv').write_text('prompt\na red circle\ntwo blue squares\n"a red circle, night"\n')
    last = ok(i2p('embed', tmp_path/'p.csv', tmp_path/'p.npy', '--quiet')); assert 'wrote 3 embeddings' in last and str(tmp_path/'p.npy') in last

# ---- 2. user errors: one line, exit 2; --debug shows the traceback ---------------------------------------------------
def _bad_inputs(d:Path):
    (d/'nocol.csv').write_text('caption\na cat\n'); (d/'empty.csv').write_text(''); (d/'p.xlsx').write_text('x')
    (d/'int.jsonl').write_text('{"prompt": "a cat"}\n{"prompt": 123}\n'); (d/'a_file.txt').write_text('x')
    (d/'p.txt').write_text('a red circle\n')

ERRORS = [  # (args, command, words the one line must hold)
    (['embed', '{d}/missing.csv', '{d}/x.npy'], 'embed', ['missing.csv', 'not found']),
    (['train', '{d}/a_file.txt', '{d}/out'], 'train', ['a_file.txt', 'is a file', 'folder']),
    (['embed', '{d}/nocol.csv', '{d}/x.npy'], 'embed', ['nocol.csv', 'no column prompt/text', 'caption']),
    (['embed', '{d}/empty.csv', '{d}/x.npy'], 'embed', ['empty.csv', 'cannot read prompt table']),
    (['embed', '{d}/p.xlsx', '{d}/x.npy'], 'embed', ['p.xlsx', "unknown prompt table type '.xlsx'"]),
    (['embed', '{d}/int.jsonl', '{d}/x.npy'], 'embed', ['int.jsonl', 'row 1', 'must be str']),
    (['generate', '--prompt', 'a cat', '--out_dir', '{d}/g', '--pipeline', '{d}/no_such_pipeline'], 'generate', ['no_such_pipeline']),
    (['generate', '{d}/p.txt', '--out_dir', '{d}/g0', '--steps', '0'], 'generate', ['argument --steps: 0 must be > 0']),
    (['train', '{d}', '{d}/out', '--head', 'big'], 'train', ["--head 'big' is not one of: linear, mlp"]),
    (['predict', '{d}/no_images', '--out_dir', '{d}/o'], 'predict', ['no_images', 'not found']),
    (['nope'], 'nope', ["unknown command 'nope'"]),
]

@pytest.mark.parametrize('args,cmd,words', ERRORS, ids=[f'{e[1]}-{i}' for i, e in enumerate(ERRORS)])
def test_user_error_is_one_line_exit_2(tmp_path, args, cmd, words):
    _bad_inputs(tmp_path)
    user_error(i2p(*[a.format(d=tmp_path) for a in args]), cmd, *words)

def test_argparse_error_exit_2_and_debug_traceback(tmp_path):
    r = i2p('build-toyworld'); assert r.returncode == 2 and 'required' in r.stderr and 'Traceback' not in r.stderr
    r = i2p('build-toyworld', tmp_path/'ds', '--n', '4')  # fewer images than the tail needs: the user's option, not a bug
    assert r.returncode == 2 and '--tail_count' in r.stderr and 'Traceback' not in r.stderr
    r = i2p('embed', tmp_path/'missing.csv', tmp_path/'x.npy', '--debug')
    assert r.returncode == 1 and 'Traceback' in r.stderr and 'missing.csv' in r.stderr
    r = i2p('embed', tmp_path/'missing.csv', tmp_path/'x.npy', env={'I2P_DEBUG': '1'}); assert r.returncode == 1 and 'Traceback' in r.stderr

# ---- 3. a folder holding another run is refused (or started afresh with --fresh); 14. bad images skipped in train ----
TRAIN = ['--size', '32', '--lp_epochs', '1', '--bs', '8', '--device', 'cpu']

def test_train_refuses_other_data_then_fresh(work, tmp_path):
    from safetensors.torch import load_file
    out = tmp_path/'out'
    ok(i2p('train', work/'A', out, *TRAIN)); a = load_file(out/'regressor'/'model.safetensors')
    last = user_error(i2p('train', work/'B', out, *TRAIN), 'train', str(out), 'other data or settings', 'train_dir', '--fresh')
    m = json.loads((out/'metrics.json').read_text()); assert m['n_train'] + m['n_valid'] == 12  # A's run is untouched
    last = ok(i2p('train', work/'B', out, *TRAIN, '--fresh'))
    assert "'unreadable image': 3" in last  # 14: the truncated, empty and text-as-PNG files are skipped, counted and reported
    b = load_file(out/'regressor'/'model.safetensors'); assert any(not np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    m = json.loads((out/'metrics.json').read_text()); assert m['skipped']['unreadable image'] == 3 and m['n_train'] + m['n_valid'] == 16
    user_error(i2p('train', work/'A', out, '--lr', '-1'), 'train', 'argument --lr: -1 must be > 0')

# ---- 4. generate: a missing file is an error, literal prompts need --prompt, empty/null prompts skipped; 3 for generate
def test_generate_prompt_sources(work, tmp_path):
    user_error(i2p('generate', tmp_path/'prompts_typo.txt', '--out_dir', tmp_path/'g', '--pipeline', work/'tiny'), 'generate', 'prompts_typo.txt', 'not found')
    assert not list((tmp_path).glob('g/*.png'))
    (tmp_path/'p.jsonl').write_text('{"prompt": "a red circle"}\n{"prompt": ""}\n{"prompt": null}\n{"prompt": "two blue squares"}\n')
    last = ok(i2p('generate', tmp_path/'p.jsonl', '--out_dir', tmp_path/'g', '--pipeline', work/'tiny', '--steps', '2'))
    assert "'missing': 1" in last and "'empty': 1" in last
    texts = [json.loads(l)['text'] for l in (tmp_path/'g'/'metadata.jsonl').read_text().splitlines()]
    assert texts == ['a red circle', 'two blue squares']
    ok(i2p('generate', '--prompt', 'a green house', '--out_dir', tmp_path/'lit', '--pipeline', work/'tiny', '--steps', '2'))
    assert [json.loads(l)['text'] for l in (tmp_path/'lit'/'metadata.jsonl').read_text().splitlines()] == ['a green house']
    user_error(i2p('generate', '--prompt', 'a star', '--out_dir', tmp_path/'g', '--pipeline', work/'tiny', '--steps', '2'),
               'generate', 'other data or settings', 'prompts')

# ---- 5. a missing input file is an error everywhere ---------------------------------------------------------------
def test_seedselect_missing_concepts(tmp_path):
    user_error(i2p('seedselect', '--concepts', tmp_path/'missing.jsonl', '--out', tmp_path/'o'), 'seedselect', 'missing.jsonl', 'not found')
    user_error(i2p('seedselect', '--prompt', 'a cat', '--refs', tmp_path/'norefs', '--out', tmp_path/'o'), 'seedselect', 'norefs', 'not found')

# ---- 6. dedup: hnsw is not offered (it broke the keep rule); --against an empty set; never a silent swap ------------
def test_dedup_methods_and_empty_against(tmp_path):
    from image2prompt.embeddings import save_embeddings
    t = pd.DataFrame(dict(row=[0, 1, 2], prompt=['a', 'b', 'c'])); e = np.eye(3, 384, dtype=np.float32)
    save_embeddings(tmp_path/'b.npy', e, t); save_embeddings(tmp_path/'empty.npy', np.zeros((0, 384), np.float32), t.iloc[:0])
    user_error(i2p('dedup', tmp_path/'b.npy', tmp_path/'o', '--method', 'hnsw'), 'dedup', "--method 'hnsw' is not one of: exact, ivf")
    user_error(i2p('dedup', tmp_path/'b.npy', tmp_path/'o', '--against', tmp_path/'b.npy', '--method', 'hnsw'), 'dedup', "'hnsw'")
    last = ok(i2p('dedup', tmp_path/'b.npy', tmp_path/'o', '--against', tmp_path/'empty.npy', '--quiet')); assert 'kept 3 of 3' in last

# ---- 7, 8. predict: two files with one id refused; stale outputs of an earlier run removed; 0 readable images -------
def test_predict_ids_stale_files_and_no_images(work, tmp_path):
    d = tmp_path/'imgs'; d.mkdir()
    for f in ('000000.png', '000001.png'): shutil.copy(work/'A'/f, d/f)
    Image.open(d/'000000.png').convert('RGB').save(d/'000000.jpg')
    user_error(i2p('predict', d, '--out_dir', tmp_path/'o', '--device', 'cpu'), 'predict', '000000.png', '000000.jpg', "'000000'")
    (d/'000000.jpg').unlink(); out = tmp_path/'o'
    ok(i2p('predict', work/'A', '--out_dir', out, '--device', 'cpu', '--invert', 'none')); assert (out/'cosine_hist.png').exists()  # labelled: a histogram
    last = ok(i2p('predict', d, '--out_dir', out, '--device', 'cpu', '--invert', 'none')); assert str(out/'submission.csv') in last
    assert not (out/'cosine_hist.png').exists()  # the earlier run's histogram does not sit beside the new submission
    assert len(pd.read_csv(out/'submission.csv')) == 2*384
    bad = tmp_path/'bad'; bad.mkdir(); (bad/'x.png').write_text('no'); (bad/'y.jpg').write_bytes(b'')
    user_error(i2p('predict', bad, '--out_dir', tmp_path/'o2', '--device', 'cpu'), 'predict', 'no readable images', 'x.png', 'y.jpg')
    assert not (tmp_path/'o2'/'submission.csv').exists()

# ---- 9. a real kill during generate, and a torn last line: reruns append on a fresh line ---------------------------
def test_generate_killed_then_torn_line_resumes(work, tmp_path):
    (tmp_path/'p.txt').write_text('\n'.join(f'{c} circle number {i}' for i, c in enumerate(['a red', 'a blue', 'a green'] * 8)) + '\n')
    args = ['generate', tmp_path/'p.txt', '--out_dir', tmp_path/'g', '--pipeline', work/'tiny', '--steps', '2', '--bs', '1']
    p = subprocess.Popen([EXE, *map(str, args)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    meta, t0 = tmp_path/'g'/'metadata.jsonl', time.time()
    while p.poll() is None and time.time() - t0 < 300 and not (meta.exists() and len(meta.read_text().splitlines()) >= 3): time.sleep(0.02)
    p.send_signal(signal.SIGKILL); p.wait()
    n = len(meta.read_text().splitlines()); assert 3 <= n < 24, f'not killed mid-run ({n} rows)'
    with open(meta, 'a') as f: f.write('{"file_name": "000099_99.png", "te')  # what a kill in the middle of a write leaves
    last = ok(i2p(*args)); assert '24 images' in last
    rows = [json.loads(l) for l in meta.read_text().splitlines()]  # every line is whole JSON
    assert sorted(r['file_name'] for r in rows) == sorted({r['file_name'] for r in rows}) and len(rows) == 24

def test_python_m_without_path(tmp_path):
    "With the console script off PATH the shell answers 127 itself; `python -m image2prompt` then runs the same main, with its exit codes."
    env = {**ENV, 'PATH': '/usr/bin:/bin'}  # no venv scripts folder: `image2prompt` is not found
    sh = subprocess.run(['sh', '-c', f'image2prompt build-toyworld {tmp_path/"a"} --n 4 --tail_count 1'], capture_output=True, text=True, env=env)
    assert sh.returncode == 127 and not (tmp_path/'a').exists()
    pm = lambda *a: subprocess.run([sys.executable, '-m', 'image2prompt', *map(str, a)], capture_output=True, text=True, env=env, timeout=600)
    r = pm('build-toyworld', tmp_path/'b', '--n', '4', '--tail_count', '1')
    assert ok(r).startswith('wrote 4 images') and len(list((tmp_path/'b').glob('*.png'))) == 4
    user_error(pm('build-toyworld', tmp_path/'c', '--n', '4'), 'build-toyworld', '--tail_count')
    r = pm(); assert r.returncode == 0 and 'build-toyworld' in r.stdout
