"""
enclaved: `configure` (protocol.md "configure") through the real kmstool-dev
and through fake KMS tools for every failure mode: kms_decrypt_failed,
kms_timeout, invalid_key, and "a failed configure leaves the key in use, if
any, untouched".
"""

import base64
import os
import time

import pytest

from helpers.harness import (CREDS, REGION, FakeKms, assert_error,
                             assert_timestamp, genkey, open_sealed,
                             pid_gone, seal)


def _works_with(d, key, aad=None):
    """True when `process` works under `key` on daemon d (echo step)."""
    pt = os.urandom(20)
    resp = d.process(seal(key, pt, aad), aad)
    if resp.get("status") != "ok":
        return False
    return open_sealed(key, resp["result"], aad) == pt


def _process_tree(root):
    """{pid: (state, ppid, name)} of root and all its descendants."""
    procs = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        procs[int(entry)] = (fields[0], int(fields[1]), name)
    tree, grew = {root}, True
    while grew:
        more = {p for p, (_, ppid, _) in procs.items() if ppid in tree}
        grew = not more <= tree
        tree |= more
    return {p: procs[p] for p in tree if p in procs}


def test_no_zombie_left_after_a_configure(daemon, dev_key):
    """The KMS broker's per-call child is reaped when it ends, not at the
    next configure (issue 25 item 7: an `[enclaved-kms] <defunct>` stayed
    after each configure)."""
    tsk, _ = dev_key
    for _ in range(2):
        assert daemon.configure(tsk)["status"] == "ok"
    deadline = time.monotonic() + 5
    while True:
        zombies = {p: v for p, v in _process_tree(daemon.pid).items()
                   if v[0] == "Z"}
        if not zombies or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert zombies == {}, zombies
    # The broker itself is still there and serves the next configure.
    names = [v[2] for v in _process_tree(daemon.pid).values()]
    assert "enclaved-kms" in names, names
    assert daemon.configure(tsk)["status"] == "ok"


# --- with kmstool-dev -----------------------------------------------------------------

def test_configure_with_kmstool_dev_then_process(daemon, dev_key):
    tsk, key = dev_key
    assert len(key) == 32
    resp = daemon.configure(tsk)
    assert resp["status"] == "ok", resp
    assert resp["msg"] == "configured"
    assert_timestamp(resp["timestamp"])
    assert daemon.request({"type": "health"})["configured"] is True
    data = b'{"hello":"world"}'
    nonce = os.urandom(12)
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    ct = (nonce + AESGCM(key).encrypt(nonce, data, b"job-42")).hex()
    resp = daemon.process(ct, aad="job-42")
    assert resp["status"] == "ok", resp
    raw = bytes.fromhex(resp["result"])
    assert AESGCM(key).decrypt(raw[:12], raw[12:], b"job-42") == data


def test_configure_with_explicit_region(daemon, dev_key):
    tsk, key = dev_key
    resp = daemon.configure(tsk, region=REGION)
    assert resp["status"] == "ok", resp
    assert _works_with(daemon, key)


def test_configure_replaces_key(daemon, kmstool_dev_bin):
    tsk1, k1 = genkey()
    tsk2, k2 = genkey()
    assert k1 != k2
    assert daemon.configure(tsk1)["status"] == "ok"
    assert _works_with(daemon, k1)
    assert daemon.configure(tsk2)["status"] == "ok"
    assert _works_with(daemon, k2)
    # the old key is gone
    assert_error(daemon.process(seal(k1, b"old")), "decrypt_failed")


def test_kmstool_dev_denied_is_kms_decrypt_failed(daemon, dev_key):
    tsk, _ = dev_key
    creds = dict(CREDS, aws_access_key_id="DEVDENY")
    resp = daemon.configure(tsk, creds=creds)
    assert_error(resp, "kms_decrypt_failed",
                 mentions="Got non-200 answer from KMS: 400")
    for secret in creds.values():
        assert secret not in resp["details"]
    assert daemon.request({"type": "health"})["configured"] is False


