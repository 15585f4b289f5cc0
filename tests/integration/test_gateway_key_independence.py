"""
enclave-gateway keys are independent (issue 20 item 3, F29): one key file
an enclave cannot configure (KMS refuses it, or a 9000-character blob the
daemon refuses), present at start or added by SIGHUP, does not mark the
enclave unconfigured. The other keys keep serving, /healthz stays 200 and
names the failing key with the enclave's code only (no credential, no
blob: F35), a metric counts its failures, and it is retried on its own
with backoff: no reconfigure storm (the KMS tool's calls are counted over
seconds with no client request).
"""

import base64
import json
import os
import signal
import time

from helpers.harness import CREDS, REGION, open_sealed, seal

HUGE = base64.b64encode(os.urandom(6750)).decode()      # 9000 characters


def post(g, body):
    status, hdrs, data = g.request("POST", "/v1/process", body)
    return status, hdrs, json.loads(data) if data else None


def healthz(g):
    status, _, data = g.request("GET", "/healthz")
    return status, data.decode()


def wait_for(pred, what, g, timeout=15):
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        assert time.monotonic() < deadline, what + ":\n" + g.log()[-3000:]
        time.sleep(0.05)


def keys_dir(tmp_path, fake_kms, bad):
    d = tmp_path / "keys"
    d.mkdir()
    (d / "a.b64").write_text(fake_kms.token("key1") + "\n")
    (d / "b.b64").write_text(fake_kms.token("key2") + "\n")
    if bad:
        add_bad(d, fake_kms)
    return d


def add_bad(d, fake_kms):
    (d / "bad.b64").write_text(fake_kms.token("deny") + "\n")
    (d / "huge.b64").write_text(HUGE + "\n")


def assert_others_serve(g, fake_kms):
    for kid, k in (("a", fake_kms.K1), ("b", fake_kms.K2)):
        status, _, body = post(g, {"ciphertext": seal(k, kid.encode()),
                                   "key_id": kid})
        assert status == 200, (kid, body)
        assert open_sealed(k, body["result"]) == kid.encode()


def assert_reported(g, d):
    status, text = healthz(g)
    assert status == 200, text
    enc = json.loads(text)["enclaves"]
    assert [e["state"] for e in enc] == ["up"], text
    failing = {f["key_id"]: f for f in enc[0]["failing_keys"]}
    assert sorted(failing) == ["bad", "huge"], text
    assert failing["bad"]["error"] == "kms_decrypt_failed", text
    assert failing["huge"]["error"] == "invalid_field", text
    assert all(f["failures"] >= 1 for f in failing.values()), text
    # The fake tool's refusal quotes the credentials: none of it shows.
    for secret in list(CREDS.values()) + [HUGE[:40], "Got non-200"]:
        assert secret not in text, secret
    m = g.metrics()
    assert m['enclave_gateway_key_configure_failures_total{key_id="bad"}'] >= 1
    assert m['enclave_gateway_key_configure_failures_total{key_id="huge"}'] >= 1
    assert m['enclave_gateway_key_configure_failures_total{key_id="a"}'] == 0
    assert m['enclave_gateway_enclave_keys_failing{enclave="%s"}' % d.tcp] == 2
    assert m['enclave_gateway_enclave_up{enclave="%s"}' % d.tcp] == 1
    assert "could not take key bad (kms_decrypt_failed" in g.log()


def assert_no_storm(g, fake_kms, seconds=6, bound=4):
    """KMS tool runs with no client request over `seconds`: the bad key
    alone, at 1, 2, 4 s... (the code before the fix: 54 in 10 s)."""
    before = fake_kms.calls()
    time.sleep(seconds)
    ran = fake_kms.calls() - before
    assert ran <= bound, (ran, g.log()[-3000:])


def test_bad_key_at_start_leaves_the_others_serving(
        gateway_bin, gateways, start_daemon, fake_kms, tmp_path):
    keys = keys_dir(tmp_path, fake_kms, bad=True)
    d = start_daemon(unix=False, kmstool=fake_kms.path)
    g = gateways([d.tcp], "--tsk-dir", str(keys), "--region", REGION)
    wait_for(lambda: healthz(g)[0] == 200, "never healthy", g)
    assert_others_serve(g, fake_kms)
    assert_reported(g, d)
    assert_no_storm(g, fake_kms)
    # A request for the refused key: 503 + Retry-After, and no KMS call
    # for each such request.
    before = fake_kms.calls()
    for _ in range(10):
        status, hdrs, body = post(g, {"ciphertext": seal(fake_kms.K1, b"x"),
                                      "key_id": "bad"})
        assert status == 503 and body["error"] == "not_configured", body
        assert hdrs.get("retry-after") == "1"
        assert "kms_decrypt_failed" in body["details"], body
        assert CREDS["aws_secret_access_key"] not in body["details"]
    assert fake_kms.calls() - before <= 2, g.log()[-3000:]
    assert_others_serve(g, fake_kms)


def test_bad_key_added_by_sighup_leaves_the_others_serving(
        gateway_bin, gateways, start_daemon, fake_kms, tmp_path):
    keys = keys_dir(tmp_path, fake_kms, bad=False)
    d = start_daemon(unix=False, kmstool=fake_kms.path)
    g = gateways([d.tcp], "--tsk-dir", str(keys), "--region", REGION)
    g.wait_up([d.tcp])
    assert_others_serve(g, fake_kms)
    add_bad(keys, fake_kms)
    g.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: g.metrics().get(
        'enclave_gateway_enclave_keys_failing{enclave="%s"}' % d.tcp) == 2,
        "the bad keys were not reported", g)
    assert_reported(g, d)
    assert_others_serve(g, fake_kms)
    assert_no_storm(g, fake_kms)
    # Removing the bad files (SIGHUP) clears the report.
    os.unlink(str(keys / "bad.b64"))
    os.unlink(str(keys / "huge.b64"))
    g.proc.send_signal(signal.SIGHUP)
    wait_for(lambda: g.metrics().get(
        'enclave_gateway_enclave_keys_failing{enclave="%s"}' % d.tcp) == 0,
        "the report stayed", g)
    assert "failing_keys" not in healthz(g)[1]
    assert_others_serve(g, fake_kms)
