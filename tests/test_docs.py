"""`make docs` builds the documentation site offline (no Quarto on this machine), and a browser shows it: headless
Chromium (Debian's chromium + chromium-driver, through selenium) finds pgd's signature with its parameter table on the
attacks page, and a rendered figure on the results page."""
import shutil, subprocess, sys, time
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
    from selenium import webdriver
    for f in ('/usr/bin/chromium', '/usr/bin/chromedriver'):
        assert Path(f).exists(), f"{f} missing: `make install` installs Debian's chromium and chromium-driver when root"
    opts = webdriver.ChromeOptions(); opts.binary_location = '/usr/bin/chromium'
    for a in ('--headless=new', '--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'): opts.add_argument(a)
    d = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path='/usr/bin/chromedriver'))
    yield d
    d.quit()

def test_every_library_notebook_has_an_api_page(site):
    nbs = sorted(p.stem for p in (REPO/'nbs').glob('[0-9][0-9]_*.ipynb'))
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

def test_a_figure_is_rendered_in_a_browser(site, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get((site/'results.html').as_uri())
    imgs = lambda: browser.find_elements(By.TAG_NAME, 'img')   # looked up each time: under load `get` can return before the body
    loaded = lambda: [i for i in imgs() if browser.execute_script('return arguments[0].complete && arguments[0].naturalWidth > 100', i)]
    try: WebDriverWait(browser, 30, poll_frequency=0.2).until(lambda _: loaded())   # images decode after `get` returns
    except Exception: pass                                                           # the assertion below says what was seen
    assert loaded(), (browser.current_url, [i.get_attribute('src') for i in imgs()], browser.page_source[:500])
