"Issue 18: `image2prompt embed` sharded over 2 processes by `accelerate launch` gives the same files as 1 process."
import json, os, shutil, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest

from image2prompt.embeddings import load_embeddings


def _script(tmp):
    s = tmp/'embed_main.py'
    s.write_text('import sys\nfrom image2prompt.embeddings import embed_cmd\n'
                 "getattr(embed_cmd, '__wrapped__', embed_cmd)(sys.argv[1], sys.argv[2], cache_dir=sys.argv[3], quiet=True)\n")
    return s


@pytest.mark.skipif(shutil.which('accelerate') is None, reason='accelerate launch not on PATH')
def test_two_processes_match_one(tmp_path):
    from image2prompt.datasets import synth_prompts
    ps = synth_prompts(37, seed=7).prompt.tolist() + [None]  # an odd count, and a row that is skipped
    pd.DataFrame(dict(prompt=ps)).to_csv(tmp_path/'p.csv', index=False)
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=os.pathsep.join([str(Path(__file__).parents[1]), os.environ.get('PYTHONPATH', '')]))
    s = _script(tmp_path)
    r1 = subprocess.run([sys.executable, str(s), str(tmp_path/'p.csv'), str(tmp_path/'one.npy'), str(tmp_path/'c1')], env=env, capture_output=True, text=True)
    assert r1.returncode == 0, r1.stderr[-2000:]
    cmd = [shutil.which('accelerate'), 'launch', '--multi_gpu', '--num_processes', '2', '--num_machines', '1', '--mixed_precision', 'no',
           '--dynamo_backend', 'no', str(s), str(tmp_path/'p.csv'), str(tmp_path/'two.npy'), str(tmp_path/'c2')]
    r2 = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r2.returncode == 0, r2.stderr[-3000:]
    e1, t1 = load_embeddings(tmp_path/'one.npy'); e2, t2 = load_embeddings(tmp_path/'two.npy')
    assert len(e1) == 37 and t1.equals(t2)
    np.testing.assert_allclose(e2, e1, atol=1e-5)
    assert json.loads((tmp_path/'two.json').read_text())['digest'] == json.loads((tmp_path/'one.json').read_text())['digest']
    assert not list(tmp_path.glob('two.shard*'))  # merged and removed
    assert len({f.name.split('-')[-1] for f in (tmp_path/'c2').rglob('chunk-*.npz')}) == 2  # both processes embedded a share
