"CLI, bad input and kill-and-resume tests for the toy-world dataset builder."
import signal, subprocess, sys, time
import numpy as np, pytest
from PIL import Image
from image2prompt.cli import run as main  # `run` returns the command's result; `main` is the console script (exit status)
from image2prompt.toyworld import build_dataset, render, render_attrs, parse_prompt, TAIL_OBJECTS
from image2prompt.core import read_jsonl

def test_cli_builds_imagefolder(tmp_path):
    res = main(['build-toyworld', str(tmp_path/'ds'), '--n', '30', '--tail_count', '2', '--seed', '3'])
    assert res['written'] == 30
    rows = read_jsonl(tmp_path/'ds'/'metadata.jsonl')
    assert len(rows) == 30 and all((tmp_path/'ds'/r['file_name']).exists() for r in rows)
    assert sum(r['object'] in TAIL_OBJECTS for r in rows) == 2*len(TAIL_OBJECTS)
    for r in rows[:5]: assert parse_prompt(r['text'])['object'] == r['object']

@pytest.mark.parametrize('prompt,msg', [('', 'empty'), ('   ', 'empty'), ('a red dragon', "'dragon'"),
    ('a purple unicorn at night', "'unicorn'"), ('two circles and a square', 'two objects'), ('a star with six fingers', 'only hands'),
    ('five red stars', 'count 5'), ('a red', 'no object')])
def test_bad_prompts(prompt, msg):
    with pytest.raises(ValueError, match=msg): render(prompt)

def test_other_recipe_refused(tmp_path):
    build_dataset(tmp_path, 12, seed=0, tail_count=1, progress=False)
    with pytest.raises(ValueError, match='another recipe'): build_dataset(tmp_path, 12, seed=0, tail_count=2, progress=False)

def test_kill_and_resume(tmp_path):
    out = tmp_path/'ds'; n = 300
    code = f"from image2prompt.toyworld import build_dataset; build_dataset({str(out)!r}, {n}, seed=5, tail_count=3, progress=False)"
    p = subprocess.Popen([sys.executable, '-c', code])
    t0 = time.time()
    while len(list(out.glob('*.png'))) < 20 and time.time() - t0 < 60: time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    have = len(list(out.glob('*.png')))
    assert 0 < have < n and not (out/'metadata.jsonl').exists()
    res = build_dataset(out, n, seed=5, tail_count=3, progress=False)
    assert res['skipped'] >= have - 1 and res['written'] + res['skipped'] == n
    rows = read_jsonl(out/'metadata.jsonl'); assert len(rows) == n
    for r in rows[:3] + rows[-3:]:
        assert (np.asarray(Image.open(out/r['file_name'])) == np.asarray(render_attrs(r, r['seed']))).all()
