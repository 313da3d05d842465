"Issue 30, item 6: the share of exported public functions and classes with a test (a code cell naming them) within the two code cells after their export cell. Run from the repo root: python tests/measure_near_tests.py [NOTEBOOK-PREFIX ...]"
import json, re, sys, glob
def stats(path):
    cells = [c for c in json.load(open(path))['cells'] if c['cell_type'] == 'code']
    src = lambda c: c['source'] if isinstance(c['source'], str) else ''.join(c['source'])
    tot, hit, miss = 0, 0, []
    for i, c in enumerate(cells):
        s = src(c)
        if not re.match(r'#\|\s*export\b', s): continue
        names = re.findall(r'^(?:def|class)\s+([A-Za-z]\w*)', s, re.M)
        after = []
        for d in cells[i+1:]:
            t = src(d)
            if re.match(r'#\|\s*(export|hide)', t) and not re.match(r'#\|\s*hide', t): continue
            after.append(t)
            if len(after) == 2: break
        for n in names:
            if n.startswith('_'): continue
            tot += 1
            if any(re.search(rf'\b{n}\b', t) for t in after): hit += 1
            else: miss.append(n)
    return tot, hit, miss
if __name__ == '__main__':
    T = H = 0
    for p in sorted(glob.glob('nbs/[0-7]*.ipynb')):
        t, h, m = stats(p); T += t; H += h
        if len(sys.argv) > 1 and any(a in p for a in sys.argv[1:]): print(p, f'{h}/{t}', m)
    print(f'all: {H}/{T} = {H/T:.0%}')
