"""The package is what `nbdev_export` writes from the notebooks, and writing it again changes nothing (issue 27)."""
import shutil, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def _files(d:Path) -> dict:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob('*')) if p.is_file() and '__pycache__' not in p.parts}

def test_export_changes_nothing(tmp_path):
    "`nbdev_export`, run twice on a copy of the notebooks and the package, leaves the package as it is in this checkout."
    for f in ('settings.ini', 'pyproject.toml', 'setup.py'): shutil.copy(ROOT/f, tmp_path/f)
    for d in ('nbs', 'image2prompt'): shutil.copytree(ROOT/d, tmp_path/d, ignore=shutil.ignore_patterns('__pycache__', '.ipynb_checkpoints'))
    for _ in range(2):
        r = subprocess.run([sys.executable, '-c', 'from nbdev.doclinks import nbdev_export; nbdev_export()'], cwd=tmp_path,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stderr[-3000:]
    before, after = _files(ROOT/'image2prompt'), _files(tmp_path/'image2prompt')
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f'nbdev_export changes {changed}: run nbdev_export and commit the package'
