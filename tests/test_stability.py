"figures/stability/ is what robint.stability writes from the committed ledgers (run `make stability` after a ledger changes)"
import pandas as pd
from conftest import REPO
from robint.stability import write_stability, stability, FAMILIES

def test_committed_stability_table_is_current(tmp_path):
    out = write_stability(REPO, tmp_path/'stability')
    for f in ('README.md', 'stability.csv'):
        assert (REPO/'figures'/'stability'/f).read_text() == (out/f).read_text(), f"figures/stability/{f} is stale: run `make stability`"
    assert (REPO/'figures'/'stability'/'figV2_stability.png').is_file()

def test_every_committed_ledger_is_a_family():
    "A profile with a committed ledger is in FAMILIES, and each family's column holds its ledger's verdicts"
    import json
    committed = {p.parent.name for p in (REPO/'figures').glob('*/results.json') if (json.loads(p.read_text()).get('claims') or {}).get('rows')}
    assert committed <= {p for p, _, _ in FAMILIES}, committed
    s = stability(REPO)
    for f, (p, _, r) in zip(s['families'], FAMILIES):
        if r is None and p in committed:
            rows = {x['id']: x for x in json.loads((REPO/'figures'/p/'results.json').read_text())['claims']['rows']}
            assert all(rows[k]['verdict'] == v['verdict'] and rows[k]['effect'] == v['effect'] for k, v in f['verdicts'].items())
    csv = pd.read_csv(REPO/'figures'/'stability'/'stability.csv')
    assert len(csv) == len(s['rows']) and list(csv.id) == [r['id'] for r in s['rows']]
