"""
enclaved: `process` (protocol.md "process") with the echo and agent steps:
ciphertexts sealed by Python's cryptography go in, results open there.
"""

import json
import os
import time

import pytest
from cryptography.exceptions import InvalidTag

from helpers.harness import assert_error, open_sealed, seal

FRAMINGS = ["bare", "len"]


# --- echo step, round trips ---------------------------------------------------------

@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("pt", [b"hello enclave", b"", b"\x00\xff\x00binary\x80",
                                "unicode \u00e9\u2713 \U0001f512".encode(),
                                os.urandom(4096)],
                         ids=["ascii", "empty", "binary", "utf8", "4k-random"])
def test_echo_round_trip(configured_daemon, framing, pt):
    key = configured_daemon.key
    resp = configured_daemon.process(seal(key, pt), framing=framing)
    assert resp["status"] == "ok", resp
    assert set(resp) >= {"status", "result"}
    assert open_sealed(key, resp["result"]) == pt


def test_result_layout_and_lowercase_hex(configured_daemon):
    key = configured_daemon.key
    pt = b"layout check"
    resp = configured_daemon.process(seal(key, pt))
    res = resp["result"]
    assert res == res.lower()
    assert all(ch in "0123456789abcdef" for ch in res), res
    assert len(res) == 2 * (12 + len(pt) + 16)


def test_uppercase_hex_accepted(configured_daemon):
    key = configured_daemon.key
    ct = seal(key, b"UPPER").upper()
    resp = configured_daemon.process(ct)
    assert resp["status"] == "ok", resp
    assert resp["result"] == resp["result"].lower()
    assert open_sealed(key, resp["result"]) == b"UPPER"


def test_mixed_case_hex_accepted(configured_daemon):
    key = configured_daemon.key
    ct = seal(key, b"MiXeD")
    ct = "".join(c.upper() if i % 2 else c for i, c in enumerate(ct))
    resp = configured_daemon.process(ct)
    assert open_sealed(key, resp["result"]) == b"MiXeD"


def test_fresh_nonce_every_result(configured_daemon):
    key = configured_daemon.key
    ct = seal(key, b"same input")
    results = {configured_daemon.process(ct)["result"] for _ in range(5)}
    assert len(results) == 5
    nonces = {r[:24] for r in results}
    assert len(nonces) == 5
    assert ct[:24] not in nonces                # not the request's nonce either


def test_minimum_ciphertext_28_bytes(configured_daemon):
    key = configured_daemon.key
    ct = seal(key, b"")
    assert len(ct) == 56
    resp = configured_daemon.process(ct)
    assert resp["status"] == "ok", resp
    assert open_sealed(key, resp["result"]) == b""


# --- aad ------------------------------------------------------------------------------

@pytest.mark.parametrize("aad", ["job-1", "z\u00fcrich \u2713", "x" * 1000,
                                 '{"json":"aad"}'])
def test_aad_round_trip(configured_daemon, aad):
    key = configured_daemon.key
    resp = configured_daemon.process(seal(key, b"with aad", aad), aad=aad)
    assert resp["status"] == "ok", resp
    # the result is bound to the same aad (UTF-8 bytes)
    assert open_sealed(key, resp["result"], aad.encode("utf-8")) == b"with aad"
    with pytest.raises(InvalidTag):
        open_sealed(key, resp["result"], None)


def test_empty_aad_equals_none(configured_daemon):
    key = configured_daemon.key
    # sealed without aad, processed with aad ""
    resp = configured_daemon.process(seal(key, b"no aad"), aad="")
    assert resp["status"] == "ok", resp
    assert open_sealed(key, resp["result"]) == b"no aad"
    # sealed with b"" (same as none), processed without aad
    resp = configured_daemon.process(seal(key, b"no aad 2", b""))
    assert open_sealed(key, resp["result"]) == b"no aad 2"


@pytest.mark.parametrize("sealed,sent", [("a", "b"), ("a", None), (None, "a"),
                                         ("a", "A"), ("a", "a "), ("ab", "a")])