def test_kmstool_dev_denied_keeps_earlier_key(configured_daemon, dev_key):
    tsk, key = dev_key
    creds = dict(CREDS, aws_access_key_id="DEVDENY")
    assert_error(configured_daemon.configure(tsk, creds=creds), "kms_decrypt_failed")
    assert configured_daemon.request({"type": "health"})["configured"] is True
    assert _works_with(configured_daemon, key)


def test_kmstool_dev_aes128_key_is_invalid_key(daemon, kmstool_dev_bin):
    tsk, key = genkey(key_spec="AES-128")
    assert len(key) == 16
    assert_error(daemon.configure(tsk), "invalid_key")
    assert daemon.request({"type": "health"})["configured"] is False


def test_kmstool_dev_garbage_blob_is_kms_decrypt_failed(daemon, kmstool_dev_bin):
    resp = daemon.configure(base64.b64encode(os.urandom(120)).decode())
    assert_error(resp, "kms_decrypt_failed")


# --- how the KMS tool is run -------------------------------------------------------------

def test_kms_tool_command_line(fake_daemon, fake_kms):
    assert fake_daemon.configure(fake_kms.token("key1"))["status"] == "ok"
    args = fake_kms.last_args()
    assert args[0] == "decrypt", args
    opts = dict(zip(args[1::2], args[2::2]))
    assert opts.get("--ciphertext") == fake_kms.token("key1"), args
    assert opts.get("--region") == "eu-west-3", args          # daemon's --region
    assert opts.get("--proxy-port") == "8123", args
    assert opts.get("--aws-access-key-id") == CREDS["aws_access_key_id"]
    assert opts.get("--aws-secret-access-key") == CREDS["aws_secret_access_key"]
    assert opts.get("--aws-session-token") == CREDS["aws_session_token"]


def test_request_region_overrides_default(fake_daemon, fake_kms):
    resp = fake_daemon.configure(fake_kms.token("key1"), region="us-west-2")
    assert resp["status"] == "ok", resp
    args = fake_kms.last_args()
    assert args[args.index("--region") + 1] == "us-west-2", args


def test_credentials_passed_verbatim_without_shell(fake_daemon, fake_kms, tmp_path):
    """Every character base64 credentials may hold reaches the tool as is."""
    creds = {
        "aws_access_key_id": "ASIAQNZGKIQY56JQ7WML",
        "aws_secret_access_key": "wJalrXUtnFEMI/K7+MDENG=bPxRfiCY/secret==",
        "aws_session_token": "IQoJb3JpZ2luX2VjEJr//////////wEa+/A==",
    }
    resp = fake_daemon.configure(fake_kms.token("key1"), creds=creds)
    assert resp["status"] == "ok", resp
    args = fake_kms.last_args()
    opts = dict(zip(args[1::2], args[2::2]))
    assert opts["--aws-access-key-id"] == creds["aws_access_key_id"]
    assert opts["--aws-secret-access-key"] == creds["aws_secret_access_key"]
    assert opts["--aws-session-token"] == creds["aws_session_token"]


@pytest.mark.parametrize("field,value", [
    ("aws_access_key_id", "AKIAXX\r\nX-Evil: 1"),
    ("aws_access_key_id", "AKIA with spaces"),
    ("aws_secret_access_key", "s3cr'et\"$(touch MARKER);`touch MARKER` *"),
    ("aws_session_token", "tok;en|&>x\\"),
    ("aws_session_token", "FwoG\r\nX-Evil: 1"),
])
def test_credentials_outside_their_alphabet_are_invalid_field(
        fake_daemon, fake_kms, tmp_path, field, value):
    """F32: a CR/LF in the access key id reached the KMS request's
    Authorization header; in the token it gave internal_error. Now each
    credential must be in the alphabet AWS issues it in; the answer names
    the field, never quotes the value, and the tool never runs."""
    marker = tmp_path / "pwned"
    value = value.replace("MARKER", str(marker))
    before = fake_kms.calls()
    resp = fake_daemon.configure(fake_kms.token("key1"),
                                 creds=dict(CREDS, **{field: value}))
    assert_error(resp, "invalid_field", mentions=field)
    assert value not in resp["details"]
    assert "Evil" not in resp["details"]
    assert fake_kms.calls() == before
    assert not marker.exists()


