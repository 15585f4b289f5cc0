"""
Adversarial tests: malformed, truncated, mistyped, oversized and deeply
nested messages; NUL, invalid UTF-8 and bad hex (issue 4; the threat model
is docs/security.md; the daemons, fixtures and the check after every test:
helpers/adversary.py).
"""

import json
import socket
import struct
import time

import pytest

from helpers.harness import (CREDS, ConnectionClosed, assert_error,
                             open_sealed, seal)
from helpers.adversary import (  # fixtures and helpers
    MAX_MESSAGE,
    READ_TIMEOUT,
    dev_key_mod,
    exchange,
    io_scale,
    len_prefix,
    main,
    main_holder,
    ping_ok,
    still_serving,
    workdir)


# --- malformed and truncated JSON ---------------------------------------------

MALFORMED_BARE = [
    b'{"type":"ping",}',
    b'{"type" "ping"}',
    b'{"type":ping}',
    b"{'type':'ping'}",
    b'{"type":"ping" "x":1}',
    b'{,}',
    b'{"type":"ping"{}}',
    b'{"a":1e999999999999999999999}',
    b'{"type":"ping","n":-}',
    b'{"type":"ping","s":"\\x41"}',              # bad escape
    b'{"type":"ping","s":"\\ud800"}',            # lone surrogate
    b'{"type":"\xc3"}',                          # truncated UTF-8 in the type
]


@pytest.mark.parametrize("msg", MALFORMED_BARE)
def test_malformed_bare_json(main, msg):
    with main.connect() as c:
        c.send_raw(msg)
        resp = c.recv_bare()
        assert resp["status"] == "error", resp
        assert resp["msg"] in ("invalid_json", "unknown_type"), resp
        # The boundary was known: only this message is lost.
        assert c.request({"type": "ping"})["msg"] == "pong"


MALFORMED_FRAMED = [
    b"",                      # zero length
    b"[1,2,3]",
    b'"ping"',
    b"null",
    b'{"type":"ping"',        # truncated inside the frame
    b'{"type":"ping"} {}',    # two values
    b"\xff\xfe\x00{",
    b'{"type":"ping"}\x00',
]


@pytest.mark.parametrize("body", MALFORMED_FRAMED)
def test_malformed_length_framed(main, body):
    with main.connect() as c:
        c.send_raw(len_prefix(body))
        resp = c.recv_len()
        assert_error(resp, "invalid_json")
        assert c.request({"type": "ping"}, "len")["msg"] == "pong"


@pytest.mark.parametrize("partial", [b"{", b'{"type":"pi', b'{"type":"ping","x":"}',
                                     b'{"a":{"b":{"c":', b"\x00\x00", b"\x00\x00\x00\x20{"])
def test_truncated_then_half_close(main, partial):
    # Nothing complete was received: nothing to answer; the daemon closes.
    with main.connect() as c:
        c.send_raw(partial)
        c.shutdown_write()
        assert c.wait_closed(timeout=5 * io_scale())
        assert c.buf == b"", c.buf


@pytest.mark.parametrize("partial", [b'{"type":"pi', b"\x00\x00\x10\x00{}"])
def test_truncated_then_reset(main, partial):
    s = socket.create_connection(("127.0.0.1", int(main.tcp.rsplit(":", 1)[1])))
    s.sendall(partial)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()           # RST


# --- wrong types ----------------------------------------------------------------

