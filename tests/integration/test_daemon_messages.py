"""
enclaved: the request types and the request-level error codes of
protocol.md ("Messages", "Other errors"), checked on a real daemon.
"""

import base64

import pytest

from helpers.harness import CREDS, assert_error, assert_timestamp, seal

FRAMINGS = ["bare", "len"]


# --- ping / health ----------------------------------------------------------

@pytest.mark.parametrize("framing", FRAMINGS)
def test_ping_answers_pong(daemon, framing):
    resp = daemon.request({"type": "ping"}, framing)
    assert resp["status"] == "ok"
    assert resp["msg"] == "pong"


def test_ping_ignores_unknown_fields(daemon):
    # "Unknown fields are ignored."
    resp = daemon.request({"type": "ping", "extra": [1, {"a": None}], "n": 1.5})
    assert (resp["status"], resp["msg"]) == ("ok", "pong")


def test_health_unconfigured(daemon):
    resp = daemon.request({"type": "health"})
    assert resp["status"] == "healthy"
    assert resp["configured"] is False
    assert_timestamp(resp["timestamp"])


def test_health_configured_after_configure(configured_daemon):
    resp = configured_daemon.request({"type": "health"}, "len")
    assert resp["status"] == "healthy"
    assert resp["configured"] is True
    assert_timestamp(resp["timestamp"])


def test_health_never_shows_key(configured_daemon):
    text = str(configured_daemon.request({"type": "health"}))
    key = configured_daemon.key
    assert key.hex() not in text.lower()
    assert base64.b64encode(key).decode() not in text


# --- type --------------------------------------------------------------------

@pytest.mark.parametrize("t", ["reboot", "PING", "Ping", "process ", " ping", "pingx"])
@pytest.mark.parametrize("framing", FRAMINGS)
def test_unknown_type(daemon, t, framing):
    # `type` is case-sensitive; anything that is not a known type.
    assert_error(daemon.request({"type": t}, framing), "unknown_type")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_empty_type_is_an_error_not_a_crash(daemon, framing):
    # {"type":""}: a string, but empty. The spec makes an empty required
    # field missing_fields; unknown_type or invalid_json are defensible
    # readings too. Any of them, on a connection that stays open.
    with daemon.connect() as c:
        resp = c.request({"type": ""}, framing)
        assert resp.get("status") == "error", resp
        assert resp["msg"] in ("missing_fields", "unknown_type", "invalid_json"), resp
        assert c.request({"type": "ping"}, framing)["msg"] == "pong"
    assert daemon.alive()


@pytest.mark.parametrize("t", [r"ping\u0000", r"ping\u0000x", r"health\u0000"])
def test_type_with_embedded_nul_is_not_a_known_type(daemon, t):
    # {"type":"ping\u0000"} is not "ping": a C string compare must not
    # stop at the NUL. (A parser that refuses \u0000 answers invalid_json.)
    with daemon.connect() as c:
        c.send_bare(('{"type":"%s"}' % t).encode())
        resp = c.recv_bare()
        assert resp.get("status") == "error", resp
        assert resp["msg"] in ("unknown_type", "invalid_json"), resp


@pytest.mark.parametrize("msg", [
    {},
    {"type": None},
    {"type": 5},
    {"type": ["ping"]},
    {"type": {"x": "ping"}},
    {"ping": "type"},
], ids=["absent", "null", "number", "array", "object", "other-field"])
@pytest.mark.parametrize("framing", FRAMINGS)
def test_no_string_type_is_invalid_json(daemon, msg, framing):
    # "invalid_json (not a JSON object, or no string `type`)"
    with daemon.connect() as c:
        assert_error(c.request(msg, framing), "invalid_json")
        # the boundary was known: the connection stays usable
        assert c.request({"type": "ping"}, framing)["msg"] == "pong"


# --- invalid JSON with a known boundary ------------------------------------------

