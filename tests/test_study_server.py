"""robint-study's server: every refusal is a 4xx that writes nothing; loopback by default; no other web page or host name
gets in; slow clients are cut off without blocking others; answers are fsynced before they are acknowledged and survive SIGKILL."""
import base64, http.client, json, os, signal, socket, subprocess, sys, time
from types import SimpleNamespace
from pathlib import Path
import numpy as np
import pytest
from robint.study import AnswerLog, StudyServer, start_server, request, trial_plan, load_study, read_mask, image_key, read_png
from study_helpers import make_study, files, free_port

@pytest.fixture()
def served(tmp_path):
    "A small 2AFC study served on a free loopback port, one registered participant and annotator"
    study = make_study(tmp_path/'study')
    srv = start_server(tmp_path/'study', max_body=4096)
    pid = request(srv.url + 'api/register', 'POST', {'role': 'participant'})[1]['id']
    aid = request(srv.url + 'api/register', 'POST', {'role': 'annotator'})[1]['id']
    yield srv, study, pid, aid
    srv.shutdown(); srv.server_close()

def _answer(srv, pid, t, choice=0, **kw):
    return request(srv.url + 'api/answer', 'POST', dict(participant=pid, trial=t['trial'], trial_id=t['trial_id'], choice=choice, rt_ms=500, **kw))

def _raw(srv, method, path, body:bytes=b'', headers=None):
    "(status, body) of a request sent exactly as given (no client-side path normalisation)"
    h, p = srv.server_address[:2]
    c = http.client.HTTPConnection(h, p, timeout=10)
    c.putrequest(method, path, skip_accept_encoding=True, skip_host='Host' in (headers or {}))
    for k, v in ({'Content-Length': str(len(body)), 'Content-Type': 'application/json'} if headers is None else headers).items(): c.putheader(k, v)
    c.endheaders(); c.send(body) if body else None
    r = c.getresponse(); out = r.status, r.read(); c.close()
    return out

def _mask_body(aid, key, h, w, n=None, value=1):
    raw = bytes([value]) * (h * w if n is None else n)
    return dict(annotator=aid, image=key, height=h, width=w, mask=base64.b64encode(raw).decode())

def test_answers_and_masks_are_written(served):
    srv, study, pid, aid = served
    plan = trial_plan(study, pid)
    for t in plan[:3]: assert _answer(srv, pid, t, 1)[0] == 200
    recs = AnswerLog(srv.study_dir/'answers.jsonl').read()
    assert [r['trial_id'] for r in recs] == [t['trial_id'] for t in plan[:3]]
    assert [r['correct'] for r in recs] == [t['answer'] == 1 for t in plan[:3]]
    key = study['paint'][0]['key']
    s, r = request(srv.url + 'api/mask', 'POST', _mask_body(aid, key, 28, 28))
    assert s == 200 and r['salient'] == 28 * 28
    m, meta = read_mask(srv.study_dir/r['file'])
    assert m.shape == read_png(srv.study_dir/'paint'/f'{key}.png')[0].shape and m.all() and meta['annotator'] == aid

# Each bad request: (what, request maker(srv, study, pid, aid) -> (status, reply)). Every one must get a 4xx and write nothing.
def _oversized_answer(srv, study, pid, aid):
    t = trial_plan(study, pid)[0]
    return _raw(srv, 'POST', '/api/answer', json.dumps(dict(participant=pid, trial=0, trial_id=t['trial_id'], choice=0, pad='x' * 5000)).encode())
