"""Write README.md from nbs/index.ipynb (nbdev_readme needs quarto, which does not install offline).

Run `python tests/readme.py` after editing `nbs/index.ipynb`; `tests/test_readme.py` fails when they drift."""
import json, re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def readme_text(nb_path=ROOT/'nbs'/'index.ipynb') -> str:
    "The markdown README for the notebook at `nb_path`: markdown cells as they are, visible code cells as python blocks."
    out = ['<!-- generated from nbs/index.ipynb by tests/readme.py: edit the notebook, not this file -->']
    for c in json.loads(Path(nb_path).read_text())['cells']:
        src = ''.join(c['source']).strip()
        if not src or re.search(r'^#\|\s*hide', src, re.M): continue
        out.append(src if c['cell_type'] == 'markdown' else f'```python\n{src}\n```')
    return '\n\n'.join(out) + '\n'

if __name__ == '__main__': (ROOT/'README.md').write_text(readme_text())
