"robint-study in a real browser: headless Chromium (Debian's chromium + chromium-driver) through selenium."
import os, shutil, time
from pathlib import Path
import numpy as np
import pytest
from robint.study import AnswerLog, start_server, trial_plan, read_mask, read_png, mask_path
from study_helpers import make_study

CHROMEDRIVER = shutil.which('chromedriver') or '/usr/bin/chromedriver'
CHROMIUM = shutil.which('chromium') or '/usr/bin/chromium'

@pytest.fixture()
def browser():
    if not (Path(CHROMEDRIVER).exists() and Path(CHROMIUM).exists()):
        msg = "chromium / chromedriver not found: run `make install` as root or `sudo apt-get install chromium chromium-driver`"
        if os.environ.get('ROBINT_SKIP_BROWSER') == '1': pytest.skip(msg)
        pytest.fail(msg + " (or set ROBINT_SKIP_BROWSER=1 to skip the browser test)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--window-size=1200,1000',
              '--no-proxy-server', '--disable-background-networking', '--disable-component-update', '--disable-sync',
              '--disable-default-apps', '--no-first-run', '--disable-extensions',
              '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'):   # no traffic except to the study on 127.0.0.1
        opts.add_argument(a)
    d = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    d.set_page_load_timeout(30)
    yield d
    d.quit()

def _wait(driver, cond, what, timeout=20):
    from selenium.webdriver.support.ui import WebDriverWait
    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(lambda d: cond(d), message=what)

def test_ten_trials_and_one_mask_in_chromium(tmp_path, browser):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.action_chains import ActionChains
    study = make_study(tmp_path/'study')
    srv = start_server(tmp_path/'study')
    try:
        assert srv.server_address[0] == '127.0.0.1'
        browser.get(srv.url)
        _wait(browser, lambda d: d.find_element(By.ID, 'start').is_displayed(), 'start button')
        browser.find_element(By.ID, 'start').click()
        clicked = []
        for k in range(10):
            _wait(browser, lambda d: d.find_element(By.ID, 'progress').get_attribute('data-trial') == str(k)
                  and d.find_element(By.ID, 'choice-1').is_enabled(), f'trial {k}')
            imgs = browser.find_elements(By.CSS_SELECTOR, '#imgs img')
            assert len(imgs) == 2 and all(i.size['width'] == 28 * study['scale'] for i in imgs)   # shown at the study's scale
            c = k % 2; browser.find_element(By.ID, f'choice-{c}').click(); clicked.append(c)
        _wait(browser, lambda d: d.find_element(By.ID, 'progress').get_attribute('data-trial') == '10', 'the 11th trial (10 acknowledged)')
        pid = browser.find_element(By.ID, 'pid').text
        plan = trial_plan(study, pid)
        recs = AnswerLog(srv.study_dir/'answers.jsonl').read()
        assert len(recs) == 10
        assert [r['trial_id'] for r in recs] == [t['trial_id'] for t in plan[:10]]
        assert [r['participant'] for r in recs] == [pid] * 10 and [r['choice'] for r in recs] == clicked
        assert [r['correct'] for r in recs] == [t['answer'] == c for t, c in zip(plan, clicked)]
        assert all(r['rt_ms'] >= 0 for r in recs)

        browser.get(srv.url + 'paint')                  # the painter: brush a stroke on the first image, save
        _wait(browser, lambda d: d.find_element(By.ID, 'progress').get_attribute('data-done') == '0'
              and d.find_element(By.ID, 'c').size['width'] == 28 * study['scale'], 'painter canvas')
        canvas = browser.find_element(By.ID, 'c')
        (ActionChains(browser).move_to_element(canvas).click_and_hold()         # the centre: image pixel (14, 14)
         .move_by_offset(40, 0).move_by_offset(0, 40).release().perform())
        browser.find_element(By.ID, 'save').click()
        _wait(browser, lambda d: d.find_element(By.ID, 'progress').get_attribute('data-done') == '1', 'mask saved')
        aid, key = browser.find_element(By.ID, 'aid').text, study['paint'][0]['key']
        masks = sorted((srv.study_dir/'masks').glob('*.png'))
        assert masks == [mask_path(srv.study_dir/'masks', key, aid)]
        m, meta = read_mask(masks[0])
        assert m.shape == read_png(srv.study_dir/'paint'/f'{key}.png')[0].shape == (28, 28)
        assert meta['annotator'] == aid and meta['image_key'] == key and meta['index'] == '100'
        assert m[14, 14] and m[14, 18] and m[18, 18] and not m[2, 2] and 5 < m.sum() < 200, m.sum()
    finally:
        srv.shutdown(); srv.server_close()