BAD = {
    'malformed JSON': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/answer', b'{"participant": "' + pid.encode() + b'", "trial": 0,'),
    'JSON that is not an object': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/answer', b'[1, 2]'),
    'oversized body': _oversized_answer,
    'oversized mask body': lambda srv, study, pid, aid: request(srv.url + 'api/mask', 'POST', _mask_body(aid, study['paint'][0]['key'], 28, 28) | {'pad': 'x' * 5000}),
    'no Content-Length': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/answer', b'', headers={'Content-Type': 'application/json'}),
    'a foreign Host (DNS rebinding), GET': lambda srv, study, pid, aid: _raw(srv, 'GET', '/api/study', headers={'Host': f'evil.example:{srv.server_address[1]}'}),
    'a foreign Host (DNS rebinding), POST': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/register', b'{"role": "participant"}',
                                                                           headers={'Host': f'evil.example:{srv.server_address[1]}', 'Content-Type': 'application/json', 'Content-Length': '23'}),
    'register as text/plain (a cross-site form)': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/register', b'{"role": "participant"}',
                                                                                  headers={'Content-Type': 'text/plain', 'Content-Length': '23'}),
    'answer as a url-encoded form': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/answer', b'participant=x&trial=1',
                                                                    headers={'Content-Type': 'application/x-www-form-urlencoded', 'Content-Length': '21'}),
    'register from another origin': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/register', b'{"role": "participant"}',
                                                                    headers={'Origin': 'http://evil.example', 'Content-Type': 'application/json', 'Content-Length': '23'}),
    'mask from another port of this host': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/mask', json.dumps(_mask_body(aid, study['paint'][0]['key'], 28, 28)).encode(),
                                                                           headers={'Origin': f'http://127.0.0.1:{srv.server_address[1] + 1}', 'Content-Type': 'application/json'}),
    'a request the browser marks cross-site': lambda srv, study, pid, aid: _raw(srv, 'POST', '/api/register', b'{"role": "participant"}',
                                                                              headers={'Sec-Fetch-Site': 'cross-site', 'Content-Type': 'application/json', 'Content-Length': '23'}),
    'a CORS preflight': lambda srv, study, pid, aid: _raw(srv, 'OPTIONS', '/api/answer', headers={'Origin': 'http://evil.example', 'Access-Control-Request-Method': 'POST'}),
    'trial never issued (a later one)': lambda srv, study, pid, aid: _answer(srv, pid, trial_plan(study, pid)[5]),
    'trial never issued (past the plan)': lambda srv, study, pid, aid: _answer(srv, pid, dict(trial=99, trial_id='t099')),
    "another trial's id": lambda srv, study, pid, aid: _answer(srv, pid, dict(trial_plan(study, pid)[1], trial=1, trial_id=trial_plan(study, pid)[2]['trial_id'])),
    'unknown participant': lambda srv, study, pid, aid: _answer(srv, 'p-000000000000', trial_plan(study, 'p-000000000000')[0]),
    'an annotator answering trials': lambda srv, study, pid, aid: _answer(srv, aid, trial_plan(study, aid)[0]),
    'choice out of range (2)': lambda srv, study, pid, aid: _answer(srv, pid, trial_plan(study, pid)[1], 2),
    'choice out of range (-1)': lambda srv, study, pid, aid: _answer(srv, pid, trial_plan(study, pid)[1], -1),
    'choice not an integer': lambda srv, study, pid, aid: _answer(srv, pid, trial_plan(study, pid)[1], True),
    'negative response time': lambda srv, study, pid, aid: request(srv.url + 'api/answer', 'POST', dict(participant=pid, trial=1, trial_id=trial_plan(study, pid)[1]['trial_id'], choice=0, rt_ms=-5)),
    'path traversal ../': lambda srv, study, pid, aid: _raw(srv, 'GET', '/stimuli/../study.json', headers={}),
    'path traversal ../../': lambda srv, study, pid, aid: _raw(srv, 'GET', '/paint/../../../etc/passwd', headers={}),
    'path traversal, URL-encoded': lambda srv, study, pid, aid: _raw(srv, 'GET', '/stimuli/%2e%2e%2fids.jsonl', headers={}),
    'path traversal to a PNG outside': lambda srv, study, pid, aid: _raw(srv, 'GET', '/stimuli/..%2fpaint%2f' + study['paint'][0]['file'], headers={}),
    'mask of the wrong size (too few values)': lambda srv, study, pid, aid: request(srv.url + 'api/mask', 'POST', _mask_body(aid, study['paint'][0]['key'], 28, 28, n=27 * 28)),
    'mask of the wrong size (declared 27x28)': lambda srv, study, pid, aid: request(srv.url + 'api/mask', 'POST', _mask_body(aid, study['paint'][0]['key'], 27, 28, n=27 * 28)),
    'mask with values other than 0/1': lambda srv, study, pid, aid: request(srv.url + 'api/mask', 'POST', _mask_body(aid, study['paint'][0]['key'], 28, 28, value=255)),
    'mask that is not base64': lambda srv, study, pid, aid: request(srv.url + 'api/mask', 'POST', dict(_mask_body(aid, study['paint'][0]['key'], 28, 28), mask='@@@')),
    'mask for an unknown image': lambda srv, study, pid, aid: request(srv.url + 'api/mask', 'POST', _mask_body(aid, '0123456789abcdef', 28, 28)),
    'mask from an unregistered annotator': lambda srv, study, pid, aid: request(srv.url + 'api/mask', 'POST', _mask_body('a-nobody', study['paint'][0]['key'], 28, 28)),
    'register with an unknown role': lambda srv, study, pid, aid: request(srv.url + 'api/register', 'POST', {'role': 'admin'}),
}

