"""
enclave-gateway: the default key never changes by itself (issue 24 item 1).

A request without key_id (the README's curl, the Temporal example) uses the
gateway's default key. It used to be the alphabetically last key file, so
adding v2.b64 beside v1.b64 and sending SIGHUP, the documented rotation,
made every old record posted without key_id fail with 422 decrypt_failed.
Now the default is named (--default-key, the key directory's DEFAULT file,
or the key "default"), else chosen once at start and kept; a reload that
would drop it is refused whole.
"""

import json
import os
import signal
import subprocess
import time

from helpers.harness import (ENV_AWS, REGION, binary, clean_env, genkey,
                             seal)


def write(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, str(path))


def post(g, key, pt, **fields):
    body = dict({"ciphertext": seal(key, pt)}, **fields)
    status, _, data = g.request("POST", "/v1/process", body)
    return status, json.loads(data)


def reloads(g, result):
    return g.metrics().get(
        'enclave_gateway_key_reloads_total{result="%s"}' % result, 0)


def sighup(g, result="ok"):
    """SIGHUP, and wait until the reload it asks for is counted."""
    before = reloads(g, result)
    g.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while reloads(g, result) <= before:
        assert time.monotonic() < deadline, g.log()
        time.sleep(0.02)


def held(d):
    return sorted(k["key_id"] for k in d.request({"type": "health"})["keys"])


def wait_held(d, want, g):
    deadline = time.monotonic() + 10
    while held(d) != want:
        assert time.monotonic() < deadline, (held(d), g.log())
        time.sleep(0.02)


def test_adding_a_key_keeps_old_records_opening(gateways, start_daemon,
                                                 tmp_path):
    """Today's failure, reproduced: v1 alone, then v2 added by SIGHUP."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (t1, k1), (t2, k2) = genkey(), genkey()
    write(keys / "v1.b64", t1)
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk-dir", str(keys), "--region", REGION)
    g.wait_up([d.tcp])
    status, body = post(g, k1, b"old record")
    assert status == 200, body
    write(keys / "v2.b64", t2)
    sighup(g)
    wait_held(d, ["v1", "v2"], g)
    assert "SIGHUP: 2 keys read (default v1)" in g.log()
    status, body = post(g, k1, b"old record, after the rotation")
    assert status == 200, body           # was 422 decrypt_failed
    status, body = post(g, k2, b"new record", key_id="v2")
    assert status == 200, body


def test_the_default_file_moves_the_default(gateways, start_daemon, tmp_path):
    """The operator names the new default, then may drop the old key."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (t1, k1), (t2, k2) = genkey(), genkey()
    write(keys / "v1.b64", t1)
    write(keys / "v2.b64", t2)
    write(keys / "DEFAULT", "v1")
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk-dir", str(keys), "--region", REGION)
    g.wait_up([d.tcp])
    assert post(g, k1, b"a")[0] == 200
    write(keys / "DEFAULT", "v2")
    sighup(g)
    assert post(g, k2, b"b")[0] == 200
    status, body = post(g, k1, b"c")
    assert status == 422 and body["error"] == "decrypt_failed", body
    os.unlink(str(keys / "v1.b64"))
    sighup(g)
    wait_held(d, ["v2"], g)
    # One key is "1 key", not "1 keys" (issue 25 item 7).
    assert "SIGHUP: 1 key read (default v2)" in g.log()
    assert post(g, k2, b"d")[0] == 200


def test_a_reload_that_drops_the_default_is_refused(gateways, start_daemon,
                                                     tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (t1, k1), (t2, k2), (t3, _) = genkey(), genkey(), genkey()
    write(keys / "v1.b64", t1)
    write(keys / "v2.b64", t2)
    d = start_daemon(unix=False)
    # Two keys, none named: the last one listed (v2), chosen once.
    g = gateways([d.tcp], "--tsk-dir", str(keys), "--region", REGION)
    g.wait_up([d.tcp])
    wait_held(d, ["v1", "v2"], g)
    assert "uses v2, the last key listed" in g.log()
    os.unlink(str(keys / "v2.b64"))
    write(keys / "v3.b64", t3)
    sighup(g, "error")
    assert "no longer hold v2, the default key" in g.log()
    # Nothing of that reload was applied: v3 not added, v2 not forgotten.
    time.sleep(0.5)
    assert held(d) == ["v1", "v2"]
    assert post(g, k2, b"still the default")[0] == 200
    # A DEFAULT naming a key no file holds: refused too.
    write(keys / "v2.b64", t2)
    write(keys / "DEFAULT", "nope")
    sighup(g, "error")
    assert "names nope as the default key, but no key file holds it" in g.log()
    assert held(d) == ["v1", "v2"]


def test_default_key_option(gateways, start_daemon, tmp_path):
    keys = tmp_path / "keys"
    keys.mkdir()
    (t1, k1), (t2, k2) = genkey(), genkey()
    write(keys / "v1.b64", t1)
    write(keys / "v2.b64", t2)
    write(keys / "DEFAULT", "v2")
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk-dir", str(keys), "--default-key", "v1",
                 "--region", REGION)
    g.wait_up([d.tcp])
    # --default-key wins over the directory's DEFAULT.
    assert post(g, k1, b"x")[0] == 200
    assert post(g, k2, b"x")[0] == 422
    # One that names no key: the gateway does not start.
    p = subprocess.run([binary("enclave-gateway"), "--listen",
                        "127.0.0.1:1", "--enclave", d.tcp, "--tsk-dir",
                        str(keys), "--default-key", "v9"],
                       capture_output=True, text=True, timeout=20,
                       env=clean_env(**ENV_AWS))
    assert p.returncode != 0
    assert "--default-key names v9 as the default key" in p.stderr
    p = subprocess.run([binary("enclave-gateway"), "--default-key", "a b"],
                       capture_output=True, text=True, timeout=20,
                       env=clean_env(**ENV_AWS))
    assert p.returncode == 2 and "--default-key" in p.stderr


def test_no_key_source_needs_no_credentials(gateways, start_daemon):
    """A gateway with no --tsk and no --tsk-dir never configures, so it
    starts without AWS credentials (issue 25 item 7: it refused to)."""
    d = start_daemon(unix=False)
    g = gateways([d.tcp], env=clean_env())
    status, _, _ = g.request("GET", "/metrics")
    assert status == 200
    assert "AWS_ACCESS_KEY_ID" not in g.log()