def test_aad_mismatch_is_decrypt_failed(configured_daemon, sealed, sent):
    key = configured_daemon.key
    assert_error(configured_daemon.process(seal(key, b"x", sealed), aad=sent),
                 "decrypt_failed")


def test_aad_with_embedded_nul(configured_daemon):
    # aad is the UTF-8 bytes of the JSON string: "a\u0000b" is 3 bytes,
    # not a C string "a".
    key = configured_daemon.key
    resp = configured_daemon.process(seal(key, b"nul", b"a\x00b"), aad="a\u0000b")
    assert resp["status"] == "ok", resp
    assert open_sealed(key, resp["result"], b"a\x00b") == b"nul"
    assert_error(configured_daemon.process(seal(key, b"nul", b"a"), aad="a\u0000b"),
                 "decrypt_failed")


def test_json_escapes_in_fields(configured_daemon):
    # the ciphertext written with \\u escapes, an aad with every kind of
    # JSON escape including a surrogate pair: fields are the decoded strings
    key = configured_daemon.key
    aad = "line\nbreak\ttab \"q\" back\\slash \u00e9 \U0001f512 /"
    ct = seal(key, b"escaped", aad)
    ct_escaped = "".join("\\u%04x" % ord(ch) for ch in ct)
    body = '{"type":"process","ciphertext":"%s","aad":%s}' % (
        ct_escaped, json.dumps(aad, ensure_ascii=True))
    for framing in ("bare", "len"):
        with configured_daemon.connect() as c:
            resp = c.request(body.encode(), framing)
            assert resp["status"] == "ok", resp
            assert open_sealed(key, resp["result"], aad) == b"escaped"


# --- error codes -------------------------------------------------------------------------

@pytest.mark.parametrize("ct", ["abc", "0" * 57, "zz" * 30, "0x" + "00" * 30,
                                "00 " * 30, "00" * 29 + "g0", "\u00e900" * 20,
                                "00" * 29 + "-1"],
                         ids=["odd-short", "odd-long", "non-hex", "0x-prefix",
                              "spaces", "g", "non-ascii", "minus"])
def test_invalid_hex(configured_daemon, ct):
    assert_error(configured_daemon.process(ct), "invalid_hex")


@pytest.mark.parametrize("n", [1, 12, 16, 27])
def test_short_ciphertext_is_invalid_ciphertext(configured_daemon, n):
    assert_error(configured_daemon.process(os.urandom(n).hex()), "invalid_ciphertext")


def test_big_requests_on_fresh_connections_each_decrypt(configured_daemon):
    """A host opening a connection per request, sizes up and down: the
    buffers a closed connection leaves for the next (kept while big) never
    let one answer carry another's bytes."""
    d, key = configured_daemon, configured_daemon.key
    sizes = [1 << 20, 300 << 10, 3 << 20, 200 << 10, 700 << 10, 1 << 20]
    for i, size in enumerate(sizes):
        pt = os.urandom(size)
        framing = "bare" if i % 2 == 0 else "len"
        r = d.process(seal(key, pt), framing=framing, timeout=30)
        assert r["status"] == "ok", r
        assert open_sealed(key, r["result"]) == pt, "size %d" % size
    # and a failure between them leaves nothing behind for the next
    bad = bytearray.fromhex(seal(key, os.urandom(1 << 20)))
    bad[-1] ^= 1
    assert_error(d.process(bad.hex(), timeout=30), "decrypt_failed")
    pt = os.urandom(512 << 10)
    assert open_sealed(key, d.process(seal(key, pt), timeout=30)["result"]) == pt


def test_decrypt_failed_wrong_key(configured_daemon):
    assert_error(configured_daemon.process(seal(os.urandom(32), b"x")), "decrypt_failed")


@pytest.mark.parametrize("where", [0, 11, 12, 20, -16, -1], ids=[
    "nonce-first", "nonce-last", "ct-first", "ct-mid", "tag-first", "tag-last"])
def test_decrypt_failed_tampered(configured_daemon, where):
    key = configured_daemon.key
    raw = bytearray(bytes.fromhex(seal(key, b"sixteen byte msg")))
    raw[where] ^= 0x01
    assert_error(configured_daemon.process(raw.hex()), "decrypt_failed")


