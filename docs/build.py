"""Build robint's documentation site offline, without Quarto: `make docs` (or `python docs/build.py`) -> _site/index.html.

1. Every library notebook becomes an API page: its cells as they are, and after each `#| export` cell the
   `show_doc` of what it defines (nbdev's own renderer: signature, docstring and docments table), rendered from
   the exported package, so no notebook is executed.
2. This script writes the Sphinx sources into _site_src/: nbs/index.ipynb (rendered as the README is, docs/readme.py)
   as the start page, the API pages, a page describing the paper notebooks and their parameters, a reproduction report
   per committed profile (figures/<profile>/results.json + the profile's deviations + docs/reports/<profile>.md), with
   every figure, CHANGELOG.md, and docs/architecture.md (the package's layering).
3. Sphinx + myst-nb (docs/conf.py) turns them into HTML in _site/.
`python docs/build.py --readme` (`make readme`) only writes README.md from nbs/index.ipynb.
Why not `nbdev_proc_nbs` + Sphinx: tried first; it insists on installing Quarto (a download), and its execution step
stops at this project's test cells that mix imports with code. _site_src/ and _site/ are git-ignored. With Quarto
installed, `nbdev_docs` builds nbdev's own site instead."""
import ast, importlib, json, re, shutil, subprocess, sys, time, uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'docs'))
import readme   # docs/readme.py: the index notebook -> README text
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
    "One page per library notebook (nbs/NN_*.ipynb, NNa_*.ipynb), with the show_doc of its exports"
    (SRC/'api').mkdir(parents=True)
    names = []
    for nb_path in sorted((ROOT/'nbs').glob('[0-9][0-9]*_*.ipynb')):
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

REPORTS = 'reports'   # the site's folder of reproduction reports: reports/<profile>.md, its figures in reports/<profile>/

def committed_profiles()->list[str]:
    "Profiles with committed results (figures/<profile>/results.json), the default profile first"
    names = sorted(p.parent.name for p in (ROOT/'figures').glob('*/results.json'))
    return sorted(names, key=lambda n: (n != 'fashion-cpu', n == 'smoke', n))

def report_notes(profile:str)->tuple[dict, dict]:
    "(header, {section title: text}) of docs/reports/<profile>.md, the hand-written part of a report"
    p = ROOT/'docs'/'reports'/f'{profile}.md'
    text = p.read_text() if p.exists() else ''
    head = re.match(r'---\n(.*?)\n---\n', text, re.S)
    meta = dict(l.split(': ', 1) for l in head[1].splitlines() if ': ' in l) if head else {}
    body = re.sub(r'<!--.*?-->', '', text[head.end():] if head else text, flags=re.S)
    secs = {}
    for part in re.split(r'^## ', body, flags=re.M)[1:]:
        title, _, rest = part.partition('\n')
        secs[title.strip()] = rest.strip()
    return meta, secs

def _effects(text:str)->dict:
    "{label: text} of the '- **Label**: text' bullets (continuation lines indented)"
    out = {}
    for b in re.split(r'^- ', text, flags=re.M)[1:]:
        m = re.match(r'\*\*(.+?)\*\*:\s*(.*)', ' '.join(b.split()), re.S)
        if m: out[m[1]] = m[2]
    return out

def deviations_markdown(profile:str, effects:dict)->str:
    "The profile's `deviations:` (what differs and why), each followed by its measured effect from the notes"
    import yaml
    f = ROOT/'nbs'/'paper'/'params'/f'{profile}.yaml'
    devs = (yaml.safe_load(f.read_text()) or {}).get('deviations') or [] if f.exists() else []
    effects, lines = dict(effects), []
    for d in devs:
        label, sep, rest = d.partition(':')
        lines.append(f"- **{label}**: {rest.strip()}" if sep else f"- {d}")
        if sep and label in effects: lines.append(f"\n  *Measured:* {effects.pop(label)}")
    lines += [f"- **{k}** (measured): {v}" for k, v in effects.items()]
    return '\n'.join(lines) if lines else "None declared by the profile."

