"""
enclaved: configure's credentials are bounded by what AWS issues, and the
locked memory that holds them is sized for every configure that may run at
once (F17). Before, the locked heap was a fixed 256 KiB: five configures
with 8 KiB credentials fit, the sixth got `internal_error`.
"""

import string
import threading

from helpers.harness import CREDS, FakeKms, assert_error

# The bounds in src/enclave/kms/kms.h (STS Credentials, IAM AccessKey).
ACCESS_KEY_ID_MAX = 128
SECRET_ACCESS_KEY_MAX = 1024
SESSION_TOKEN_MAX = 8192
# More than run at once (64 job slots): some wait their turn, holding a slot.
CONCURRENT = 80


def _longest(prefix, n):
    """A distinct credential of exactly n characters."""
    alphabet = string.ascii_letters + string.digits
    body = "".join(alphabet[(i * 7 + len(prefix)) % len(alphabet)] for i in range(n))
    return (prefix + body)[:n]


def _maximal_creds(i):
    return {
        # an access key id is uppercase letters and digits (F32)
        "aws_access_key_id": _longest("AKIA%03d" % i, ACCESS_KEY_ID_MAX).upper(),
        "aws_secret_access_key": _longest("secret%03d" % i, SECRET_ACCESS_KEY_MAX),
        "aws_session_token": _longest("token%03d" % i, SESSION_TOKEN_MAX),
    }


def test_concurrent_configures_with_longest_credentials(start_daemon, tmp_path):
    fk = FakeKms(tmp_path)
    d = start_daemon("--kms-timeout", "60", kmstool=fk.path)
    out = [None] * CONCURRENT

    def go(i):
        out[i] = d.configure(fk.token("slow-key2"), creds=_maximal_creds(i),
                             timeout=120)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(CONCURRENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(180)
    assert all(r is not None for r in out), out
    msgs = [r.get("msg") for r in out]
    # Never internal_error: configured, or busy when locked memory ran out.
    assert set(msgs) <= {"configured", "busy"}, sorted(set(msgs))
    # Sized for them all, none should even be busy.
    assert msgs.count("configured") == CONCURRENT, msgs
    assert d.request({"type": "health"})["configured"] is True
    assert "locked memory for keys and credentials" in d.log()
    for r in out:
        text = str(r)
        assert "AKIA0" not in text and "secret0" not in text and "token0" not in text


def test_credential_longer_than_aws_issues_is_invalid_field(start_daemon, tmp_path):
    fk = FakeKms(tmp_path)
    d = start_daemon(kmstool=fk.path)
    bounds = {"aws_access_key_id": ACCESS_KEY_ID_MAX,
              "aws_secret_access_key": SECRET_ACCESS_KEY_MAX,
              "aws_session_token": SESSION_TOKEN_MAX}
    with d.connect() as c:
        for field, n in bounds.items():
            creds = dict(CREDS, **{field: _longest("x", n + 1)})
            resp = c.request(dict({"type": "configure",
                                   "encrypted_tsk": fk.token("key1")}, **creds))
            assert_error(resp, "invalid_field")
            assert field in resp["details"] and str(n) in resp["details"], resp
            assert creds[field] not in str(resp)
        # The longest of each is fine, on the same connection.
        resp = c.request(dict({"type": "configure", "encrypted_tsk": fk.token("key1")},
                              **_maximal_creds(0)))
        assert resp.get("msg") == "configured", resp
    assert fk.calls() == 1