def test_decrypt_failed_truncated(configured_daemon):
    key = configured_daemon.key
    ct = seal(key, b"some plaintext here")
    assert_error(configured_daemon.process(ct[:-2]), "decrypt_failed")
    assert_error(configured_daemon.process(ct + "00"), "decrypt_failed")


def test_decrypt_failed_details_leak_nothing(configured_daemon):
    key = configured_daemon.key
    resp = configured_daemon.process(seal(os.urandom(32), b"PLAINTEXT-MARKER"), aad="A")
    assert_error(resp, "decrypt_failed")
    assert key.hex() not in resp["details"].lower()


# --- agent step ---------------------------------------------------------------------------

@pytest.fixture
def agent_daemon(start_daemon, fake_kms):
    d = start_daemon("--step", "agent", "--agent-id", "agent-B",
                     kmstool=fake_kms.path)
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    d.key = fake_kms.K1
    return d


def _agent(d, pt, aad=None):
    resp = d.process(seal(d.key, pt, aad), aad=aad)
    assert resp["status"] == "ok", resp
    out = open_sealed(d.key, resp["result"], aad)
    return json.loads(out.decode("utf-8"))


def _assert_now(ts):
    assert isinstance(ts, (int, float)) and not isinstance(ts, bool), ts
    assert abs(ts - time.time()) < 10, ts


def test_agent_updates_state_object(agent_daemon):
    data = {"x": [1, 2, {"y": "z"}], "s": "t\u00e9xt \u2713", "n": None,
            "b": True, "f": 0.5, "neg": -3}
    state = {"agent_id": "agent-A", "iteration": 4, "data": data,
             "timestamp": 1700000000}
    out = _agent(agent_daemon, json.dumps(state).encode(), aad="handoff")
    assert out["agent_id"] == "agent-B"
    assert out["iteration"] == 5 and type(out["iteration"]) is int, out
    assert out["data"] == data
    _assert_now(out["timestamp"])


def test_agent_data_strings_with_nul_and_escapes(agent_daemon):
    data = {"nul": "a\u0000b", "esc": "q\"b\\s\n\t\u0001", "k\u0000ey": 1,
            "astral": "\U0001f512"}
    state = {"agent_id": "x", "iteration": 2, "data": data, "timestamp": 0}
    out = _agent(agent_daemon, json.dumps(state).encode())
    assert out["data"] == data
    assert out["iteration"] == 3


def test_agent_object_with_surrounding_whitespace(agent_daemon):
    state = {"agent_id": "x", "iteration": 7, "data": [1], "timestamp": 0}
    out = _agent(agent_daemon, b" \n" + json.dumps(state).encode() + b"\n")
    assert out["iteration"] == 8 and out["data"] == [1], out
    assert out["agent_id"] == "agent-B"


def test_agent_id_is_json_escaped(start_daemon, fake_kms):
    agent_id = 'agent "B" \\ \u00e9'
    d = start_daemon("--step", "agent", "--agent-id", agent_id, kmstool=fake_kms.path)
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    d.key = fake_kms.K1
    out = _agent(d, b"plain")
    assert out["agent_id"] == agent_id
    assert out["data"] == "plain"


def test_agent_chain(agent_daemon):
    state = {"agent_id": "a", "iteration": 0, "data": "d", "timestamp": 0}
    pt = json.dumps(state).encode()
    for i in range(1, 4):
        out = _agent(agent_daemon, pt)
        assert out["iteration"] == i
        pt = json.dumps(out).encode()


def test_agent_data_untouched_exact_numbers(agent_daemon):
    # "data untouched": numbers a double cannot hold must survive as sent
    data = {"big": 9007199254740993, "dec": 0.1, "exp": 1e-7, "arr": [1, 2.5]}
    state = {"agent_id": "a", "iteration": 1, "data": data, "timestamp": 0}
    out = _agent(agent_daemon, json.dumps(state).encode())
    assert out["data"] == data