def _seed_results(profile:str)->dict:
    "{seed folder ('' for seed 0 / the main folder): results.json} of a profile's committed results"
    src = ROOT/'figures'/profile
    out = {'': json.loads((src/'results.json').read_text())}
    for d in sorted(src.glob('seed-*/results.json')): out[d.parent.name] = json.loads(d.read_text())
    return out

def wall_markdown(runs:dict)->str:
    "Minutes per notebook, one column per training seed, and the total"
    from robint.results import markdown_table
    cols = list(runs)
    nbs = sorted({k for r in runs.values() for k in (r.get('wall_time_s') or {})})
    rows = [[nb] + [round((runs[c].get('wall_time_s') or {}).get(nb, 0) / 60, 1) or '' for c in cols] for nb in nbs]
    rows.append(['**total**'] + [round(sum((runs[c].get('wall_time_s') or {}).values()) / 60, 1) for c in cols])
    heads = ['notebook'] + [f"minutes, {c.replace('-', ' ') or 'seed 0 (the figures)'}" for c in cols]
    return markdown_table(heads, rows)

def _order(kind:str, name:str, e:dict)->tuple:
    "The paper's figures by number, then its tables, then extra figures and extra tables by name"
    m = re.search(r'\b(fig|tab)\w*\.?\s*(\d+)', e.get('paper') or '', re.I)
    return (0 if m[1].lower() == 'fig' else 1, int(m[2]), name) if m else (2 if kind == 'figure' else 3, 0, name)

def items_markdown(res:dict, img_dir:str)->tuple[str, int]:
    "(Markdown, number of figures) of every figure and table in results.json, in the paper's order"
    from robint.results import table_markdown
    items = [('figure', k, e) for k, e in (res.get('figures') or {}).items()]
    items += [('table', k, e) for k, e in res.items() if isinstance(e, dict) and 'rows' in e and 'columns' in e]
    stale, parts = res.get('stale') or {}, []
    for kind, name, e in sorted(items, key=lambda t: _order(*t)):
        title = (e.get('paper') or 'Extra') + f": `{name}`"
        if e.get('notebook') in stale: title = f"OUT OF DATE: {title}"
        body = f"![{name}]({img_dir}/{e['file']})" if kind == 'figure' else table_markdown(e)
        cap = ' '.join(str(e.get('caption') or '').split())
        parts.append(f"### {title}\n\n{cap}" + (f" (notebook `{e['notebook']}`)" if e.get('notebook') else '') + f"\n\n{body}\n")
    return '\n'.join(parts), sum(k == 'figure' for k, _, _ in items)

def report_page(profile:str)->str:
    "A profile's reproduction report: setup, deviations with their measured effects, results, time per notebook, what was tried"
    src, dst = ROOT/'figures'/profile, SRC/REPORTS/profile
    dst.mkdir(parents=True, exist_ok=True)
    for f in src.glob('*.png'): shutil.copy2(f, dst/f.name)
    runs = _seed_results(profile); res = runs['']
    meta, notes = report_notes(profile)
    label = (res.get('values') or {}).get('dataset_label') or (res.get('profile') or {}).get('dataset_label', '')
    seeds = (res.get('claims') or {}).get('train_seeds') or (res.get('profile') or {}).get('train_seeds') or [0]
    parts = [f"# Reproduction report: `{profile}`\n",
             f"Dataset: {label}; training seeds: {', '.join(map(str, seeds))}; measured on {meta.get('measured_on', 'a machine the notes do not name')}. "
             f"Regenerate with `robint-paper --profile {profile}`. Every number below the deviations comes from "
             f"`figures/{profile}/results.json` unless a section says otherwise; the profile is `nbs/paper/params/{profile}.yaml`.\n",
             "## Setup\n", notes.pop('Setup', 'No notes for this profile yet (docs/reports/).') + '\n',
             "## Deviations from the paper and their measured effects\n",
             deviations_markdown(profile, _effects(notes.pop('Measured effects', ''))) + '\n', "## Results\n"]
    if res.get('claims'):
        c = res['claims']
        parts += ["### Verdicts on the paper's claims\n", ((c.get('note') or '') + '\n\n' + c['markdown']).strip() + '\n']
    if res.get('stale'):
        parts += ["### Out of date\n", '\n'.join(f"- `{k}`: {v}" for k, v in sorted(res['stale'].items())) + '\n']
    body, _ = items_markdown(res, profile)
    parts += [body or "Nothing recorded yet.\n", "## Time per notebook\n",
              (wall_markdown(runs) if any(r.get('wall_time_s') for r in runs.values()) else "No notebook has run yet.") + '\n']
    tried = notes.pop('What was tried', '')
    parts += [f"## {k}\n\n{v}\n" for k, v in notes.items()]
    parts += ["## What was tried\n", (tried or "Nothing recorded.") + '\n']
    return '\n'.join(parts)

