"Build the package from settings.ini (nbdev 2 layout)."
from configparser import ConfigParser
from pathlib import Path
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read('settings.ini', encoding='utf-8')
c = cfg['DEFAULT']
reqs = c.get('requirements', '').split()
dev_reqs = c.get('dev_requirements', '').split()
extras = {k: c.get(f'{k}_requirements', '').split() for k in ('onnx', 'openvino', 'gpu')}  # optional: fast embedding runtimes (issue 5); gpu: bitsandbytes' 8-bit AdamW (issue 16)
scripts = [s for s in c.get('console_scripts', '').split() if s]
setuptools.setup(
    name=c['lib_name'], version=c['version'], description=c['description'],
    long_description=Path('README.md').read_text(encoding='utf-8') if Path('README.md').exists() else '',
    long_description_content_type='text/markdown', author=c['author'], author_email=c['author_email'],
    keywords=c['keywords'].split(), license='Apache-2.0', url=c['git_url'], python_requires=f">={c['min_python']}",
    packages=setuptools.find_packages(include=[c['lib_path'], c['lib_path'] + '.*']),
    install_requires=reqs, extras_require={'dev': dev_reqs, **extras},
    package_data={c['lib_path']: ['assets/*', 'assets/*/*', 'assets/*/*/*', 'standin_configs/*/*.json', 'standin_configs/*/*/*.json', 'standin_configs/*/*/*/*.json']},  # what the package needs at run time; MANIFEST.in puts them in the sdist
    entry_points={'console_scripts': scripts, 'nbdev': [f"{c['lib_path']}={c['lib_path']}._modidx:d"]},
    zip_safe=False)
