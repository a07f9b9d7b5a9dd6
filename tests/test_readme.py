"""README.md is a front page made from nbs/index.ipynb: short, a command early, no dates or issue numbers, the paper
linked and cited, every relative link alive, and exactly what docs/readme.py renders from the notebook (no torch)."""
import importlib.util, re
from pathlib import Path
import pytest
from conftest import REPO

ARXIV = '2307.02500'   # Boychev, Interpretable Computer Vision Models through Adversarial Training (arXiv, 2023)

def _readme_module():
    spec = importlib.util.spec_from_file_location('robint_docs_readme', REPO/'docs'/'readme.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

@pytest.fixture(scope='module')
def text()->str: return (REPO/'README.md').read_text()

def first_command_line(text:str)->int|None:
    "1-based line of the first command: the first line inside a ```bash / ```sh / ```console block"
    lines, inside = text.splitlines(), False
    for i, l in enumerate(lines, 1):
        if re.match(r'^```\s*(bash|sh|shell|console)\s*$', l): inside = True; continue
        if l.startswith('```'): inside = False; continue
        if inside and l.strip() and not l.lstrip().startswith('#'): return i
    return None

def dates(text:str)->list[str]: return re.findall(r'\b20\d\d-\d\d-\d\d\b', text)
def issue_refs(text:str)->list[str]: return re.findall(r'\bissues?\s*#?\d+', text, re.I)

def relative_links(text:str)->list[str]:
    "Targets of Markdown links and images that point into the checkout (no scheme, no pure #anchor)"
    targets = re.findall(r'\]\(([^)\s]+)(?:\s+"[^"]*")?\)', text)
    return [t for t in targets if not re.match(r'^[a-z][a-z0-9+.-]*:', t, re.I) and not t.startswith('#')]

def dead_links(text:str, root:Path)->list[str]:
    return [t for t in relative_links(text) if not (root/t.split('#')[0]).is_file()]

def test_checks_catch_what_they_check():
    "Each check fails on a README that breaks its property"
    assert first_command_line("# x\n\n```bash\nmake install\n```\n") == 4
    assert first_command_line("# x\n\n```python\nimport robint\n```\n") is None
    assert dates("measured 2026-12-05 on") == ['2026-12-05'] and not dates("in 2023, 12 x 05")
    assert issue_refs("as issue 13 asks, see issues #7") == ['issue 13', 'issues #7'] and not issue_refs("no issues here")
    assert dead_links("[a](LICENSE) [b](no/such/file.md) [c](https://x.org/y) [d](#install)", REPO) == ['no/such/file.md']

def test_length_and_first_command(text):
    n = text.count('\n')
    assert n <= 250, f"README.md has {n} lines; a front page keeps to 250: move detail to the docs or a report"
    line = first_command_line(text)
    assert line is not None and line <= 40, f"the first shell command is on line {line}; it must come within 40 lines"

def test_no_dates_issue_numbers_or_history(text):
    assert not dates(text), f"dates in README.md (history goes to CHANGELOG.md): {dates(text)}"
    assert not issue_refs(text), f"issue references in README.md: {issue_refs(text)}"

def test_paper_linked_and_cited(text):
    assert f'https://arxiv.org/abs/{ARXIV}' in text, "the paper's arXiv page must be linked"
    assert 'Boychev' in text and 'Interpretable Computer Vision Models through Adversarial Training' in text
    assert re.search(r'@\w+\{[^}]*,[^@]*eprint\s*=\s*\{' + re.escape(ARXIV) + r'\}', text), "a BibTeX entry citing the paper"

def test_relative_links_resolve(text):
    links = relative_links(text)
    assert 'LICENSE' in links and 'CHANGELOG.md' in links, links
    assert not dead_links(text, REPO), f"links in README.md to files that are not in the checkout: {dead_links(text, REPO)}"

def test_readme_is_generated_from_the_index_notebook(text):
    rendered = _readme_module().render()
    assert rendered == text, "README.md differs from what nbs/index.ipynb renders: edit the notebook, then `make readme`"
