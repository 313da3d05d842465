"""Issue 30, item 1: the command/config shape, measured from the package source. Run from the repo root:
python tests/measure_config_shape.py [PACKAGE_DIR]
(default image2prompt; give an older checkout's package to compare)"""
import ast, re, sys
from pathlib import Path

def params(fn:ast.FunctionDef)->int:
    "Named parameters of `fn` (not self/cls; *args and **kw count one each)."
    a = fn.args
    n = len(a.posonlyargs) + len(a.args) + len(a.kwonlyargs) + (a.vararg is not None) + (a.kwarg is not None)
    return n - (1 if a.args and a.args[0].arg in ('self', 'cls') else 0)

def measure(pkg:Path)->dict:
    mods = {p.stem: p.read_text() for p in sorted(pkg.glob('*.py')) if p.stem != '_modidx'}
    trees = {m: ast.parse(s) for m, s in mods.items()}
    fns = {f'{m}.{n.name}': n for m, t in trees.items() for n in ast.walk(t)
           if isinstance(n, ast.FunctionDef)}
    top = sorted(((params(f), k) for k, f in fns.items()), reverse=True)[:3]
    calls = [c for c in ast.walk(trees['train']) if isinstance(c, ast.Call)]
    run_phase_calls = [len(c.args) for c in calls if getattr(c.func, 'id', '') == 'run_phase']
    src = '\n'.join(mods.values())
    return {'most parameters (function: count)': {k: n for n, k in top},
            'train_regressor / train_toy_pipeline / run_phase parameters':
                [params(fns[k]) for k in ('train.train_regressor', 'diffusion_train.train_toy_pipeline',
                                          'train.run_phase')],
            'most positional arguments in a run_phase call': max(run_phase_calls),
            "hand-written '>= 0' checks": len(re.findall(r"< 0: raise|must be >= 0'", src)),
            'check_positive calls': len(re.findall(r'(?<!def )check_positive\(', src)),
            'cli.RANGES patterns': len(re.findall(r"'[^']+': (?:positive|non_negative|unit|Range\()", mods['cli'])),
            'config fields declaring a constraint': len(re.findall(r'= setting\([^\n]*?, ', src))}

if __name__ == '__main__':
    for k, v in measure(Path(sys.argv[1] if len(sys.argv) > 1 else 'image2prompt')).items(): print(f'{k}: {v}')