@pytest.mark.parametrize("pt,data", [
    (b"hello world", "hello world"),
    (b"[1,2,3]", "[1,2,3]"),
    (b'"quoted"', '"quoted"'),
    (b"42", "42"),
    (b"", ""),
    ("caf\u00e9 \u2713\n\t\"x\"".encode(), "caf\u00e9 \u2713\n\t\"x\""),
    (b'{"unclosed": ', '{"unclosed": '),
    (b"abc\x00def", "abc\u0000def"),
], ids=["text", "array", "json-string", "number", "empty", "unicode-escapes",
        "broken-object", "nul-byte"])
def test_agent_non_object_starts_new_state(agent_daemon, pt, data):
    out = _agent(agent_daemon, pt)
    assert out["agent_id"] == "agent-B"
    assert out["iteration"] == 1 and type(out["iteration"]) is int, out
    assert out["data"] == data
    _assert_now(out["timestamp"])


@pytest.mark.parametrize("pt", [b"\xff\xfe", b"ok then \xc3\x28", b"\xed\xa0\x80"],
                         ids=["ff-fe", "bad-continuation", "surrogate"])
def test_agent_non_utf8_is_step_failed(agent_daemon, pt):
    resp = agent_daemon.process(seal(agent_daemon.key, pt))
    assert_error(resp, "step_failed")
    # and the daemon carries on
    assert _agent(agent_daemon, b"next")["iteration"] == 1


def test_echo_step_accepts_non_utf8(configured_daemon):
    key = configured_daemon.key
    resp = configured_daemon.process(seal(key, b"\xff\xfe"))
    assert open_sealed(key, resp["result"]) == b"\xff\xfe"


def test_process_ignores_unknown_fields(configured_daemon):
    key = configured_daemon.key
    resp = configured_daemon.request({"type": "process", "ciphertext": seal(key, b"u"),
                                      "nonce": "ignored", "key": "00" * 32, "n": [1]})
    assert resp["status"] == "ok", resp
    assert open_sealed(key, resp["result"]) == b"u"


@pytest.mark.parametrize("key", ["agent_id\u0000", "iteration\u0000x"])
def test_agent_refuses_top_level_key_with_nul(agent_daemon, key):
    # Copied through, "agent_id\u0000" would read as agent_id to a reader
    # that cuts strings at NUL (cJSON, the next agent): refused instead.
    state = json.dumps({"agent_id": "x", "iteration": 1, "data": 1,
                        "timestamp": 0, key: "forged"}).encode()
    resp = agent_daemon.process(seal(agent_daemon.key, state))
    assert_error(resp, "step_failed")


@pytest.mark.parametrize("iteration", ["1e999", "9007199254740992", "-1e300"])
def test_agent_refuses_iteration_out_of_range(agent_daemon, iteration):
    # Past 2^53 a double no longer counts by one, and inf is not JSON.
    state = ('{"agent_id":"x","iteration":%s,"data":1,"timestamp":0}'
             % iteration).encode()
    resp = agent_daemon.process(seal(agent_daemon.key, state))
    assert_error(resp, "step_failed")


@pytest.mark.parametrize("ct", ["00" * 600 + "0", "00" * 600 + "g0",
                                "00" * 300 + " " + "00" * 300],
                         ids=["odd", "non-hex", "space"])
def test_invalid_hex_on_the_bulk_path(configured_daemon, ct):
    # Long ciphertexts skip cJSON (bulk_field.c): the same answers apply.
    assert_error(configured_daemon.process(ct), "invalid_hex")


def test_escaped_hex_digits_still_decode(configured_daemon):
    # JSON may spell a hex digit as \u0030 ("0"); such a string is not cut
    # out of the message but goes through cJSON, with the same result.
    ct = seal(configured_daemon.key, b"x" * 400)
    escaped = "\\u00%02x" % ord(ct[0]) + ct[1:]
    body = ('{"type":"process","ciphertext":"%s"}' % escaped).encode()
    with configured_daemon.connect() as c:
        resp = c.request(body)
    assert resp["status"] == "ok", resp
    assert open_sealed(configured_daemon.key, resp["result"]) == b"x" * 400