EVIL = """<!doctype html><html><head><meta charset="utf-8"><title>evil</title></head><body>
<form id="f" method="POST" action="{study}api/answer" enctype="text/plain"><input name='{answer_head}' value='"}}'></form>
<script>
const T = '{study}', out = [];
const bodies = [['api/register', '{{"role": "participant"}}'], ['api/answer', '{answer}'], ['api/mask', '{mask}']];
async function go() {{
  for (const [path, body] of bodies) {{
    // a "simple" request: no preflight, so it reaches the server; the page cannot read the answer
    try {{ await fetch(T + path, {{method: 'POST', mode: 'no-cors', headers: {{'Content-Type': 'text/plain'}}, body}}); out.push('plain sent'); }}
    catch (e) {{ out.push('plain failed'); }}
    // JSON across origins: the browser asks first (OPTIONS), and sends nothing unless the server allows it
    try {{ await fetch(T + path, {{method: 'POST', headers: {{'Content-Type': 'application/json'}}, body}}); out.push('json sent'); }}
    catch (e) {{ out.push('json blocked'); }}
  }}
  document.title = 'done: ' + out.join(', ');
  setTimeout(() => document.getElementById('f').submit(), 50);   // last, a plain form POST (it navigates away)
}}
go();
</script></body></html>"""

def test_a_page_of_another_origin_cannot_write(tmp_path, browser, capfd):
    """A page served by a second local server, on another port (another origin), posts to the study's endpoints with
    a registered participant's real trial: plain text (no preflight), JSON (preflight) and a form. Every request is
    refused by the server or blocked by the browser, and nothing reaches the study's files"""
    import http.server, json, threading, base64
    from study_helpers import files
    study = make_study(tmp_path/'study')
    srv = start_server(tmp_path/'study', verbose=True)            # verbose: the server logs every request it gets
    from robint.study import request
    pid = request(srv.url + 'api/register', 'POST', {'role': 'participant'})[1]['id']
    aid = request(srv.url + 'api/register', 'POST', {'role': 'annotator'})[1]['id']
    t = trial_plan(study, pid)[0]
    answer = json.dumps(dict(participant=pid, trial=0, trial_id=t['trial_id'], choice=t['answer']))
    mask = json.dumps(dict(annotator=aid, image=study['paint'][0]['key'], height=28, width=28, mask=base64.b64encode(bytes([1]) * 784).decode()))
    page = EVIL.format(study=srv.url, answer=answer, mask=mask, answer_head=answer[:-1] + ', "x": "').encode()
    class Evil(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200); self.send_header('Content-Type', 'text/html'); self.send_header('Content-Length', str(len(page)))
            self.end_headers(); self.wfile.write(page)
        def log_message(self, *a): pass
    evil = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Evil)
    threading.Thread(target=evil.serve_forever, daemon=True).start()
    before = files(srv.study_dir)
    capfd.readouterr()
    try:
        browser.get(f'http://127.0.0.1:{evil.server_address[1]}/')
        _wait(browser, lambda d: d.current_url.startswith(srv.url + 'api/answer'), 'the form post, last')
        time.sleep(0.3)
        assert files(srv.study_dir) == before                   # nothing registered, answered or painted
        log = capfd.readouterr().err
        got = {(m, p, int(s)) for m, p, s in __import__('re').findall(r'"(POST|OPTIONS) (/api/\w+) HTTP/1\.1" (\d{3})', log)}
        assert {('POST', p, 415) for p in ('/api/register', '/api/answer', '/api/mask')} <= got, log     # the plain ones arrived, refused
        assert {('OPTIONS', p, 403) for p in ('/api/register', '/api/answer', '/api/mask')} <= got, log  # the preflights, refused
        assert not any(s == 200 for m, p, s in got), log
        assert request(srv.url + f'api/next?participant={pid}')[1]['trial'] == 0                        # still at its first trial
    finally:
        evil.shutdown(); evil.server_close(); srv.shutdown(); srv.server_close()
