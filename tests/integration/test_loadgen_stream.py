"""The load generator's additions for the box (docs/box.md): `loadgen
stream`, one process request of an exact size made and checked on the fly,
and `--framing len` for `loadgen run`. Here over TCP against a real enclaved
with a small --max-message, and against lying servers that `stream` must
not pass; in the box the same commands run over vsock.
"""
import json
import os
import socket
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from helpers.harness import write_key_file

MAX = 65536
TIMEOUT = 60


@pytest.fixture
def small_daemon(start_daemon, dev_key):
    d = start_daemon("--max-message", str(MAX))
    r = d.configure(dev_key[0])
    assert r["status"] == "ok", r
    d.key = dev_key[1]
    return d


def stream(loadgen_bin, endpoint, keyf, *args):
    p = subprocess.run([loadgen_bin, "stream", "--connect", endpoint, "--key-file", keyf,
                        *args], capture_output=True, text=True, timeout=TIMEOUT,
                       stdin=subprocess.DEVNULL)
    lines = [l for l in p.stdout.splitlines() if l.startswith("RESULT ")]
    res = dict(w.split("=", 1) for w in lines[0].split()[1:]) if lines else None
    return p.returncode, res, p.stdout + p.stderr


@pytest.mark.parametrize("framing", ["raw", "len"])
def test_stream_sends_exactly_the_maximum_and_checks_the_answer(loadgen_bin, small_daemon,
                                                               tmp_path, framing):
    keyf = write_key_file(tmp_path, small_daemon.key)
    for size in (MAX, MAX - 1):        # both paddings of the hex
        rc, res, out = stream(loadgen_bin, small_daemon.tcp, keyf, "--request-bytes",
                              str(size), "--framing", framing)
        assert rc == 0, out
        assert res["answer"] == "ok" and res["verified"] == "1", out
        assert res["request_bytes"] == str(size) and res["framing"] == framing
    rc, res, out = stream(loadgen_bin, small_daemon.tcp, keyf, "--request-bytes",
                          str(MAX + 1), "--framing", framing, "--expect", "too_large")
    assert rc == 0 and '"too_large"' in out, out
    # The same refusal is a failure when an answer was expected.
    rc, res, out = stream(loadgen_bin, small_daemon.tcp, keyf, "--request-bytes",
                          str(MAX + 1), "--framing", framing)
    assert rc == 1 and res["pass"] == "0", out
    assert small_daemon.alive()


def test_stream_wrong_key_fails(loadgen_bin, small_daemon, tmp_path):
    rc, res, out = stream(loadgen_bin, small_daemon.tcp, write_key_file(tmp_path, bytes(32)),
                          "--request-bytes", "4096")
    assert rc == 1 and res["answer"] == "error", out


def test_stream_trickle_is_slow_and_still_answered(loadgen_bin, small_daemon, tmp_path):
    rc, res, out = stream(loadgen_bin, small_daemon.tcp, write_key_file(tmp_path, small_daemon.key),
                          "--request-bytes", "2048", "--trickle", "256:50")
    assert rc == 0, out
    assert float(res["elapsed"]) >= 7 * 0.05, out     # 8 pieces, 7 pauses


# --- lying servers -------------------------------------------------------------

class LyingServer:
    """Reads one bare-JSON process request per connection and answers
    lie(key, request_hex) -> answer bytes."""

    def __init__(self, key, lie):
        self.key, self.lie = key, lie
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.endpoint = "tcp:127.0.0.1:%d" % self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            buf = b""
            while not buf.endswith(b"}"):
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
            req = json.loads(buf)
            conn.sendall(self.lie(self.key, req["ciphertext"]))

    def close(self):
        self.sock.close()
        self.thread.join(5)


def answer(result_hex):
    return json.dumps({"status": "ok", "result": result_hex}, separators=(",", ":")).encode() \
        + b"\n"


def honest(key, hexstr):
    raw = bytes.fromhex(hexstr)
    aes = AESGCM(key)
    pt = aes.decrypt(raw[:12], raw[12:], None)
    nonce = os.urandom(12)
    return answer((nonce + aes.encrypt(nonce, pt, None)).hex())


def echo(key, hexstr):
    """The request's own ciphertext: decrypts, but under the request's nonce."""
    return answer(hexstr)


def flipped(key, hexstr):
    """An honest answer with one plaintext bit flipped (and the tag kept)."""
    good = bytearray(bytes.fromhex(json.loads(honest(key, hexstr))["result"]))
    good[20] ^= 1
    return answer(good.hex())


def other_plaintext(key, hexstr):
    """A valid seal of different bytes of the same length."""
    n = len(hexstr) // 2 - 28
    nonce = os.urandom(12)
    return answer((nonce + AESGCM(key).encrypt(nonce, os.urandom(n), None)).hex())


def truncated(key, hexstr):
    return answer(json.loads(honest(key, hexstr))["result"][:-2])


@pytest.mark.parametrize("lie,passes", [(honest, True), (echo, False), (flipped, False),
                                        (other_plaintext, False), (truncated, False)])
def test_stream_passes_only_an_honest_server(loadgen_bin, tmp_path, lie, passes):
    key = os.urandom(32)
    srv = LyingServer(key, lie)
    try:
        rc, res, out = stream(loadgen_bin, srv.endpoint, write_key_file(tmp_path, key),
                              "--request-bytes", "3000")
    finally:
        srv.close()
    assert (rc == 0) == passes, out
    assert res["verified"] == ("1" if passes else "0"), out


# --- loadgen run --framing len ----------------------------------------------------

def test_run_with_length_framing_scores_enclaved(loadgen_bin, small_daemon, tmp_path):
    p = subprocess.run([loadgen_bin, "run", "--connect", small_daemon.tcp, "--key-file",
                        write_key_file(tmp_path, small_daemon.key), "--size", "1024", "--conns", "2",
                        "--duration", "0.3", "--framing", "len", "--verify-every", "1"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert p.returncode == 0, p.stdout + p.stderr
    res = dict(w.split("=", 1) for w in p.stdout.split("RESULT ", 1)[1].split())
    assert res["framing"] == "len" and int(res["requests"]) > 0
    assert int(res["errors"]) == 0 and res["verified"] == res["total"]


def test_run_rejects_an_unknown_framing_and_endpoint(loadgen_bin, tmp_path):
    keyf = write_key_file(tmp_path, bytes(32))
    for args in (["--framing", "lines"], ["--connect", "unix:/x"]):
        argv = [loadgen_bin, "run", "--connect", "tcp:127.0.0.1:9", "--key-file", keyf] + args
        p = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        assert p.returncode == 2, p.stdout + p.stderr
