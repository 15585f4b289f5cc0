"""
enclave-gateway with several TSKs (issue 13): --tsk ID=FILE (repeatable)
and --tsk-dir, key_id and result_key_id in POST /v1/process, SIGHUP
re-reading the keys under load with no failed request, a restarted
enclave getting every key, and the per-key metrics.
"""

import http.client
import json
import os
import signal
import threading
import time

import pytest

from helpers import harness
from helpers.harness import (ENV_AWS, REGION, binary, clean_env, genkey,
                             make_grant, open_sealed, seal)


def write(path, text):
    tmp = str(path) + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, str(path))


def process(g, key, pt, key_id=None, result_key_id=None, conn=None,
            grant=None):
    body = {"ciphertext": seal(key, pt)}
    if key_id is not None:
        body["key_id"] = key_id
    if result_key_id is not None:
        body["result_key_id"] = result_key_id
    if grant is not None:
        body["grant"] = grant
    status, _, data = g.request("POST", "/v1/process", body, conn=conn)
    return status, json.loads(data) if data else None


def wait_metric(g, name, want, timeout=20):
    deadline = time.monotonic() + timeout
    while True:
        m = g.metrics()
        if m.get(name) == want:
            return m
        assert time.monotonic() < deadline, (name, m.get(name), g.log()[-3000:])
        time.sleep(0.05)


def keys_of(d):
    return sorted(k["key_id"] for k in d.request({"type": "health"})["keys"])


def test_two_keys_and_result_key_through_the_gateway(gateway_bin, gateways,
                                                     start_daemon, tmp_path):
    (ta, ka), (tb, kb) = genkey(), genkey()
    write(tmp_path / "a.b64", ta)
    write(tmp_path / "b.b64", tb)
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk", "tenant-a=%s" % (tmp_path / "a.b64"),
                 "--tsk", "tenant-b=%s" % (tmp_path / "b.b64"),
                 "--region", REGION)
    g.wait_up([d.tcp])
    assert keys_of(d) == ["tenant-a", "tenant-b"]
    for kid, k in (("tenant-a", ka), ("tenant-b", kb)):
        status, body = process(g, k, b"for " + kid.encode(), key_id=kid)
        assert status == 200, body
        assert open_sealed(k, body["result"]) == b"for " + kid.encode()
    # Without key_id: no "default" key, so the last --tsk.
    status, body = process(g, kb, b"no id")
    assert status == 200 and open_sealed(kb, body["result"]) == b"no id"
    status, body = process(g, ka, b"hand over", key_id="tenant-a",
                           result_key_id="tenant-b", grant=make_grant(ka, kb))
    assert status == 200, body
    assert open_sealed(kb, body["result"]) == b"hand over"
    status, body = process(g, ka, b"x", key_id="tenant-c")
    assert status == 400 and body["error"] == "unknown_key", body
    for bad in ("a b", "", "x" * 65, 7, "a\u0000b"):
        status, body = process(g, ka, b"x", key_id=bad)
        assert status == 400 and body["error"] == "invalid_field", (bad, body)
    m = g.metrics()
    assert m['enclave_gateway_key_requests_total{key_id="tenant-a",result="ok"}'] == 2
    assert m['enclave_gateway_key_requests_total{key_id="tenant-b",result="ok"}'] == 2
    # An id the gateway does not hold gets no series of its own (F34).
    assert m['enclave_gateway_key_requests_total{key_id="",result="error"}'] == 1
    assert not any('"tenant-c"' in name for name in m)
    assert m['enclave_gateway_key_loaded{key_id="tenant-a"}'] == 1
    assert m['enclave_gateway_enclave_keys_current{enclave="%s"}' % d.tcp] == 1


def test_plain_tsk_is_default_and_old_requests_work(gateway_bin, gateways,
                                                    start_daemon, tmp_path):
    t, k = genkey()
    d = start_daemon(unix=False)
    g = gateways([d.tcp], tsk=t)
    g.wait_up([d.tcp])
    assert keys_of(d) == ["default"]
    status, _, body = g.process(seal(k, b"old client"))
    assert status == 200 and open_sealed(k, body["result"]) == b"old client"


