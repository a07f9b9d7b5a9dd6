"""README.md from nbs/index.ipynb, as `nbdev_readme` would make it, without Quarto (which cannot be installed here).

The notebook is executed (execnb, as `nbdev_test` runs it) and the README is its markdown cells plus the Markdown
outputs of its code cells, in order; code itself never reaches the README. `make readme` (`python docs/build.py
--readme`) writes it; tests/test_readme.py checks that README.md is what `render()` gives. docs/build.py uses the same
text, with its links pointed at the site's own pages, as the landing page of the documentation site."""
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INDEX = ROOT/'nbs'/'index.ipynb'

def _src(cell)->str: return ''.join(cell['source']) if isinstance(cell['source'], list) else cell['source']

def _markdown(output)->str|None:
    "The Markdown of one code-cell output (IPython.display.Markdown), or None for any other output"
    data = output.get('data') or {}
    md = data.get('text/markdown')
    return (''.join(md) if isinstance(md, list) else md) if md is not None else None

def execute(nb_path:Path=INDEX)->list:
    "The notebook's cells after running it in a fresh execnb shell from its own folder (execnb cells: attribute access)"
    from execnb.nbio import read_nb
    from execnb.shell import CaptureShell
    nb, here = read_nb(nb_path), Path.cwd()
    try:
        sh = CaptureShell(Path(nb_path).parent.resolve())   # chdir to nbs/, as nbdev_test does
        sh.run_all(nb, exc_stop=True)
    finally: os.chdir(here)
    return nb.cells

def render(nb_path:Path=INDEX)->str:
    "README text: each markdown cell, and each code cell's Markdown outputs, separated by one blank line"
    parts = []
    for c in execute(nb_path):
        if c.cell_type == 'markdown': parts.append(_src(c).strip())
        elif c.cell_type == 'code':
            for o in c.get('outputs') or []:
                if o.get('output_type') == 'error': raise RuntimeError(f"{nb_path}: a cell failed: {o.get('ename')}: {o.get('evalue')}")
                md = _markdown(o)
                if md and md.strip(): parts.append(md.strip())
    return '\n\n'.join(p for p in parts if p) + '\n'

def write(nb_path:Path=INDEX, dest:Path=ROOT/'README.md')->Path:
    "Write README.md from the index notebook; unchanged bytes are not rewritten"
    text = render(nb_path)
    if not (dest.exists() and dest.read_text() == text): dest.write_text(text)
    print(f"readme: {dest.relative_to(ROOT)} from {Path(nb_path).relative_to(ROOT)} ({text.count(chr(10))} lines)")
    return dest
