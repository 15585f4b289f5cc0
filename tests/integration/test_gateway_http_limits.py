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
