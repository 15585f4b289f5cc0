"""
enclaved --bind-direction (F20, opt-in): a process input opens under the aad
b"request\\0" + aad, its result is sealed under b"result\\0" + aad
(docs/protocol.md), so a result fed back as a request is decrypt_failed.
Without the flag nothing changes. enclavectl seal/open --direction and the
Python example (docs/examples/data_owner.py) use the same bytes.
"""

import importlib.util
import os
import subprocess

import pytest
from cryptography.exceptions import InvalidTag

from helpers.gateway import Gateway
from helpers.harness import assert_error, binary, open_sealed, seal

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                       "docs", "examples", "data_owner.py")


def _load_example():
    spec = importlib.util.spec_from_file_location("data_owner", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def bound(start_daemon, dev_key):
    d = start_daemon("--bind-direction")
    tsk, key = dev_key
    assert d.configure(tsk)["status"] == "ok"
    d.key = key
    return d


def test_bound_daemon_opens_requests_and_seals_results(bound):
    ct = seal(bound.key, b"state-1", aad=b"request\0wf/7")
    resp = bound.process(ct, aad="wf/7")
    assert resp["status"] == "ok", resp
    assert open_sealed(bound.key, resp["result"], aad=b"result\0wf/7") == b"state-1"
    for wrong in (b"wf/7", b"request\0wf/7", b"result\0wf/8", b"result wf/7"):
        with pytest.raises(InvalidTag):
            open_sealed(bound.key, resp["result"], aad=wrong)


def test_bound_daemon_refuses_a_result_fed_back_as_request(bound):
    """F20: the same key, aad and layout; only the direction tells them apart."""
    ct = seal(bound.key, b"state-1", aad=b"request\0wf/7")
    result = bound.process(ct, aad="wf/7")["result"]
    assert_error(bound.process(result, aad="wf/7"), "decrypt_failed")
    # The daemon keeps serving, and the original request still works.
    assert bound.process(ct, aad="wf/7")["status"] == "ok"


def test_bound_daemon_refuses_an_unbound_ciphertext(bound):
    for aad in ("wf/7", None):
        ct = seal(bound.key, b"x", aad=aad.encode() if aad else None)
        assert_error(bound.process(ct, aad=aad), "decrypt_failed")


def test_bound_daemon_without_aad_uses_the_bare_label(bound):
    ct = seal(bound.key, b"x", aad=b"request\0")
    for aad in (None, ""):
        resp = bound.process(ct, aad=aad)
        assert resp["status"] == "ok", resp
        assert open_sealed(bound.key, resp["result"], aad=b"result\0") == b"x"


def test_bound_daemon_keeps_nul_in_aad(bound):
    """The label's NUL does not end the aad: "a\\u0000b" is the bytes a 0 b."""
    ct = seal(bound.key, b"x", aad=b"request\0a\0b")
    resp = bound.process(ct, aad="a\0b")
    assert resp["status"] == "ok", resp
    assert open_sealed(bound.key, resp["result"], aad=b"result\0a\0b") == b"x"
    assert_error(bound.process(seal(bound.key, b"x", aad=b"request\0a"), aad="a\0b"),
                 "decrypt_failed")


def test_unbound_daemon_is_unchanged(configured_daemon):
    """Without the flag: the aad as it is, and a result opens as a request
    (the design the flag exists to close; docs/security.md)."""
    d = configured_daemon
    ct = seal(d.key, b"state-1", aad=b"wf/7")
    result = d.process(ct, aad="wf/7")["result"]
    assert open_sealed(d.key, result, aad=b"wf/7") == b"state-1"
    again = d.process(result, aad="wf/7")
    assert again["status"] == "ok", again
    assert_error(d.process(seal(d.key, b"x", aad=b"request\0wf/7"), aad="wf/7"),
                 "decrypt_failed")


def test_agent_state_cannot_be_rolled_back_as_a_request(start_daemon, dev_key):
    d = start_daemon("--bind-direction", "--step", "agent")
    tsk, key = dev_key
    assert d.configure(tsk)["status"] == "ok"
    ct = seal(key, b'{"iteration":0,"data":{}}', aad=b"request\0agent-7")
    out = d.process(ct, aad="agent-7")
    assert out["status"] == "ok", out
    assert b'"iteration":1' in open_sealed(key, out["result"], aad=b"result\0agent-7")
    assert_error(d.process(out["result"], aad="agent-7"), "decrypt_failed")


def _ctl(*args, input=b""):
    return subprocess.run([binary("enclavectl")] + [str(a) for a in args],
                          input=input, capture_output=True, timeout=60)


def test_enclavectl_direction_round_trip(bound, enclavectl_bin, tmp_path):
    keyfile = tmp_path / "key"
    keyfile.write_bytes(bound.key.hex().encode())
    p = _ctl("seal", "--key-file", keyfile, "--aad", "wf/7", "--direction", "request",
             input=b"hello")
    assert p.returncode == 0, p.stderr
    ct = p.stdout.decode().strip()
    assert open_sealed(bound.key, ct, aad=b"request\0wf/7") == b"hello"
    p = _ctl("--enclave", bound.tcp, "process", "--aad", "wf/7", input=ct.encode())
    assert p.returncode == 0, p.stderr
    result = p.stdout
    p = _ctl("open", "--key-file", keyfile, "--aad", "wf/7", "--direction", "result",
             input=result)
    assert p.returncode == 0 and p.stdout == b"hello", p.stderr
    # The wrong direction, or none, does not open it.
    for extra in (["--direction", "request"], []):
        p = _ctl("open", "--key-file", keyfile, "--aad", "wf/7", *extra, input=result)
        assert p.returncode == 1, (extra, p.stderr)
        assert b"authentication failed" in p.stderr
    # A result fed back through enclavectl process: decrypt_failed, exit 1.
    p = _ctl("--enclave", bound.tcp, "process", "--aad", "wf/7", input=result)
    assert p.returncode == 1 and b"decrypt_failed" in p.stderr, p.stderr


def test_enclavectl_direction_usage(enclavectl_bin, tmp_path):
    keyfile = tmp_path / "key"
    keyfile.write_bytes(b"00" * 32)
    for cmd in ("seal", "open"):
        p = _ctl(cmd, "--key-file", keyfile, "--direction", "sideways", input=b"x")
        assert p.returncode == 2, p.stderr
        assert b"--direction takes request or result" in p.stderr
        p = _ctl(cmd, "--help")
        assert p.returncode == 0 and b"--direction" in p.stdout


def test_python_example_follows(bound, configured_daemon):
    ex = _load_example()
    ct = ex.seal_request(bound.key, b"doc", aad="wf/7", bind_direction=True)
    resp = bound.process(ct, aad="wf/7")
    assert resp["status"] == "ok", resp
    assert ex.open_result(bound.key, resp["result"], aad="wf/7",
                          bind_direction=True) == b"doc"
    with pytest.raises(InvalidTag):
        ex.open_result(bound.key, ct, aad="wf/7", bind_direction=True)
    # Unbound, against a daemon without the flag (same key from dev_key).
    d = configured_daemon
    ct = ex.seal_request(d.key, b"doc", aad="wf/7")
    resp = d.process(ct, aad="wf/7")
    assert ex.open_result(d.key, resp["result"], aad="wf/7") == b"doc"


def test_gateway_forwards_bound_requests_unchanged(start_daemon, dev_key, tmp_path):
    """The gateway needs nothing: it forwards the aad as it is, and a result
    fed back through it is 422 decrypt_failed."""
    if not os.access(binary("enclave-gateway"), os.X_OK):
        pytest.skip("enclave-gateway not built")
    tsk, key = dev_key
    d = start_daemon("--bind-direction", unix=False)
    g = Gateway(tmp_path, [d.tcp], tsk=tsk)
    try:
        g.wait_healthy()
        ct = seal(key, b"via gateway", aad=b"request\0wf/9")
        status, _, body = g.process(ct, aad="wf/9")
        assert status == 200, body
        assert open_sealed(key, body["result"], aad=b"result\0wf/9") == b"via gateway"
        status, _, body = g.process(body["result"], aad="wf/9")
        assert status == 422 and body["error"] == "decrypt_failed", body
    finally:
        g.stop()
