"""Issue 28: never delete, never mix, same input -> same output. One test per numbered item (items 3, 4 and 15 live with
`invert`/`predict`), run in-process through `cli.main` (exit status and stderr as the console script gives them), a few as
the installed console script."""
import contextlib, io, json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest
from PIL import Image
from image2prompt.cli import main, run as run_cli
from image2prompt import core

RUN_RECORD, _umask = getattr(core, 'RUN_RECORD', '.image2prompt.json'), core._umask

ROOT = Path(__file__).resolve().parent.parent
EXE = str(Path(sys.executable).parent/'image2prompt') if (Path(sys.executable).parent/'image2prompt').exists() else shutil.which('image2prompt')
ENV = {**os.environ, 'PYTHONPATH': str(ROOT), 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'PYTHONWARNINGS': 'ignore'}

def cli(*args)->tuple:
    "`(exit status, stderr lines, stdout)` of `image2prompt ARGS` run in-process."
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()) as out:
        rc = main([str(a) for a in args])
    return rc, err.getvalue().strip().splitlines(), out.getvalue()

def refused(r, *words)->str:
    "Exit 2 with exactly one stderr line naming `words`."
    rc, err, _ = r
    assert rc == 2 and len(err) == 1, (rc, err)
    for w in words: assert w in err[0], (w, err[0])
    return err[0]

def tree(d:Path)->dict:
    "Every path under `d` with its bytes (files) or None (folders)."
    return {str(p.relative_to(d)): (p.read_bytes() if p.is_file() else None) for p in sorted(d.rglob('*'))}

def embs_file(d:Path, n:int=3, name:str='e.npy')->Path:
    from image2prompt.embeddings import save_embeddings
    e = np.random.default_rng(n).standard_normal((n, 384)).astype(np.float32)
    e /= np.linalg.norm(e, axis=1, keepdims=True)
    return save_embeddings(d/name, e, pd.DataFrame({'prompt': [f'prompt {i}' for i in range(n)]}))

# 1, 2: export-pipeline and the folder rule
def test_export_pipeline_keeps_a_folder_of_user_files(tmp_path):
    out = tmp_path/'mine'
    out.mkdir()
    (out/'thesis.txt').write_text('years of work')
    before = tree(tmp_path)
    refused(cli('export-pipeline', out), 'did not write', 'thesis.txt')
    assert tree(tmp_path) == before  # nothing deleted, moved or added

def test_export_pipeline_onto_a_file_refused_before_any_work(tmp_path):
    f = tmp_path/'out'
    f.write_text('a file of mine')
    refused(cli('export-pipeline', f), 'is a file')
    assert tree(tmp_path) == {'out': b'a file of mine'}  # no hidden .out.old, no temp folder

