"""
enclaved: requests are I-JSON (RFC 7493; protocol.md "Messages"). Two
members of one name in any object, at any depth, or a member name holding
U+0000 make a request invalid_json: otherwise the host's checker and the
enclave could each read another member (issue 14 item 1, issue 16 item 3;
docs/security.md F12, F21). Names compare byte for byte once decoded, so
"a" and "\\u0061" are one name.
"""

import json

import pytest

from helpers.harness import assert_error, open_sealed, seal

FRAMINGS = ["bare", "len"]


def _send(d, raw, framing="bare"):
    """Raw request bytes on a new connection; the reply, then a ping on the
    same connection (a refused request costs only itself)."""
    with d.connect() as c:
        if framing == "bare":
            c.send_raw(raw)
        else:
            c.send_len(raw)
        resp = c.recv_reply(framing)
        assert c.request({"type": "ping"}, framing)["msg"] == "pong"
    return resp


def _long_ct(d, pt=b"x" * 200, aad=None):
    ct = seal(d.key, pt, aad)
    assert len(ct) >= 128 + 2        # takes the cut path (bulk_field.h)
    return ct


# --- duplicates ---------------------------------------------------------------

@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("raw", [
    rb'{"type":"ping","type":"process"}',
    rb'{"type":"ping","type":"ping"}',
    rb'{"type":"ping","t\u0079pe":"health"}',
    rb'{"type":"ping","x":1,"x":2}',
    rb'{"type":"ping","x":{"y":1,"y":1}}',
    rb'{"type":"ping","x":[1,{"a":{"b":[{"c":1,"c":2}]}}]}',
    rb'{"type":"ping","\u00e9":1,"' + "\u00e9".encode() + rb'":2}',
    rb'{"type":"ping","":1,"":2}',
], ids=["type-twice", "same-value", "escaped-name", "unknown-field", "nested",
        "deep-in-array", "utf8-vs-escape", "empty-name"])
def test_duplicate_member_names_are_invalid_json(daemon, raw, framing):
    resp = _send(daemon, raw, framing)
    assert_error(resp, "invalid_json")
    assert "duplicate member name" in resp["details"], resp


def test_issue14_ping_then_process_is_refused(fake_configured_daemon):
    # The issue's repro: answered pong before.
    d = fake_configured_daemon
    raw = ('{"type":"ping","type":"process","ciphertext":"%s"}'
           % _long_ct(d)).encode()
    resp = _send(d, raw)
    assert_error(resp, "invalid_json")
    assert '"type"' in resp["details"], resp


@pytest.mark.parametrize("first_long", [True, False])
@pytest.mark.parametrize("second_long", [True, False])
def test_two_ciphertexts_are_refused(fake_configured_daemon, first_long,
                                     second_long):
    # Whichever one the fast path cuts out, the other is still seen.
    d = fake_configured_daemon
    a = _long_ct(d, b"A" * 200) if first_long else seal(d.key, b"A")
    b = _long_ct(d, b"B" * 200) if second_long else seal(d.key, b"B")
    raw = ('{"type":"process","ciphertext":"%s","ciphertext":"%s"}'
           % (a, b)).encode()
    assert_error(_send(d, raw), "invalid_json")


def test_two_aads_are_refused(fake_configured_daemon):
    d = fake_configured_daemon
    ct = _long_ct(d, aad="A")
    raw = ('{"type":"process","ciphertext":"%s","aad":"A","aad":"B"}'
           % ct).encode()
    assert_error(_send(d, raw), "invalid_json")


def test_two_credentials_are_refused(fake_daemon, fake_kms):
    cfg = ('{"type":"configure","encrypted_tsk":"%s","aws_access_key_id":"A",'
           '"aws_secret_access_key":"S","aws_session_token":"T",'
           '"aws_secret_access_key":"S2"}' % fake_kms.token("key1"))
    assert_error(_send(fake_daemon, cfg.encode()), "invalid_json")
    assert fake_kms.calls() == 0
    assert fake_daemon.request({"type": "health"})["configured"] is False


def test_distinct_names_still_pass(fake_configured_daemon):
    # Close but distinct: case, a trailing space, a longer name, and
    # the same name in two different objects.
    d = fake_configured_daemon
    ct = _long_ct(d)
    raw = ('{"type":"process","ciphertext":"%s","Type":1,"type ":2,'
           '"typex":3,"o":{"type":1},"p":{"type":2},"q":[{"a":1},{"a":1}]}'
           % ct).encode()
    resp = _send(d, raw)
    assert resp["status"] == "ok", resp
    assert open_sealed(d.key, resp["result"]) == b"x" * 200


