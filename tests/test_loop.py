"Loop: the CLI, a real kill (SIGKILL) and resume, and bad input (missing folders, failing generations, a garbage LM)."
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pytest, torch

from image2prompt import toyworld as tw
from image2prompt.core import read_jsonl
from image2prompt.loop import run_loop, read_state, render_generator

torch.set_num_threads(1)
FAST = dict(rounds=1, n_new=16, weak_quantile=0.5, log=lambda s: None)


@pytest.fixture(scope='module')
def folders(tmp_path_factory):
    d = tmp_path_factory.mktemp('toy')
    tw.build_dataset(d/'train', 80, seed=0, tail_count=2, progress=False)
    tw.build_dataset(d/'valid', 52, seed=1, tail_count=4, progress=False)
    return d/'train', d/'valid'


from image2prompt.cli import run as _main


def test_cli_help(capsys):
    from image2prompt.cli import run as main
    with pytest.raises(SystemExit) as e: main(['loop', '--help'])
    assert e.value.code == 0 and '--weak_quantile' in capsys.readouterr().out


def test_cli_runs(folders, tmp_path, capsys):
    m = _main(['loop', str(folders[0]), str(folders[1]), '--work', str(tmp_path/'w'), '--rounds', '1', '--n_new', '8', '--weak_quantile', '0.5'])
    assert m['round'].tolist() == [0, 1] and m.n_train.tolist() == [80, 88]
    assert 'val_mean_cos' in capsys.readouterr().out
    assert (tmp_path/'w'/'metrics.parquet').exists() and len(read_jsonl(tmp_path/'w'/'metrics.jsonl')) == 2


def _cmd(train, valid, work):
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).parent)!r}); from test_loop import _main; _main(['loop', {str(train)!r}, {str(valid)!r}, '--work', {str(work)!r}, "
            f"'--rounds', '2', '--n_new', '8', '--weak_quantile', '0.5'])")
    return [sys.executable, '-c', code]


def test_sigkill_and_resume(folders, tmp_path):
    "Kill the process once round 0's `weak` step is done; the rerun starts after it and finishes."
    w = tmp_path/'w'; env = dict(os.environ, OMP_NUM_THREADS='1')
    p = subprocess.Popen(_cmd(*folders, w), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(9000):  # generous: on a loaded machine the start alone can take minutes
            if '0:weak' in read_state(w).get('done', []) if (w/'state.json').exists() else False: break
            if p.poll() is not None: break
            time.sleep(0.1)
        p.send_signal(signal.SIGKILL); p.wait()
    finally:
        if p.poll() is None: p.kill()
    st = read_state(w); assert '0:weak' in st['done'] and not st['finished']
    t_head = (w/'round_000'/'head.npz').stat().st_mtime_ns
    r = subprocess.run(_cmd(*folders, w), env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    st = read_state(w); assert st['finished'] and len(st['done']) == len(set(st['done'])) == 14
    assert (w/'round_000'/'head.npz').stat().st_mtime_ns == t_head  # not redone
    assert json.loads((w/'config.json').read_text())['rounds'] == 2


def test_bad_folders(folders, tmp_path):
    with pytest.raises(FileNotFoundError, match='not an image folder'): run_loop(tmp_path/'w', tmp_path/'nope', folders[1], **FAST)
    with pytest.raises(TypeError, match='unknown settings'): run_loop(tmp_path/'w', *folders, n_neww=3, **FAST)
    with pytest.raises(ValueError, match='strategy'): run_loop(tmp_path/'w', *folders, strategy='smart', **FAST)


def test_failing_prompt_logged(folders, tmp_path):
    "A generator that fails on some prompts: they are logged, the others are added to the training set."
    ok = render_generator()
    def gen(prompts, seeds, out):
        if any('red' in p for p in prompts): raise RuntimeError('CUDA out of memory (simulated)')
        ok(prompts, seeds, out)
    m = run_loop(tmp_path/'w', *folders, gen=gen, **FAST)
    fails = read_jsonl(tmp_path/'w'/'round_000'/'images'/'failures.jsonl')
    assert fails and all('red' in f['text'] and 'out of memory' in f['error'] for f in fails)
    n = int(m.filter_selected.iloc[0])
    assert m.gen_n_failed.iloc[0] == len(fails) and m.gen_n_images.iloc[0] == n - len(fails)
    assert m.n_train.tolist() == [80, 80 + n - len(fails)]


def test_garbage_lm_stops_cleanly(folders, tmp_path):
    "An LM whose words the toy grammar does not know: no candidate survives, the loop says so and stops."
    from image2prompt.promptgen import train_tokenizer, tiny_lm
    tok = train_tokenizer(['qwx zzv plk', 'vvq zzz', 'xqk qqp zv'] * 20, vocab_size=280); lm = tiny_lm(tok, seed=0)
    msgs = []
    m = run_loop(tmp_path/'w', *folders, lm=(lm, tok), **(FAST | dict(log=msgs.append)))
    st = read_state(tmp_path/'w')
    assert st['stopped'] and 'no candidate' in st['stopped'] and any('no candidate' in s for s in msgs)
    assert m.cand_unparseable.iloc[0] + m.cand_empty.iloc[0] + m.cand_too_long.iloc[0] + m.cand_repeated.iloc[0] == m.cand_n_in.iloc[0]
    assert m.filter_kept.iloc[0] == 0


def test_real_format_regressor_loop(folders, tmp_path, capsys):
    "Issue 18's 'done when': 2 rounds on CPU, `train_regressor` as the model step, candidates from a DiffusionDB-shaped parquet, the toy pipeline."
    import pyarrow as pa, pyarrow.parquet as pq
    from image2prompt.datasets import synth_prompts
    ps = synth_prompts(2000, seed=5).prompt.tolist() + [None, '', '   ']
    pq.write_table(pa.table(dict(image_name=[f'{i}.webp' for i in range(len(ps))], prompt=ps, part_id=[i // 1000 for i in range(len(ps))])),
                   tmp_path/'metadata.parquet', row_group_size=500)
    w = tmp_path/'w'
    m = _main(['loop', str(folders[0]), str(folders[1]), '--work', str(w), '--rounds', '2', '--n_new', '8', '--weak_quantile', '0.9',
               '--min_sim', '0.2', '--model', 'regressor', '--size', '32', '--lp_epochs', '1', '--ft_epochs', '1',
               '--candidates', 'vocab', '--prompt_source', str(tmp_path/'metadata.parquet'), '--generator', 'toy', '--steps', '4'])
    assert m['round'].tolist() == [0, 1, 2] and m.n_train.tolist() == [80, 88, 96] and m.gen_n_failed.fillna(0).eq(0).all()
    assert [json.loads((w/f'round_{r:03d}'/'model'/'regressor'/'config.json').read_text())['n_blocks'] for r in range(3)] == [1, 2, 3]
    sel = json.loads((w/'round_001'/'selected.json').read_text())['texts']
    subjects = {p.split(',')[0].strip() for p in ps if p}
    assert len(sel) == 8 and all(s.split(',')[0] in subjects for s in sel)  # real-prompt subjects, not the toy grammar
    assert read_state(w)['finished']