@pytest.mark.parametrize('what', list(BAD))
def test_refused_with_4xx_and_nothing_written(served, what):
    srv, study, pid, aid = served
    plan = trial_plan(study, pid)
    assert _answer(srv, pid, plan[0], 0)[0] == 200          # one good answer first: the log is not empty
    before = files(srv.study_dir)
    status, reply = BAD[what](srv, study, pid, aid)
    assert 400 <= status < 500, (what, status, reply)
    assert files(srv.study_dir) == before, what
    text = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
    assert b'"format"' not in text and b'root:' not in text and b'"role"' not in text   # no file content leaked

def test_duplicate_answer_refused(served):
    srv, study, pid, aid = served
    plan = trial_plan(study, pid)
    assert _answer(srv, pid, plan[0], 0)[0] == 200
    before = files(srv.study_dir)
    for choice in (0, 1):
        s, r = _answer(srv, pid, plan[0], choice)
        assert s == 409 and 'already answered' in r['error']
    assert files(srv.study_dir) == before
    assert request(srv.url + f'api/next?participant={pid}')[1]['trial'] == 1

def test_refusals_name_the_problem(served):
    srv, study, pid, aid = served
    plan = trial_plan(study, pid)
    assert 'never issued' in _answer(srv, pid, plan[4])[1]['error']
    assert 'choice must be 0 or 1' in _answer(srv, pid, plan[0], 3)[1]['error']
    assert 'mask has 756 values; the image is 28x28 = 784 pixels' in request(srv.url + 'api/mask', 'POST', _mask_body(aid, study['paint'][0]['key'], 28, 28, n=756))[1]['error']
    assert _oversized_answer(srv, study, pid, aid)[0] == 413
    assert _raw(srv, 'GET', '/stimuli/nope.png', headers={})[0] == 404

def _non_loopback_ipv4()->list[str]:
    "This machine's IPv4 addresses outside 127.0.0.0/8 (those its hostname resolves to, and the default route's source)"
    addrs = set()
    try: addrs |= {a[4][0] for a in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)}
    except OSError: pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:   # connect() on UDP sends nothing: it only picks a source address
            s.connect(('10.255.255.255', 1)); addrs.add(s.getsockname()[0])
    except OSError: pass
    return sorted(a for a in addrs if not a.startswith('127.') and a != '0.0.0.0')

def test_binds_loopback_only_by_default(tmp_path):
    make_study(tmp_path/'s')
    srv = start_server(tmp_path/'s')                   # no host given
    try:
        assert srv.server_address[0] == '127.0.0.1'
        assert request(srv.url + 'api/study')[0] == 200
        others = _non_loopback_ipv4()
        for a in others:                               # the same port on the machine's other addresses: nobody listens
            with pytest.raises(OSError):
                socket.create_connection((a, srv.server_address[1]), timeout=2).close()
        print(f"non-loopback addresses refused: {others or 'none on this machine'}")
    finally: srv.shutdown(); srv.server_close()
    import inspect
    assert inspect.signature(StudyServer).parameters['host'].default == '127.0.0.1'