@pytest.mark.parametrize("msg,code", [
    ({"type": 5}, "invalid_json"),
    ({"type": None}, "invalid_json"),
    ({"type": ["ping"]}, "invalid_json"),
    ({"type": {"ping": 1}}, "invalid_json"),
    ({"type": True}, "invalid_json"),
    ({"Type": "ping"}, "invalid_json"),
    ({"type": "process", "ciphertext": 5}, "invalid_field"),
    ({"type": "process", "ciphertext": ["00"]}, "invalid_field"),
    ({"type": "process", "ciphertext": {"hex": "00"}}, "invalid_field"),
    ({"type": "process", "ciphertext": True}, "invalid_field"),
    ({"type": "process", "ciphertext": "00" * 40, "aad": 7}, "invalid_field"),
    ({"type": "process", "ciphertext": "00" * 40, "aad": ["x"]}, "invalid_field"),
    ({"type": "configure", "encrypted_tsk": 1, **CREDS}, "invalid_field"),
    ({"type": "configure", "encrypted_tsk": "AAAA", **dict(CREDS, aws_session_token=[])},
     "invalid_field"),
    ({"type": "configure", "encrypted_tsk": "AAAA", "region": 5, **CREDS}, "invalid_field"),
    ({"type": "process"}, "missing_fields"),
    ({"type": "process", "ciphertext": None}, "missing_fields"),
    ({"type": "configure"}, "missing_fields"),
])
@pytest.mark.parametrize("framing", ["bare", "len"])
def test_wrong_types(main, msg, code, framing):
    resp = main.request(msg, framing)
    assert_error(resp, code)


# --- huge, negative and lying lengths --------------------------------------------

@pytest.mark.parametrize("n", [0xFFFFFFFF, 0x80000000, 0x7FFFFFFF, MAX_MESSAGE + 1,
                               0x10000000])
def test_huge_and_negative_length_prefix(main, n):
    # Over the limit: refused at once (no waiting for the bytes), closed.
    with main.connect() as c:
        t0 = time.monotonic()
        c.send_raw(struct.pack(">I", n) + b'{"type":"ping"}')
        resp = c.recv_len(timeout=3 * io_scale())
        assert_error(resp, "too_large")
        assert time.monotonic() - t0 < READ_TIMEOUT
        assert c.wait_closed(timeout=5 * io_scale())


@pytest.mark.parametrize("declared,sent", [(1000, 10), (MAX_MESSAGE, 100), (20, 19)])
def test_length_prefix_lies_then_close(main, declared, sent):
    # The prefix promises more than ever comes, then the client closes.
    body = (b'{"type":"ping","pad":"' + b"x" * declared)[:sent]
    with main.connect() as c:
        c.send_raw(struct.pack(">I", declared) + body)
        c.shutdown_write()
        assert c.wait_closed(timeout=5 * io_scale())
        assert c.buf == b""


def test_length_prefix_lies_and_waits(main):
    # ... or keeps the connection open: the read timeout ends it.
    with main.connect(timeout=10) as c:
        c.send_raw(struct.pack(">I", 5000) + b'{"type":')
        t0 = time.monotonic()
        assert c.wait_closed(timeout=READ_TIMEOUT + 5 * io_scale())
        assert time.monotonic() - t0 >= READ_TIMEOUT - 0.5


def test_length_prefix_shorter_than_message(main):
    # The prefix covers half the object: that half is invalid JSON, and the
    # rest is read as the next message's prefix... which must not crash.
    msg = b'{"type":"ping","pad":"' + b"a" * 40 + b'"}'
    with main.connect() as c:
        c.send_raw(struct.pack(">I", 20) + msg)
        assert_error(c.recv_len(), "invalid_json")


# --- over the limit -------------------------------------------------------------

def test_bare_message_over_limit(main):
    big = b'{"type":"process","ciphertext":"' + b"00" * MAX_MESSAGE + b'"}'
    with main.connect() as c:
        try:
            c.send_raw(big)
        except (BrokenPipeError, ConnectionResetError):
            pass        # the spec allows a reset while still sending
        try:
            data = c.read_until_closed(timeout=5 * io_scale())
        except ConnectionClosed:
            data = b""
        if data:        # if the answer got through before a reset
            assert_error(json.loads(data), "too_large")


