"""The model table is the one place hub ids live (issue 27): no module, notebook, script or README names a raw hub id
outside `image2prompt/models.py` (and its notebook) except the table itself as the README shows it, and the README shows it as it is."""
import re, json
from pathlib import Path
from image2prompt.models import MODELS, models_markdown

ROOT = Path(__file__).resolve().parent.parent
# every id of the table, plus the orgs whose ids the project has ever named (a new raw id from them is caught too)
IDS = sorted({i for m in MODELS.values() for i in m.all_ids if '/' in i}, key=len, reverse=True)
ORGS = ('stabilityai/', 'sd2-community/', 'runwayml/', 'stable-diffusion-v1-5/', 'Manojb/', 'openai/clip', 'laion/CLIP',
        'sentence-transformers/all', 'HuggingFaceTB/', 'timm/vit_', 'timm/efficientnet', 'openai-community/', 'diffusers/dog')
ALLOWED = {'image2prompt/models.py', 'nbs/00b_models.ipynb', 'image2prompt/_modidx.py', 'tests/test_models_table.py'}

def files():
    for pat in ('image2prompt/**/*.py', 'nbs/*.ipynb', 'tests/*.py', '.ci/*', '.github/workflows/*', 'README.md', 'setup.py', 'settings.ini'):
        for p in ROOT.glob(pat):
            rel = p.relative_to(ROOT).as_posix()
            if not p.is_file() or rel in ALLOWED: continue
            text = p.read_text(errors='replace')
            if p.suffix == '.ipynb': text = '\n'.join(c['source'] if isinstance(c['source'], str) else ''.join(c['source'])
                                                     for c in json.loads(text)['cells'])
            yield rel, text.replace(models_markdown(), '')  # the README shows the table itself

def test_no_raw_hub_id_outside_the_table():
    hits = [f'{rel}: {m.group(0)}' for rel, text in files() for m in re.finditer('|'.join(map(re.escape, IDS + list(ORGS))), text)]
    assert not hits, 'raw hub ids outside image2prompt/models.py (use a short name from the table):\n' + '\n'.join(hits[:40])

def test_the_check_catches_an_id(tmp_path):
    text = "pipe = StableDiffusionPipeline.from_pretrained('stabilityai/stable-diffusion-2-1-base')"
    assert re.search('|'.join(map(re.escape, IDS + list(ORGS))), text)

def test_readme_shows_the_table():
    assert models_markdown() in (ROOT/'README.md').read_text(), 'README.md: rerun python tests/readme.py after editing nbs/index.ipynb'

def _cli(*args, env=None):
    import os, subprocess, sys
    return subprocess.run([sys.executable, '-m', 'image2prompt', *args], capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, HF_HUB_OFFLINE='1', **(env or {})))

def test_cli_unknown_short_name_and_wrong_folder(tmp_path):
    r = _cli('generate', '--prompt', 'a red circle', '--out_dir', str(tmp_path/'o1'), '--pipeline', 'sdxl')
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "unknown model 'sdxl': one of sd21-base, sd21, sd15" in r.stderr
    unet = tmp_path/'unet'
    unet.mkdir()
    (unet/'config.json').write_text('{"_class_name": "UNet2DConditionModel"}')
    r = _cli('generate', '--prompt', 'a red circle', '--out_dir', str(tmp_path/'o2'), '--pipeline', str(unet))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'unet: not a pipeline folder (no model_index.json) (it holds a UNet2DConditionModel' in r.stderr

def test_cli_offline_names_the_ids_not_cached(tmp_path):
    sd = MODELS['sd21-base']
    r = _cli('generate', '--prompt', 'a red circle', '--out_dir', str(tmp_path/'o'), '--pipeline', 'sd21-base',
             env=dict(HF_HOME=str(tmp_path/'hf')))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert all(f'{i} (not in the cache)' in r.stderr for i in sd.all_ids) and sd.env in r.stderr, r.stderr
