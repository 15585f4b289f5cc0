"""
enclaved: secret hygiene. protocol.md "Keys and secrets": the TSK and the AWS
credentials never appear in a log line or a response; error details never
carry a secret (key, credential, plaintext).
"""

import base64
import json
import os
import secrets
import time

import pytest

from helpers.harness import (CREDS, assert_error, genkey, open_sealed, process_memory,
                             seal, skip_memory_scan_under_asan)

PLAINTEXT = b"TOP-SECRET-PLAINTEXT-7c1d4e"


def _secrets(key, plaintext=PLAINTEXT):
    return {
        "key hex": key.hex(),
        "key HEX": key.hex().upper(),
        "key base64": base64.b64encode(key).decode(),
        "key base64url": base64.urlsafe_b64encode(key).decode().rstrip("="),
        "secret access key": CREDS["aws_secret_access_key"],
        "session token": CREDS["aws_session_token"],
        "plaintext": plaintext.decode(),
        "plaintext hex": plaintext.hex(),
        "plaintext base64": base64.b64encode(plaintext).decode(),
    }


def _full_session(d, tsk, key):
    """Everything a daemon sees in normal and failing use; returns all
    response texts."""
    texts = []

    def req(msg, framing="bare"):
        with d.connect() as c:
            r = c.request(msg, framing)
        texts.append(repr(r))
        return r

    cfg = {"type": "configure", "encrypted_tsk": tsk}
    cfg.update(CREDS)
    assert req(cfg)["status"] == "ok"
    assert req({"type": "health"})["configured"] is True
    for framing in ("bare", "len"):
        r = req({"type": "process", "ciphertext": seal(key, PLAINTEXT, "aad-1"),
                 "aad": "aad-1"}, framing)
        assert open_sealed(key, r["result"], "aad-1") == PLAINTEXT
    # failures that handle the same secrets
    assert_error(req({"type": "process", "ciphertext": seal(key, PLAINTEXT, "x"),
                      "aad": "y"}), "decrypt_failed")
    assert_error(req({"type": "process",
                      "ciphertext": seal(os.urandom(32), PLAINTEXT)}), "decrypt_failed")
    bad = dict(cfg, aws_access_key_id="DEVDENY")
    assert_error(req(bad), "kms_decrypt_failed")
    missing = dict(cfg)
    del missing["encrypted_tsk"]
    assert_error(req(missing), "missing_fields")
    assert_error(req(dict(cfg, region=5)), "invalid_field")
    # reconfigure with the same key
    assert req(cfg)["status"] == "ok"
    return texts


def _check(text, key, where):
    leaks = [name for name, s in _secrets(key).items() if s in text]
    assert not leaks, "%s contains: %s" % (where, ", ".join(leaks))


def test_log_and_responses_hold_no_secret(start_daemon, kmstool_dev_bin):
    tsk, key = genkey()
    d = start_daemon("--log-level", "debug")
    texts = _full_session(d, tsk, key)
    assert d.terminate() == 0
    log = d.log()
    assert len(log.splitlines()) >= 5, "suspiciously quiet log:\n" + log
    _check(log, key, "enclaved's log")
    for t in texts:
        _check(t, key, "a response")


def test_log_has_no_access_key_id(start_daemon, kmstool_dev_bin):
    # "Neither [TSK nor AWS credentials] ever appears in a log line"
    tsk, key = genkey()
    d = start_daemon("--log-level", "debug")
    _full_session(d, tsk, key)
    d.terminate()
    assert CREDS["aws_access_key_id"] not in d.log()


def test_log_records_requests_and_outcomes(start_daemon, kmstool_dev_bin):
    # issue 2: "one line per event on stderr ... request type and outcome"
    tsk, key = genkey()
    d = start_daemon()
    _full_session(d, tsk, key)
    d.terminate()
    log = d.log()
    for word in ("configure", "process", "decrypt_failed", "kms_decrypt_failed"):
        assert word in log, word


def test_kms_tool_stderr_secrets_not_logged(start_daemon, fake_kms):
    # the fake tool's reason line quotes the credentials; the daemon must
    # not copy them into its log or the response
    d = start_daemon("--log-level", "debug", kmstool=fake_kms.path)
    cfg = {"type": "configure", "encrypted_tsk": fake_kms.token("deny")}
    cfg.update(CREDS)
    resp = d.request(cfg)
    assert_error(resp, "kms_decrypt_failed")
    d.terminate()
    for name in ("aws_secret_access_key", "aws_session_token", "aws_access_key_id"):
        assert CREDS[name] not in d.log(), name
        assert CREDS[name] not in resp["details"], name


def test_fake_tool_key_not_logged(start_daemon, fake_kms):
    d = start_daemon("--log-level", "debug", kmstool=fake_kms.path)
    cfg = {"type": "configure", "encrypted_tsk": fake_kms.token("key1")}
    cfg.update(CREDS)
    assert d.request(cfg)["status"] == "ok"
    # invalid_key: the wrong-sized "key" is also secret material
    cfg["encrypted_tsk"] = fake_kms.token("short")
    assert_error(d.request(cfg), "invalid_key")
    d.terminate()
    _check(d.log(), fake_kms.K1, "enclaved's log")


def _smaps_flags(pid):
    """VmFlags of every mapping of `pid`."""
    flags = []
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            if line.startswith("VmFlags:"):
                flags.append(set(line.split()[1:]))
    return flags