def test_length_framed_message_just_at_and_over_limit(main):
    pad = MAX_MESSAGE - len(b'{"type":"ping","p":""}')
    at = b'{"type":"ping","p":"' + b"x" * pad + b'"}'
    assert len(at) == MAX_MESSAGE
    assert exchange(main, len_prefix(at), "len")["msg"] == "pong"
    over = at[:-2] + b'x"}'
    with main.connect() as c:
        c.send_raw(len_prefix(over))
        assert_error(c.recv_len(), "too_large")
        assert c.wait_closed()


# --- deep nesting -----------------------------------------------------------------

@pytest.mark.parametrize("opener,closer", [(b"[", b"]"), (b'{"a":', b"}")])
def test_deep_nesting_10000(main, opener, closer):
    depth = 10000
    msg = b'{"type":"ping","x":' + opener * depth + b"1" + closer * depth + b"}"
    assert len(msg) <= MAX_MESSAGE
    resp = exchange(main, msg)
    # cJSON refuses past its nesting limit (1000): invalid_json. A parser
    # that accepted it would answer pong; either way, no stack overflow.
    assert resp.get("msg") in ("invalid_json", "pong"), resp


def test_deep_nesting_unclosed(main):
    # 60000 open braces: the frame scanner counts them without recursion.
    with main.connect() as c:
        c.send_raw(b"{" * 60000)
        c.shutdown_write()
        assert c.wait_closed(timeout=5 * io_scale())


def test_deep_nesting_in_plaintext_agent_state(main):
    # The echo step does not parse; the plaintext still passes AES-GCM.
    pt = b'{"data":' + b"[" * 10000 + b"]" * 10000 + b"}"
    resp = main.process(seal(main.key, pt))
    assert resp["status"] == "ok", resp
    assert open_sealed(main.key, resp["result"]) == pt


# --- NUL and invalid UTF-8 -----------------------------------------------------------

def assert_valid_json_bytes(raw):
    """A response must be UTF-8 JSON even when the request was not."""
    raw.decode("utf-8")
    return json.loads(raw)


@pytest.mark.parametrize("msg", [
    b'{"type":"\xff\xfe"}',
    b'{"type":"p\xc3\x28ng"}',
    b'{"type":"\xed\xa0\x80"}',                  # UTF-8 of a surrogate
    b'{"type":"\xc0\xaf"}',                      # overlong '/'
    b'{"type":"' + b"\x80" * 100 + b'"}',
])
def test_invalid_utf8_type_answered_with_valid_utf8(main, msg):
    with main.connect() as c:
        c.send_raw(msg)
        resp = assert_valid_json_bytes(c.recv_bare_raw())
    assert resp["status"] == "error"
    assert resp["msg"] in ("unknown_type", "invalid_json"), resp


@pytest.mark.parametrize("aad", [b"\xff", b"wf-\xc3\x28", b"\xed\xa0\x80"])
def test_invalid_utf8_aad(main, aad):
    ct = seal(main.key, b"payload", aad)
    msg = b'{"type":"process","ciphertext":"' + ct.encode() + b'","aad":"' + aad + b'"}'
    with main.connect() as c:
        c.send_raw(msg)
        resp = assert_valid_json_bytes(c.recv_bare_raw())
    # Either refused as not JSON, or the aad bytes are what was sealed.
    if resp["status"] == "ok":
        assert open_sealed(main.key, resp["result"], aad) == b"payload"
    else:
        assert resp["msg"] in ("invalid_json", "invalid_field"), resp


@pytest.mark.parametrize("msg", [
    rb'{"type":"ping\u0000"}',
    rb'{"type":"ping\u0000health"}',
    rb'{"type":"\u0000ping"}',
])
def test_nul_escape_in_type_is_not_ping(main, msg):
    resp = exchange(main, msg)
    assert resp["status"] == "error", resp
    assert resp["msg"] in ("unknown_type", "invalid_json", "invalid_field"), resp


@pytest.mark.parametrize("msg", [rb'{"type":"","x":"\u0000"}',
                                 rb'{"type":"process","ciphertext":"","aad":"a\u0000"}'])
