"""Build robint's documentation site offline, without Quarto: `make docs` (or `python docs/build.py`) -> _site/index.html.

1. Every library notebook becomes an API page: its cells as they are, and after each `#| export` cell the
   `show_doc` of what it defines (nbdev's own renderer: signature, docstring and docments table), rendered from
   the exported package, so no notebook is executed.
2. This script writes the Sphinx sources into _site_src/: the README as the start page, the API pages, a page
   describing the paper notebooks and their parameters, and the fashion-cpu results with their figures.
3. Sphinx + myst-nb (docs/conf.py) turns them into HTML in _site/.
Why not `nbdev_proc_nbs` + Sphinx: tried first; it insists on installing Quarto (a download), and its execution step
stops at this project's test cells that mix imports with code. _site_src/ and _site/ are git-ignored. With Quarto
installed, `nbdev_docs` builds nbdev's own site instead."""
import ast, importlib, json, re, shutil, subprocess, sys, time, uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC, SITE = ROOT/'_site_src', ROOT/'_site'

def _md(cell)->str: return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _defined(src:str, mod)->list:
    "The public objects an export cell defines: functions, classes, and @patch methods as Class.method"
    try: tree = ast.parse('\n'.join(l for l in src.splitlines() if not l.lstrip().startswith(('%', '!'))))
    except SyntaxError: return []
    out = []
    for n in tree.body:
        if not isinstance(n, (ast.FunctionDef, ast.ClassDef)) or n.name.startswith('_'): continue
        if isinstance(n, ast.FunctionDef) and any(getattr(d, 'id', None) == 'patch' for d in n.decorator_list) and n.args.args:
            ann = n.args.args[0].annotation
            cls = getattr(mod, getattr(ann, 'id', ''), None)
            obj = getattr(cls, n.name, None) if cls is not None else None
            if obj is not None: out.append((f"{cls.__name__}.{n.name}", obj))
        elif getattr(mod, n.name, None) is not None: out.append((n.name, getattr(mod, n.name)))
    return out

def _cell(kind:str, src:str)->dict:
    c = {'cell_type': kind, 'id': uuid.uuid4().hex[:8], 'metadata': {}, 'source': src}
    return {**c, 'execution_count': None, 'outputs': []} if kind == 'code' else c

def _doc(obj, name:str)->str:
    "nbdev's show_doc (heading, signature with docments, docstring) followed by fastcore's docments table"
    from nbdev.showdoc import show_doc
    from fastcore.docments import DocmentTbl
    try: tbl = DocmentTbl(obj)._repr_markdown_()
    except Exception: tbl = ''
    return show_doc(obj, name=name)._repr_markdown_() + ('\n\n' + tbl if tbl else '')

