import re
from readme import readme_text, ROOT

def test_readme_in_sync():
    assert (ROOT/'README.md').read_text() == readme_text(), 'README.md is stale: run `python tests/readme.py`'

def test_two_commands_and_ci_runs_the_test_one():
    cmds = re.findall(r'^pip install .*$', (ROOT/'README.md').read_text(), re.M)
    assert len(cmds) == 2, cmds
    assert 'image2prompt demo' in cmds[0] and 'nbdev_test' in cmds[1] and 'pytest' in cmds[1]
    assert all('torch==2.14.1 torchvision==0.29.1' in c for c in cmds)
    assert "grep -m1 -E '^pip install .*nbdev_test' README.md" in (ROOT/'.ci/run').read_text()

def test_readme_pictures_and_notebook_links_exist():
    text = (ROOT/'README.md').read_text()
    refs = re.findall(r'src="([^"]+)"', text) + re.findall(r'\]\((nbs/[^)]+)\)', text)
    assert len(refs) >= 10
    missing = [r for r in refs if not (ROOT/r).exists()]
    assert not missing, f'README.md links to missing files: {missing}'
