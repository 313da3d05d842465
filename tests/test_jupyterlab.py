"""The widget notebooks (nbs/8x_*.ipynb) in a real JupyterLab, driven by headless Chromium through selenium.

Slow: runs only with `I2P_SLOW=1` or `pytest --runslow`. Needs Debian's `chromium` and `chromium-driver`
(`apt-get install -y chromium chromium-driver`); screenshots go to `data/results/jupyterlab_<notebook>.png`."""
import json, os, shutil, socket, subprocess, sys, time, secrets, urllib.request
from contextlib import contextmanager
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT/'data'/'results'
pytestmark = pytest.mark.slow

def _free_port()->int:
    with socket.socket() as s: s.bind(('127.0.0.1', 0)); return s.getsockname()[1]

def _jupyter_dirs(tmp:Path)->dict:
    "Isolated Jupyter dirs: a `python3` kernel that is this interpreter, and settings that keep toasts and windowing out of the way."
    ks = tmp/'path'/'kernels'/'python3'; ks.mkdir(parents=True)
    (ks/'kernel.json').write_text(json.dumps(dict(argv=[sys.executable, '-m', 'ipykernel_launcher', '-f', '{connection_file}'],
                                                  display_name='python3', language='python')))
    st = tmp/'settings'/'@jupyterlab'
    for ext, name, val in [('apputils-extension', 'notification', dict(fetchNews='false', checkForUpdates=False)),
                           ('docmanager-extension', 'plugin', dict(autosave=False)),  # never write outputs into nbs/
                           ('notebook-extension', 'tracker', dict(windowingMode='none'))]:
        (st/ext).mkdir(parents=True, exist_ok=True); (st/ext/f'{name}.jupyterlab-settings').write_text(json.dumps(val))
    return dict(JUPYTER_PATH=str(tmp/'path'), JUPYTER_CONFIG_DIR=str(tmp/'config'), JUPYTER_DATA_DIR=str(tmp/'data'),
                JUPYTER_RUNTIME_DIR=str(tmp/'runtime'), JUPYTERLAB_SETTINGS_DIR=str(tmp/'settings'),
                JUPYTERLAB_WORKSPACES_DIR=str(tmp/'workspaces'))

@contextmanager
def jupyter_lab(tmp:Path):
    "A JupyterLab server on `nbs/` whose kernels import this checkout's package; yields (base url, token)."
    port, tok = _free_port(), secrets.token_hex(16)
    env = {**os.environ, **_jupyter_dirs(tmp), 'PYTHONPATH': os.pathsep.join([str(ROOT), os.environ.get('PYTHONPATH', '')]).rstrip(os.pathsep),
           'PATH': os.pathsep.join([str(Path(sys.executable).parent), os.environ['PATH']]), 'OMP_NUM_THREADS': '1',
           'IN_TEST': '1'}  # as under nbdev_test: the notebooks' hidden `nbdev_export()` cell must not rewrite the checkout
    env.pop('MPLBACKEND', None)  # a user's kernel draws inline; Agg would make the loss plot in 81 a silent no-op
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', f'--port={port}', '--ip=127.0.0.1', f'--IdentityProvider.token={tok}', '--allow-root',
           f'--ServerApp.root_dir={ROOT/"nbs"}', '--LabApp.expose_app_in_browser=True', '--LabApp.news_url=None',
           '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate']
    log = open(tmp/'server.log', 'wb')
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT/'nbs')
    url = f'http://127.0.0.1:{port}'
    try:
        for _ in range(120):
            if proc.poll() is not None: break
            try: urllib.request.urlopen(f'{url}/api/status?token={tok}', timeout=2); break
            except OSError: time.sleep(0.5)
        else: raise RuntimeError(f'JupyterLab did not answer on {url} within 60 s; log: {tmp/"server.log"}')
        assert proc.poll() is None, f'JupyterLab exited: {(tmp/"server.log").read_text()[-2000:]}'
        yield url, tok
    finally:
        proc.terminate()
        try: proc.wait(20)
        except subprocess.TimeoutExpired: proc.kill()
        log.close()

@contextmanager
def chromium(tmp:Path):
    "Headless Debian Chromium through chromedriver."
    if not (shutil.which('chromium') and shutil.which('chromedriver')):
        raise RuntimeError('chromium and chromedriver not found: apt-get install -y chromium chromium-driver')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions(); opts.binary_location = shutil.which('chromium')
    for a in ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
              '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--window-size=1400,1600',
              f'--user-data-dir={tmp}']: opts.add_argument(a)
    drv = webdriver.Chrome(options=opts, service=Service(shutil.which('chromedriver')))
    drv.command_executor._client_config.timeout = 600  # read per request; the 120 s default broke a run on a machine at load 24
    try: yield drv
    finally: drv.quit()

@pytest.fixture(scope='module')
def lab(tmp_path_factory):
    with jupyter_lab(tmp_path_factory.mktemp('jlab')) as v: yield v

