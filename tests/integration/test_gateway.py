"""
enclave-gateway: the host worker in front of real enclaved daemons.

* Two enclaved on TCP with kmstool-dev behind one gateway; credentials from
  a local stand-in for the EC2 instance metadata service (IMDSv2 with a
  session-token check, written here), or from the environment.
* Requests succeed and the data owner's key opens every result.
* One enclave killed (SIGKILL) under load: every 200 the client got opens
  correctly, the rest of the load goes to the survivor; restarted on the
  same port, the gateway configures it again by itself (the enclave's own
  health says configured, and so do the gateway's metrics).
* Metrics checked by scraping; 503 + Retry-After with no enclave up and
  with the queue full; the error mapping (gateway docs: errors.h);
  SIGTERM finishes the request in flight; logs hold no secret or body.
* enclavectl's --credentials imds and --retry.

A scripted fake enclave (FakeEnclave, length framing, slow on purpose)
stands in where timing matters: queue full, timeout, graceful shutdown.
"""

import http.client
import http.server
import json
import os
import secrets
import signal
import socket
import struct
import subprocess
import threading
import time

import pytest

from helpers import harness
from helpers.gateway import parse_metrics
from helpers.harness import (CREDS, ENV_AWS, REGION, assert_error, binary, clean_env,
                             free_tcp_port, genkey, open_sealed, seal)


# --- the metadata service stand-in -------------------------------------------

class Imds:
    """IMDSv2 on 127.0.0.1: PUT /latest/api/token (needs the TTL header),
    then GETs that must carry the token. Counts every call; `lifetime` sets
    how far ahead Expiration lies."""

    ROLE = "enclave-gateway-test-role"

    def __init__(self, lifetime=6 * 3600, held=None):
        self.token = secrets.token_urlsafe(24)
        self.lifetime = lifetime
        self.calls = {"token": 0, "role": 0, "creds": 0, "unauthorized": 0}
        self.lock = threading.Lock()
        imds = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def reply(self, code, body, ctype="text/plain"):
                data = body.encode()
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                if (self.path != "/latest/api/token" or
                        not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")):
                    return self.reply(400, "bad token request")
                with imds.lock:
                    imds.calls["token"] += 1
                self.reply(200, imds.token)

            def do_GET(self):
                if self.headers.get("X-aws-ec2-metadata-token") != imds.token:
                    with imds.lock:
                        imds.calls["unauthorized"] += 1
                    return self.reply(401, "")
                base = "/latest/meta-data/iam/security-credentials/"
                if self.path == base:
                    with imds.lock:
                        imds.calls["role"] += 1
                    return self.reply(200, Imds.ROLE)
                if self.path == base + Imds.ROLE:
                    with imds.lock:
                        imds.calls["creds"] += 1
                    exp = time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                        time.gmtime(time.time() + imds.lifetime))
                    doc = {"Code": "Success", "LastUpdated": "2026-01-01T00:00:00Z",
                           "Type": "AWS-HMAC", "AccessKeyId": CREDS["aws_access_key_id"],
                           "SecretAccessKey": CREDS["aws_secret_access_key"],
                           "Token": CREDS["aws_session_token"], "Expiration": exp}
                    return self.reply(200, json.dumps(doc), "application/json")
                self.reply(404, "")

        if held is None:
            self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        else:
            # A port held since the test began (see held_port): listen on
            # that very socket, so no other connection can have taken it.
            self.server = http.server.ThreadingHTTPServer(
                ("127.0.0.1", 0), Handler, bind_and_activate=False)
            self.server.socket.close()
            self.server.socket = held
            self.server.server_address = held.getsockname()
            self.server.server_activate()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self, what):
        with self.lock:
            return self.calls[what]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def imds():
    s = Imds()
    yield s
    s.close()


# --- a scripted enclave (length framing), for timing-dependent cases ---------------

