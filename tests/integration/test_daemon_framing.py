"""
enclaved: transport and framing (protocol.md "Transport", "Framing", and the
limits and timeouts), checked on a real daemon over TCP and a Unix socket.
"""

import json
import os
import socket
import struct
import subprocess
import threading
import time

import pytest

from helpers.harness import (Conn, assert_error, free_tcp_port, len_frame,
                             open_sealed, seal, to_bytes)

PING = {"type": "ping"}


# --- both framings on one port -----------------------------------------------------

def test_bare_request_answered_without_newline_or_half_close(daemon):
    with daemon.connect() as c:
        c.send_raw(b'{"type":"ping"}')          # no newline, socket stays open
        raw = c.recv_bare_raw(timeout=3)
        assert raw.startswith(b"{") and raw.endswith(b"}\n"), raw
        assert raw.count(b"\n") == 1, raw
        resp = json.loads(raw)
        assert (resp["status"], resp["msg"]) == ("ok", "pong")
        assert c.buf == b""                     # nothing after the "\n"


def test_length_prefixed_request_answered_length_prefixed(daemon):
    with daemon.connect() as c:
        c.send_raw(len_frame(PING))
        head = c.recv_exact(4)
        (n,) = struct.unpack(">I", head)
        body = c.recv_exact(n)
        assert json.loads(body)["msg"] == "pong"
        # exactly one frame, nothing more
        assert c.is_open_now(0.2)
        assert c.buf == b""


@pytest.mark.parametrize("unix", [False, True], ids=["tcp", "unix"])
def test_many_requests_alternating_framings_on_one_connection(daemon, unix):
    with daemon.connect(unix=unix) as c:
        for i in range(40):
            framing = "bare" if i % 2 == 0 else "len"
            msg = PING if i % 3 else {"type": "health"}
            resp = c.request(msg, framing)
            assert resp["status"] in ("ok", "healthy"), resp


def test_whitespace_before_and_between_messages(daemon):
    with daemon.connect() as c:
        c.send_raw(b" \t\r\n  " + to_bytes(PING))
        assert c.recv_bare()["msg"] == "pong"
        c.send_raw(b"\n\n\r\n\t " + len_frame(PING))
        assert c.recv_len()["msg"] == "pong"
        c.send_raw(b"\r\n" + len_frame(PING) + b"  \n\t" + to_bytes(PING) + b"\n\n"
                   + len_frame({"type": "health"}) + b" ")
        assert c.recv_len()["msg"] == "pong"
        assert c.recv_bare()["msg"] == "pong"
        assert c.recv_len()["status"] == "healthy"
        # trailing whitespace alone gets no answer and does not close
        assert c.is_open_now(0.3)
        assert c.buf == b""


def test_whitespace_inside_bare_object(daemon):
    with daemon.connect() as c:
        c.send_raw(b'{ "type" :\n\t"ping" ,\r\n "x" : [ 1 , 2 ] }')
        assert c.recv_bare()["msg"] == "pong"