@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp('chromium')) as d: yield d

def wait(fn, timeout:float=120, what:str='condition', every:float=0.5):
    "Poll `fn` until it returns something truthy; fail naming `what` after `timeout` seconds."
    end = time.time() + timeout
    while time.time() < end:
        if v := fn(): return v
        time.sleep(every)
    pytest.fail(f'timed out after {timeout} s waiting for {what}')

# The notebook's panel in JupyterLab, found through the app that `--LabApp.expose_app_in_browser` puts on `window`
_NB = "const a = window.jupyterapp, w = a && Array.from(a.shell.widgets('main')).find(w => w.context && w.context.path === arguments[0]);"
_KERNEL = _NB + "const k = w && w.sessionContext.session && w.sessionContext.session.kernel; return k ? k.name + ':' + k.status : null;"

# Error outputs, read from the notebook model (JupyterLab renders them with the stderr mime type)
_ERRORS = _NB + """return w.content.widgets.flatMap(c => c.model.type !== 'code' ? [] :
    c.model.outputs.toJSON().filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue));"""

def run_notebook(d, url, tok, nb:str, timeout:float=600):
    "Open `nb` in JupyterLab, run all cells, and wait until every cell has run and the kernel is idle."
    d.get(f'{url}/lab/tree/{nb}?reset&token={tok}')
    wait(lambda: d.execute_script(_KERNEL, nb) == 'python3:idle', 120, f'the python3 kernel of {nb}')
    d.execute_script(_NB + "a.shell.collapseLeft(); a.shell.activateById(w.id); a.commands.execute('notebook:run-all-cells'); return true;", nb)  # not the promise: selenium would await it
    prompts = lambda: d.execute_script("return Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')).map(e => e.textContent)")
    def done():  # every cell ran, or one failed (run-all stops there; check_rendered reports it)
        ps, failed = prompts(), d.execute_script(_ERRORS, nb)
        return d.execute_script(_KERNEL, nb) == 'python3:idle' and ps and (failed or all(p.strip() not in ('[*]:', '[ ]:', '') for p in ps))
    wait(done, timeout, f'all cells of {nb} to run', every=1)

def kernel_says(d, nb:str, code:str)->str:
    "Run `code` in the notebook's kernel, outside the notebook, and return what it printed."
    return d.execute_async_script(_NB + """const done = arguments[arguments.length - 1], out = [];
        const f = w.sessionContext.session.kernel.requestExecute({code: arguments[1], silent: false, store_history: false});
        f.onIOPub = m => { if (m.header.msg_type === 'stream') out.push(m.content.text); };
        f.done.then(() => done(out.join('')), e => done('error: ' + e));""", nb, code)

def check_rendered(d, nb:str, n_images:int):
    "No error output; widget views rendered (no 'Loading widget...', no text fallback), with at least `n_images` loaded images."
    errs = d.execute_script(_ERRORS, nb)
    assert not errs, f'{nb} raised: {errs}'
    views = lambda: d.execute_script("return document.querySelectorAll('.jp-OutputArea-output .jupyter-widgets.widget-container').length")
    wait(views, 60, 'widget views in the output area')
    text = d.execute_script("return Array.from(document.querySelectorAll('.jp-OutputArea-output')).map(e => e.innerText).join('\\n')")
    for bad in ('Loading widget', 'Error displaying widget', 'VBox(children=', 'Model not found'): assert bad not in text, bad
    imgs = lambda: d.execute_script("return Array.from(document.querySelectorAll('img.widget-image')).filter(i => i.complete && i.naturalWidth > 0).length")
    wait(lambda: imgs() >= n_images, 30, f'{n_images} widget images to load')

def changes(d, read, act, what:str, timeout:float=60):
    "Do `act`, then wait until `read()` differs from before; return (before, after)."
    before = read(); act()
    after = wait(lambda: (v := read()) != before and v, timeout, what)
    return before, after

def settle(d, quiet:float=1.5, timeout:float=60):
    "Wait until every kernel is idle and every widget image has loaded, and it stays so for `quiet` seconds."
    idle = lambda: d.execute_script("return Array.from(window.jupyterapp.shell.widgets('main')).every(w => !w.sessionContext || "
                                    "(w.sessionContext.session && w.sessionContext.session.kernel.status === 'idle'));") and _imgs_ok(d)
    def calm():
        if not idle(): return False
        time.sleep(quiet); return idle()
    wait(calm, timeout, 'the kernel and the page to settle')