def test_sighup_rotation_under_load_loses_nothing(gateway_bin, gateways,
                                                  start_daemon, tmp_path):
    """The rotation procedure of docs/operations.md through the gateway,
    with writers sending all along: add the new key (SIGHUP), switch the
    writers, forget the old key (SIGHUP). No request fails."""
    keys = tmp_path / "keys"
    keys.mkdir()
    (t1, k1), (t2, k2) = genkey(), genkey()
    write(keys / "v1.b64", t1)
    a, b = start_daemon(unix=False), start_daemon(unix=False)
    g = gateways([a.tcp, b.tcp], "--tsk-dir", str(keys), "--region", REGION)
    g.wait_up([a.tcp, b.tcp])
    current = {"id": "v1", "key": k1}
    stop = threading.Event()
    results, lock = [], threading.Lock()

    def writer(n):
        c = g.conn()
        i = 0
        while not stop.is_set():
            kid, key = current["id"], current["key"]
            pt = b"w%d-%d" % (n, i)
            try:
                status, body = process(g, key, pt, key_id=kid, conn=c)
            except (OSError, http.client.HTTPException) as e:
                status, body = -1, repr(e)
                c.close()
                c = g.conn()
            with lock:
                results.append((status, kid, key, pt, body))
            i += 1
        c.close()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    time.sleep(0.5)
    write(keys / "v2.b64", t2)
    g.proc.send_signal(signal.SIGHUP)
    for e in (a, b):
        wait_metric(g, 'enclave_gateway_enclave_keys_current{enclave="%s"}'
                    % e.tcp, 1)
    deadline = time.monotonic() + 10
    while not all(keys_of(e) == ["v1", "v2"] for e in (a, b)):
        assert time.monotonic() < deadline, g.log()
        time.sleep(0.05)
    time.sleep(0.3)
    current.update(id="v2", key=k2)          # switch the writers
    write(keys / "DEFAULT", "v2")             # and the default (issue 24)
    g.proc.send_signal(signal.SIGHUP)
    time.sleep(0.5)
    os.unlink(str(keys / "v1.b64"))
    g.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    while not all(keys_of(e) == ["v2"] for e in (a, b)):
        assert time.monotonic() < deadline, g.log()
        time.sleep(0.05)
    time.sleep(0.3)
    stop.set()
    for t in threads:
        t.join(10)
    failed = [r for r in results if r[0] != 200]
    assert not failed, failed[:5]
    for status, kid, key, pt, body in results:
        assert open_sealed(key, body["result"]) == pt
    assert any(r[1] == "v1" for r in results)
    assert sum(1 for r in results if r[1] == "v2") > 10
    # The old key is gone everywhere.
    status, body = process(g, k1, b"late", key_id="v1")
    assert status == 400 and body["error"] == "unknown_key", body
    m = g.metrics()
    assert m['enclave_gateway_key_reloads_total{result="ok"}'] == 4
    assert 'enclave_gateway_key_loaded{key_id="v1"}' not in m


def test_sighup_with_a_bad_file_keeps_every_key(gateway_bin, gateways,
                                                start_daemon, tmp_path):
    (t1, k1) = genkey()
    f = tmp_path / "k.b64"
    write(f, t1)
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk", "only=%s" % f, "--region", REGION)
    g.wait_up([d.tcp])
    write(f, "not base64 !!!")
    g.proc.send_signal(signal.SIGHUP)
    wait_metric(g, 'enclave_gateway_key_reloads_total{result="error"}', 1)
    status, body = process(g, k1, b"still", key_id="only")
    assert status == 200 and open_sealed(k1, body["result"]) == b"still"
    # A changed key under the same id: the enclave gets the new one.
    t2, k2 = genkey()
    write(f, t2)
    g.proc.send_signal(signal.SIGHUP)
    wait_metric(g, 'enclave_gateway_key_reloads_total{result="ok"}', 2)
    wait_metric(g, 'enclave_gateway_enclave_keys_current{enclave="%s"}'
                % d.tcp, 1)
    deadline = time.monotonic() + 10
    while True:
        status, body = process(g, k2, b"new", key_id="only")
        if status == 200:
            break
        assert time.monotonic() < deadline, (status, body)
        time.sleep(0.05)
    assert open_sealed(k2, body["result"]) == b"new"


def test_restarted_enclave_gets_every_key(gateway_bin, gateways, start_daemon,
                                          enclaved_bin, tmp_path):
    (ta, ka), (tb, kb) = genkey(), genkey()
    write(tmp_path / "a.b64", ta)
    write(tmp_path / "b.b64", tb)
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk", "a=%s" % (tmp_path / "a.b64"),
                 "--tsk", "b=%s" % (tmp_path / "b.b64"), "--region", REGION)
    g.wait_up([d.tcp])
    port = int(d.tcp.rsplit(":", 1)[1])
    d.terminate()
    d.stopped_by_test = True
    d2 = harness.Daemon(enclaved_bin, ["--kmstool", binary("kmstool-dev"),
                                       "--region", REGION],
                        port, None, str(tmp_path / "enclaved-2.log"),
                        dict(os.environ))
    try:
        d2.wait_listening()
        # The first request meets not_configured or unknown_key; the
        # gateway configures every key and sends it again.
        status, body = process(g, kb, b"b first", key_id="b")
        assert status == 200, body
        assert open_sealed(kb, body["result"]) == b"b first"
        status, body = process(g, ka, b"a too", key_id="a")
        assert status == 200, body
        assert keys_of(d2) == ["a", "b"]
    finally:
        d2.terminate()


def test_tsk_options(gateway_bin, tmp_path):
    import subprocess
    f = tmp_path / "k.b64"
    write(f, "QUJD")
    for args, words in ((["--tsk", "a=%s" % f, "--tsk", "a=%s" % f], "twice"),
                        (["--tsk", "a="], "no file"),
                        (["--tsk-dir", ""], "--tsk-dir")):
        p = subprocess.run([gateway_bin] + args, capture_output=True,
                           timeout=20, env=clean_env(**ENV_AWS))
        assert p.returncode == 2 and words in p.stderr.decode(), p
    p = subprocess.run([gateway_bin, "--help"], capture_output=True, timeout=20)
    for word in ("--tsk [ID=]FILE", "--tsk-dir", "key_id", "SIGHUP"):
        assert word in p.stdout.decode()