def test_kms_tool_gets_clean_environment(start_daemon, fake_kms):
    d = start_daemon("--kms-timeout", "5", kmstool=fake_kms.path,
                     env={"ENCLAVE_TEST_CANARY": "canary-3141592653",
                          "AWS_SECRET_ACCESS_KEY": "from-the-daemon-env"})
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    env = fake_kms.last_env()
    assert env is not None
    assert "canary-3141592653" not in env
    assert "from-the-daemon-env" not in env
    assert "HOME=" not in env


# --- failure modes with fake tools ------------------------------------------------------

FAILURES = [
    # mode, expected code(s)
    ("deny", {"kms_decrypt_failed"}),
    ("exit1", {"kms_decrypt_failed"}),
    ("garbage", {"kms_decrypt_failed"}),
    ("empty", {"kms_decrypt_failed"}),
    ("key2-exit255", {"kms_decrypt_failed"}),
    ("key2-killed", {"kms_decrypt_failed"}),
    ("short", {"invalid_key"}),
    ("long", {"invalid_key"}),
    ("badb64", {"kms_decrypt_failed", "invalid_key"}),
    ("sleep", {"kms_timeout"}),
    ("sleep-child", {"kms_timeout"}),
    ("flood-stdout", {"kms_decrypt_failed", "kms_timeout"}),
    ("flood-stderr", {"kms_decrypt_failed", "kms_timeout"}),
    ("big-garbage", {"kms_decrypt_failed", "kms_timeout"}),
    ("weird-reason", {"kms_decrypt_failed"}),
]


@pytest.mark.parametrize("mode,codes", FAILURES, ids=[m for m, _ in FAILURES])
def test_failed_configure_on_unconfigured_daemon(fake_daemon, fake_kms, mode, codes):
    t0 = time.monotonic()
    resp = fake_daemon.configure(fake_kms.token(mode), timeout=10)
    took = time.monotonic() - t0
    assert resp.get("status") == "error", resp
    assert resp["msg"] in codes, resp
    assert_error(resp, resp["msg"])
    assert took < 5, "configure took %.1f s with --kms-timeout 1" % took
    if resp["msg"] == "kms_timeout":
        assert took >= 0.8, "kms_timeout after %.2f s with --kms-timeout 1" % took
    for secret in CREDS.values():
        assert secret not in resp["details"], resp
    # the tool was killed and reaped (a zombie still has a /proc entry)
    pid = fake_kms.last_pid()
    assert pid and pid_gone(pid, 3), "KMS tool %s not killed or not reaped" % pid
    if mode.startswith("flood"):
        with open("/proc/%d/status" % fake_daemon.pid) as f:
            hwm = [l for l in f if l.startswith("VmHWM")][0].split()
        assert int(hwm[1]) < 512 * 1024, "daemon peak RSS %s kB after a flood" % hwm[1]
    # still unconfigured, still serving
    assert fake_daemon.request({"type": "health"})["configured"] is False
    assert_error(fake_daemon.process(seal(fake_kms.K2, b"x")), "not_configured")


# the slow modes once above are enough; here one of them
KEEP = [(m, c) for m, c in FAILURES
        if m not in ("sleep-child", "flood-stdout", "flood-stderr", "big-garbage")]


@pytest.mark.parametrize("mode,codes", KEEP, ids=[m for m, _ in KEEP])
def test_failed_configure_keeps_earlier_key(fake_configured_daemon, fake_kms, mode, codes):
    d = fake_configured_daemon
    resp = d.configure(fake_kms.token(mode), timeout=10)
    assert resp.get("status") == "error", resp
    assert resp["msg"] in codes, resp
    assert d.request({"type": "health"})["configured"] is True
    assert _works_with(d, fake_kms.K1), "the earlier key stopped working"
    assert_error(d.process(seal(fake_kms.K2, b"x")), "decrypt_failed")


