"""Property-style test of every command (issue 28): for each numeric option, the values just outside its declared range
(declared at the config field: `config.setting`), and for each path option (`cli.PATHS`), the wrong kinds of path (a file for a folder, a folder for a file,
a missing parent, a path inside a file, a folder of the user's): exit 2, exactly one stderr line naming the option or
path, and nothing written. The cases are derived from the commands' own parsers, so a new option gets them for free (and
a numeric option without a declared range, or a positional without a declared kind, fails here)."""
import contextlib, functools, io, os, shutil, subprocess, sys
from dataclasses import fields
from pathlib import Path
import pytest
from PIL import Image
from image2prompt.cli import COMMANDS, PATHS, command_parser, main

EXE = str(Path(sys.executable).parent/'image2prompt') if (Path(sys.executable).parent/'image2prompt').exists() else shutil.which('image2prompt')
ENV = {**os.environ, 'HF_HUB_OFFLINE': '1', 'TRANSFORMERS_OFFLINE': '1', 'PYTHONWARNINGS': 'ignore'}

@functools.cache
def actions(cmd:str)->list: return [a for a in command_parser(cmd)[0]._actions if a.dest not in ('help', 'pdb', 'xtra')]

def bad_values(conv)->list:
    "Values just outside the range that `cli.Range.type` made `conv` enforce (and nan for floats)."
    r, t = conv.range, conv.base
    vs = ([r.lo - 1] + ([r.lo] if r.lo_open else []) if r.lo is not None else []) + \
         ([r.hi + 1] + ([r.hi] if r.hi_open else []) if r.hi is not None else [])
    return [str(t(v)) for v in vs] + (['nan'] if t is float else [])

NUMERIC = [(c, a.option_strings[-1], v) for c in COMMANDS for a in actions(c) if hasattr(a.type, 'range') for v in bad_values(a.type)]

def tree(d:Path)->dict:
    return {str(p.relative_to(d)): (p.read_bytes() if p.is_file() else None) for p in sorted(d.rglob('*'))}

@pytest.fixture
def ws(tmp_path, monkeypatch):
    "A workspace (the cwd, so default output paths land in it): a file, a folder of images, a folder of the user's."
    monkeypatch.chdir(tmp_path)
    (tmp_path/'afile.txt').write_text('a cat\n')
    (tmp_path/'imgs').mkdir()
    Image.new('RGB', (8, 8)).save(tmp_path/'imgs'/'a.png')
    (tmp_path/'mine').mkdir()
    (tmp_path/'mine'/'notes.txt').write_text('mine')
    return tmp_path

GOOD = {'in_file': 'afile.txt', 'in_dir': 'imgs', 'in_any': 'imgs', 'pipeline': 'org/no-such-pipeline', 'out_file': 'new/o.npy',
        'out_dir': 'new_out', 'io_dir': 'new_io'}
BAD = {  # kind -> (label, path relative to the workspace)
    'in_file': [('a folder for a file', 'imgs'), ('a missing parent', 'nope/x.csv'), ('a path inside a file', 'afile.txt/x.csv')],
    'in_dir': [('a file for a folder', 'afile.txt'), ('a missing parent', 'nope/d'), ('a path inside a file', 'afile.txt/d')],
    'in_any': [('a missing parent', 'nope/d'), ('a path inside a file', 'afile.txt/d')],
    'pipeline': [('a file for a folder', 'afile.txt'), ('a folder that is no pipeline', 'imgs')],
    'out_file': [('a folder for a file', 'imgs'), ('a path inside a file', 'afile.txt/o.csv')],
    'out_dir': [('a file for a folder', 'afile.txt'), ('a path inside a file', 'afile.txt/o'), ("a folder of the user's", 'mine')],
    'io_dir': [('a file for a folder', 'afile.txt'), ('a path inside a file', 'afile.txt/o')],
}

def positionals(cmd:str, but:str|None=None)->list:
    "Good values for `cmd`'s positional arguments (other than `but`)."
    return [GOOD[PATHS[cmd][a.dest]] for a in actions(cmd) if not a.option_strings and a.dest != but]

