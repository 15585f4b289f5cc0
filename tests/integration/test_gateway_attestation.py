"""
Attestation over HTTP (issue 23 item 3): GET /v1/attestation?nonce=HEX
[&user_data=HEX] on the gateway answers {"document": BASE64}, a fresh
document from an enclave, which `enclavectl verify-attestation` verifies,
so a data owner or an auditor can check which image runs without shell
access to the parent. No caller may choose the document's public_key, on
the gateway or in the daemon's own attest: KMS encrypts a Recipient's
plaintext to that key, so a document carrying a caller's key would hand
that caller every TSK.

The enclave's NSM is the simulator (tests/simulators/nsm_sim.py), whose
test root CA verifies its documents.
"""
import base64
import json
import os
import select
import subprocess
import sys
import time

import pytest

from helpers.harness import (assert_error, binary, genkey, short_tmpdir)

SIMULATORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                          "simulators")
PCR0 = "ab" * 48


@pytest.fixture
def nsm(tmp_path):
    """An NSM simulator on a Unix socket; yields (spec, root CA path)."""
    d = short_tmpdir()
    sock = os.path.join(d, "nsm.sock")
    p = subprocess.Popen([sys.executable, os.path.join(SIMULATORS, "nsm_sim.py"),
                          "--socket", sock, "--out-dir", d, "--pcr0", PCR0],
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        r, _, _ = select.select([p.stdout], [], [], 0.2)
        if r and p.stdout.readline().startswith(b"ready"):
            break
        assert p.poll() is None, p.stderr.read()
    else:
        pytest.fail("nsm_sim.py did not start")
    yield "unix:" + sock, os.path.join(d, "root.pem")
    p.terminate()
    p.wait(10)


def get(g, path):
    status, headers, data = g.request("GET", path)
    return status, headers, json.loads(data) if data else None


def test_fresh_document_over_http_verifies(gateways, start_daemon, nsm,
                                           tmp_path, enclavectl_bin):
    spec, root = nsm
    d = start_daemon("--nsm-device", spec, unix=False)
    t, _ = genkey()
    g = gateways([d.tcp], tsk=t)
    g.wait_healthy()
    nonce = os.urandom(32).hex()
    status, _, body = get(g, "/v1/attestation?nonce=%s&user_data=c0ffee" % nonce)
    assert status == 200, body
    assert set(body) == {"document"}
    doc = base64.b64decode(body["document"], validate=True)
    assert doc[:1] == b"\x84"
    f = tmp_path / "doc.b64"
    f.write_text(body["document"])
    r = subprocess.run([enclavectl_bin, "verify-attestation", "--root", root,
                        "--expect-pcr0", PCR0, "--expect-nonce", nonce, str(f)],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert "verified: yes" in r.stdout
    # Each call is fresh: another nonce, another document.
    status, _, again = get(g, "/v1/attestation?nonce=%s" % ("00" * 16))
    assert status == 200 and again["document"] != body["document"]


def test_an_enclave_with_no_key_yet_attests(gateways, start_daemon, nsm):
    """A data owner checks the image before handing over any key."""
    spec, _ = nsm
    d = start_daemon("--nsm-device", spec, unix=False)
    g = gateways([d.tcp])
    deadline = time.monotonic() + 10
    while True:
        status, _, body = get(g, "/v1/attestation?nonce=0011")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert status == 200, body


@pytest.mark.parametrize("query,status,code,word", [
    ("", 400, "missing_fields", "nonce"),
    ("?nonce=", 400, "missing_fields", "nonce"),
    ("?nonce=zz", 400, "invalid_field", "hex of 1..512 bytes"),
    ("?nonce=abc", 400, "invalid_field", "hex of 1..512 bytes"),
    ("?nonce=" + "00" * 513, 400, "invalid_field", "hex of 1..512 bytes"),
    ("?nonce=00&user_data=q", 400, "invalid_field", "user_data"),
    ("?nonce=00&nonce=11", 400, "invalid_field", "twice"),
    ("?nonce=00&public_key=" + "30" * 64, 400, "invalid_field", "public_key"),
    ("?nonce=00&extra=1", 400, "invalid_field", "nonce and user_data only"),
])
def test_bad_queries_refused(gateways, start_daemon, nsm, query, status, code,
                             word):
    spec, _ = nsm
    d = start_daemon("--nsm-device", spec, unix=False)
    t, _ = genkey()
    g = gateways([d.tcp], tsk=t)
    g.wait_healthy()
    got, _, body = get(g, "/v1/attestation" + query)
    assert (got, body["error"]) == (status, code), body
    assert word in body["details"], body


def test_post_is_not_allowed(gateways, start_daemon, nsm):
    spec, _ = nsm
    d = start_daemon("--nsm-device", spec, unix=False)
    g = gateways([d.tcp])
    status, _, _ = g.request("POST", "/v1/attestation?nonce=00", "{}")
    assert status == 405


def test_no_nsm_is_said(gateways, start_daemon):
    """An enclave with no NSM (not in a Nitro Enclave): its own code,
    attestation_unavailable, with the gateway's documented status."""
    d = start_daemon("--nsm-device", "/nonexistent/nsm", unix=False)
    t, _ = genkey()
    g = gateways([d.tcp], tsk=t)
    g.wait_healthy()
    status, _, body = get(g, "/v1/attestation?nonce=00")
    assert (status, body["error"]) == (502, "attestation_unavailable"), body


def test_the_daemon_refuses_a_callers_public_key(start_daemon, nsm):
    spec, _ = nsm
    d = start_daemon("--nsm-device", spec, unix=False)
    resp = d.request({"type": "attest", "nonce": "00",
                      "public_key": base64.b64encode(b"\x30" * 64).decode()},
                     timeout=20)
    assert_error(resp, "invalid_field", "public_key")
    for value in (None, "", 7):
        resp = d.request({"type": "attest", "nonce": "00", "public_key": value},
                         timeout=20)
        assert_error(resp, "invalid_field", "public_key")
    resp = d.request({"type": "attest", "nonce": "00"}, timeout=20)
    assert resp["status"] == "ok", resp
