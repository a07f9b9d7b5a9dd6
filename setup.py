"Package metadata comes from settings.ini (nbdev 2 layout): edit that file, not this one."
from configparser import ConfigParser
from pathlib import Path
import shlex
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

for key in 'lib_name version description author author_email license min_python'.split():
    assert key in cfg, f'settings.ini is missing `{key}`'

licenses = {'apache2': 'Apache-2.0'}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable']
py_versions = '3.10 3.11 3.12 3.13'.split()
min_py = cfg['min_python']
lic = licenses.get(cfg['license'].lower(), cfg['license'])

def _reqs(key): return shlex.split(cfg.get(key, ''))

readme = Path(__file__).parent/'README.md'
# the paper notebooks and their profiles ship as package data (robint/paper_notebooks/), so that robint-paper runs from
# an installed wheel outside any checkout (robint.pipeline.paper_dir)
paper = {cfg['lib_path'] + '.paper_notebooks': (cfg['nbs_path'] + '/paper', ['*.ipynb']),
         cfg['lib_path'] + '.paper_notebooks.params': (cfg['nbs_path'] + '/paper/params', ['*.yaml'])}
setuptools.setup(
    name=cfg['lib_name'].replace('_', '-'),
    version=cfg['version'],
    description=cfg['description'],
    long_description=readme.read_text(encoding='utf-8') if readme.exists() else cfg['description'],
    long_description_content_type='text/markdown',
    author=cfg['author'], author_email=cfg['author_email'],
    license=lic,
    url=cfg['git_url'],
    keywords=cfg.get('keywords', '').split(),
    classifiers=['Development Status :: ' + statuses[int(cfg['status'])],
                 'Intended Audience :: ' + cfg['audience'].title(),
                 'Natural Language :: ' + cfg['language'].title()]
                + [f'Programming Language :: Python :: {v}' for v in py_versions[py_versions.index(min_py):]],
    packages=setuptools.find_packages(include=[cfg['lib_path'], cfg['lib_path'] + '.*']) + list(paper),
    package_dir={k: d for k, (d, _) in paper.items()},
    package_data={k: globs for k, (_, globs) in paper.items()},
    include_package_data=True,
    install_requires=_reqs('requirements'),
    extras_require={'dev': _reqs('dev_requirements')},
    python_requires='>=' + min_py,
    zip_safe=False,
    entry_points={'console_scripts': cfg.get('console_scripts', '').split(),
                  'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"]},
)