class FakeEnclave:
    """Answers health (configured), configure (ok) and process (after
    `delay` seconds, result = the ciphertext) over 4-byte length framing."""

    def __init__(self, delay=0.0):
        self.delay = delay
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.endpoint = "tcp:127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    @staticmethod
    def _exact(c, n):
        out = b""
        while len(out) < n:
            chunk = c.recv(n - len(out))
            if not chunk:
                raise EOFError
            out += chunk
        return out

    def _serve(self, c):
        try:
            while True:
                (n,) = struct.unpack(">I", self._exact(c, 4))
                req = json.loads(self._exact(c, n))
                if req["type"] == "health":
                    resp = {"status": "healthy", "configured": True}
                elif req["type"] == "process":
                    time.sleep(self.delay)
                    resp = {"status": "ok", "result": req["ciphertext"]}
                else:
                    resp = {"status": "ok", "msg": "configured"}
                body = json.dumps(resp).encode()
                c.sendall(struct.pack(">I", len(body)) + body)
        except (EOFError, OSError, ValueError):
            pass
        finally:
            c.close()

    def close(self):
        self.stop = True
        self.sock.close()


@pytest.fixture
def key(kmstool_dev_bin):
    return genkey()


@pytest.fixture
def pair(start_daemon, key):
    return start_daemon(unix=False), start_daemon(unix=False)


def health(daemon):
    return daemon.request({"type": "health"})


# --- tests ---------------------------------------------------------------------

def test_process_with_imds_credentials(gateway_bin, gateways, pair, key, imds):
    tsk, k = key
    g = gateways([d.tcp for d in pair], "--credentials", "imds", tsk=tsk,
                 env=clean_env(AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url + "/"))
    g.wait_healthy()
    g.wait_up([d.tcp for d in pair])
    assert imds.count("token") >= 1 and imds.count("role") >= 1
    assert imds.count("creds") >= 1 and imds.count("unauthorized") == 0
    for d in pair:
        assert health(d)["configured"] is True
    c = g.conn()
    for i in range(20):
        pt = ("record %d" % i).encode()
        status, hdrs, body = g.process(seal(k, pt, aad="owner-7"), aad="owner-7", conn=c)
        assert status == 200, body
        assert set(body) == {"result"}
        assert open_sealed(k, body["result"], aad="owner-7") == pt
    c.close()
    # Balanced: both enclaves did work (each process is one encryption).
    assert all(health(d)["key_encryptions"] > 0 for d in pair)


