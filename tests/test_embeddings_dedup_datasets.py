"CLI, bad-input and kill-and-resume tests for the embeddings, dedup and datasets stages (issue 3)."
import io, json, os, signal, subprocess, sys, time
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image

from image2prompt.cli import run as main  # `run` returns the command's result; `main` is the console script (exit status)
from image2prompt.core import asset
from image2prompt.embeddings import (embed_prompts, load_embedder, encode, EmbCache, cache_folder, read_prompts,
                                     load_embeddings, save_embeddings)
from image2prompt.dedup import dedup, planted_embs, numpy_pairs, greedy_keep
from image2prompt.datasets import read_imagefolder, load_image, check_images, ImageLoadError

ROOT = Path(__file__).resolve().parent.parent

@pytest.fixture(scope='module')
def emb(): return load_embedder(device='cpu')

# ---- CLI -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('cmd', ['embed', 'dedup', 'demo', 'demo-dedup'])
def test_cli_help(cmd, capsys):
    with pytest.raises(SystemExit) as e: main([cmd, '--help'])
    assert e.value.code == 0 and 'usage: image2prompt ' + cmd in capsys.readouterr().out

def test_cli_embed_dedup_cross(tmp_path, emb):
    sp = pd.read_csv(asset('sample_prompts.csv')).iloc[:60]
    sp.iloc[:50].to_csv(tmp_path/'a.csv', index=False); sp.iloc[40:].to_parquet(tmp_path/'b.parquet')
    ra = main(['embed', str(tmp_path/'a.csv'), str(tmp_path/'a.npy'), '--quiet'])
    rb = main(['embed', str(tmp_path/'b.parquet'), str(tmp_path/'b.npy'), '--quiet'])
    assert (ra['n'], rb['n']) == (50, 20)
    ea, ta = load_embeddings(tmp_path/'a.npy')
    assert np.allclose(ea, encode(emb, ta.prompt), atol=1e-5)
    r = main(['dedup', str(tmp_path/'a.npy'), str(tmp_path/'d'), '--quiet'])
    kept = np.load(tmp_path/'d'/'kept.npy'); assert r['kept'] == len(kept) < 50
    assert json.loads((tmp_path/'d'/'report.json').read_text())['dropped'] == 50 - len(kept)
    assert len(pd.read_parquet(tmp_path/'d'/'kept.parquet')) == len(kept) and (tmp_path/'d'/'nn_hist.png').stat().st_size > 1000
    rc = main(['dedup', str(tmp_path/'b.npy'), str(tmp_path/'c'), '--against', str(tmp_path/'a.npy'), '--quiet'])
    assert rc['kept'] <= 10  # rows 40..49 of b are in a, so at most the 10 new ones survive

def test_cli_unknown_method(tmp_path):
    pd.DataFrame({'prompt': ['a', 'b']}).to_csv(tmp_path/'p.csv', index=False)
    main(['embed', str(tmp_path/'p.csv'), str(tmp_path/'p.npy'), '--quiet'])
    with pytest.raises(ValueError, match="--method 'lsh' is not one of: exact, ivf"): main(['dedup', str(tmp_path/'p.npy'), str(tmp_path/'o'), '--method', 'lsh', '--quiet'])

# ---- bad prompts -----------------------------------------------------------------------------------------
def test_bad_prompt_table(tmp_path, emb):
    long = 'a castle, ' * 10_000  # 100,000 characters
    f = tmp_path/'bad.csv'
    f.write_bytes(b'prompt\n"a cat"\n""\n' + 'caf\u00e9 au lait'.encode('latin-1') + b'\n"' + long.encode() + b'"\nNaN\n')
    with pytest.warns(UserWarning, match='bad.csv'): t = read_prompts(f)
    # '' and 'NaN' are both missing values in a CSV (no way to tell an empty prompt from none): skipped and counted
    assert t.prompt.tolist() == ['a cat', 'caf\ufffd au lait', long] and t.row.tolist() == [0, 2, 3]
    assert t.attrs['skipped'] == {'missing': 2, 'empty': 0, 'bad_utf8': 1}
    with pytest.warns(UserWarning): r = main(['embed', str(f), str(tmp_path/'bad.npy'), '--quiet'])
    assert r['n'] == 3 and r['skipped']['missing'] == 2
    e, _ = load_embeddings(tmp_path/'bad.npy')
    assert np.isfinite(e).all() and np.allclose(np.linalg.norm(e, axis=1), 1, atol=1e-5)