@pytest.mark.parametrize("framing", ["bare", "len"])
def test_request_split_byte_by_byte(configured_daemon, framing):
    key = configured_daemon.key
    msg = {"type": "process", "ciphertext": seal(key, b"byte by byte"), "aad": "bbb"}
    msg["ciphertext"] = seal(key, b"byte by byte", "bbb")
    data = to_bytes(msg) if framing == "bare" else len_frame(msg)
    with configured_daemon.connect() as c:
        for i, b in enumerate(data):
            c.send_raw(bytes([b]))
            if i in (0, 3, 5, len(data) // 2, len(data) - 2):
                # incomplete: no answer yet, connection open
                assert c.is_open_now(0.02)
                assert c.buf == b""
            else:
                time.sleep(0.0005)
        resp = c.recv_reply(framing)
        assert resp["status"] == "ok", resp
        assert open_sealed(key, resp["result"], "bbb") == b"byte by byte"


def test_ping_byte_by_byte_both_framings_then_more(daemon):
    with daemon.connect() as c:
        for data, framing in ((to_bytes(PING), "bare"), (len_frame(PING), "len")):
            for b in data:
                c.send_raw(bytes([b]))
                time.sleep(0.001)
            assert c.recv_reply(framing)["msg"] == "pong"


@pytest.mark.parametrize("body", [
    b'{"type":"ping","s":"}"}',
    b'{"type":"ping","s":"{{{"}',
    b'{"type":"ping","s":"\\"}"}',
    b'{"type":"ping","s":"\\\\"}',
    b'{"type":"ping","s":"\\\\\\"}{"}',
    b'{"type":"ping","a":{"b":{"c":["}",{"d":"{"}]}}}',
    b'{"s":"}","type":"ping"}',
], ids=["close-in-string", "opens-in-string", "escaped-quote", "escaped-backslash",
        "backslash-then-escaped-quote", "nested", "brace-before-type"])
def test_bare_object_boundary_ignores_braces_in_strings(daemon, body):
    with daemon.connect() as c:
        c.send_raw(body)
        assert c.recv_bare()["msg"] == "pong"
        c.send_raw(body + b"\n" + body)
        assert c.recv_bare()["msg"] == "pong"
        assert c.recv_bare()["msg"] == "pong"


def test_pipelined_requests_answered_in_order(configured_daemon):
    key = configured_daemon.key
    n = 60
    blob = b""
    framings = []
    for i in range(n):
        msg = {"type": "process", "ciphertext": seal(key, b"message-%d" % i)}
        if i % 7 == 3:
            msg = {"type": "ping"}
        framing = "bare" if i % 2 else "len"
        framings.append((framing, msg["type"]))
        blob += to_bytes(msg) if framing == "bare" else len_frame(msg)
    with configured_daemon.connect() as c:
        c.send_raw(blob)                       # all at once
        for i, (framing, kind) in enumerate(framings):
            resp = c.recv_reply(framing)
            if kind == "ping":
                assert resp["msg"] == "pong", (i, resp)
            else:
                assert resp["status"] == "ok", (i, resp)
                assert open_sealed(key, resp["result"]) == b"message-%d" % i


def test_pipelined_requests_of_mixed_sizes_answered_in_order(configured_daemon):
    # a slow big request first must not let the small ones behind it overtake
    key = configured_daemon.key
    sizes = [3 << 20, 0, 10, 1 << 20, 0, 100, 2 << 20, 5]
    blob = b""
    pts = []
    for i, n in enumerate(sizes):
        pt = bytes([i]) * n
        pts.append(pt)
        msg = {"type": "process", "ciphertext": seal(key, pt)}
        blob += len_frame(msg) if i % 2 else to_bytes(msg)
    with configured_daemon.connect(timeout=30) as c:
        # send from a thread: a client that writes everything before reading
        # anything could deadlock against any server's flow control
        sender = threading.Thread(target=c.send_raw, args=(blob,))
        sender.start()
        for i, pt in enumerate(pts):
            resp = c.recv_reply("len" if i % 2 else "bare", timeout=30)
            assert resp["status"] == "ok", (i, resp)
            assert open_sealed(key, resp["result"]) == pt, i
        sender.join(10)


def test_thousands_of_pipelined_requests(daemon):
    n = 5000
    got = []

    def reader(c):
        try:
            for i in range(n):
                got.append(c.recv_reply("len" if i % 2 else "bare", timeout=10)["msg"])
        except Exception as e:                  # noqa: BLE001
            got.append(repr(e))

    with daemon.connect(timeout=10) as c:
        t = threading.Thread(target=reader, args=(c,))
        t.start()
        blob = b"".join(len_frame(PING) if i % 2 else to_bytes(PING) for i in range(n))
        c.send_raw(blob)
        t.join(30)
    assert len(got) == n and set(got) == {"pong"}, (len(got), got[-3:])


def test_slow_reader_does_not_block_others(configured_daemon):
    # one client sends a big request and does not read its big answer; the
    # daemon must keep serving everyone else meanwhile
    key = configured_daemon.key
    pt = os.urandom(12 << 20)          # a 24 MB answer: more than socket buffers hold
    with configured_daemon.connect(timeout=30) as slow:
        slow.send_len({"type": "process", "ciphertext": seal(key, pt)})
        time.sleep(0.5)                          # the answer is now stuck
        for i in range(10):
            t0 = time.monotonic()
            with configured_daemon.connect() as c:
                assert c.request(PING, "len" if i % 2 else "bare")["msg"] == "pong"
            assert time.monotonic() - t0 < 1.0
        resp = slow.recv_len(timeout=30)
        assert open_sealed(key, resp["result"]) == pt


def test_pipelined_mixed_errors_in_order(daemon):
    reqs = [({"type": "ping"}, "pong"), (b"{bad}", "invalid_json"),
            ({"type": "x"}, "unknown_type"), ({"type": "health"}, "healthy"),
            ({"type": "process", "ciphertext": "00" * 40}, "not_configured"),
            (b"[]", "invalid_json"), ({"type": "ping"}, "pong")]
    blob = b""
    framings = []
    for i, (msg, _) in enumerate(reqs):
        framing = "len" if (i % 2 or msg == b"[]") else "bare"
        framings.append(framing)
        blob += to_bytes(msg) if framing == "bare" else len_frame(msg)
    with daemon.connect() as c:
        c.send_raw(blob)
        for (msg, want), framing in zip(reqs, framings):
            resp = c.recv_reply(framing)
            got = resp.get("msg") if resp.get("status") != "healthy" else "healthy"
            assert got == want, (msg, resp)


def test_large_message_both_framings(configured_daemon):
    key = configured_daemon.key
    pt = bytes(range(256)) * 4096 * 2            # 2 MiB, binary
    ct = seal(key, pt)
    with configured_daemon.connect(timeout=30) as c:
        for framing in ("bare", "len"):
            resp = c.request({"type": "process", "ciphertext": ct}, framing, timeout=30)
            assert resp["status"] == "ok"
            assert open_sealed(key, resp["result"]) == pt


# --- half-close -----------------------------------------------------------------

def test_half_close_answers_pending_requests_then_closes(configured_daemon):
    key = configured_daemon.key
    with configured_daemon.connect() as c:
        c.send_raw(to_bytes(PING) + len_frame({"type": "process",
                                               "ciphertext": seal(key, b"hc")})
                   + b"\n" + to_bytes({"type": "health"}))
        c.shutdown_write()
        assert c.recv_bare()["msg"] == "pong"
        resp = c.recv_len()
        assert open_sealed(key, resp["result"]) == b"hc"
        assert c.recv_bare()["status"] == "healthy"
        assert c.read_until_closed(timeout=3) == b""


def test_half_close_immediately_closes(daemon):
    with daemon.connect() as c:
        c.shutdown_write()
        assert c.read_until_closed(timeout=3) == b""


def test_half_close_unix_socket(daemon):
    with daemon.connect(unix=True) as c:
        c.send_raw(len_frame(PING) + to_bytes(PING))
        c.shutdown_write()
        assert c.recv_len()["msg"] == "pong"
        assert c.recv_bare()["msg"] == "pong"
        assert c.read_until_closed(timeout=3) == b""


# --- Unix socket -------------------------------------------------------------------

def test_unix_socket_listener(configured_daemon):
    key = configured_daemon.key
    with configured_daemon.connect(unix=True) as c:
        assert c.request(PING)["msg"] == "pong"
        assert c.request(PING, "len")["msg"] == "pong"
        assert c.request({"type": "health"})["configured"] is True
        resp = c.request({"type": "process", "ciphertext": seal(key, b"via unix", "u")
                          , "aad": "u"}, "len")
        assert open_sealed(key, resp["result"], "u") == b"via unix"


def test_tcp_and_unix_listeners_share_one_daemon(start_daemon, fake_kms):
    d = start_daemon(kmstool=fake_kms.path)
    with Conn(d.unix) as u, Conn(d.tcp) as t:
        assert u.request({"type": "health"})["configured"] is False
        resp = d.configure(fake_kms.token("key1"))      # over TCP
        assert resp["status"] == "ok", resp
        assert u.request({"type": "health"})["configured"] is True
        assert t.request(PING)["msg"] == "pong"


# --- too_large ------------------------------------------------------------------------

MAX = 1024


@pytest.fixture
def small_daemon(start_daemon):
    return start_daemon("--max-message", str(MAX))


def _padded_ping(size):
    """A ping request of exactly `size` JSON bytes."""
    base = b'{"type":"ping","pad":""}'
    return base[:-2] + b"a" * (size - len(base)) + b'"}'


def test_message_of_exactly_max_is_accepted(small_daemon):
    msg = _padded_ping(MAX)
    assert len(msg) == MAX
    with small_daemon.connect() as c:
        c.send_raw(msg)
        assert c.recv_bare()["msg"] == "pong"
        c.send_len(msg)
        assert c.recv_len()["msg"] == "pong"


def test_length_prefix_over_max_refused_at_once_then_closed(small_daemon):
    with small_daemon.connect() as c:
        c.send_raw(struct.pack(">I", MAX + 1))    # the header alone, no body
        t0 = time.monotonic()
        resp = c.recv_len(timeout=3)
        assert_error(resp, "too_large")
        assert time.monotonic() - t0 < 2
        assert c.wait_closed(3), "connection still open after too_large"


def test_huge_length_prefix_refused(small_daemon):
    with small_daemon.connect() as c:
        c.send_raw(b"\x7f\xff\xff\xff")
        assert_error(c.recv_len(timeout=3), "too_large")
        assert c.wait_closed(3)


def test_length_prefix_over_max_after_good_requests(small_daemon):
    with small_daemon.connect() as c:
        assert c.request(PING, "len")["msg"] == "pong"
        assert c.request(PING)["msg"] == "pong"
        c.send_raw(struct.pack(">I", MAX + 1) + b"{")
        assert_error(c.recv_len(timeout=3), "too_large")
        assert c.wait_closed(3)


def test_bare_object_passing_max_refused_then_closed(small_daemon):
    with small_daemon.connect() as c:
        # an object that never closes: refused once buffered bytes pass MAX
        c.send_raw(b'{"type":"ping","pad":"' + b"a" * (MAX + 10))
        resp = c.recv_bare(timeout=3)
        assert_error(resp, "too_large")
        assert c.wait_closed(3), "connection still open after too_large"


def test_complete_bare_object_over_max_refused(small_daemon):
    with small_daemon.connect() as c:
        c.send_raw(_padded_ping(MAX + 1))
        assert_error(c.recv_bare(timeout=3), "too_large")
        assert c.wait_closed(3)


def test_too_large_does_not_affect_other_connections(small_daemon):
    with small_daemon.connect() as other:
        assert other.request(PING)["msg"] == "pong"
        with small_daemon.connect() as c:
            c.send_raw(struct.pack(">I", 10 * MAX))
            assert_error(c.recv_len(timeout=3), "too_large")
        assert other.request(PING, "len")["msg"] == "pong"


# --- read timeout / idle timeout ---------------------------------------------------

@pytest.mark.parametrize("framing", ["bare", "len"])
def test_read_timeout_drops_trickling_message(start_daemon, framing):
    d = start_daemon("--read-timeout", "1", "--idle-timeout", "30")
    body = _padded_ping(200)
    data = body if framing == "bare" else len_frame(body)
    with d.connect() as c:
        t0 = time.monotonic()
        closed_at = None
        # one byte every 0.15 s: never idle, but the whole message would
        # take 30 s, far past the 1 s read timeout
        for b in data[:-1]:
            try:
                c.send_raw(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                closed_at = time.monotonic() - t0
                break
            if not c.is_open_now(0.15):
                closed_at = time.monotonic() - t0
                break
            if time.monotonic() - t0 > 6:
                break
        assert closed_at is not None, "a message trickling for 6 s was not dropped"
        assert 0.8 <= closed_at <= 4.0, closed_at
        # whatever was sent back, it was not an answer to the request
        try:
            rest = c.read_until_closed(1)
        except Exception:
            rest = b""
        assert b"pong" not in c.buf + rest


def test_read_timeout_counts_from_first_byte_not_from_connect(start_daemon):
    d = start_daemon("--read-timeout", "1", "--idle-timeout", "30")
    with d.connect() as c:
        time.sleep(1.5)                     # idle, not reading a message
        assert c.request(PING)["msg"] == "pong"
        # a message sent in pieces within the timeout is fine
        data = to_bytes(PING)
        c.send_raw(data[:5])
        time.sleep(0.5)
        c.send_raw(data[5:])
        assert c.recv_bare()["msg"] == "pong"


def test_idle_timeout_closes_idle_connections(start_daemon):
    d = start_daemon("--idle-timeout", "1", "--read-timeout", "30")
    silent = d.connect()                      # never sends anything
    used = d.connect()                        # one request, then idle
    busy = d.connect()                        # keeps talking
    t0 = time.monotonic()
    assert used.request(PING)["msg"] == "pong"
    time.sleep(0.5)
    # not too early: half the idle timeout later both are still open
    assert silent.is_open_now(0.01) and used.is_open_now(0.01)
    while time.monotonic() - t0 < 2.3:
        assert busy.request(PING)["msg"] == "pong"
        time.sleep(0.2)
    # by now both idle ones are gone, the busy one is not
    assert silent.wait_closed(1.5), "silent connection not closed by the idle timeout"
    assert used.wait_closed(1.5), "idle connection not closed by the idle timeout"
    assert busy.request(PING, "len")["msg"] == "pong"
    for c in (silent, used, busy):
        c.close()


# --- robustness: clients that misbehave ---------------------------------------------

def test_default_max_message_is_64_mib(daemon):
    with daemon.connect() as c:
        c.send_raw(struct.pack(">I", 64 * 1024 * 1024 + 1))
        assert_error(c.recv_len(timeout=3), "too_large")
        assert c.wait_closed(3)


# --- the length framing's ceiling (F16) -----------------------------------------------

# From 0x09000000 up a length prefix may begin with a tab, LF, CR or space,
# which the spec skips before a message: 20 00 00 00 then 00 00 00 0f
# {"type":"ping"} is a space and a ping, not one 512 MiB message.
FRAME_LENGTH_MAX = 0x09000000 - 1


@pytest.mark.parametrize("value", [FRAME_LENGTH_MAX + 1, 0x20000000, 2**32 - 1])
def test_max_message_past_length_framing_ceiling_refused(enclaved_bin, value):
    p = subprocess.run([enclaved_bin, "--listen", "tcp:127.0.0.1:%d" % free_tcp_port(),
                        "--max-message", str(value)], capture_output=True, text=True,
                       timeout=10, stdin=subprocess.DEVNULL)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert str(FRAME_LENGTH_MAX) in p.stderr and "whitespace" in p.stderr, p.stderr
    assert "listening on" not in p.stderr


def test_whitespace_led_prefix_cannot_mean_a_length(start_daemon):
    """The issue's repro, on a daemon at the highest limit it accepts."""
    d = start_daemon("--max-message", str(FRAME_LENGTH_MAX))
    with d.connect() as c:
        # The largest length is still a length: the body is awaited.
        c.send_raw(struct.pack(">I", FRAME_LENGTH_MAX) + b'{"type":"ping"}')
        assert c.is_open_now(0.5) and not c.buf
    with d.connect() as c:
        # One past it (a 0x0b first byte, not whitespace): refused at once.
        c.send_raw(struct.pack(">I", 0x0B000000))
        assert_error(c.recv_len(timeout=3), "too_large")
        assert c.wait_closed(3)
    with d.connect() as c:
        # 20 00 00 00 cannot be a prefix under this limit, so it is what the
        # spec says: a space, then a 15-byte message.
        c.send_raw(b"\x20\x00\x00\x00\x0f" + b'{"type":"ping"}')
        assert c.recv_len(timeout=3)["msg"] == "pong"
        assert c.is_open_now(0.2)


def test_length_frame_json_with_surrounding_whitespace(daemon):
    # a JSON text may have whitespace around its value (RFC 8259)
    with daemon.connect() as c:
        c.send_len(b' {"type":"ping"}\n')
        assert c.recv_len()["msg"] == "pong"


def test_half_close_with_partial_message_closes_promptly(start_daemon):
    d = start_daemon("--read-timeout", "30", "--idle-timeout", "30")
    with d.connect() as c:
        c.send_raw(to_bytes(PING) + b'{"type":"pi')
        c.shutdown_write()
        assert c.recv_bare()["msg"] == "pong"
        t0 = time.monotonic()
        # the rest can never complete: close now, not after the read timeout
        assert c.wait_closed(3), "daemon waited on a message that cannot arrive"
        assert time.monotonic() - t0 < 3


def _rst_close(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def test_client_gone_before_answer_does_not_kill_daemon(configured_daemon):
    key = configured_daemon.key
    big = {"type": "process", "ciphertext": seal(key, b"x" * 200000)}
    for i in range(20):
        c = configured_daemon.connect()
        c.send_raw(to_bytes(big) if i % 2 else len_frame(big))
        if i % 3 == 0:
            _rst_close(c.sock)             # reset: the daemon's write fails
        else:
            c.close()
    time.sleep(0.3)
    assert configured_daemon.alive()
    assert configured_daemon.request(PING)["msg"] == "pong"


def test_client_reset_mid_message(daemon):
    for i in range(10):
        c = daemon.connect()
        c.send_raw(b'{"type":"ping","pad":"' + b"a" * 1000 if i % 2 else
                   struct.pack(">I", 5000) + b"{")
        _rst_close(c.sock)
    assert daemon.request(PING)["msg"] == "pong"
    assert daemon.alive()


@pytest.mark.parametrize("depth", [1000, 100000])
def test_deeply_nested_json_does_not_crash(daemon, depth):
    body = b'{"type":"ping","x":' + b"[" * depth + b"]" * depth + b"}"
    with daemon.connect(timeout=10) as c:
        c.send_raw(body)
        resp = c.recv_bare(timeout=10)
        assert resp.get("msg") in ("pong", "invalid_json"), resp
        assert c.request(PING, "len")["msg"] == "pong"
    body = b'{"type":"ping","x":' + b'{"a":' * depth + b"1" + b"}" * depth + b"}"
    with daemon.connect(timeout=10) as c:
        c.send_len(body)
        resp = c.recv_len(timeout=10)
        assert resp.get("msg") in ("pong", "invalid_json"), resp
    assert daemon.alive()


def test_connections_do_not_leak_descriptors(configured_daemon):
    key = configured_daemon.key
    fd_dir = "/proc/%d/fd" % configured_daemon.pid

    def churn(n):
        for i in range(n):
            c = configured_daemon.connect(unix=bool(i % 2))
            kind = i % 5
            if kind == 0:
                assert c.request(PING)["msg"] == "pong"
                c.close()
            elif kind == 1:
                c.send_raw(b'{"type":"pi')          # partial, then gone
                c.close()
            elif kind == 2:
                c.send_len({"type": "process", "ciphertext": seal(key, b"x")})
                _rst_close(c.sock)
            elif kind == 3:
                c.close()                            # connect, nothing
            else:
                c.send_raw(b"[]")                   # a 0x5b5d.. length prefix
                c.close()

    churn(50)
    time.sleep(0.5)
    before = len(os.listdir(fd_dir))
    churn(300)
    deadline = time.monotonic() + 5
    while True:
        after = len(os.listdir(fd_dir))
        if after <= before + 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert after <= before + 2, "daemon fds grew from %d to %d" % (before, after)
