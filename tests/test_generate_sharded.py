"Issue 18: `image2prompt generate` sharded over 2 processes by `accelerate launch` writes the folder 1 process writes."
import os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pytest
from PIL import Image

from image2prompt.core import read_jsonl


def _script(tmp):
    s = tmp/'gen_main.py'
    s.write_text('import sys\nfrom image2prompt.diffusion import generate_cmd\n'
                 "getattr(generate_cmd, '__wrapped__', generate_cmd)(sys.argv[1], out_dir=sys.argv[2], steps=4, bs=4, seed=100)\n")
    return s


@pytest.mark.skipif(shutil.which('accelerate') is None, reason='accelerate launch not on PATH')
def test_two_processes_match_one(tmp_path):
    (tmp_path/'p.txt').write_text('\n'.join(['a red circle', 'two blue squares, night', 'a green house', 'a yellow star', 'a palm with five fingers']))
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get('PYTHONPATH', '')]))
    s = _script(tmp_path)
    r1 = subprocess.run([sys.executable, str(s), str(tmp_path/'p.txt'), str(tmp_path/'one')], env=env, capture_output=True, text=True)
    assert r1.returncode == 0, r1.stderr[-2000:]
    cmd = [shutil.which('accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', str(s), str(tmp_path/'p.txt'), str(tmp_path/'two')]
    r2 = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r2.returncode == 0, r2.stderr[-3000:]
    m1 = sorted(read_jsonl(tmp_path/'one'/'metadata.jsonl'), key=lambda r: r['file_name'])
    m2 = sorted(read_jsonl(tmp_path/'two'/'metadata.jsonl'), key=lambda r: r['file_name'])
    assert len(m1) == 5 and m1 == m2 and [r['seed'] for r in m2] == list(range(100, 105))
    assert not list((tmp_path/'two').glob('shard*'))
    for r in m1:  # same seeds, batches split differently: equal up to float noise
        a, b = (np.asarray(Image.open(tmp_path/d/r['file_name']), np.float32) for d in ('one', 'two'))
        assert np.abs(a - b).mean() < 1.0, r['file_name']