@pytest.mark.parametrize("body", [
    b"{not json}",
    b"{\"type\":\"ping\",}",
    b"{\"type\" \"ping\"}",
    b"{'type':'ping'}",
    b"{\"type\":\"ping\" \"x\"}",
    b"{\"type\":\"ping\",\"x\":01}",
], ids=["bareword", "trailing-comma", "no-colon", "single-quotes", "no-comma",
        "leading-zero"])
@pytest.mark.parametrize("framing", FRAMINGS)
def test_invalid_json_in_balanced_braces_keeps_connection(daemon, body, framing):
    with daemon.connect() as c:
        if framing == "bare":
            c.send_bare(body)
        else:
            c.send_len(body)
        assert_error(c.recv_reply(framing), "invalid_json")
        assert c.request({"type": "ping"}, framing)["msg"] == "pong"
        assert c.request({"type": "ping"}, "len" if framing == "bare" else "bare")["msg"] == "pong"


@pytest.mark.parametrize("body", [
    b"[1,2,3]",
    b"[{\"type\":\"ping\"}]",
    b"\"ping\"",
    b"42",
    b"null",
    b"true",
    b"garbage",
    b"\xff\xfe\xfd",
    b"{\"type\":\"ping\"",
    b"{\"type\":\"ping\"}}",
    b"{\"type\":\"ping\"}x",
    b"{\"type\":\"ping\"}{\"type\":\"ping\"}",
], ids=["array", "array-of-object", "string", "number", "null", "true",
        "word", "binary", "unclosed", "extra-brace", "trailing-byte",
        "two-objects"])
def test_length_framed_non_object_is_invalid_json(daemon, body):
    # "bytes that are not a JSON object (... a length-framed array ...)"
    with daemon.connect() as c:
        c.send_len(body)
        assert_error(c.recv_len(), "invalid_json")
        assert c.request({"type": "ping"}, "len")["msg"] == "pong"
        assert c.request({"type": "ping"}, "bare")["msg"] == "pong"


def test_zero_length_frame_is_invalid_json(daemon):
    with daemon.connect() as c:
        c.send_raw(b"\x00\x00\x00\x00")
        assert_error(c.recv_len(), "invalid_json")
        c.send_raw(b"\x00\x00\x00\x00")
        assert_error(c.recv_len(), "invalid_json")
        assert c.request({"type": "ping"}, "len")["msg"] == "pong"
        assert c.request({"type": "ping"}, "bare")["msg"] == "pong"


def test_json_with_invalid_utf8_string_is_invalid_json(daemon):
    with daemon.connect() as c:
        c.send_bare(b'{"type":"ping","x":"\xc3\x28"}')
        resp = c.recv_bare()
        # a strict parser refuses it; a lenient one ignores the unknown field
        assert resp.get("msg") in ("invalid_json", "pong"), resp
        assert c.request({"type": "ping"})["msg"] == "pong"


# --- field checks: missing_fields / invalid_field -----------------------------------

CONFIGURE_REQUIRED = ["encrypted_tsk", "aws_access_key_id", "aws_secret_access_key",
                      "aws_session_token"]


def _configure_msg(**over):
    msg = {"type": "configure", "encrypted_tsk": "AAAA"}
    msg.update(CREDS)
    msg.update(over)
    return {k: v for k, v in msg.items() if v is not _ABSENT}


_ABSENT = object()


@pytest.mark.parametrize("how", ["absent", "null", "empty"])
@pytest.mark.parametrize("field", CONFIGURE_REQUIRED)
def test_configure_missing_field(fake_daemon, fake_kms, field, how):
    value = {"absent": _ABSENT, "null": None, "empty": ""}[how]
    resp = fake_daemon.request(_configure_msg(**{field: value}))
    assert_error(resp, "missing_fields", mentions=field)
    # checked before anything else: the KMS tool never ran
    assert fake_kms.calls() == 0