def test_kms_failure_details_carry_reason_not_credentials(fake_daemon, fake_kms):
    resp = fake_daemon.configure(fake_kms.token("deny"))
    assert_error(resp, "kms_decrypt_failed", mentions=FakeKms.REASON)
    for name, secret in CREDS.items():
        assert secret not in resp["details"], (name, resp)
    # not even in a response on the same connection or the log
    assert CREDS["aws_secret_access_key"] not in fake_daemon.log()
    assert CREDS["aws_session_token"] not in fake_daemon.log()


def test_plaintext_line_without_newline_is_accepted(fake_daemon, fake_kms):
    resp = fake_daemon.configure(fake_kms.token("key1-noeol"))
    assert resp["status"] == "ok", resp
    assert _works_with(fake_daemon, fake_kms.K1)


def test_reconfigure_with_fake_tool_switches_keys(fake_configured_daemon, fake_kms):
    d = fake_configured_daemon
    assert _works_with(d, fake_kms.K1)
    assert d.configure(fake_kms.token("key2"))["status"] == "ok"
    assert _works_with(d, fake_kms.K2)
    assert_error(d.process(seal(fake_kms.K1, b"x")), "decrypt_failed")
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    assert _works_with(d, fake_kms.K1)


def test_kms_reason_with_odd_bytes_still_valid_json(fake_daemon, fake_kms):
    # the tool's reason carries quotes, backslashes, a control byte and a
    # non-UTF-8 byte: the response must still be one valid (UTF-8) JSON object
    for framing in ("bare", "len"):
        with fake_daemon.connect() as c:
            msg = {"type": "configure", "encrypted_tsk": fake_kms.token("weird-reason")}
            msg.update(CREDS)
            resp = c.request(msg, framing)
            assert_error(resp, "kms_decrypt_failed",
                         mentions="Got non-200 answer from KMS: 400")
            assert c.request({"type": "ping"}, framing)["msg"] == "pong"


def test_configure_ignores_unknown_fields(fake_daemon, fake_kms):
    resp = fake_daemon.configure(fake_kms.token("key1"), extra={"a": [1]},
                                 key_id="ignored")
    assert resp["status"] == "ok", resp


@pytest.mark.parametrize("region", ["eu-west-1 --ciphertext AAAA",
                                    "--aws-session-token",
                                    "us-east-1\nINFO fake log line"])
def test_region_cannot_inject_tool_arguments(fake_daemon, fake_kms, region):
    resp = fake_daemon.configure(fake_kms.token("key1"), region=region)
    if resp.get("status") == "error":
        # refusing an impossible region is fine, as a field error
        assert resp["msg"] in ("invalid_field", "kms_decrypt_failed"), resp
        return
    args = fake_kms.last_args()
    assert args.count("--ciphertext") == 1, args
    assert args[args.index("--ciphertext") + 1] == fake_kms.token("key1"), args
    assert args[args.index("--region") + 1] == region, args


def test_key_exhausted_past_max_encryptions_until_reconfigured(start_daemon,
                                                               kmstool_dev_bin):
    # NIST SP 800-38D: a key may seal only so many messages with random
    # nonces. Past --max-encryptions process answers key_exhausted, the
    # count stops, and a new key starts from zero.
    d = start_daemon("--max-encryptions", "3")
    tsk1, k1 = genkey()
    tsk2, k2 = genkey()
    assert d.configure(tsk1)["status"] == "ok"
    for i in range(3):
        assert d.process(seal(k1, b"m%d" % i))["status"] == "ok"
    resp = d.process(seal(k1, b"one too many"))
    assert_error(resp, "key_exhausted")
    assert "3" in resp["details"]
    health = d.request({"type": "health"})
    assert health["key_encryptions"] == 3
    assert health["key_encryption_limit"] == 3
    assert d.configure(tsk2)["status"] == "ok"
    assert d.request({"type": "health"})["key_encryptions"] == 0
    assert _works_with(d, k2)
