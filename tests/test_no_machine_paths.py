"""No tracked file holds an absolute path of one machine (issue 30, item 4).

The rule: a path that names a folder of the machine a run happened on (the roots tmp, work, home, root, Users, mnt,
scratch, var/folders, private; or a Windows Users folder) does not belong in the repo. Recorded commands and
records write such folders as placeholders (`$WORK`, `$REF`, `WORK_DIR`, `REF_DIR`) or relative paths, and code takes
them from arguments or `tempfile.gettempdir()`. Allowed: the platform folders that every Kaggle or Colab user has,
`/kaggle/...` and `/content/...`, which the GPU notebooks and the README name on purpose; system paths such as
`/dev/null`; and URLs (a path inside `https://...` follows a host name, so it is not matched).
Run: pytest tests/test_no_machine_paths.py -q ; `python tests/test_no_machine_paths.py` lists every hit.
"""
import re, subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROOTS = ['tmp', 'work', 'home', 'root', 'Users', 'mnt', 'scratch', 'var/folders', 'private/var']
# an absolute path starts a string or follows a space, quote, bracket, `=`, `:` or a backtick;
# never a word character, `.`, `/`, `~` or `$` (a relative path, a URL, a home-relative path, a placeholder)
UNIX = r"(?<![\w.$/~-])/(?:" + '|'.join(map(re.escape, ROOTS)) + r")/[\w.$-]"
WINDOWS = r"\b[A-Z]:\\{1,2}Users\\"
MACHINE_PATH = re.compile(f'{UNIX}|{WINDOWS}')

def tracked(root:Path=ROOT)->list:
    "The repo's tracked files (paths relative to `root`)."
    out = subprocess.run(['git', 'ls-files', '-z'], cwd=root, capture_output=True, check=True).stdout
    return [f for f in out.decode().split('\0') if f]

def machine_paths(root:Path=ROOT, files=None)->list:
    "`file:line: text` for every line of a tracked text file that holds a machine's absolute path."
    hits = []
    for f in files if files is not None else tracked(root):
        p = root/f
        if not p.is_file() or p.stat().st_size > 20_000_000: continue
        try: text = p.read_text(encoding='utf-8')
        except UnicodeDecodeError: continue  # images, weights
        for n, line in enumerate(text.splitlines(), 1):
            if m := MACHINE_PATH.search(line): hits.append(f'{f}:{n}: ...{line[max(0, m.start()-40):m.end()+40]}...')
    return hits

def test_pattern():
    "What counts as a machine path, and what does not."
    S = '/'  # built, so that this file holds no hit itself
    bad = [f"--dir {S}work/bench/dedup", f"W = Path('{S}tmp/s25')", f'"root": "{S}home/me/x"', f"`{S}Users/ann/data`",
           'C:' + '\\\\Users\\\\ann', 'C:' + '\\Users\\ann', f"dir={S}mnt/disk1/x", f"({S}scratch/run)"]
    ok = ["'/kaggle/input/sd21-base'", "/content/drive", "toy_run/work/unet_ft", "https://example.com/tmp/x",
          "$WORK/tmp/x", "~/work/x", "/dev/null", "a /tmp folder", "data/results/x.json"]
    assert [s for s in bad if not MACHINE_PATH.search(s)] == []
    assert [s for s in ok if MACHINE_PATH.search(s)] == []

def test_finds_a_hit(tmp_path):
    (tmp_path/'a.json').write_text('{"command": "python run.py --out %stmp/x.json"}\n' % '/')
    (tmp_path/'b.bin').write_bytes(b'\xff\xfe %stmp/x' % b'/')
    hits = machine_paths(tmp_path, ['a.json', 'b.bin'])  # the binary file is skipped
    assert len(hits) == 1 and hits[0].startswith('a.json:1: ') and 'tmp/x.json' in hits[0], hits

def test_no_machine_paths():
    hits = machine_paths()
    fix = 'use $WORK, a relative path or an argument'
    assert not hits, f'{len(hits)} lines hold an absolute path of one machine ({fix}):\n' + '\n'.join(hits[:40])

if __name__ == '__main__':
    hits = machine_paths()
    print('\n'.join(hits)); print(f'{len(hits)} lines')