def test_bad_prompts_in_memory(emb):
    with pytest.raises(ValueError, match='row 1: prompt is missing'): embed_prompts(['a', None], embedder=emb, progress=False)
    with pytest.raises(ValueError, match='row 2: prompt is missing'): embed_prompts(['a', 'b', float('nan')], embedder=emb, progress=False)
    with pytest.warns(UserWarning, match='row 0: prompt is not valid UTF-8'):
        e = embed_prompts([b'caf\xe9', '', 'x' * 100_000], embedder=emb, progress=False)
    assert e.shape == (3, 384) and np.isfinite(e).all()
    assert np.allclose(e[1], encode(emb, [''])[0], atol=1e-5)

def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match='nope.csv: not found'): main(['embed', str(tmp_path/'nope.csv'), str(tmp_path/'x.npy')])
    with pytest.raises(FileNotFoundError, match='gone.npy: not found'): main(['dedup', str(tmp_path/'gone.npy'), str(tmp_path/'o')])
    with pytest.raises(ValueError, match="unknown prompt table type '.xlsx'"):
        (tmp_path/'p.xlsx').write_text('x'); read_prompts(tmp_path/'p.xlsx')

def test_npy_table_mismatch(tmp_path):
    t = pd.DataFrame({'row': [0, 1, 2], 'prompt': ['a', 'b', 'c']}); e = np.eye(3, 384, dtype=np.float32)
    save_embeddings(tmp_path/'e.npy', e, t)
    np.save(tmp_path/'e.npy', e[:2])
    with pytest.raises(ValueError, match='2 rows but its prompt table has 3'): load_embeddings(tmp_path/'e.npy')
    with pytest.raises(ValueError, match='2 embeddings for 3 prompts'): save_embeddings(tmp_path/'f.npy', e[:2], t)

# ---- kill and resume -------------------------------------------------------------------------------------
def _chunks(d): return sorted(cache_folder(d, 'all-MiniLM-L6-v2').glob('chunk-*.npz'))

def test_kill_and_resume_embed(tmp_path, emb):
    prompts = [f'a painting of {i} ships in a storm, by turner, highly detailed' for i in range(160)]
    (tmp_path/'p.txt').write_text('\n'.join(prompts)); cache = tmp_path/'cache'
    code = (f"from image2prompt.cli import run; run(['embed', {str(tmp_path/'p.txt')!r}, {str(tmp_path/'e.npy')!r}, "
            f"'--cache_dir', {str(cache)!r}, '--chunk', '16', '--quiet'])")
    p = subprocess.Popen([sys.executable, '-c', code], env={**os.environ, 'OMP_NUM_THREADS': '1'})
    t0 = time.time()
    while len(_chunks(cache)) < 2 and p.poll() is None and time.time() - t0 < 300: time.sleep(0.02)
    p.send_signal(signal.SIGKILL); p.wait()
    done = len(EmbCache(cache_folder(cache, 'all-MiniLM-L6-v2')))
    assert 32 <= done and done % 16 == 0 and not (tmp_path/'e.npy').exists(), done  # whole chunks only, no final output yet
    calls = []
    class Counting:
        def encode(self, texts, **kw): calls.append(len(texts)); return emb.encode(texts, **kw)
    e = embed_prompts(prompts, cache_dir=cache, embedder=Counting(), chunk=16, progress=False)
    assert sum(calls) == 160 - done  # only the rest is embedded
    assert np.allclose(e, encode(emb, prompts), atol=1e-5)

def test_torn_chunk_is_ignored(tmp_path, emb):
    e = embed_prompts(['a', 'b'], cache_dir=tmp_path, embedder=emb, chunk=1, progress=False)
    _chunks(tmp_path)[0].write_bytes(b'PK\x03\x04 torn')
    with pytest.warns(UserWarning, match='unreadable cache chunk'):
        e2 = embed_prompts(['a', 'b'], cache_dir=tmp_path, embedder=emb, chunk=1, progress=False)
    assert np.allclose(e, e2, atol=1e-5)