def test_refreshes_imds_credentials_before_expiry(gateway_bin, gateways, pair, key, imds):
    imds.lifetime = 300 + 2      # inside the 5-minute margin in 2 s
    g = gateways([pair[0].tcp], "--credentials", "imds", tsk=key[0],
                 env=clean_env(AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
    g.wait_healthy()
    # The metadata service answers the second fetch a moment before the
    # gateway counts it: on a loaded machine, wait for the count itself.
    ok = 'enclave_gateway_credentials_refresh_total{result="ok"}'
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        m = g.metrics()
        if imds.count("creds") >= 2 and m[ok] >= 2:
            break
        time.sleep(0.1)
    assert imds.count("creds") >= 2, g.log()
    assert m[ok] >= 2, g.log()
    assert m["enclave_gateway_credentials_expiration_timestamp_seconds"] > time.time()


def test_metadata_service_down_then_up(gateway_bin, gateways, pair, key):
    """No credentials yet: not ready, fetches retried with backoff; once the
    metadata service answers, the enclave is configured by itself."""
    # The port is held by a bound socket that does not listen, so the
    # gateway's attempts are refused, and none of its own connections can
    # take the port as a source port (a free port chosen and left unbound
    # was once taken so, and the late service could not bind).
    held = socket.socket()
    held.bind(("127.0.0.1", 0))
    port = held.getsockname()[1]
    d = pair[0]
    g = gateways([d.tcp], "--credentials", "imds", tsk=key[0],
                 env=clean_env(AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d" % port))
    deadline = time.monotonic() + 10
    while g.metrics()['enclave_gateway_credentials_refresh_total{result="error"}'] < 2:
        assert time.monotonic() < deadline, g.log()
        time.sleep(0.05)
    assert g.request("GET", "/healthz")[0] == 503
    status, hdrs, body = g.process(seal(key[1], b"x"))
    assert status == 503 and hdrs.get("retry-after") == "1", body
    assert d.request({"type": "health"})["configured"] is False
    late = Imds(held=held)
    try:
        g.wait_healthy(timeout=15)
        assert d.request({"type": "health"})["configured"] is True
        status, _, body = g.process(seal(key[1], b"now"))
        assert status == 200 and open_sealed(key[1], body["result"]) == b"now"
    finally:
        late.close()


def test_kill_one_enclave_under_load_then_restart(gateway_bin, gateways, pair, key,
                                                  enclaved_bin, tmp_path):
    tsk, k = key
    a, b = pair
    g = gateways([a.tcp, b.tcp], tsk=tsk)
    g.wait_up([a.tcp, b.tcp])
    stop = threading.Event()
    results = []          # (status, plaintext sent, body, time)
    lock = threading.Lock()

    def client(n):
        c = g.conn()
        i = 0
        while not stop.is_set():
            pt = ("client %d request %d %s" % (n, i, secrets.token_hex(8))).encode()
            try:
                status, _, body = g.process(seal(k, pt), conn=c)
            except (OSError, http.client.HTTPException) as e:
                status, body = -1, repr(e)
                c.close()
                c = g.conn()
            with lock:
                results.append((status, pt, body, time.monotonic()))
            i += 1
        c.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    time.sleep(0.8)
    a.proc.kill()                      # SIGKILL: no goodbye
    a.stopped_by_test = True
    a.proc.wait()
    killed_at = time.monotonic()
    time.sleep(1.2)
    stop.set()
    for t in threads:
        t.join(10)

    ok = [r for r in results if r[0] == 200]
    failed = [r for r in results if r[0] != 200]
    # Every answer the client was told succeeded is the real thing.
    for status, pt, body, _ in ok:
        assert open_sealed(k, body["result"]) == pt
    assert not failed, "requests failed around the kill: %r" % failed[:5]
    after = [r for r in ok if r[3] > killed_at + 0.1]
    assert len(after) > 20, "the survivor did not take the load"
    m = g.metrics()
    assert m['enclave_gateway_enclave_up{enclave="%s"}' % a.tcp] == 0
    assert m['enclave_gateway_enclave_up{enclave="%s"}' % b.tcp] == 1
    assert m['enclave_gateway_enclave_failures_total{enclave="%s"}' % a.tcp] >= 1
    status, _, _ = g.request("GET", "/healthz")
    assert status == 200

    # Restart on the same port: unconfigured, as every restarted enclave is.
    port = int(a.tcp.rsplit(":", 1)[1])
    a2 = harness.Daemon(enclaved_bin, ["--kmstool", binary("kmstool-dev"), "--region", REGION],
                        port, None, str(tmp_path / "enclaved-restarted.log"), dict(os.environ))
    try:
        a2.wait_listening()
        key_ok = 'enclave_gateway_configure_total{enclave="%s",result="ok"}' % a.tcp
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            m = g.metrics()
            if m[key_ok] >= 2 and m['enclave_gateway_enclave_up{enclave="%s"}' % a.tcp] == 1:
                break
            time.sleep(0.05)
        assert m[key_ok] >= 2, g.log()
        assert m['enclave_gateway_last_configure_timestamp_seconds{enclave="%s"}'
                 % a.tcp] >= int(killed_at - time.monotonic() + time.time()) - 1
        assert a2.request({"type": "health"})["configured"] is True
        # And it takes requests again.
        c = g.conn()
        for i in range(16):
            status, _, body = g.process(seal(k, b"again %d" % i), conn=c)
            assert status == 200
            assert open_sealed(k, body["result"]) == b"again %d" % i
        c.close()
        assert a2.request({"type": "health"})["key_encryptions"] > 0
    finally:
        a2.terminate()


def test_reconfigures_on_not_configured_and_retries(gateway_bin, gateways, start_daemon,
                                                    key, enclaved_bin, tmp_path):
    """A restart between two probes: the request itself meets
    not_configured, the gateway configures and sends it again once."""
    tsk, k = key
    d = start_daemon(unix=False)
    g = gateways([d.tcp], tsk=tsk)
    g.wait_healthy()
    port = int(d.tcp.rsplit(":", 1)[1])
    d.terminate()
    d2 = harness.Daemon(enclaved_bin, ["--kmstool", binary("kmstool-dev"), "--region", REGION],
                        port, None, str(tmp_path / "enclaved-2.log"), dict(os.environ))
    try:
        d2.wait_listening()
        status, _, body = g.process(seal(k, b"x"))
        assert status == 200, body
        assert open_sealed(k, body["result"]) == b"x"
        assert d2.request({"type": "health"})["configured"] is True
    finally:
        d2.terminate()


def test_metrics_scrape(gateway_bin, gateways, pair, key):
    tsk, k = key
    t0 = time.time()
    g = gateways([d.tcp for d in pair], tsk=tsk)
    g.wait_up([d.tcp for d in pair])
    for i in range(10):
        assert g.process(seal(k, b"m%d" % i))[0] == 200
    assert g.process(seal(k, b"bad"), aad="wrong")[0] == 422
    status, hdrs, data = g.request("GET", "/metrics")
    assert status == 200 and hdrs["content-type"].startswith("text/plain")
    text = data.decode()
    assert "# TYPE enclave_gateway_request_duration_seconds histogram" in text
    m = parse_metrics(text)
    assert m['enclave_gateway_requests_total{code="200"}'] == 10
    assert m['enclave_gateway_requests_total{code="422"}'] == 1
    assert m['enclave_gateway_errors_total{code="decrypt_failed"}'] == 1
    assert m["enclave_gateway_request_duration_seconds_count"] == 11
    buckets = [v for name, v in m.items()
               if name.startswith("enclave_gateway_request_duration_seconds_bucket")]
    assert buckets == sorted(buckets) and buckets[-1] == 11
    assert m["enclave_gateway_in_flight_requests"] == 0
    assert m["enclave_gateway_queue_waiting"] == 0
    for d in pair:
        assert m['enclave_gateway_enclave_up{enclave="%s"}' % d.tcp] == 1
        assert m['enclave_gateway_enclave_state{enclave="%s",state="up"}' % d.tcp] == 1
        assert m['enclave_gateway_configure_total{enclave="%s",result="ok"}' % d.tcp] == 1
        last = m['enclave_gateway_last_configure_timestamp_seconds{enclave="%s"}' % d.tcp]
        assert int(t0) <= last <= time.time() + 1


def test_no_enclave_is_503_with_retry_after(gateway_bin, gateways, key):
    dead = "tcp:127.0.0.1:%d" % free_tcp_port()
    g = gateways([dead], tsk=key[0])
    status, hdrs, body = g.request("GET", "/healthz")
    assert status == 503 and hdrs.get("retry-after") == "1"
    status, hdrs, body = g.process(seal(key[1], b"x"))
    assert status == 503, body
    assert hdrs.get("retry-after") == "1"
    assert body["error"] == "unavailable"
    m = g.metrics()
    assert m['enclave_gateway_enclave_state{enclave="%s",state="down"}' % dead] == 1


def test_declared_length_past_max_body_is_413_at_once(gateway_bin, gateways):
    # Content-Length read by the common number rule: past --max-body, and
    # past 2^64 - 1 (too large, never wrapped), 413 before any body;
    # what is not a number at all MHD answers 400 itself.
    g = gateways(["tcp:127.0.0.1:%d" % free_tcp_port()], "--max-body", "100")
    for length, want in [("101", 413), ("18446744073709551615", 413),
                         ("99999999999999999999999", 413), ("+5", 400),
                         ("0x10", 400), ("abc", 400)]:
        with socket.create_connection(("127.0.0.1", g.port), timeout=10) as s:
            s.sendall(b"POST /v1/process HTTP/1.1\r\nHost: t\r\n"
                      b"Content-Length: " + length.encode() + b"\r\n\r\n{}")
            head = s.recv(256).split(b"\r\n")[0]
        assert head.startswith(b"HTTP/1.1 %d " % want), (length, head)


def test_error_mapping(gateway_bin, gateways, pair, key):
    tsk, k = key
    g = gateways([pair[0].tcp], "--max-body", "4096", tsk=tsk)
    g.wait_healthy()
    ct = seal(k, b"payload", aad="a")
    cases = [
        ({"ciphertext": ct, "aad": "b"}, 422, "decrypt_failed"),
        ({"ciphertext": seal(os.urandom(32), b"x")}, 422, "decrypt_failed"),
        ({"ciphertext": "zz" * 30}, 400, "invalid_hex"),
        ({"ciphertext": "abc"}, 400, "invalid_hex"),
        ({"ciphertext": "00" * 10}, 400, "invalid_ciphertext"),
        ({"ciphertext": ""}, 400, "missing_fields"),
        ({"aad": "a"}, 400, "missing_fields"),
        ({"ciphertext": 7}, 400, "invalid_field"),
        ({"ciphertext": ct, "aad": 7}, 400, "invalid_field"),
        ("not json", 400, "invalid_json"),
        ([1, 2], 400, "invalid_json"),
        ({"ciphertext": "00" * 4000}, 413, "too_large"),
    ]
    for body, want_status, want_code in cases:
        status, hdrs, data = g.request("POST", "/v1/process", body)
        resp = json.loads(data)
        assert (status, resp["error"]) == (want_status, want_code), (body, resp)
        assert isinstance(resp["details"], str)
        assert hdrs["content-type"] == "application/json"
    # A chunked body (no Content-Length) over the limit: 413 as well.
    c = g.conn()
    c.request("POST", "/v1/process", body=iter([b'{"ciphertext":"', b"00" * 3000, b'"}']),
              encode_chunked=True)
    r = c.getresponse()
    assert r.status == 413 and json.loads(r.read())["error"] == "too_large"
    c.close()
    assert g.request("GET", "/v1/process")[0] == 405
    assert g.request("POST", "/healthz", "")[0] == 405
    assert g.request("GET", "/nope")[0] == 404
    # The enclave is still fine after all that.
    status, _, body = g.process(ct, aad="a")
    assert status == 200 and open_sealed(k, body["result"], aad="a") == b"payload"


def test_queue_full_is_503_and_timeout_504(gateway_bin, gateways):
    fake = FakeEnclave(delay=1.0)
    try:
        g = gateways([fake.endpoint], "--connections-per-enclave", "1", "--queue", "1",
                     "--timeout", "5")
        g.wait_healthy()
        out = []

        def one():
            out.append(g.process("00" * 40)[:2])

        threads = [threading.Thread(target=one) for _ in range(4)]
        for t in threads:
            t.start()
            time.sleep(0.1)
        for t in threads:
            t.join(10)
        codes = sorted(s for s, _ in out)
        assert codes == [200, 200, 503, 503], out
        assert all(h.get("retry-after") == "1" for s, h in out if s == 503)
        m = g.metrics()
        assert m['enclave_gateway_errors_total{code="overloaded"}'] == 2
        g.stop()

        g = gateways([fake.endpoint], "--timeout", "0.3")
        g.wait_healthy()
        status, _, body = g.process("00" * 40)
        assert status == 504 and body["error"] == "timeout"
    finally:
        fake.close()


def test_queue_is_first_come_first_served(gateway_bin, gateways):
    fake = FakeEnclave(delay=0.2)
    try:
        g = gateways([fake.endpoint], "--connections-per-enclave", "1", "--queue", "8")
        g.wait_healthy()
        done = []
        lock = threading.Lock()

        def one(i):
            status = g.process("%02x" % i * 40)[0]
            with lock:
                done.append((i, status))

        threads = [threading.Thread(target=one, args=(i,)) for i in range(5)]
        for t in threads:
            t.start()
            time.sleep(0.05)
        for t in threads:
            t.join(10)
        assert done == [(i, 200) for i in range(5)], done
    finally:
        fake.close()


def test_sigterm_finishes_requests_in_flight(gateway_bin, gateways):
    fake = FakeEnclave(delay=1.0)
    try:
        g = gateways([fake.endpoint])
        g.wait_healthy()
        out = []
        t = threading.Thread(target=lambda: out.append(g.process("ab" * 40)))
        t.start()
        time.sleep(0.3)
        g.proc.send_signal(signal.SIGTERM)
        t.join(10)
        assert out and out[0][0] == 200 and out[0][2]["result"] == "ab" * 40
        assert g.proc.wait(10) == 0
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", g.port), timeout=1).close()
        assert "stopped" in g.log()
    finally:
        fake.close()


def _trickler(port, first, rest, stop, out):
    """Sends `first` at once, then one byte of `rest` every 0.5 s (never
    idle long enough for an inactivity timeout) until the gateway ends the
    connection or `stop` is set; out gets (seconds until the end, bytes
    the gateway sent)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    t0 = time.monotonic()
    got = b""
    try:
        s.sendall(first)
        s.settimeout(0.5)
        for b in rest:
            if stop.is_set():
                break
            try:
                chunk = s.recv(4096)
                if not chunk:
                    break
                got += chunk
                continue
            except socket.timeout:
                pass
            try:
                s.sendall(bytes([b]))
            except OSError:
                break
        s.settimeout(2)
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except OSError:
        pass
    finally:
        out.append((time.monotonic() - t0, got))
        s.close()


def test_slowloris_clients_lose_their_slots_after_timeout(gateway_bin, gateways):
    """F18: ten clients trickling a byte every 0.5 s, five in their headers
    and five in a body, held all --max-connections 10 past --timeout (the
    HTTP library's timeout counts inactivity only). Each request now has
    --timeout to arrive whole: a late body gets 408, late headers a close,
    and a normal client is served once the slots are free."""
    fake = FakeEnclave()
    try:
        g = gateways([fake.endpoint], "--max-connections", "10", "--timeout", "2")
        g.wait_healthy()
        body = json.dumps({"ciphertext": "00" * 40}).encode()
        head = (b"POST /v1/process HTTP/1.1\r\nHost: x\r\n"
                b"Content-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body))
        stop = threading.Event()
        late_headers, late_body = [], []
        threads = []
        for i in range(10):
            if i % 2:
                args = (g.port, head, body, stop, late_body)
            else:
                args = (g.port, b"P", head[1:] + body, stop, late_headers)
            threads.append(threading.Thread(target=_trickler, args=args))
        t0 = time.monotonic()
        for t in threads:
            t.start()
        time.sleep(0.5)
        # Every slot is taken: a normal client is turned away for now...
        served_at = None
        while time.monotonic() - t0 < 6:
            try:
                status = g.process("ab" * 40)[0]
            except (OSError, http.client.HTTPException):
                time.sleep(0.1)
                continue
            assert status == 200
            served_at = time.monotonic() - t0
            break
        stop.set()
        for t in threads:
            t.join(15)
        # ... and served once the tricklers' deadline has passed.
        assert served_at is not None, g.log()[-2000:]
        assert 1.5 <= served_at <= 4.0, served_at
        assert len(late_headers) == 5 and len(late_body) == 5
        for secs, got in late_headers + late_body:
            assert secs <= 3.5, (secs, got)
        for secs, got in late_headers:
            assert got == b"", got
        for secs, got in late_body:
            assert got.startswith(b"HTTP/1.1 408 "), got
            assert b'"error":"request_timeout"' in got
        m = g.metrics()
        assert m.get('enclave_gateway_errors_total{code="request_timeout"}') == 5
    finally:
        fake.close()


def test_keepalive_request_gets_its_own_deadline(gateway_bin, gateways):
    """The deadline restarts after each answer: three requests 0.7 s apart
    on one connection (2.1 s in all) with --timeout 1 are all served; the
    connection is closed once it stays empty past --timeout."""
    fake = FakeEnclave()
    try:
        g = gateways([fake.endpoint], "--timeout", "1")
        g.wait_healthy()
        c = g.conn()
        try:
            assert g.process("ab" * 40, conn=c)[0] == 200
            time.sleep(0.7)
            assert g.process("cd" * 40, conn=c)[0] == 200
            time.sleep(0.7)
            assert g.process("ef" * 40, conn=c)[0] == 200
            time.sleep(1.6)
            c.sock.settimeout(1)
            assert c.sock.recv(1) == b""
        finally:
            c.close()
    finally:
        fake.close()


def test_logs_hold_no_secrets_or_bodies(gateway_bin, gateways, pair, key):
    tsk, k = key
    g = gateways([pair[0].tcp], tsk=tsk, env=clean_env(**ENV_AWS))
    g.wait_healthy()
    ct = seal(k, b"secret payload")
    assert g.process(ct)[0] == 200
    bad = seal(k, b"other", aad="x")
    assert g.process(bad, aad="y")[0] == 422
    g.stop()
    log = g.log()
    assert "decrypt_failed" in log
    for s in list(CREDS.values()) + [ct[:40], bad[:40], tsk[:40]]:
        assert s not in log


def test_usage(gateway_bin, tmp_path):
    p = subprocess.run([gateway_bin, "--help"], capture_output=True, text=True)
    assert p.returncode == 0 and "--connections-per-enclave" in p.stdout
    for args in (["--credentials", "vault"], ["--queue", "-1"], ["--enclave", "tcp:x"],
                 ["--timeout", "0"], ["extra"], ["--bogus"]):
        p = subprocess.run([gateway_bin] + args, capture_output=True, text=True)
        assert p.returncode == 2, (args, p.stderr)
    # Keys to configure and no credentials: a clear refusal. (With no key
    # at all it needs none: test_gateway_default_key.py.)
    tsk = tmp_path / "tsk.b64"
    tsk.write_text("QUJD\n")
    p = subprocess.run([gateway_bin, "--listen", "127.0.0.1:%d" % free_tcp_port(),
                        "--tsk", str(tsk)],
                       capture_output=True, text=True, env=clean_env(), timeout=10)
    assert p.returncode == 1 and "AWS_ACCESS_KEY_ID" in p.stderr


# --- enclavectl: --credentials imds, --retry ---------------------------------------

def test_enclavectl_configure_with_imds(enclavectl_bin, daemon, key, imds, tmp_path):
    tsk_file = tmp_path / "tsk.b64"
    tsk_file.write_text(key[0])
    p = subprocess.run([enclavectl_bin, "--enclave", daemon.tcp, "configure", "--tsk",
                        str(tsk_file), "--credentials", "imds"], capture_output=True,
                       text=True, timeout=20,
                       env=clean_env(AWS_EC2_METADATA_SERVICE_ENDPOINT=imds.url))
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["msg"] == "configured"
    assert imds.count("creds") == 1 and imds.count("unauthorized") == 0
    assert daemon.request({"type": "health"})["configured"] is True
    # No metadata service: exit 3, said plainly.
    p = subprocess.run([enclavectl_bin, "--enclave", daemon.tcp, "configure", "--tsk",
                        str(tsk_file), "--credentials", "imds"], capture_output=True,
                       text=True, timeout=20, env=clean_env(
                           AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:%d"
                           % free_tcp_port()))
    assert p.returncode == 3 and "metadata service" in p.stderr


def test_enclavectl_retry_with_backoff(enclavectl_bin, enclaved_bin, tmp_path):
    port = free_tcp_port()
    ep = "tcp:127.0.0.1:%d" % port
    t0 = time.monotonic()
    p = subprocess.run([enclavectl_bin, "--enclave", ep, "--retry", "2", "ping"],
                       capture_output=True, text=True, timeout=20, env=clean_env())
    took = time.monotonic() - t0
    assert p.returncode == 3
    assert p.stderr.count("retrying in") == 2, p.stderr
    assert took >= 0.15 + 0.3, took           # 200 ms then 400 ms, less jitter
    # The daemon comes up while enclavectl is backing off: it succeeds.
    d = {}

    def later():
        time.sleep(0.5)
        d["d"] = harness.Daemon(enclaved_bin, ["--kmstool", binary("kmstool-dev")], port,
                                None, str(tmp_path / "late.log"), dict(os.environ))

    t = threading.Thread(target=later)
    t.start()
    try:
        p = subprocess.run([enclavectl_bin, "--enclave", ep, "--retry", "6", "ping"],
                           capture_output=True, text=True, timeout=30, env=clean_env())
        assert p.returncode == 0, p.stderr
        assert "pong" in p.stdout and "retrying in" in p.stderr
    finally:
        t.join()
        d["d"].terminate()
    p = subprocess.run([enclavectl_bin, "--retry", "x", "ping"], capture_output=True,
                       text=True, env=clean_env())
    assert p.returncode == 2


# --- I-JSON and U+0000 (issue 14 item 1, issue 16 item 4) -----------------------

def test_duplicate_and_nul_names_are_invalid_json(gateway_bin, gateways, pair, key):
    # The gateway reads the body as strictly as the daemon: a name that
    # means two members, or one cut at U+0000, is refused before forwarding.
    tsk, k = key
    g = gateways([pair[0].tcp], tsk=tsk)
    g.wait_healthy()
    ct = seal(k, b"payload", aad="a")
    for body in [
        '{"ciphertext":"%s","ciphertext":"%s"}' % (ct, seal(k, b"other", aad="a")),
        '{"ciphertext":"%s","aad":"a","aad":"b"}' % ct,
        '{"ciphertext":"%s","aad":"a","\\u0061ad":"a"}' % ct,
        '{"ciphertext":"%s","aad":"a","x":{"y":1,"y":2}}' % ct,
        '{"ciphertext\\u0000":"zz","ciphertext":"%s","aad":"a"}' % ct,
        '{"ciphertext":"%s","aad\\u0000":"b","aad":"a"}' % ct,
    ]:
        status, _, data = g.request("POST", "/v1/process", body)
        resp = json.loads(data)
        assert (status, resp["error"]) == (400, "invalid_json"), (body, resp)
    # the same fields, once each, still pass
    status, _, data = g.request("POST", "/v1/process",
                                '{"ciphertext":"%s","aad":"a"}' % ct)
    assert status == 200, data
    assert open_sealed(k, json.loads(data)["result"], "a") == b"payload"


def test_nul_in_aad_or_ciphertext_is_refused_not_cut(gateway_bin, gateways, pair, key):
    # Before: cJSON's C strings cut "abc\u0000ANYTHING" to "abc", so a
    # request the enclave refuses (decrypt_failed) got 200 through the
    # gateway. Now: forwarded whole or refused, as the daemon would.
    tsk, k = key
    g = gateways([pair[0].tcp], tsk=tsk)
    g.wait_healthy()
    ct = seal(k, b"payload", aad="abc")
    status, _, data = g.request(
        "POST", "/v1/process", '{"ciphertext":"%s","aad":"abc\\u0000ANYTHING"}' % ct)
    resp = json.loads(data)
    assert (status, resp["error"]) == (400, "invalid_field"), resp
    assert "U+0000" in resp["details"], resp
    status, _, data = g.request(
        "POST", "/v1/process", '{"ciphertext":"%s\\u0000zz","aad":"abc"}' % ct)
    resp = json.loads(data)
    assert (status, resp["error"]) == (400, "invalid_hex"), resp
    status, _, data = g.request(
        "POST", "/v1/process", '{"ciphertext":"\\u0000%s","aad":"abc"}' % ct)
    assert (status, json.loads(data)["error"]) == (400, "invalid_hex"), data
    # what the daemon itself answers to the same aad: decrypt_failed
    assert_error(pair[0].process(ct, aad="abc\u0000ANYTHING"), "decrypt_failed")
    # a U+0000 elsewhere in the body changes nothing for these two
    status, _, data = g.request(
        "POST", "/v1/process", '{"ciphertext":"%s","aad":"abc","x":"\\u0000"}' % ct)
    assert status == 200, data
    assert open_sealed(k, json.loads(data)["result"], "abc") == b"payload"