def test_configure_missing_fields_lists_all(daemon):
    resp = daemon.request({"type": "configure", "region": "us-east-1"})
    assert_error(resp, "missing_fields", mentions=CONFIGURE_REQUIRED)


@pytest.mark.parametrize("field,value", [
    ("encrypted_tsk", 12345),
    ("encrypted_tsk", ["AAAA"]),
    ("aws_access_key_id", True),
    ("aws_secret_access_key", {"k": "v"}),
    ("aws_session_token", 1.5),
    ("region", 7),
    ("region", ["eu-west-1"]),
])
def test_configure_wrong_type_is_invalid_field(fake_daemon, fake_kms, field, value):
    resp = fake_daemon.request(_configure_msg(**{field: value}))
    assert_error(resp, "invalid_field", mentions=field)
    assert fake_kms.calls() == 0


def test_configure_error_details_never_echo_credentials(fake_daemon):
    resp = fake_daemon.request(_configure_msg(encrypted_tsk=None))
    assert_error(resp, "missing_fields")
    for secret in CREDS.values():
        assert secret not in resp["details"]


@pytest.mark.parametrize("how", ["absent", "null", "empty"])
def test_process_missing_ciphertext(configured_daemon, how):
    msg = {"type": "process"}
    if how != "absent":
        msg["ciphertext"] = None if how == "null" else ""
    assert_error(configured_daemon.request(msg), "missing_fields", mentions="ciphertext")


@pytest.mark.parametrize("how", ["absent", "null", "empty"])
def test_fields_checked_before_state_missing(daemon, how):
    # "A request's fields are checked before the daemon's state": an
    # unconfigured daemon still says missing_fields, not not_configured.
    msg = {"type": "process"}
    if how != "absent":
        msg["ciphertext"] = None if how == "null" else ""
    assert_error(daemon.request(msg), "missing_fields", mentions="ciphertext")


@pytest.mark.parametrize("field,value", [
    ("ciphertext", 1234),
    ("ciphertext", ["00"]),
    ("ciphertext", {"hex": "00"}),
    ("ciphertext", True),
    ("aad", 5),
    ("aad", ["x"]),
    ("aad", {"a": "b"}),
])
def test_process_wrong_type_is_invalid_field(configured_daemon, field, value):
    msg = {"type": "process", "ciphertext": seal(configured_daemon.key, b"x")}
    msg[field] = value
    assert_error(configured_daemon.request(msg), "invalid_field", mentions=field)


def test_fields_checked_before_state_invalid_field(daemon):
    resp = daemon.request({"type": "process", "ciphertext": 42})
    assert_error(resp, "invalid_field", mentions="ciphertext")


def test_process_not_configured(daemon):
    ct = seal(bytes(32), b"hello")
    assert_error(daemon.request({"type": "process", "ciphertext": ct}), "not_configured")
    assert_error(daemon.request({"type": "process", "ciphertext": ct}, "len"), "not_configured")


# --- the connection survives every request-level error ----------------------------

def test_errors_do_not_close_the_connection(configured_daemon):
    key = configured_daemon.key
    bad = [
        ({"type": "nope"}, "unknown_type"),
        ({"type": "process"}, "missing_fields"),
        ({"type": "process", "ciphertext": 1}, "invalid_field"),
        ({"type": "process", "ciphertext": "abc"}, "invalid_hex"),
        ({"type": "process", "ciphertext": "00" * 27}, "invalid_ciphertext"),
        ({"type": "process", "ciphertext": seal(bytes(32), b"x")}, "decrypt_failed"),
        (b"[]", "invalid_json"),
    ]
    with configured_daemon.connect() as c:
        for i, (msg, code) in enumerate(bad * 2):
            framing = "bare" if i % 2 else "len"
            if framing == "bare" and msg == b"[]":
                framing = "len"
            assert_error(c.request(msg, framing), code)
        resp = c.request({"type": "process", "ciphertext": seal(key, b"still here")})
        assert resp["status"] == "ok"