def _spawn(study_dir, port):
    "robint-study serve in a subprocess (default host); returns it once it prints its URL"
    cmd = [sys.executable, '-c', 'import sys; from robint.study import robint_study; sys.exit(robint_study())',
           'serve', '--study', str(study_dir), '--port', str(port)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = p.stdout.readline()
    assert line.startswith(f'study: http://127.0.0.1:{port}/'), line + (p.stdout.read() if p.poll() is not None else '')
    return p

def test_sigkill_after_n_acknowledged_answers_keeps_all_n(tmp_path):
    study, d, port, N = make_study(tmp_path/'s'), tmp_path/'s', free_port(), 7
    p = _spawn(d, port); url = f'http://127.0.0.1:{port}/'
    try:
        pid = request(url + 'api/register', 'POST', {'role': 'participant'})[1]['id']
        plan = trial_plan(study, pid)
        for t in plan[:N]:
            nx = request(url + f'api/next?participant={pid}')[1]
            assert nx['trial_id'] == t['trial_id']
            assert _answer(SimpleNamespace(url=url), pid, t, t['answer'])[0] == 200     # acknowledged
    finally:
        os.kill(p.pid, signal.SIGKILL); p.wait(); p.stdout.close()
    assert p.returncode == -signal.SIGKILL
    p = _spawn(d, port)
    try:
        nx = request(url + f'api/next?participant={pid}')[1]
        assert nx['trial'] == N and nx['answered'] == N                     # resumes at the first unanswered trial
        recs = AnswerLog(d/'answers.jsonl').read()
        assert [r['trial_id'] for r in recs] == [t['trial_id'] for t in plan[:N]] and all(r['correct'] for r in recs)
        srv_like = SimpleNamespace(url=url)
        assert _answer(srv_like, pid, plan[2])[0] == 409                   # still a duplicate after the restart
        assert _answer(srv_like, pid, plan[N])[0] == 200
        assert len(AnswerLog(d/'answers.jsonl').read()) == N + 1
    finally:
        p.terminate(); p.wait(timeout=10); p.stdout.close()

def test_own_page_origin_and_loopback_names_are_accepted(served):
    "What the study's own page sends (Origin of the server, Sec-Fetch-Site same-origin, JSON) and every loopback name work"
    srv, study, pid, aid = served
    port = srv.server_address[1]
    own = {'Origin': f'http://127.0.0.1:{port}', 'Sec-Fetch-Site': 'same-origin', 'Content-Type': 'application/json; charset=utf-8',
           'Content-Length': '23'}
    s, r = _raw(srv, 'POST', '/api/register', b'{"role": "participant"}', headers=own)
    assert s == 200 and json.loads(r)['id'].startswith('p-')
    for host in (f'127.0.0.1:{port}', f'localhost:{port}', f'LOCALHOST:{port}', f'[::1]:{port}'):
        assert _raw(srv, 'GET', '/api/study', headers={'Host': host})[0] == 200, host
    for host in (f'127.0.0.1:{port + 1}', 'evil.example', f'127.0.0.1.evil.example:{port}'):
        s, r = _raw(srv, 'GET', '/api/study', headers={'Host': host})
        assert s == 421 and b"is not this server's" in r, host
    s, r = _raw(srv, 'OPTIONS', '/api/answer', headers={'Origin': 'http://evil.example'})
    assert s == 403
    assert 'Content-Type must be application/json' in json.loads(_raw(srv, 'POST', '/api/register', b'{}', headers={'Content-Type': 'text/plain', 'Content-Length': '2'})[1])['error']

def test_bound_to_a_loopback_alias_it_answers_only_there(tmp_path):
    "Bound to 127.0.0.2 (every Linux has the whole 127/8 on lo), the same port on 127.0.0.1 has no listener"
    make_study(tmp_path/'s')
    srv = start_server(tmp_path/'s', host='127.0.0.2')
    try:
        port = srv.server_address[1]
        assert srv.url == f'http://127.0.0.2:{port}/' and request(srv.url + 'api/study')[0] == 200
        with pytest.raises(OSError):
            socket.create_connection(('127.0.0.1', port), timeout=2).close()
        assert _raw(srv, 'GET', '/api/study', headers={'Host': f'127.0.0.2:{port}'})[0] == 200
        assert _raw(srv, 'GET', '/api/study', headers={'Host': f'10.0.0.7:{port}'})[0] == 421
    finally: srv.shutdown(); srv.server_close()

def test_is_loopback_and_the_host_warning(tmp_path):
    from robint.study import is_loopback
    assert all(is_loopback(h) for h in ('127.0.0.1', '127.0.0.2', '::1', 'localhost'))
    assert not any(is_loopback(h) for h in ('8.8.8.8', '192.168.1.10', '2001:db8::1', '0.0.0.0', 'no-such-host.invalid'))
    make_study(tmp_path/'s')
    port = free_port()
    cmd = [sys.executable, '-c', 'import sys; from robint.study import robint_study; sys.exit(robint_study())',
           'serve', '--study', str(tmp_path/'s'), '--host', '0.0.0.0', '--port', str(port)]
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().startswith(f'study: http://0.0.0.0:{port}/')
        assert p.stderr.readline().strip() == 'WARNING: serving on 0.0.0.0, reachable from other machines'
    finally:
        p.terminate(); p.wait(timeout=10); p.stdout.close(); p.stderr.close()

def test_a_half_sent_request_is_cut_off_and_others_are_served(tmp_path):
    "A client that sends half a request holds nobody up, and is answered (408) or disconnected within the timeout"
    study = make_study(tmp_path/'s')
    srv = start_server(tmp_path/'s', timeout=1.0)
    try:
        h, port = srv.server_address[:2]
        slow_body = socket.create_connection((h, port), timeout=10)
        slow_body.sendall(f'POST /api/register HTTP/1.1\r\nHost: {h}:{port}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{"ro'.encode())
        slow_head = socket.create_connection((h, port), timeout=10)
        slow_head.sendall(f'GET /api/study HTTP/1.1\r\nHost: {h}'.encode())     # the headers never end
        t0 = time.perf_counter()
        pid = request(srv.url + 'api/register', 'POST', {'role': 'participant'})[1]['id']     # a second participant, meanwhile
        t = trial_plan(study, pid)[0]
        assert _answer(srv, pid, t)[0] == 200 and request(srv.url + f'api/next?participant={pid}')[1]['trial'] == 1
        assert time.perf_counter() - t0 < 1.0
        for sock in (slow_body, slow_head):
            t1, got = time.perf_counter(), b''
            while True:                                     # read until the server closes the connection
                chunk = sock.recv(4096)
                if not chunk: break
                got += chunk
            assert time.perf_counter() - t1 < 3.0
            sock.close()
        assert got == b''                                   # half-sent headers: closed without an answer
        assert [r['role'] for r in AnswerLog(srv.study_dir/'ids.jsonl').read()] == ['participant']   # the half-sent one wrote nothing
    finally: srv.shutdown(); srv.server_close()

def test_the_slow_body_gets_a_408(tmp_path):
    make_study(tmp_path/'s')
    srv = start_server(tmp_path/'s', timeout=0.5)
    try:
        h, port = srv.server_address[:2]
        with socket.create_connection((h, port), timeout=10) as sock:
            sock.sendall(f'POST /api/register HTTP/1.1\r\nHost: {h}:{port}\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{{'.encode())
            got = b''
            while chunk := sock.recv(4096): got += chunk
        assert got.startswith(b'HTTP/1.0 408') or got.startswith(b'HTTP/1.1 408'), got[:200]
        assert b'did not arrive within 0.5 s' in got
    finally: srv.shutdown(); srv.server_close()

def test_connections_beyond_max_threads_get_a_503_at_once(tmp_path):
    make_study(tmp_path/'s')
    srv = start_server(tmp_path/'s', timeout=1.0, max_threads=2)
    try:
        h, port = srv.server_address[:2]
        idle = [socket.create_connection((h, port), timeout=10) for _ in range(2)]   # two connections that send nothing
        time.sleep(0.2)
        t0 = time.perf_counter(); s, r = request(srv.url + 'api/study')
        assert s == 503 and 'server busy' in r['error'] and time.perf_counter() - t0 < 0.5
        for sock in idle: sock.recv(1); sock.close()        # the timeout closes them ...
        time.sleep(0.1)
        assert request(srv.url + 'api/study')[0] == 200     # ... and their slots serve again
    finally: srv.shutdown(); srv.server_close()

@pytest.mark.skipif(not Path('/proc/self/fd').is_dir(), reason='needs /proc/self/fd to name the file each fsync is for')
def test_answers_are_fsynced_before_the_200_and_a_failed_fsync_is_a_500(served, monkeypatch):
    """Every answer's file is fsynced, and its folder too when the file is new, before the server sends its 200; a failing
    fsync gives a 500, never a 200 (os.fsync replaced by a recorder; the SIGKILL test cannot see this: a killed
    process's writes are in the OS already)"""
    from robint.study import StudyHandler
    srv, study, pid, aid = served
    events, real_fsync, send = [], os.fsync, StudyHandler.send_response
    def fsync(fd):
        events.append(('fsync', os.readlink(f'/proc/self/fd/{fd}'))); return real_fsync(fd)
    monkeypatch.setattr(os, 'fsync', fsync)
    monkeypatch.setattr(StudyHandler, 'send_response', lambda self, code, *a: (events.append(('send', code)), send(self, code, *a))[1])
    plan, answers = trial_plan(study, pid), str((srv.study_dir/'answers.jsonl').resolve())
    assert not (srv.study_dir/'answers.jsonl').exists()
    assert _answer(srv, pid, plan[0])[0] == 200               # the first answer creates the file
    assert events == [('fsync', answers), ('fsync', str(srv.study_dir.resolve())), ('send', 200)], events
    events.clear()
    assert _answer(srv, pid, plan[1])[0] == 200               # later answers: the file only
    assert events == [('fsync', answers), ('send', 200)], events
    def failing(fd): events.append(('fsync failed', os.readlink(f'/proc/self/fd/{fd}'))); raise OSError(5, 'Input/output error')
    monkeypatch.setattr(os, 'fsync', failing); events.clear()
    s, r = _answer(srv, pid, plan[2])
    assert s == 500 and 'could not store it' in r['error'] and ('send', 200) not in events, (s, r, events)
    monkeypatch.setattr(os, 'fsync', fsync)
    assert _answer(srv, pid, plan[2])[0] == 200               # not acknowledged, so it can be given again