def test_export_pipeline_cleans_temps_and_has_normal_permissions(tmp_path, monkeypatch):
    out = tmp_path/'pipe'
    killed = tmp_path/'.pipe.999999999.x1.tmp'  # a temp folder a killed export left (no process has this id)
    (killed/'unet').mkdir(parents=True)
    from diffusers import DiffusionPipeline
    def boom(self, *a, **k): raise RuntimeError('disk full')
    with monkeypatch.context() as m:
        m.setattr(DiffusionPipeline, 'save_pretrained', boom)
        with pytest.raises(RuntimeError): run_cli(['export-pipeline', str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # a failed export leaves no temp and no empty folder behind
    killed.mkdir()
    rc, err, _ = cli('export-pipeline', out)
    assert rc == 0, err
    assert not killed.exists()  # the next run cleans up what a killed one left
    assert out.stat().st_mode & 0o777 == 0o777 & ~_umask()  # not mkdtemp's 0700
    assert (out/'unet').stat().st_mode & 0o777 == 0o777 & ~_umask()
    assert cli('export-pipeline', out)[0] == 0  # its own folder: written again
    assert json.loads((out/RUN_RECORD).read_text())['command'] == 'export-pipeline'
    assert sorted(p.name for p in tmp_path.iterdir()) == ['pipe']

@pytest.mark.skipif(not EXE, reason='the console script is not installed')
def test_killed_export_leaves_a_temp_the_next_run_removes(tmp_path):
    import signal, time
    out = tmp_path/'pipe'
    p = subprocess.Popen([EXE, 'export-pipeline', str(out)], env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.time()
    while not list(tmp_path.glob('.pipe.*')) and p.poll() is None and time.time() - t0 < 300: time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    left = list(tmp_path.glob('.pipe.*'))
    if not left: pytest.skip('the export finished before the kill')
    rc, err, _ = cli('export-pipeline', out)
    assert rc == 0, err
    assert sorted(x.name for x in tmp_path.iterdir()) == ['pipe']  # the killed run's temp is gone

def test_a_folder_of_another_command_is_refused(tmp_path):
    e = embs_file(tmp_path)
    assert cli('dedup', e, tmp_path/'d', '--quiet')[0] == 0
    refused(cli('export-pipeline', tmp_path/'d'), 'holds the output of image2prompt dedup, not export-pipeline')

# 5, 8, 13: dedup
def test_dedup_one_row_has_no_nearest_neighbour_statistics(tmp_path):
    e = embs_file(tmp_path, n=1)
    assert cli('dedup', e, tmp_path/'d', '--quiet')[0] == 0
    rep = json.loads((tmp_path/'d'/'report.json').read_text())
    assert rep['kept'] == 1 and rep['nn_sim_quantiles'] == {}  # not -3.4e38
    assert not (tmp_path/'d'/'nn_hist.png').exists()

def test_dedup_against_leaves_no_earlier_histogram(tmp_path):
    e, a = embs_file(tmp_path, 5), embs_file(tmp_path, 4, 'a.npy')
    assert cli('dedup', e, tmp_path/'d', '--quiet')[0] == 0
    assert (tmp_path/'d'/'nn_hist.png').exists()
    assert cli('dedup', e, tmp_path/'d', '--against', a, '--quiet')[0] == 0
    assert not (tmp_path/'d'/'nn_hist.png').exists()  # the earlier run's plot is not this report's
    assert sorted(p.name for p in (tmp_path/'d').iterdir()) == [RUN_RECORD, 'kept.npy', 'kept.parquet', 'report.json']

def test_dedup_of_a_parquet_says_a_npy_is_expected(tmp_path):
    e = embs_file(tmp_path)
    shutil.copy(e.with_suffix('.parquet'), tmp_path/'t.parquet')
    shutil.copy(e.with_suffix('.parquet'), tmp_path/'t.npy')  # a table under the name a .npy would have
    msg = refused(cli('dedup', tmp_path/'t.npy', tmp_path/'d'), 'not a .npy file', 'expected a float embeddings .npy')
    assert 'pickled' not in msg
    assert not (tmp_path/'d').exists()

# 6: predict
def test_predict_reads_images_in_subfolders(tmp_path):
    src = tmp_path/'imgs'
    (src/'sub').mkdir(parents=True)
    Image.new('RGB', (64, 64), (200, 30, 30)).save(src/'top.png')
    Image.new('RGB', (64, 64), (30, 30, 200)).save(src/'sub'/'nested.png')
    with contextlib.redirect_stdout(io.StringIO()):
        r = run_cli(['predict', str(src), '--out_dir', str(tmp_path/'p'), '--invert', 'none'])
    assert r['n'] == 2
    assert sorted(pd.read_csv(tmp_path/'p'/'submission.csv').imgId_eId.str.split('_').str[0].unique()) == ['nested', 'top']

# 7: build-toyworld
def test_build_toyworld_records_nothing_for_a_refused_recipe(tmp_path):
    out = tmp_path/'tw'
    refused(cli('build-toyworld', out, '--n', '4'), '--n 4 is smaller than')
    assert not out.exists()
    rc, err, _ = cli('build-toyworld', out, '--n', '4', '--tail_count', '0', '--size', '16')  # the corrected command
    assert rc == 0, err
    assert len(list(out.glob('*.png'))) == 4

# 9, 10: output paths, before any work
def test_invert_out_an_existing_folder_refused_before_the_search(tmp_path):
    e = embs_file(tmp_path)
    (tmp_path/'x').mkdir()
    before = tree(tmp_path)
    refused(cli('invert', e, '--out', tmp_path/'x'), 'is a folder', '--out')
    assert tree(tmp_path) == before

@pytest.mark.parametrize('args', [('invert', '{e}', '--out', '{f}/p.csv'), ('predict', '{d}', '--out_dir', '{f}'),
                                  ('predict', '{d}', '--out_dir', '{f}/sub'), ('embed', '{t}', '{f}/e.npy'), ('dedup', '{e}', '{f}/d')])
def test_output_path_inside_a_file_refused(tmp_path, args):
    e, f, d, t = embs_file(tmp_path), tmp_path/'afile', tmp_path/'imgs', tmp_path/'p.txt'
    f.write_text('x')
    d.mkdir()
    Image.new('RGB', (8, 8)).save(d/'a.png')
    t.write_text('a cat\n')
    before = tree(tmp_path)
    refused(cli(*[a.format(e=e, f=f, d=d, t=t) for a in args]), 'afile')
    assert tree(tmp_path) == before

# 11: ranges, enforced by the parser
@pytest.mark.parametrize('opt,val', [('--bs', '0'), ('--bs', '-2'), ('--n_flavors', '-5'), ('--k', '0'), ('--budget', '-1'),
                                     ('--max_evals', '0'), ('--space', '-1'), ('--seed', '-1'), ('--budget', 'nan')])
def test_invert_numeric_options_out_of_range(tmp_path, opt, val):
    e = embs_file(tmp_path)
    before = tree(tmp_path)
    refused(cli('invert', e, '--out', tmp_path/'p.csv', opt, val), f'argument {opt}: {val} must be')
    assert tree(tmp_path) == before

# 12: generate
def test_generate_pipeline_folder_without_model_index(tmp_path):
    (tmp_path/'notapipe').mkdir()
    refused(cli('generate', '--prompt', 'a red circle', '--pipeline', tmp_path/'notapipe', '--out_dir', tmp_path/'g'), 'no model_index.json')
    assert not (tmp_path/'g').exists()

# 14: --version
def test_version_in_process_and_as_python_m():
    from image2prompt import __version__
    rc, err, out = cli('--version')
    assert (rc, out) == (0, f'image2prompt {__version__}\n')
    r = subprocess.run([sys.executable, '-m', 'image2prompt', '--version'], capture_output=True, text=True, env=ENV, timeout=120)
    assert (r.returncode, r.stdout) == (0, f'image2prompt {__version__}\n'), r.stderr[-2000:]
    if EXE:
        r = subprocess.run([EXE, '--version'], capture_output=True, text=True, env=ENV, timeout=120)
        assert (r.returncode, r.stdout) == (0, f'image2prompt {__version__}\n'), r.stderr[-2000:]