# ---- dedup on real embeddings vs numpy -------------------------------------------------------------------
def test_dedup_exact_matches_numpy_on_minilm():
    se = np.load(asset('sample_prompts_minilm.npy')).astype(np.float32)
    i, j, _ = numpy_pairs(se); ref = np.flatnonzero(greedy_keep(len(se), i, j)[0])
    assert np.array_equal(dedup(se, method='exact', bs=700), ref)
    S = se[ref] @ se[ref].T; np.fill_diagonal(S, 0); assert S.max() <= 0.95

def test_dedup_memmap_fp16(tmp_path):
    e, _ = planted_embs(3000, seed=2, out=tmp_path/'e.npy')
    np.save(tmp_path/'h.npy', np.load(tmp_path/'e.npy').astype(np.float16))
    a = dedup(np.load(tmp_path/'e.npy', mmap_mode='r'), bs=500); b = dedup(np.load(tmp_path/'h.npy', mmap_mode='r'), bs=500)
    assert len(np.setxor1d(a, b)) <= 3  # float16 storage moves only pairs within ~1e-3 of the threshold

# ---- images and metadata ---------------------------------------------------------------------------------
def _folder(d):
    rng = np.random.default_rng(0); a = rng.integers(0, 255, (12, 12, 3), dtype=np.uint8)
    Image.fromarray(a).save(d/'rgb.jpg'); Image.fromarray(a[..., 1]).save(d/'gray.png')
    Image.fromarray(np.dstack([a, np.zeros((12, 12), np.uint8)])).save(d/'clear.png')
    Image.fromarray(a[..., 2].astype(np.uint16) * 257).save(d/'deep.png')
    b = io.BytesIO(); Image.fromarray(a).save(b, 'PNG'); (d/'trunc.png').write_bytes(b.getvalue()[:-40]); (d/'junk.jpg').write_bytes(os.urandom(300))
    rows = [{'file_name': f, 'text': f} for f in ['rgb.jpg', 'gray.png', 'clear.png', 'deep.png', 'trunc.png', 'junk.jpg']]
    rows += [{'text': 'a row with no file'}, {'file_name': '', 'text': 'empty name'}, {'file_name': 'missing.png', 'text': 'gone'}]
    (d/'metadata.jsonl').write_text('\n'.join(json.dumps(r) for r in rows) + '\n')
    return d

def test_imagefolder_bad_rows_and_images(tmp_path):
    with pytest.warns(UserWarning, match=r'metadata.jsonl: rows \[7, 8\] have no file name'): df = read_imagefolder(_folder(tmp_path))
    assert df.attrs['skipped'] == {'have no file name': 2, 'name a file that does not exist': 1} and len(df) == 6
    with pytest.warns(UserWarning, match='2 unreadable images'): ok = check_images(df)
    assert ok.file_name.tolist() == ['rgb.jpg', 'gray.png', 'clear.png', 'deep.png']
    for f in ok.path: assert load_image(f).mode == 'RGB'
    assert np.asarray(load_image(tmp_path/'clear.png')).min() == 255  # fully transparent -> white, not black
    d16, d8 = np.asarray(load_image(tmp_path/'deep.png'))[..., 0].astype(int), np.asarray(Image.open(tmp_path/'rgb.jpg'))[..., 2].astype(int)
    assert abs(d16.mean() - d8.mean()) < 5  # scaled from 16 bits, not clipped to 255
    with pytest.raises(ImageLoadError, match='trunc.png: cannot read image'): load_image(tmp_path/'trunc.png')
    with pytest.raises(ImageLoadError, match='junk.jpg'): load_image(tmp_path/'junk.jpg')

def test_bad_metadata_line(tmp_path):
    (tmp_path/'metadata.jsonl').write_text('{"file_name": "a.png", "text": "x"}\nnot json\n{"file_name": "b.png", "text": "y"}\n')
    with pytest.raises(ValueError, match='metadata.jsonl: line 2 is not valid JSON'): read_imagefolder(tmp_path)
