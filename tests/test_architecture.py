"The package's layering (docs/architecture.md) against the imports in robint/*.py"
import ast, re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT/'docs'/'architecture.md'

def allowed()->dict[str, set[str]]:
    "{module: the robint modules its row in docs/architecture.md lets it import}"
    out = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r'\| `robint\.(\w+)` \|[^|]*\|[^|]*\| ([^|]*) \|$', line)
        if m: out[m[1]] = set() if m[2].strip() == 'nothing' else {s.strip() for s in m[2].split(',')}
    return out

def imports(path:Path)->set[str]:
    "The robint modules a file imports anywhere in it (top level or inside functions)"
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level: out.add((n.module or '').split('.')[0])
            elif n.module and n.module.startswith('robint.'): out.add(n.module.split('.')[1])
            elif n.module == 'robint': out |= {a.name for a in n.names}
        elif isinstance(n, ast.Import): out |= {a.name.split('.')[1] for a in n.names if a.name.startswith('robint.')}
    return out - {path.stem, ''}

MODULES = sorted(p.stem for p in (ROOT/'robint').glob('*.py') if not p.stem.startswith('_'))

def test_the_table_parses():
    a = allowed()
    assert len(a) >= 19 and a['core'] == set() and a['runner'] >= {'results', 'profiles', 'cache', 'execute', 'paper'}
    assert not [m for deps in a.values() for m in deps if m not in a], 'a row allows a module the table does not list'

def test_every_module_has_a_row():
    assert sorted(set(MODULES) - set(allowed())) == [], 'add the module to docs/architecture.md'
    assert sorted(set(allowed()) - set(MODULES)) == [], 'the table lists a module that does not exist'

def test_imports_follow_the_table():
    a = allowed()
    bad = {m: sorted(imports(ROOT/'robint'/f'{m}.py') - a[m]) for m in MODULES}
    assert {m: v for m, v in bad.items() if v} == {}, 'imports that docs/architecture.md does not allow'

def _cycle(graph:dict[str, set[str]])->list[str]|None:
    "A cycle of `graph` as a path, or None"
    state = {}
    def visit(n, path):
        state[n] = 1
        for d in sorted(graph.get(n, ())):
            if state.get(d) == 1: return path + [n, d]
            if d not in state and (c := visit(d, path + [n])): return c
        state[n] = 2
    for n in sorted(graph):
        if n not in state and (c := visit(n, [])): return c

def test_no_import_cycle():
    assert _cycle({m: imports(ROOT/'robint'/f'{m}.py') for m in MODULES}) is None
    assert _cycle(allowed()) is None

def test_the_checks_catch_what_they_should(tmp_path):
    "The parser sees function-level and relative imports, and the cycle finder finds a cycle"
    f = tmp_path/'x.py'
    f.write_text("import os\nfrom robint.core import a\ndef g():\n    from .models import b\n    import robint.train\nfrom robint import data\n")
    assert imports(f) == {'core', 'models', 'train', 'data'}
    assert _cycle({'a': {'b'}, 'b': {'c'}, 'c': {'a'}}) is not None and _cycle({'a': {'b'}, 'b': set()}) is None

def test_pipeline_modules_are_small():
    "robint-paper's modules stay rooms of their own (about 400 lines at most)"
    sizes = {m: len((ROOT/'robint'/f'{m}.py').read_text().splitlines()) for m in ('results', 'profiles', 'cache', 'execute', 'paper', 'runner', 'pipeline')}
    assert max(sizes.values()) <= 420, sizes