def screenshot(d, css:str, name:str):
    "Scroll the first `css` element to the top and save a screenshot as `data/results/jupyterlab_<name>.png` (atomically)."
    d.execute_script("document.querySelector(arguments[0]).closest('.jp-Cell').scrollIntoView({block: 'start'});", css)
    time.sleep(1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out, tmp = RESULTS/f'jupyterlab_{name}.png', RESULTS/f'.jupyterlab_{name}.png.tmp'
    tmp.write_bytes(d.get_screenshot_as_png()); tmp.replace(out)
    return out

def _imgs_ok(d)->bool:
    "Every widget image on the page has loaded a picture (an empty `value` leaves it broken)."
    return d.execute_script("const i = Array.from(document.querySelectorAll('img.widget-image')); return i.length > 0 && i.every(i => i.complete && i.naturalWidth > 0);")

def _html(d)->str: return d.execute_script("return Array.from(document.querySelectorAll('.widget-html')).map(e => e.innerText).join('\\n')")

def interact_80(d):
    "Weak prompts: the order toggle reorders the sample list; picking a sample fills the detail pane with its image."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    first = lambda: d.execute_script("const o = document.querySelector('.widget-select select').options; return o.length ? o[0].text : null;")
    btn = next(b for b in d.find_elements(By.CSS_SELECTOR, '.widget-toggle-buttons button') if b.text.strip() == 'worst first')
    best, worst = changes(d, first, btn.click, 'the sample list to reorder')
    assert float(worst.split()[0]) < float(best.split()[0]), (best, worst)
    wait(lambda: ' '.join(worst.split()[1:]) in _html(d), 30, 'the detail pane to show the first sample'); settle(d)
    lst = Select(d.find_element(By.CSS_SELECTOR, '.widget-select select'))
    _, info = changes(d, lambda: _html(d), lambda: lst.select_by_index(2), 'the detail pane to change')
    assert ' '.join(lst.options[2].text.split()[1:]) in info
    wait(lambda: _imgs_ok(d), 20, "the chosen sample's image and the histogram to load")

def interact_81(d):
    "SeedSelect: another concept changes the text, strips and loss plot; the iteration slider changes the frame."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    plot = lambda: d.execute_script("const i = document.querySelector('.widget-output img'); return i ? i.src : null;")
    wait(plot, 30, 'the loss plot in the Output widget')
    dd = Select(d.find_element(By.CSS_SELECTOR, '.widget-dropdown select'))
    old = dd.first_selected_option.text
    before, after = changes(d, lambda: _html(d), lambda: dd.select_by_index(0), 'the concept text to change')
    assert dd.first_selected_option.text != old
    wait(lambda: plot() and _imgs_ok(d), 30, 'the new concept to draw'); settle(d)
    frame = lambda: d.execute_script("return document.querySelectorAll('img.widget-image')[3].src")
    handle = d.find_elements(By.CSS_SELECTOR, '.widget-slider .noUi-handle')[1]  # [0] seed, [1] iteration
    val = lambda: d.find_elements(By.CSS_SELECTOR, '.widget-slider .widget-readout')[1].text
    v0 = val(); changes(d, frame, lambda: (handle.click(), handle.send_keys(Keys.HOME)), 'the frame to follow the iteration slider')
    assert int(val()) < int(v0), (v0, val())

def interact_82(d):
    "Hands: the concept dropdown and the 'only wrong ones' box change the counts and strips."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select
    dd = Select(d.find_element(By.CSS_SELECTOR, '.widget-dropdown select'))
    changes(d, lambda: _html(d), lambda: dd.select_by_visible_text('all'), 'the counts to follow the concept'); settle(d)
    box = d.find_element(By.CSS_SELECTOR, '.widget-checkbox input')
    assert box.is_selected()  # the notebook's last cell ticked it
    before, after = changes(d, lambda: _html(d), box.click, "the counts to follow 'only wrong ones'")
    shown = lambda s: [int(l.split(': ')[1].split(' shown of ')[0]) for l in s.splitlines() if ' shown of ' in l]
    assert all(a >= b for a, b in zip(shown(after), shown(before))) and shown(after) != shown(before), (before, after)
    wait(lambda: _imgs_ok(d), 20, 'the strips to load')

NOTEBOOKS = {'80_inspect_weak_prompts': (2, interact_80, '.widget-toggle-buttons'),
             '81_inspect_seedselect': (4, interact_81, '.widget-dropdown'),
             '82_hands_gallery': (2, interact_82, '.widget-checkbox')}

@pytest.mark.parametrize('name', list(NOTEBOOKS))
def test_widget_notebook_in_jupyterlab(lab, browser, name):
    "Run the notebook in JupyterLab; its widget renders, responds to the mouse and keyboard, and is screenshotted."
    n_images, interact, anchor = NOTEBOOKS[name]
    run_notebook(browser, *lab, f'{name}.ipynb')
    exe, pkg = kernel_says(browser, f'{name}.ipynb', 'import sys, image2prompt; print(sys.executable); print(image2prompt.__file__)').split()
    assert Path(exe) == Path(sys.executable) and Path(pkg).parent == ROOT/'image2prompt', (exe, pkg)  # this env, this checkout
    check_rendered(browser, f'{name}.ipynb', n_images)
    interact(browser)
    settle(browser)
    out = screenshot(browser, anchor, name)
    assert out.stat().st_size > 20_000