def test_empty_field_with_nul_elsewhere(start_daemon, msg):
    # Own daemon: under a sanitizer the defect kills it.
    d = start_daemon("--read-timeout", "2", unix=False)
    try:
        resp = exchange(d, msg)
        assert resp["status"] == "error", resp
        ping_ok(d)
    finally:
        alive = d.alive()
        d.terminate()
        d.stopped_by_test = True
    assert alive


def test_nul_escape_in_hex_is_invalid(main):
    ct = seal(main.key, b"abc")
    msg = b'{"type":"process","ciphertext":"' + ct.encode() + rb'\u0000ff"}'
    resp = exchange(main, msg)
    assert resp["status"] == "error", resp
    assert resp["msg"] in ("invalid_hex", "invalid_json", "invalid_field"), resp


def test_nul_escape_in_aad_does_not_alias(main):
    # Sealed under "wf" but sent as "wf\u0000other": a different aad.
    ct = seal(main.key, b"abc", "wf")
    msg = b'{"type":"process","ciphertext":"' + ct.encode() + rb'","aad":"wf\u0000other"}'
    resp = exchange(main, msg)
    assert resp["status"] == "error", resp


def test_raw_nul_byte_in_type_is_not_ping(main):
    # F1b (fixed in bb56f8a): cJSON read a raw NUL as the string's end.
    resp = exchange(main, b'{"type":"ping\x00health"}')
    assert resp["status"] == "error", resp


def test_invalid_u_escape_is_invalid_json(main):
    # F1b (fixed in bb56f8a): cJSON decoded \uzzzz as U+0000.
    resp = exchange(main, rb'{"type":"ping\uzzzzx"}')
    assert_error(resp, "invalid_json")


def test_raw_nul_byte_in_aad_does_not_alias(main):
    ct = seal(main.key, b"abc", "wf")
    msg = b'{"type":"process","ciphertext":"' + ct.encode() + b'","aad":"wf\x00other"}'
    resp = exchange(main, msg)
    assert resp["status"] == "error", resp


@pytest.mark.parametrize("msg", [b'{"type":\x10"ping"}', b'{"type":"ping\x01"}',
                                 b'{\x0b"type":"ping"}'])
def test_raw_control_bytes_are_invalid_json(main, msg):
    resp = exchange(main, msg)
    assert_error(resp, "invalid_json")


def test_nul_bytes_between_messages(main):
    with main.connect() as c:
        c.send_raw(b"\x00" * 8)
        try:
            c.recv_any(timeout=2)
        except (socket.timeout, ConnectionClosed):
            pass


def test_empty_type_does_not_crash(start_daemon):
    # F6 (fixed in bb56f8a): strcmp(NULL, ...) killed the daemon. Own
    # daemon, so a regression cannot take the module's daemons with it.
    d = start_daemon("--read-timeout", "2", unix=False)
    try:
        resp = d.request({"type": ""})
        assert resp["status"] == "error"
        ping_ok(d)
    finally:
        alive = d.alive()
        d.terminate()
        d.stopped_by_test = True
    assert alive


# --- hex ----------------------------------------------------------------------------

@pytest.mark.parametrize("ct,code", [
    ("abc", "invalid_hex"),
    ("0" * 57, "invalid_hex"),
    ("zz" * 30, "invalid_hex"),
    ("0x" + "00" * 30, "invalid_hex"),
    ("00 " * 30, "invalid_hex"),
    ("00" * 29 + "0g", "invalid_hex"),
    ("\u00e9" * 60, "invalid_hex"),
    ("00" * 27, "invalid_ciphertext"),
    ("", "missing_fields"),
])
def test_bad_hex(main, ct, code):
    assert_error(main.process(ct), code)


def test_uppercase_hex_accepted(main):
    resp = main.process(seal(main.key, b"UPPER").upper())
    assert open_sealed(main.key, resp["result"]) == b"UPPER"