def test_many_members_with_one_duplicate(fake_configured_daemon):
    # Objects past the pairwise check are sorted: the duplicate is found
    # wherever it is, and 20,000 distinct names pass.
    d = fake_configured_daemon
    ct = _long_ct(d)
    names = ",".join('"m%d":%d' % (i, i) for i in range(20000))
    ok = ('{"type":"process","ciphertext":"%s",%s}' % (ct, names)).encode()
    resp = _send(d, ok)
    assert resp["status"] == "ok", resp
    dup = ('{"type":"process",%s,"ciphertext":"%s","m12345":0}'
           % (names, ct)).encode()
    resp = _send(d, dup)
    assert_error(resp, "invalid_json")
    assert '"m12345"' in resp["details"], resp


# --- names holding U+0000 (issue 16 item 3) --------------------------------------

def test_issue16_nul_name_does_not_pick_the_type(daemon):
    # Ran health before: cJSON read "type\u0000x" as "type".
    resp = _send(daemon, rb'{"type\u0000x":"health","type":"ping"}')
    assert_error(resp, "invalid_json")
    assert "U+0000" in resp["details"], resp


def test_issue16_nul_name_does_not_pick_the_aad(fake_configured_daemon):
    # Decrypted with aad "abc" before.
    d = fake_configured_daemon
    ct = seal(d.key, b"payload", "abc")
    raw = (b'{"type":"process","ciphertext":"' + ct.encode() +
           rb'","aad\u0000":"abc\u0000def","aad":"Y"}')
    assert_error(_send(d, raw), "invalid_json")


def test_issue16_nul_name_does_not_pick_the_ciphertext(fake_configured_daemon):
    # Succeeded before, where invalid_hex was due.
    d = fake_configured_daemon
    ct = seal(d.key, b"payload")
    raw = (b'{"type":"process","ciphertext\\u0000":"' + ct.encode() +
           rb'\u0000zz","ciphertext":"00"}')
    assert_error(_send(d, raw), "invalid_json")


@pytest.mark.parametrize("raw", [
    rb'{"\u0000":1,"type":"ping"}',
    rb'{"type":"ping","x":{"a\u0000b":1}}',
    rb'{"type":"ping","x":[{"\u0000":1}]}',
], ids=["bare-nul", "nested", "in-array"])
def test_nul_names_anywhere_are_invalid_json(daemon, raw):
    assert_error(_send(daemon, raw), "invalid_json")


def test_nul_in_values_still_work(fake_configured_daemon):
    # Values keep their exact bytes: aad "a\u0000b" is three bytes.
    d = fake_configured_daemon
    resp = d.process(seal(d.key, b"v", b"a\x00b"), aad="a\u0000b")
    assert resp["status"] == "ok", resp


# --- the agent step -------------------------------------------------------------

@pytest.fixture
def agent_daemon(start_daemon, fake_kms):
    d = start_daemon("--step", "agent", "--agent-id", "agent-B",
                     kmstool=fake_kms.path)
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    d.key = fake_kms.K1
    return d


@pytest.mark.parametrize("state", [
    b'{"agent_id":"x","iteration":1,"iteration":100,"data":1}',
    b'{"agent_id":"x","agent_id":"mallory","iteration":1,"data":1}',
    b'{"agent_id":"x","iteration":1,"data":1,"data":2}',
    b'{"agent_id":"x","iteration":1,"data":{"k":1,"k":2}}',
    b'{"agent_id":"x","iteration":1,"data":[{"k\\u0000":1,"k\\u0000":2}]}',
    b'{"agent_id":"x","iteration":1,"d\\u0061ta":1,"data":2}',
], ids=["iteration", "agent-id", "data", "nested", "nested-nul-names", "escaped"])
def test_agent_refuses_duplicate_names(agent_daemon, state):
    resp = agent_daemon.process(seal(agent_daemon.key, state))
    assert_error(resp, "step_failed")
    # the name is plaintext: it stays out of the details
    assert "two members of one name" in resp["details"], resp
    assert "k" not in resp["details"].split("name")[-1], resp


def test_agent_nested_nul_names_that_differ_pass(agent_daemon):
    # "k\u0000a" and "k\u0000b" are two names (cJSON would cut both to "k").
    state = {"agent_id": "x", "iteration": 1,
             "data": {"k\u0000a": 1, "k\u0000b": 2}}
    resp = agent_daemon.process(seal(agent_daemon.key, json.dumps(state).encode()))
    assert resp["status"] == "ok", resp
    out = json.loads(open_sealed(agent_daemon.key, resp["result"]))
    assert out["data"] == state["data"] and out["iteration"] == 2


def test_agent_array_with_duplicates_is_still_data(agent_daemon):
    # Not an object: a new state's data, as any other text.
    pt = b'[{"a":1,"a":2}]'
    resp = agent_daemon.process(seal(agent_daemon.key, pt))
    assert resp["status"] == "ok", resp
    out = json.loads(open_sealed(agent_daemon.key, resp["result"]))
    assert out["data"] == pt.decode() and out["iteration"] == 1