def cli(args:list)->tuple:
    with contextlib.redirect_stderr(io.StringIO()) as err, contextlib.redirect_stdout(io.StringIO()):
        rc = main([str(a) for a in args])
    return rc, err.getvalue().strip().splitlines()

def test_every_command_declares_its_options():
    for c in COMMANDS:
        assert c in PATHS, f'{c}: declare its path options in cli.PATHS'
        for a in actions(c):
            assert a.type not in (int, float), f'{c} {a.option_strings}: declare its range at its config field (config.setting)'
            assert a.help, f'{c} {a.dest}: give the field a docments comment (its help)'
            if not a.option_strings: assert a.dest in PATHS[c], f'{c} {a.dest}: declare its kind in cli.PATHS'
            if hasattr(a.type, 'range') and a.default is not None:
                assert a.type.range.ok(a.default), f'{c} {a.dest}: default {a.default} outside {a.type.range}'
        dests = {a.dest for a in actions(c)}
        assert set(PATHS[c]) <= dests, f'{c}: cli.PATHS names options it has not: {set(PATHS[c]) - dests}'
    assert len(NUMERIC) > 150  # every command's numeric options, not a few

@pytest.mark.parametrize('cmd,opt,val', NUMERIC)
def test_numeric_option_out_of_range(ws, cmd, opt, val):
    before = tree(ws)
    rc, err = cli([cmd, *positionals(cmd), opt, val])
    assert rc == 2 and len(err) == 1, (rc, err)
    assert f'argument {opt}: {val} must be' in err[0], err[0]
    assert tree(ws) == before

PATH_CASES = [(c, k, kind, label, bad) for c in COMMANDS for k, kind in PATHS[c].items() for label, bad in BAD[kind]]

@pytest.mark.parametrize('cmd,opt,kind,label,bad', PATH_CASES, ids=[f'{c}-{k}-{l}' for c, k, _, l, _ in PATH_CASES])
def test_bad_path(ws, cmd, opt, kind, label, bad):
    a = next(a for a in actions(cmd) if a.dest == opt)
    args = [cmd, *positionals(cmd, but=opt)]
    if a.option_strings: args += [a.option_strings[-1], bad]
    else: args.insert(1 + [x.dest for x in actions(cmd) if not x.option_strings].index(opt), bad)
    before = tree(ws)
    rc, err = cli(args)
    assert rc == 2 and len(err) == 1, (args, rc, err)
    assert bad in err[0] or bad.split('/')[0] in err[0], (bad, err[0])
    assert tree(ws) == before

@pytest.mark.parametrize('cmd', list(COMMANDS))
def test_help_shows_every_option(cmd):
    "`image2prompt CMD --help`: every option of the command's config, with its help, and its range where it has one."
    p, f, cls = command_parser(cmd)
    with contextlib.redirect_stdout(io.StringIO()) as out, pytest.raises(SystemExit) as e: p.parse_args(['--help'])
    assert e.value.code == 0
    h = ''.join(out.getvalue().split())  # argparse wraps lines (also at hyphens): compare without whitespace
    for x in actions(cmd):
        assert x.help and ''.join(x.help.split()) in h, (cmd, x.dest)
        if hasattr(x.type, 'range'): assert f'[{x.type.range}]' in x.help, (cmd, x.dest)
    assert {x.dest for x in actions(cmd)} == {f.name for f in fields(cls)}  # one option per field, nothing else

@pytest.mark.skipif(not EXE, reason='the console script is not installed')
@pytest.mark.parametrize('cmd', ['train', 'invert', 'dreambooth'])
def test_help_console_script(cmd):
    r = subprocess.run([EXE, cmd, '--help'], capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    h = ''.join(r.stdout.split())
    for x in actions(cmd): assert ''.join(x.help.split()) in h, (cmd, x.dest)

@pytest.mark.skipif(not EXE, reason='the console script is not installed')
@pytest.mark.parametrize('args', [['invert', 'afile.txt', '--bs', '0'], ['export-pipeline', 'afile.txt'], ['dedup', 'afile.txt', 'mine']])
def test_console_script(ws, args):
    before = tree(ws)
    r = subprocess.run([EXE, *args], capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, (r.returncode, r.stderr[-2000:])
    assert r.stderr.startswith(f'image2prompt {args[0]}: ')
    assert tree(ws) == before
