"""
The benchmark's honesty (docs/bench.md): the load generator
(build/bench/loadgen, from bench/loadgen/loadgen.c) must score a correct
server and must fail a server that answers fast but wrongly; the Python
baseline of the original design (bench/original-design-baseline/server.py)
must answer correctly and serve one request per connection.

The loadgen comes from $BUILD_DIR/bench/loadgen (`make build/bench/loadgen`;
skipped when not built, like the other binaries). The lying servers are tiny
Python servers in this file: each answers every bare-JSON request with one
kind of wrong answer, and an honest one of the same build is the control,
so a failure is the lie's and not the fake server's framing.
"""

import json
import os
import select
import socket
import socketserver
import subprocess
import sys
import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from helpers.harness import (Conn, free_tcp_port, open_sealed, seal,
                             write_key_file)

BASELINE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "bench", "original-design-baseline", "server.py")
#: The baseline needs Debian's python3-cryptography, as bench/run.sh does.
BASELINE_PYTHON = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) \
    else sys.executable

DURATION = "0.3"
SIZE = 1024
LOADGEN_TIMEOUT = 30


# --- running the loadgen ----------------------------------------------------

def parse_result(stdout):
    lines = [l for l in stdout.splitlines() if l.startswith("RESULT ")]
    assert len(lines) == 1, "expected one RESULT line, got:\n%s" % stdout
    out = {}
    for word in lines[0].split()[1:]:
        k, sep, v = word.partition("=")
        assert sep, "RESULT word without '=': %r" % word
        out[k] = v
    for k in ("requests", "errors", "conn_errors", "verified", "total"):
        out[k] = int(out[k])
    return out


def run_loadgen(loadgen_bin, endpoint, key_file, *args):
    """`loadgen run`; returns (exit status, RESULT dict or None, stderr)."""
    argv = [loadgen_bin, "run", "--connect", endpoint, "--key-file", key_file,
            "--duration", DURATION] + list(args)
    if "--size" not in args:
        argv += ["--size", str(SIZE)]
    p = subprocess.run(argv, capture_output=True, text=True,
                       timeout=LOADGEN_TIMEOUT, stdin=subprocess.DEVNULL)
    has_result = any(l.startswith("RESULT ") for l in p.stdout.splitlines())
    res = parse_result(p.stdout) if has_result else None
    return p.returncode, res, "stdout:\n%s\nstderr:\n%s" % (p.stdout, p.stderr)


def assert_scored(rc, res, out):
    assert rc == 0, "loadgen failed against a correct server:\n" + out
    assert res is not None, out
    assert res["requests"] > 0, out
    assert res["errors"] == 0 and res["conn_errors"] == 0, out
    assert res["verified"] > 0, out


def assert_failed(rc, res, out):
    assert rc != 0, "loadgen scored a lying server:\n" + out
    assert res is not None, "no RESULT line:\n" + out
    assert res["errors"] > 0, out
    assert "bad response" in out, out


# --- 1. against a real, configured enclaved ----------------------------------

@pytest.mark.parametrize("mode,key_form", [
    ("persistent", "base64"),
    ("per-request", "hex"),
])
def test_loadgen_scores_enclaved(loadgen_bin, configured_daemon, tmp_path,
                                 mode, key_form):
    key_file = write_key_file(tmp_path, configured_daemon.key, key_form)
    args = ["--conns", "4"] + (["--reconnect"] if mode == "per-request" else [])
    rc, res, out = run_loadgen(loadgen_bin, configured_daemon.tcp, key_file,
                               *args)
    assert_scored(rc, res, out)
    assert res["mode"] == mode, out
    assert res["conns"] == "4" and res["size"] == str(SIZE), out
    assert res["total"] >= res["requests"], out
    assert configured_daemon.alive()


def test_loadgen_wrong_key_fails_against_enclaved(loadgen_bin,
                                                  configured_daemon, tmp_path):
    """The daemon refuses what the wrong key sealed: an error, not a score."""
    key_file = write_key_file(tmp_path, bytes(32))
    rc, res, out = run_loadgen(loadgen_bin, configured_daemon.tcp, key_file,
                               "--conns", "2")
    assert_failed(rc, res, out)
    assert res["verified"] == 0, out


# --- 2. lying servers ----------------------------------------------------------

