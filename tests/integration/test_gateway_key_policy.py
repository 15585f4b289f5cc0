"""
enclave-gateway and what its callers may learn or squat (issue 20):

* F34: per-key metric labels only for key ids the gateway holds; any other
  id a client sends counts in the one series key_id="" (no key id can be
  empty), so junk ids cannot squat the label slots and a client-sent
  "other" (or "") names no series of its own.
* F35: /metrics and /healthz name only the ids the gateway holds, never an
  id a client made up.
* F36: --tsk-dir and --tsk read only regular files, opened non-blocking,
  and never on the signal thread: a FIFO named x.b64 is skipped (logged)
  and SIGTERM is heard.
"""

import json
import os
import signal
import subprocess
import time

from helpers.harness import REGION, free_tcp_port, genkey, open_sealed, seal


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


def wait_for(pred, what, g, timeout=15):
    deadline = time.monotonic() + timeout
    while not pred():
        assert time.monotonic() < deadline, what + ":\n" + g.log()[-3000:]
        time.sleep(0.05)


def test_fifo_in_tsk_dir_is_skipped_and_sigterm_still_heard(
        gateway_bin, gateways, start_daemon, tmp_path):
    """F36: a FIFO named like a key file blocked the signal thread on
    SIGHUP (SIGTERM then went unheard until a writer came). Only regular
    files are read, and not on the signal thread."""
    keys = tmp_path / "keys"
    keys.mkdir()
    tsk, k = genkey()
    (keys / "good.b64").write_text(tsk + "\n")
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk-dir", str(keys), "--region", REGION)
    g.wait_up([d.tcp])
    os.mkfifo(str(keys / "x.b64"))
    g.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "x.b64: not a regular file; skipped" in g.log(),
             "the FIFO was not reported", g)
    # The reading went on without it: good is still held, x is not.
    wait_for(lambda: g.metrics().get(
        'enclave_gateway_key_reloads_total{result="ok"}') == 2,
        "the reload did not finish", g)
    status, body = post(g, {"ciphertext": seal(k, b"still"), "key_id": "good"})
    assert status == 200 and open_sealed(k, body["result"]) == b"still"
    g.proc.send_signal(signal.SIGTERM)
    try:
        rc = g.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    assert rc == 0, "the gateway did not stop on SIGTERM:\n" + g.log()[-3000:]


def test_sigterm_heard_while_a_reading_is_pending(gateway_bin, gateways, tmp_path):
    """The signal thread never reads: SIGHUP then SIGTERM at once, with a
    FIFO as an explicit --tsk file (refused, the keys kept), still exits 0."""
    tsk, _ = genkey()
    good = tmp_path / "good.b64"
    good.write_text(tsk + "\n")
    g = gateways(["tcp:127.0.0.1:%d" % free_tcp_port()],
                 "--tsk", "good=%s" % good, "--region", REGION)
    good.unlink()
    os.mkfifo(str(good))
    g.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: "is not a regular file" in g.log(),
             "the FIFO --tsk was not refused", g)
    g.proc.send_signal(signal.SIGTERM)
    try:
        rc = g.proc.wait(10)
    except subprocess.TimeoutExpired:
        rc = None
    assert rc == 0, g.log()[-3000:]