def api_notebook(path:Path)->dict:
    "A library notebook with the show_doc of every exported definition after the cell that defines it"
    nb = json.loads(path.read_text())
    m = next((re.search(r'#\|\s*default_exp\s+(\S+)', _md(c)) for c in nb['cells'] if '#| default_exp' in _md(c)), None)
    mod = importlib.import_module(f"robint.{m[1]}") if m else None
    cells = []
    for c in nb['cells']:
        src = _md(c)
        if c['cell_type'] == 'code' and src.lstrip().startswith('#| default_exp'): continue
        if c['cell_type'] != 'code': cells.append(c); continue
        export = bool(re.match(r'\s*#\|\s*export\b', src))
        c = {**c, 'source': '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))}   # Quarto directives mean nothing here
        cells.append(c)
        if export and mod is not None:
            cells += [_cell('markdown', _doc(obj, name)) for name, obj in _defined(src, mod)]
    return {**nb, 'cells': cells}

def _title(nb:dict, fallback:str)->str:
    first = next((_md(c) for c in nb['cells'] if c['cell_type'] == 'markdown'), '')
    m = re.search(r'^#\s+(.+)$', first, re.M)
    return m[1].strip() if m else fallback

def api_pages()->list[str]:
    "One page per library notebook (nbs/NN_*.ipynb), with the show_doc of its exports"
    (SRC/'api').mkdir(parents=True)
    names = []
    for nb_path in sorted((ROOT/'nbs').glob('[0-9][0-9]_*.ipynb')):
        (SRC/'api'/nb_path.name).write_text(json.dumps(api_notebook(nb_path)))
        names.append(f"api/{nb_path.stem}")
    return names

def _params(nb:dict)->list[tuple[str, str, str]]:
    "(name, default, help) of the notebook's `parameters` cell"
    cell = next(c for c in nb['cells'] if 'parameters' in c.get('metadata', {}).get('tags', []))
    out = []
    for line in _md(cell).splitlines():
        m = re.match(r'^(\w+)\s*=\s*(.+?)\s*(?:#\s*(.*))?$', line)
        if m: out.append((m[1], m[2], m[3] or ''))
    return out

def paper_page()->str:
    "The paper notebooks: what each regenerates (its description) and its parameters with their smoke defaults"
    parts = ["# The paper notebooks\n",
             "`robint-paper --profile NAME` runs these notebooks of `nbs/paper/` in order with papermill (they also ship "
             "inside the package, so an installed robint runs them with `--out DIR`). Each has one cell tagged `parameters`, "
             "whose values are the smoke defaults; a profile (`nbs/paper/params/NAME.yaml`) overrides them.\n"]
    for p in sorted((ROOT/'nbs'/'paper').glob('[0-9]*.ipynb')):
        nb = json.loads(p.read_text())
        desc = next((_md(c) for c in nb['cells'] if c['cell_type'] == 'markdown'), f'# {p.stem}')
        desc = re.sub(r'^#\s+', f'## `{p.stem}`: ', desc, count=1, flags=re.M)
        rows = '\n'.join(f"| `{n}` | `{d.replace('|', '&#124;')}` | {h.replace('|', '&#124;')} |" for n, d, h in _params(nb))
        parts += [desc + '\n', f"Parameters of `{p.name}`:\n\n| parameter | smoke default | meaning |\n|---|---|---|\n{rows}\n"]
    return '\n'.join(parts)

def results_page(profile:str='fashion-cpu')->str:
    "The committed results of a profile (figures/<profile>/README.md) with its figures"
    src = ROOT/'figures'/profile
    if not (src/'README.md').exists(): return f"# Results\n\nNo results committed for `{profile}` yet: run `make paper`.\n"
    dst = SRC/'results'; dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob('*.png'): shutil.copy2(f, dst/f.name)
    text = (src/'README.md').read_text()
    text = re.sub(r'!\[([^\]]*)\]\(([^)/]+\.png)\)', r'![\1](results/\2)', text)
    return text

def index_page(api:list[str])->str:
    readme = (ROOT/'README.md').read_text()
    local = {'figures/fashion-cpu/README.md': 'results.md'}     # README links to pages this site has; the rest go to the repository
    readme = re.sub(r'\]\((?!https?:|#)([^)]+)\)', lambda m: f"]({local.get(m[1], 'https://github.com/robint/robint/blob/main/' + m[1])})", readme)
    toc = "\n".join(["```{toctree}", ":maxdepth: 1", ":caption: Library (one page per notebook)", "", *api, "```", "",
                     "```{toctree}", ":maxdepth: 1", ":caption: Paper pipeline", "", "paper", "results", "```", ""])
    return readme + "\n\n" + toc

def main()->int:
    t0 = time.perf_counter()
    if SRC.exists(): shutil.rmtree(SRC)
    SRC.mkdir()
    shutil.copy(ROOT/'docs'/'conf.py', SRC/'conf.py')
    api = api_pages()
    (SRC/'paper.md').write_text(paper_page())
    (SRC/'results.md').write_text(results_page())
    (SRC/'index.md').write_text(index_page(api))
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-j', '1', str(SRC), str(SITE)])
    shutil.rmtree(SITE.parent/'jupyter_execute', ignore_errors=True)   # myst-nb's intermediate copies, beside the output folder
    if r.returncode: print("docs: sphinx-build failed (see above)", file=sys.stderr); return r.returncode
    print(f"docs: {SITE/'index.html'} ({len(api)} API pages) in {time.perf_counter() - t0:.0f} s; open it in a browser, "
          f"or serve it: python -m http.server -d {SITE.relative_to(ROOT)} --bind 127.0.0.1 8000")
    return 0

sys.exit(main())   # a script, never imported
