"""
enclave-gateway and what its callers may learn or squat (issue 20):

* F34: per-key metric labels only for key ids the gateway holds; any other
  id a client sends counts in the one series key_id="" (no key id can be
  empty), so junk ids cannot squat the label slots and a client-sent
  "other" (or "") names no series of its own.
* F35: /metrics and /healthz name only the ids the gateway holds, never an
  id a client made up.
"""

import json

from helpers.harness import REGION, genkey, open_sealed, seal


def post(g, body):
    status, _, data = g.request("POST", "/v1/process", body)
    return status, json.loads(data) if data else None


def test_junk_key_ids_cannot_squat_or_duplicate_metric_series(
        gateway_bin, gateways, start_daemon, tmp_path):
    tsk, k = genkey()
    f = tmp_path / "held.b64"
    f.write_text(tsk + "\n")
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk", "held=%s" % f, "--region", REGION)
    g.wait_up([d.tcp])
    junk = ["junk%02d" % i for i in range(63)] + ["other", "default"]
    for kid in junk:
        status, body = post(g, {"ciphertext": seal(k, b"x"), "key_id": kid})
        assert status == 400 and body["error"] == "unknown_key", (kid, body)
    # The key used after them still gets its own series.
    status, body = post(g, {"ciphertext": seal(k, b"late"), "key_id": "held"})
    assert status == 200 and open_sealed(k, body["result"]) == b"late"
    m = g.metrics()
    assert m['enclave_gateway_key_requests_total{key_id="held",result="ok"}'] == 1
    assert m['enclave_gateway_key_requests_total{key_id="",result="error"}'] == len(junk)
    names = [n for n in m if n.startswith("enclave_gateway_key_")]
    for kid in junk:
        assert not any('"%s"' % kid in n for n in names), (kid, names)
    # One series per (key_id, result): none duplicated.
    text = g.request("GET", "/metrics")[2].decode()
    lines = [l.split(" ")[0] for l in text.splitlines()
             if l.startswith("enclave_gateway_key_requests_total{")]
    assert len(lines) == len(set(lines)), lines
    assert sorted(lines) == sorted(
        'enclave_gateway_key_requests_total{key_id="%s",result="%s"}' % (i, r)
        for i in ("held", "") for r in ("ok", "error"))
    status, _, hz = g.request("GET", "/healthz")
    assert status == 200 and b"junk" not in hz and b"other" not in hz, hz