def test_key_memory_locked_and_not_dumped(fake_configured_daemon):
    # "The TSK lives only in enclave memory: locked against swap, excluded
    # from core dumps"
    pid = fake_configured_daemon.pid
    with open("/proc/%d/status" % pid) as f:
        vmlck = [l for l in f if l.startswith("VmLck:")][0].split()
    assert int(vmlck[1]) > 0, "no locked memory after configure (VmLck %s kB)" % vmlck[1]
    locked = [f for f in _smaps_flags(pid) if "lo" in f]
    assert locked, "no mapping is mlocked"
    assert any("dd" in f for f in locked), \
        "no locked mapping is excluded from core dumps (MADV_DONTDUMP)"


def test_credentials_do_not_linger_in_daemon_memory(start_daemon, kmstool_dev_bin):
    """After configure (ok, and refused) the AWS credentials are wiped
    wherever the daemon held them: the wire bytes of the message, cJSON's
    copies, the locked copies for the KMS call."""
    d = start_daemon()
    skip_memory_scan_under_asan(d.pid)
    tsk, key = genkey()
    cfg = {"type": "configure", "encrypted_tsk": tsk}
    cfg.update(CREDS)
    with d.connect() as c:
        assert c.request(cfg)["status"] == "ok"
        # the same connection stays open: its input buffer is still there
        assert c.request({"type": "ping"})["msg"] == "pong"
        assert_error(c.request(dict(cfg, aws_access_key_id="DEVDENY"), "len"),
                     "kms_decrypt_failed")
        # a configure cut off mid-message by its client
        with d.connect() as cut:
            cut.send_raw(json.dumps(cfg).encode()[:-2])
            time.sleep(0.2)
        time.sleep(0.3)
        memory = process_memory(d.pid)
        assert len(memory) > 1 << 20
        for name in ("aws_secret_access_key", "aws_session_token"):
            assert CREDS[name].encode() not in memory, \
                "%s found in enclaved's memory" % name
        # the check can see a secret: the plaintext TSK is meant to be there
        assert key in memory


def _fresh_creds():
    """Credentials of this test alone, long enough that a stray copy is
    unmistakable, with the session token last in the message."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    rnd = lambda n: "".join(secrets.choice(alphabet) for _ in range(n))
    upper = lambda n: "".join(secrets.choice(alphabet[:26] + alphabet[52:])
                              for _ in range(n))
    return {"aws_access_key_id": "AKIA" + upper(16),
            "aws_secret_access_key": rnd(40),
            "aws_session_token": "FwoG" + rnd(296)}


def _configure_bytes(tsk, creds, extra=None):
    msg = {"type": "configure", "encrypted_tsk": tsk}
    msg.update(extra or {})
    msg.update(creds)       # the session token is the message's last member
    return json.dumps(msg, separators=(",", ":")).encode()


@pytest.mark.parametrize("case", ["bulk-cut", "ping-then-configure",
                                  "process-then-configure", "grown-buffer"])
def test_secret_bytes_wiped_wherever_copied_or_moved(start_daemon, kmstool_dev_bin,
                                                     case):
    """Finding F10 (issue 16 item 1): every byte of a configure is wiped
    wherever the daemon copied or moved it, not only where it was parsed.
      bulk-cut: an extra 128+ character "ciphertext" member made the
        bulk-field cut copy the whole message, credentials included, into
        a buffer freed unwiped;
      ping-then-configure: in one write, the ping's removal moved the
        configure to the front of the input buffer and left the old tail
        (the session token) behind;
      process-then-configure: after a process request decoded in place,
        the configure behind it was copied out and back between buffers;
      grown-buffer: a configure arriving in two parts, the input buffer
        grown (moved) between them."""
    d = start_daemon()
    skip_memory_scan_under_asan(d.pid)
    tsk, key = genkey()
    creds = _fresh_creds()
    with d.connect() as c:
        if case == "bulk-cut":
            c.send_raw(_configure_bytes(tsk, creds, {"ciphertext": "00" * 100}))
            assert c.recv_bare()["status"] == "ok"
        elif case == "ping-then-configure":
            ping = json.dumps({"type": "ping", "pad": "x" * 500}).encode()
            c.send_raw(ping + _configure_bytes(tsk, creds))
            assert c.recv_bare()["msg"] == "pong"
            assert c.recv_bare()["status"] == "ok"
        elif case == "process-then-configure":
            assert c.request(json.loads(_configure_bytes(tsk, _fresh_creds())))[
                "status"] == "ok"
            proc = json.dumps({"type": "process",
                               "ciphertext": seal(key, b"p" * 200)}).encode()
            c.send_raw(proc + _configure_bytes(tsk, creds))
            assert c.recv_bare()["status"] == "ok"
            assert c.recv_bare()["status"] == "ok"
        else:
            # the credentials first, then 100 kB of padding
            msg = _configure_bytes(tsk, creds)[:-1] + b',"pad":"' + \
                b"x" * 100000 + b'"}'
            half = 50000
            c.send_raw(msg[:half])
            time.sleep(0.3)
            c.send_raw(msg[half:])
            assert c.recv_bare()["status"] == "ok"
        # the connection stays open: its buffers are all still there
        assert c.request({"type": "ping"})["msg"] == "pong"
        time.sleep(0.2)
        memory = process_memory(d.pid)
        for name in ("aws_secret_access_key", "aws_session_token"):
            assert creds[name].encode() not in memory, \
                "%s found in enclaved's memory" % name
        assert key in memory
