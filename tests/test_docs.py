"""`make docs` builds the documentation site offline (no Quarto on this machine), and a browser shows it: headless
Chromium (Debian's chromium + chromium-driver, through selenium) finds pgd's signature with its parameter table on the
attacks page, the index notebook as the landing page, and every figure of each committed profile rendered on its
reproduction report."""
import json, shutil, subprocess, sys, time
from pathlib import Path
import pytest
from conftest import REPO

@pytest.fixture(scope='module')
def site():
    t = time.perf_counter()
    r = subprocess.run([sys.executable, str(REPO/'docs'/'build.py')], cwd=REPO, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    print(f"docs built in {time.perf_counter() - t:.0f} s")
    return REPO/'_site'

@pytest.fixture(scope='module')
def browser():
    import os
    from selenium import webdriver
    missing = [f for f in ('/usr/bin/chromium', '/usr/bin/chromedriver') if not Path(f).exists()]
    if missing:      # the same switch as the study's browser test
        msg = f"{', '.join(missing)} missing: `make install` installs Debian's chromium and chromium-driver when root"
        if os.environ.get('ROBINT_SKIP_BROWSER') == '1': pytest.skip(msg)
        pytest.fail(msg + " (or set ROBINT_SKIP_BROWSER=1 to skip the browser tests)")
    opts = webdriver.ChromeOptions(); opts.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'): opts.add_argument(a)
    d = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path='/usr/bin/chromedriver'))
    yield d
    d.quit()

def test_every_library_notebook_has_an_api_page(site):
    nbs = sorted(p.stem for p in (REPO/'nbs').glob('[0-9][0-9]*_*.ipynb'))
    assert {'09a_results', '09e_runner'} <= set(nbs)
    assert nbs and all((site/'api'/f'{nb}.html').exists() for nb in nbs), sorted(p.name for p in (site/'api').glob('*.html'))
    paper = (site/'paper.html').read_text()
    assert all(p.stem in paper for p in (REPO/'nbs'/'paper').glob('[0-9]*.ipynb')) and 'eval_eps' in paper

def test_pgd_signature_and_parameter_table_in_a_browser(site, browser):
    from selenium.webdriver.common.by import By
    browser.get((site/'api'/'03_attacks.html').as_uri())
    body = browser.find_element(By.TAG_NAME, 'body').text
    assert 'def pgd(' in body and 'model:nn.Module' in body and 'step:Step' in body, body[:2000]   # the signature, as show_doc renders it
    tables = browser.find_elements(By.TAG_NAME, 'table')
    pgd = [t for t in tables if 'Details' in t.text and 'reduction' in t.text and 'iters' in t.text]
    assert pgd, [t.text[:200] for t in tables]
    rows = {r.find_elements(By.TAG_NAME, 'td')[0].text: r.text for r in pgd[0].find_elements(By.TAG_NAME, 'tr') if r.find_elements(By.TAG_NAME, 'td')}
    assert 'step' in rows and 'threat model' in rows['step'], rows                  # docments: the comment of each parameter

COMMITTED = sorted(p.parent.name for p in (REPO/'figures').glob('*/results.json'))

def test_landing_page_is_the_index_notebook(site, browser):
    from selenium.webdriver.common.by import By
    browser.get((site/'index.html').as_uri())
    body = browser.find_element(By.TAG_NAME, 'body').text
    assert 'Results at a glance' in body and 'arxiv.org/abs/2307.02500' in browser.page_source, body[:1000]
    hrefs = [a.get_attribute('href') or '' for a in browser.find_elements(By.TAG_NAME, 'a')]
    for p in COMMITTED:   # the README's links to reports and ledgers land on the site's own report pages
        if (REPO/'docs'/'reports'/f'{p}.md').exists(): assert any(h.endswith(f'reports/{p}.html') for h in hrefs), (p, hrefs)

@pytest.mark.parametrize('profile', COMMITTED)
def test_every_figure_of_a_report_is_rendered_in_a_browser(site, browser, profile):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    figures = json.loads((REPO/'figures'/profile/'results.json').read_text()).get('figures') or {}
    page = site/'reports'/f'{profile}.html'
    assert page.exists(), sorted(p.name for p in (site/'reports').glob('*.html'))
    browser.get(page.as_uri())
    imgs = lambda: browser.find_elements(By.TAG_NAME, 'img')   # looked up each time: under load `get` can return before the body
    loaded = lambda: {i.get_attribute('alt') for i in imgs()   # alt = the figure's name (Sphinx renames the files)
                      if browser.execute_script('return arguments[0].complete && arguments[0].naturalWidth > 100', i)}
    want = set(figures)
    try: WebDriverWait(browser, 60, poll_frequency=0.2).until(lambda _: want <= loaded())   # images decode after `get` returns
    except Exception: pass                                                                  # the assertion says what was seen
    assert want and want <= loaded(), (profile, sorted(want - loaded()), browser.page_source[:500])
    body = browser.find_element(By.TAG_NAME, 'body').text
    for section in ('Setup', 'Deviations from the paper', 'Results', 'Time per notebook', 'What was tried'):
        assert section in body, (profile, section)