class FakeServer(socketserver.ThreadingTCPServer):
    """Answers every bare-JSON request on 127.0.0.1 with
    answer(request_dict, index_on_this_connection) -> bytes."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, answer):
        self.answer = answer
        self.handled = 0
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.endpoint = "tcp:127.0.0.1:%d" % self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def stop(self):
        self.shutdown()
        self.server_close()
        self.thread.join(5)


class _FakeHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(5)
        buf = bytearray()
        n = 0
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    return
                buf += chunk
                if not buf.rstrip().endswith(b"}"):
                    continue
                req = json.loads(bytes(buf))
                buf.clear()
                sock.sendall(self.server.answer(req, n))
                self.server.handled += 1
                n += 1
        except (OSError, ValueError):
            return


def reply(obj):
    """The daemon's compact form, newline-terminated."""
    return json.dumps(obj, separators=(",", ":")).encode() + b"\n"


def ok(result_hex):
    return reply({"status": "ok", "result": result_hex})


def make_answers(key):
    aes = AESGCM(key)

    def honest(req, n):
        raw = bytes.fromhex(req["ciphertext"])
        pt = aes.decrypt(raw[:12], raw[12:], None)
        nonce = os.urandom(12)
        return ok((nonce + aes.encrypt(nonce, pt, None)).hex())

    def random_hex(req, n):
        return ok(os.urandom(len(req["ciphertext"]) // 2).hex())

    def short_but_valid(req, n):
        raw = bytes.fromhex(req["ciphertext"])
        pt = aes.decrypt(raw[:12], raw[12:], None)[:-1]
        nonce = os.urandom(12)
        return ok((nonce + aes.encrypt(nonce, pt, None)).hex())

    first = threading.Lock()

    def error_first_only(req, n):
        if first.acquire(blocking=False):
            return reply({"status": "error", "msg": "busy", "details": "x"})
        return honest(req, n)

    return {
        "honest": honest,
        # the request's own ciphertext: decrypts to the right plaintext,
        # only the fresh-nonce check catches it
        "replay": lambda req, n: ok(req["ciphertext"]),
        "random-hex": random_hex,
        "error": lambda req, n: reply({"status": "error",
                                       "msg": "decrypt_failed",
                                       "details": "authentication failed"}),
        # a valid sealing of one byte less: the wrong length
        "wrong-length": short_but_valid,
        # honest on every 16th response and the first, the wrong length
        # elsewhere: the length check on every response catches it, sampled
        # for decryption or not
        "wrong-length-unsampled": lambda req, n: (
            honest if n % 16 == 0 else short_but_valid)(req, n),
        # the right first answer of each connection, random bytes of the
        # right length after it: only the sampled checks (one in K, at random) catch
        # it, never the per-response length check
        "honest-first-only": lambda req, n: (honest if n == 0
                                             else random_hex)(req, n),
        # a wrong answer to the server's very first request (during the
        # warm-up), honest after it (the loadgen reconnects after a bad one)
        "error-first-only": error_first_only,
    }


@pytest.fixture
def fake_server():
    started = []

    def start(answer):
        s = FakeServer(answer)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


@pytest.fixture(scope="module")
def module_key():
    return os.urandom(32)


def test_fake_server_honest_control(loadgen_bin, fake_server, module_key,
                                    tmp_path):
    """The in-test server, answering honestly, scores: what fails below
    fails because of the lie."""
    srv = fake_server(make_answers(module_key)["honest"])
    rc, res, out = run_loadgen(loadgen_bin, srv.endpoint,
                               write_key_file(tmp_path, module_key), "--conns", "2")
    assert_scored(rc, res, out)


@pytest.mark.parametrize("lie", ["replay", "random-hex", "error",
                                 "wrong-length", "wrong-length-unsampled"])
def test_lying_server_fails_the_run(loadgen_bin, fake_server, module_key,
                                    tmp_path, lie):
    srv = fake_server(make_answers(module_key)[lie])
    rc, res, out = run_loadgen(loadgen_bin, srv.endpoint,
                               write_key_file(tmp_path, module_key), "--conns", "2",
                               "--min-requests", "40")
    assert_failed(rc, res, out)
    assert srv.handled > 0
    if lie == "replay":
        assert "nonce" in out, out
    if lie.startswith("wrong-length"):
        assert "wrong length" in out, out


def test_lies_after_the_first_response_are_sampled(loadgen_bin, fake_server,
                                                   module_key, tmp_path):
    """Right-length garbage after an honest first answer on a persistent
    connection: caught by the random sampled decryptions (one in 2 here, over
    at least 39 lies: missing them all has odds of 2^-39)."""
    srv = fake_server(make_answers(module_key)["honest-first-only"])
    rc, res, out = run_loadgen(loadgen_bin, srv.endpoint,
                               write_key_file(tmp_path, module_key),
                               "--conns", "1", "--min-requests", "40",
                               "--verify-every", "2")
    assert_failed(rc, res, out)
    assert res["verified"] >= 1, out       # the honest first one


# --- 3. --warmup-requests ----------------------------------------------------------

def test_warmup_requests_are_answered_but_not_counted(loadgen_bin,
                                                      configured_daemon,
                                                      tmp_path):
    key_file = write_key_file(tmp_path, configured_daemon.key)
    rc, res, out = run_loadgen(loadgen_bin, configured_daemon.tcp, key_file,
                               "--warmup-requests", "3", "--min-requests", "2",
                               "--conns", "1")
    assert_scored(rc, res, out)
    assert res["requests"] >= 2, out
    assert res["total"] - res["requests"] >= 3, out


def test_a_bad_warmup_response_still_fails_the_run(loadgen_bin, fake_server,
                                                   module_key, tmp_path):
    srv = fake_server(make_answers(module_key)["error-first-only"])
    rc, res, out = run_loadgen(loadgen_bin, srv.endpoint,
                               write_key_file(tmp_path, module_key),
                               "--warmup-requests", "3", "--min-requests", "2",
                               "--conns", "1")
    assert_failed(rc, res, out)
    assert res["errors"] == 1, out          # honest after the first


# --- 4. the baseline -------------------------------------------------------------

@pytest.fixture
def baseline(dev_key, tmp_path):
    """The baseline server on a free port with the dev key: (endpoint, key)."""
    subprocess.run([BASELINE_PYTHON, "-c", "import cryptography"], check=True,
                   capture_output=True)
    _, key = dev_key
    key_file = write_key_file(tmp_path, key)
    proc = None
    for _ in range(3):                        # a port race: try another
        port = free_tcp_port()
        err = open(tmp_path / ("baseline-%d.err" % port), "wb")
        proc = subprocess.Popen([BASELINE_PYTHON, BASELINE, "--listen",
                                 "127.0.0.1:%d" % port, "--key-file", key_file],
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=err)
        err.close()
        r, _, _ = select.select([proc.stdout], [], [], 15)
        line = proc.stdout.readline() if r else b""
        if b"listening" in line:
            break
        proc.kill()
        proc.wait()
        proc = None
    assert proc is not None, "the baseline did not start: %s" % \
        (tmp_path / ("baseline-%d.err" % port)).read_text()
    try:
        yield "tcp:127.0.0.1:%d" % port, key
        assert proc.poll() is None, "the baseline died during the test"
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        proc.stdout.close()


def test_loadgen_scores_the_baseline(loadgen_bin, baseline, tmp_path):
    endpoint, key = baseline
    rc, res, out = run_loadgen(loadgen_bin, endpoint,
                               write_key_file(tmp_path, key, "hex"),
                               "--conns", "4", "--reconnect")
    assert_scored(rc, res, out)
    assert res["mode"] == "per-request", out


def test_baseline_answers_once_then_closes(baseline):
    endpoint, key = baseline
    pt = os.urandom(SIZE)
    req = {"type": "process", "ciphertext": seal(key, pt)}
    with Conn(endpoint) as c:
        c.send_bare(req)
        data = c.read_until_closed()          # the answer ends at the close
        resp = json.loads(data)
        assert resp["status"] == "ok", resp
        assert open_sealed(key, resp["result"]) == pt
        assert resp["result"][:24] != req["ciphertext"][:24], "nonce reused"
        # a second request on the same connection: no answer, it is closed
        second = {"type": "process", "ciphertext": seal(key, b"again")}
        try:
            c.send_bare(second)
        except (BrokenPipeError, ConnectionResetError):
            return
        assert c.wait_closed(2), "the connection stayed open"
        assert bytes(c.buf) == b"", "a second request got %r" % bytes(c.buf[:200])
