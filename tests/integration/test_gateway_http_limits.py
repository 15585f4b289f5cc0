"""
enclave-gateway's HTTP front against hostile clients (issue 20):

* F33: a request carrying both Content-Length and Transfer-Encoding is
  refused (400 `ambiguous_framing`) and its connection closed, so bytes a
  Content-Length-framing front end counted as body never run as a second
  request (RFC 9112 6.1).
* F30: one memory bound for every connection's buffered bodies
  (`--memory-limit`): uploads held one byte short of their body cannot
  grow the gateway past it; past it a request gets 503 `overloaded`,
  `Retry-After: 1` and a close, and other clients keep being served.
"""

import json
import select
import socket
import time

import pytest

from helpers.harness import genkey, open_sealed, seal


def smuggle(port, te, inner):
    """One request framed two ways: Content-Length covers the whole rest
    (a front end's view), the chunked reading ends at '0' and leaves
    `inner` as a second request. Returns every byte the gateway sent until
    it closed."""
    body = b"0\r\n\r\n" + inner
    head = (b"POST /v1/process HTTP/1.1\r\nHost: t\r\n"
            b"Content-Length: %d\r\nTransfer-Encoding: %s\r\n\r\n"
            % (len(body), te))
    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(head + body)
        while True:
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                break
            if not data:
                break
            out += data
    return out


@pytest.mark.parametrize("te", [b"chunked", b"gzip, chunked", b"identity",
                                b"xchunked"])
def test_content_length_with_transfer_encoding_is_refused_and_closed(
        gateway_bin, gateways, start_daemon, te):
    tsk, k = genkey()
    d = start_daemon(unix=False)
    g = gateways([d.tcp], tsk=tsk)
    g.wait_up([d.tcp])
    good = json.dumps({"ciphertext": seal(k, b"smuggled")}).encode()
    inner = (b"POST /v1/process HTTP/1.1\r\nHost: t\r\nContent-Length: %d\r\n"
             b"\r\n" % len(good)) + good
    out = smuggle(g.port, te, inner)
    # One answer, a 400, and the connection closed after it.
    assert out.startswith(b"HTTP/1.1 400 "), out[:200]
    assert out.count(b"HTTP/1.1 ") == 1, out
    assert b"ambiguous_framing" in out, out
    assert b"connection: close" in out.lower(), out
    # The smuggled request never reached an enclave.
    m = g.metrics()
    assert 'enclave_gateway_requests_total{code="200"}' not in m, m
    # The same request sent plainly is served (the test can tell).
    status, _, body = g.process(seal(k, b"plain"))
    assert status == 200 and open_sealed(k, body["result"]) == b"plain"


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def read_answer(s):
    """Every byte until the gateway closes (or resets) the connection."""
    out = b""
    s.settimeout(10)
    while True:
        try:
            data = s.recv(65536)
        except ConnectionResetError:
            break
        if not data:
            break
        out += data
    return out


def test_memory_limit_bounds_uploads_held_one_byte_short(
        gateway_bin, gateways, start_daemon):
    """F30: 30 uploads of 4 MiB each held one byte short, --memory-limit
    20 MiB: each claims its body and an answer as large (8 MiB), so two
    get in and the other 28 get 503 overloaded + Retry-After: 1 at once,
    and a close; RSS stays far below the 120 MiB the bodies would take;
    a small request is still served meanwhile."""
    body_len = 4 << 20
    tsk, k = genkey()
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--max-body", str(body_len), "--memory-limit",
                 str(20 << 20), tsk=tsk)
    g.wait_up([d.tcp])
    base = rss_kib(g.proc.pid)
    head = (b"POST /v1/process HTTP/1.1\r\nHost: t\r\nContent-Type: "
            b"application/json\r\nContent-Length: %d\r\n\r\n" % body_len)
    socks = [socket.create_connection(("127.0.0.1", g.port), timeout=10)
             for _ in range(30)]
    try:
        for s in socks:
            s.sendall(head)
        # The refused ones answer at once; wait until 28 have.
        refused, deadline = set(), time.monotonic() + 20
        while len(refused) < 28 and time.monotonic() < deadline:
            ready, _, _ = select.select([s for s in socks if s not in refused],
                                        [], [], 0.5)
            refused.update(ready)
        assert len(refused) == 28, (len(refused), g.log()[-2000:])
        for s in refused:
            out = read_answer(s)
            assert out.startswith(b"HTTP/1.1 503 "), out[:200]
            assert b"overloaded" in out and b"--memory-limit" in out, out
            low = out.lower()
            assert b"retry-after: 1\r\n" in low and b"connection: close" in low
        held = [s for s in socks if s not in refused]
        filler = b"x" * (body_len - 1)
        for s in held:
            s.sendall(filler)
        # Both held bodies are in (one byte short): memory stays bounded.
        deadline = time.monotonic() + 20
        while rss_kib(g.proc.pid) - base < 7 * 1024:
            assert time.monotonic() < deadline, "the bodies never arrived"
            time.sleep(0.05)
        grown = rss_kib(g.proc.pid) - base
        print("gateway RSS grew by %d KiB with 2 bodies held" % grown)
        assert grown < 48 * 1024, grown
        # Other clients are served meanwhile.
        status, _, body = g.process(seal(k, b"small"))
        assert status == 200 and open_sealed(k, body["result"]) == b"small"
        # The held ones finish: answered (their body is not JSON), and
        # their claims come back: a new 4 MiB upload fits again.
        for s in held:
            s.sendall(b"}")
            s.settimeout(10)
            assert s.recv(64).startswith(b"HTTP/1.1 400 ")
    finally:
        for s in socks:
            s.close()
    big = head + json.dumps({"ciphertext": seal(k, b"big")}).encode().ljust(
        body_len, b" ")
    answers, deadline = [], time.monotonic() + 20
    while True:
        # A claim comes back just after its answer: a 503 (or a reset
        # while sending into it) is tried again.
        with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
            try:
                s.sendall(big)
                answers.append(s.recv(64))
            except OSError as e:
                answers.append(repr(e).encode())
        if answers[-1].startswith(b"HTTP/1.1 200 "):
            break
        assert time.monotonic() < deadline, answers
        time.sleep(0.05)
    assert answers[-1].startswith(b"HTTP/1.1 200 "), answers
