import re
from readme import readme_text, ROOT

def test_readme_in_sync():
    assert (ROOT/'README.md').read_text() == readme_text(), 'README.md is stale: run `python tests/readme.py`'

def test_two_commands_and_ci_runs_the_test_one():
    """The quick start is two commands, `./install.sh` and the demo; the test command installs with `dev`, then runs
    nbdev_test and pytest; CI evaluates that very line."""
    text = (ROOT/'README.md').read_text()
    quick = re.search(r'## Quick start\n.*?```sh\n(.*?)```', text, re.S)[1].splitlines()
    assert quick == ['./install.sh', '.venv/bin/image2prompt demo'], quick
    tests = re.findall(r'^\./install\.sh dev .*$', text, re.M)
    assert len(tests) == 1 and 'nbdev_test' in tests[0] and 'pytest tests' in tests[0], tests
    assert "grep -m1 -E '^\\./install\\.sh dev .*nbdev_test' README.md" in (ROOT/'.ci/run').read_text()

def test_install_script_and_readme_agree_with_the_lock():
    """install.sh installs torch and torchvision first at the lock's versions, then the package with the lock, then the
    --no-deps packages; the README's detail section shows the same three commands."""
    lock = dict(l.split('==') for l in (ROOT/'constraints.txt').read_text().splitlines() if '==' in l)
    steps = [l.strip() for l in (ROOT/'install.sh').read_text().splitlines() if l.strip().startswith('pip ')]
    assert len(steps) == 3, steps
    assert steps[0] == f"pip -c constraints.txt torch=={lock['torch']} torchvision=={lock['torchvision']}", steps
    assert steps[1] == 'pip -c constraints.txt -e "$target"' and steps[2].startswith('pip --no-deps '), steps
    shown = re.findall(r'^pip install (.*?)(?:\s+#.*)?$', (ROOT/'README.md').read_text(), re.M)
    assert [s.replace('-e .', '-e "$target"') for s in shown] == [s[len('pip '):] for s in steps], shown

def test_readme_pictures_and_notebook_links_exist():
    text = (ROOT/'README.md').read_text()
    refs = re.findall(r'src="([^"]+)"', text) + re.findall(r'\]\((nbs/[^)]+)\)', text)
    assert len(refs) >= 10
    missing = [r for r in refs if not (ROOT/r).exists()]
    assert not missing, f'README.md links to missing files: {missing}'
