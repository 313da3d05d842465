"""Issue 27: the fallback, proved through a GPU notebook's real loading cell on stand-ins.

The SD 2.1-base stand-in is written only under the *second* id of its table row (the first id is not in the cache), then the
cells of `nbs/91_gpu_seedselect.ipynb` up to and including its model-loading cell run unchanged, offline, in a fresh process
(HF_HOME is read when huggingface_hub is imported). Loading must take the second id and say so in one line.
Costs ~1-3 min and ~9 GB of stand-ins on a cold cache (`~/.cache/image2prompt/standins`, which `.ci/gpu_standin` reuses)."""
import os, sys, json, subprocess, textwrap
from pathlib import Path
from image2prompt.models import MODELS

ROOT = Path(__file__).resolve().parent.parent
NB, LOAD_CELL = ROOT/'nbs'/'91_gpu_seedselect.ipynb', 'bfb4e8d5'

SCRIPT = textwrap.dedent('''
    import sys, json
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    from image2prompt.models import MODELS
    from image2prompt.standin import write_standins
    home, nb, last = sys.argv[1:4]
    sd = MODELS['sd21-base']
    write_standins(['sd21-base'], home, ids={'sd21-base': sd.ids[1]})  # the first id is not in the cache
    sh = CaptureShell()
    cells = read_nb(nb).cells
    upto = [c.id for c in cells].index(last)
    err = ''
    for c in cells[:upto + 1]:
        if c.cell_type != 'code' or c.source.startswith('#| eval: false'): continue
        outs = sh.run(c.source)
        if sh.exc: raise sh.exc
        err += ''.join(o.get('text', '') if isinstance(o.get('text', ''), str) else ''.join(o['text'])
                       for o in outs if o.get('name') == 'stderr')
    print(json.dumps(dict(name_or_path=str(sh.user_ns['pipe'].name_or_path), stderr=err)))
''')

def test_fallback_through_notebook_loading_cell(tmp_path):
    env = dict(os.environ, HF_HOME=str(tmp_path/'hf'), HF_HUB_OFFLINE='1', TRANSFORMERS_OFFLINE='1', I2P_STANDIN='1',
               I2P_STANDIN_DTYPE='fp32', TMPDIR=str(tmp_path), MPLBACKEND='Agg')
    env.pop('I2P_SD', None)
    r = subprocess.run([sys.executable, '-c', SCRIPT, str(tmp_path/'hf'), str(NB), LOAD_CELL], env=env, cwd=ROOT/'nbs',
                       capture_output=True, text=True, timeout=1500)
    assert r.returncode == 0, r.stderr[-3000:]
    sd = MODELS['sd21-base']
    out = json.loads(r.stdout.strip().splitlines()[-1])  # the notebook's own outputs
    assert 'models--' + sd.ids[1].replace('/', '--') in out['name_or_path'], out['name_or_path']
    lines = [l for l in out['stderr'].splitlines() if l.startswith('sd21-base: using ')]
    assert lines == [f'sd21-base: using {sd.ids[1]} ({sd.ids[0]} (not in the cache))'], out['stderr'][-2000:]