def changelog_page()->str:
    p = ROOT/'CHANGELOG.md'
    return p.read_text() if p.exists() else "# Changelog\n\nNone yet.\n"

def _site_link(target:str, profiles:list[str])->str:
    "Where a README link goes in the site: its own pages for reports, ledgers and the changelog; else the repository"
    path, _, anchor = target.partition('#')
    m = re.fullmatch(r'(?:docs/reports/([\w.-]+)\.md|figures/([\w.-]+)/(?:claims|README)\.md)', path)
    prof = m and (m[1] or m[2])
    if prof in profiles: return f"{REPORTS}/{prof}.md"
    if path == 'CHANGELOG.md': return 'changelog.md'
    return 'https://github.com/robint/robint/blob/main/' + target

def index_page(api:list[str], profiles:list[str])->str:
    "The landing page: nbs/index.ipynb rendered exactly as README.md is, with links to the site's own pages"
    text = readme.render()
    text = re.sub(r'\]\((?!https?:|#|mailto:)([^)]+)\)', lambda m: f"]({_site_link(m[1], profiles)})", text)
    toc = "\n".join(["```{toctree}", ":maxdepth: 1", ":caption: Library (one page per notebook)", "", "architecture", *api, "```", "",
                     "```{toctree}", ":maxdepth: 1", ":caption: Paper pipeline", "", "paper",
                     *[f"{REPORTS}/{p}" for p in profiles], "changelog", "```", ""])
    return text + "\n\n" + toc

def main()->int:
    t0 = time.perf_counter()
    if SRC.exists(): shutil.rmtree(SRC)
    SRC.mkdir()
    shutil.copy(ROOT/'docs'/'conf.py', SRC/'conf.py')
    shutil.copy(ROOT/'docs'/'architecture.md', SRC/'architecture.md')   # the layering, checked by tests/test_architecture.py
    api = api_pages()
    (SRC/'paper.md').write_text(paper_page())
    profiles = committed_profiles()
    for prof in profiles: (SRC/REPORTS/f'{prof}.md').write_text(report_page(prof))
    (SRC/'changelog.md').write_text(changelog_page())
    (SRC/'index.md').write_text(index_page(api, profiles))
    r = subprocess.run([sys.executable, '-m', 'sphinx', '-b', 'html', '-q', '-j', '1', str(SRC), str(SITE)])
    shutil.rmtree(SITE.parent/'jupyter_execute', ignore_errors=True)   # myst-nb's intermediate copies, beside the output folder
    if r.returncode: print("docs: sphinx-build failed (see above)", file=sys.stderr); return r.returncode
    print(f"docs: {SITE/'index.html'} ({len(api)} API pages, reports of {', '.join(profiles)}) in {time.perf_counter() - t0:.0f} s; open it in a browser, "
          f"or serve it: python -m http.server -d {SITE.relative_to(ROOT)} --bind 127.0.0.1 8000")
    return 0

if sys.argv[1:] == ['--readme']: readme.write(); sys.exit(0)   # make readme
sys.exit(main())   # a script, never imported
