"""
Adversarial tests: a KMS tool that hangs, crashes, floods or lies (issue 4;
the threat model is docs/security.md; the daemons, fixtures and the check
after every test: helpers/adversary.py).
"""

import json
import os
import threading
import time

import pytest

from helpers import harness
from helpers.harness import CREDS, assert_error, open_sealed, seal
from helpers.adversary import (  # fixtures and helpers
    K1,
    K2,
    KMS_TIMEOUT,
    dev_key_mod,
    fake,
    fake_dir,
    fake_holder,
    fake_token,
    io_scale,
    ping_ok,
    rss_kb,
    sanitized_build,
    still_serving,
    workdir)


# --- the KMS tool ------------------------------------------------------------------------

def configure_fake(d, mode, timeout=None):
    return d.configure(fake_token(mode), timeout=timeout or (KMS_TIMEOUT + 8) * io_scale())


def key_untouched(d):
    resp = d.process(seal(d.key, b"still K1"))
    assert open_sealed(d.key, resp["result"]) == b"still K1"


@pytest.mark.parametrize("mode,code", [
    ("segv", "kms_decrypt_failed"),
    ("ok-then-segv", "kms_decrypt_failed"),
    ("garbage", "kms_decrypt_failed"),
    ("binary", "kms_decrypt_failed"),
    ("empty", "kms_decrypt_failed"),
    ("key16", "invalid_key"),
    ("key33", "invalid_key"),
])
def test_kms_tool_misbehaves(fake, mode, code):
    resp = configure_fake(fake, mode)
    assert_error(resp, code)
    assert "\x00" not in resp["details"]
    assert all(0x20 <= ord(ch) < 0x7f for ch in resp["details"]), resp
    key_untouched(fake)


def test_kms_tool_hangs(fake):
    # Killed at --kms-timeout; meanwhile the daemon serves others.
    result = {}

    def slow():
        t0 = time.monotonic()
        result["resp"] = configure_fake(fake, "hang")
        result["elapsed"] = time.monotonic() - t0

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    ping_ok(fake)
    assert time.monotonic() - t0 < 1.0 * io_scale()
    t.join()
    assert_error(result["resp"], "kms_timeout")
    assert KMS_TIMEOUT - 0.5 <= result["elapsed"] < KMS_TIMEOUT + 3 * io_scale(), result
    pid = int(open(os.path.join(fake.fake_dir, "last-pid")).read())
    assert harness.pid_gone(pid, timeout=3), "the hung tool %d is still there" % pid
    key_untouched(fake)


def test_kms_tool_hangs_with_a_grandchild(fake):
    # The tool's own children die with it (process group).
    resp = configure_fake(fake, "hang-child")
    assert_error(resp, "kms_timeout")
    child = int(open(os.path.join(fake.fake_dir, "child-pid")).read())
    assert harness.pid_gone(child, timeout=3), "grandchild %d survived" % child
    key_untouched(fake)


@pytest.mark.parametrize("mode", ["flood", "flood-stderr", "flood-then-key"])
def test_kms_tool_floods(fake, mode):
    before = rss_kb(fake.pid)
    t0 = time.monotonic()
    resp = configure_fake(fake, mode)
    assert resp["status"] == "error", resp
    assert resp["msg"] in ("kms_timeout", "kms_decrypt_failed"), resp
    assert time.monotonic() - t0 < KMS_TIMEOUT + 5 * io_scale()
    assert len(resp["details"]) < 1024
    # Output is read into bounded buffers: no memory grows with the flood.
    if not sanitized_build():
        assert rss_kb(fake.pid) - before < 16 * 1024
    key_untouched(fake)


def test_kms_tool_reason_redacts_credentials(fake):
    resp = configure_fake(fake, "deny-echo-creds")
    assert_error(resp, "kms_decrypt_failed")
    text = json.dumps(resp)
    for name in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
        assert CREDS[name] not in text, (name, text)
    log = fake.log()
    for name in ("aws_secret_access_key", "aws_session_token"):
        assert CREDS[name] not in log, name


def test_concurrent_configures_with_bad_tools(fake):
    modes = ["segv", "garbage", "key16", "hang", "flood", "empty"] * 2
    out = [None] * len(modes)

    def go(i, m):
        out[i] = configure_fake(fake, m)

    ts = [threading.Thread(target=go, args=(i, m)) for i, m in enumerate(modes)]
    for t in ts:
        t.start()
    ping_ok(fake)
    for t in ts:
        t.join()
    assert all(r and r["status"] == "error" for r in out), out
    key_untouched(fake)


def test_kms_tool_then_good_key(fake):
    resp = configure_fake(fake, "ok2")
    assert resp["status"] == "ok", resp
    fake.key = K2
    try:
        key_untouched(fake)
    finally:
        assert configure_fake(fake, "ok")["status"] == "ok"
        fake.key = K1
