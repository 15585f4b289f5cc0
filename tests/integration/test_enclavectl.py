"""
enclavectl: the host's and the data owner's command line.

* seal / open (no daemon): round trips, every key-file format, interop with
  Python's cryptography (nonce(12) || ct || tag), authentication failures.
* usage: --help everywhere, exit 2 with a message on every kind of bad
  invocation, credentials only from the environment.
* exit codes and requests against a scripted peer written here (no daemon):
  what enclavectl sends in both framings, 1 on an error answer with its code
  and details on stderr, 3 on refused / closed / timed-out / garbled.
* against a real enclaved with kmstool-dev (conftest's fixtures; skipped
  when not built): ping, health, configure, process on TCP and Unix, both
  framings, and the full data-owner loop seal -> process -> open.
"""

import base64
import hashlib
import json
import os
import re
import socket
import stat
import struct
import subprocess
import threading

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from helpers.harness import (CREDS, ENV_AWS, REGION, clean_env, free_tcp_port, genkey,
                             short_tmpdir)

FRAMINGS = ["raw", "len"]


# --- running enclavectl ----------------------------------------------------------

def run(exe, *args, input=b"", env=None, timeout=60):
    """Run enclavectl; returns CompletedProcess with bytes stdout/stderr."""
    if isinstance(input, str):
        input = input.encode()
    return subprocess.run([exe] + [str(a) for a in args], input=input,
                          capture_output=True, timeout=timeout,
                          env=env if env is not None else clean_env())


def expect(p, code, stderr_has=()):
    assert p.returncode == code, (
        "exit %d, wanted %d\nstdout: %r\nstderr: %s"
        % (p.returncode, code, p.stdout[:300], p.stderr.decode(errors="replace")))
    err = p.stderr.decode(errors="replace")
    for word in ([stderr_has] if isinstance(stderr_has, str) else stderr_has):
        assert word in err, "stderr should mention %r: %s" % (word, err)
    return p


@pytest.fixture
def ctl(enclavectl_bin):
    return lambda *a, **kw: run(enclavectl_bin, *a, **kw)


# --- keys ----------------------------------------------------------------------

KEY = bytes(range(7, 39))


def write_key(tmp_path, form, key=KEY, name="key"):
    """A key file in one of the accepted forms (or a deliberately bad one)."""
    data = {
        "raw": key,
        "hex": key.hex().encode(),
        "hex-upper-newline": key.hex().upper().encode() + b"\n",
        "hex-spaces": b"  \t" + key.hex().encode() + b" \r\n\n",
        "base64": base64.b64encode(key),
        "base64-newline": base64.b64encode(key) + b"\n",
        # `aws kms generate-data-key --query Plaintext --output text`
        "base64-crlf": b"\r\n" + base64.b64encode(key) + b"\r\n",
    }[form]
    path = tmp_path / name
    path.write_bytes(data)
    return path


def py_seal(key, plaintext, aad=None):
    nonce = os.urandom(12)
    return (nonce + AESGCM(key).encrypt(nonce, plaintext, aad)).hex()


def py_open(key, hexstr, aad=None):
    raw = bytes.fromhex(hexstr)
    return AESGCM(key).decrypt(raw[:12], raw[12:], aad)


# --- seal / open -------------------------------------------------------------------

@pytest.mark.parametrize("form", ["raw", "hex", "hex-upper-newline", "hex-spaces",
                                  "base64", "base64-newline", "base64-crlf"])
def test_seal_open_round_trip_every_key_form(ctl, tmp_path, form):
    k = write_key(tmp_path, form)
    pt = b"state handoff \x00\xff\n binary too"
    sealed = expect(ctl("seal", "--key-file", k, input=pt), 0).stdout
    assert sealed.endswith(b"\n") and sealed.count(b"\n") == 1
    hexstr = sealed.decode().strip()
    assert hexstr == hexstr.lower()
    assert len(hexstr) == 2 * (12 + len(pt) + 16)
    # The key file's form does not matter: Python opens it with the raw key.
    assert py_open(KEY, hexstr) == pt
    assert expect(ctl("open", "--key-file", k, input=sealed), 0).stdout == pt


def test_seal_is_what_python_opens_with_aad(ctl, tmp_path):
    k = write_key(tmp_path, "base64")
    pt = "héllo wörld".encode()
    out = expect(ctl("seal", "--key-file", k, "--aad", "tenant-7/ü", input=pt), 0)
    assert py_open(KEY, out.stdout.decode().strip(), "tenant-7/ü".encode()) == pt
    with pytest.raises(Exception):
        py_open(KEY, out.stdout.decode().strip(), None)


def test_open_what_python_sealed(ctl, tmp_path):
    k = write_key(tmp_path, "hex")
    pt = os.urandom(1000)
    hexstr = py_seal(KEY, pt, b"aad-1")
    for text in (hexstr, hexstr.upper(), "\n  " + hexstr + " \r\n"):
        p = expect(ctl("open", "--key-file", k, "--aad", "aad-1", input=text), 0)
        assert p.stdout == pt


def test_empty_aad_is_no_aad(ctl, tmp_path):
    # protocol.md: an empty aad is the same as none.
    k = write_key(tmp_path, "raw")
    hexstr = py_seal(KEY, b"x")
    assert expect(ctl("open", "--key-file", k, "--aad", "", input=hexstr), 0).stdout == b"x"


def test_seal_empty_and_large(ctl, tmp_path):
    k = write_key(tmp_path, "raw")
    out = expect(ctl("seal", "--key-file", k, input=b""), 0).stdout.decode().strip()
    assert len(out) == 2 * 28 and py_open(KEY, out) == b""
    big = os.urandom(3 << 20)
    out = expect(ctl("seal", "--key-file", k, input=big), 0).stdout
    assert py_open(KEY, out.decode().strip()) == big
    assert expect(ctl("open", "--key-file", k, input=out), 0).stdout == big


def test_seal_uses_a_fresh_nonce(ctl, tmp_path):
    k = write_key(tmp_path, "raw")
    a = expect(ctl("seal", "--key-file", k, input=b"same"), 0).stdout
    b = expect(ctl("seal", "--key-file", k, input=b"same"), 0).stdout
    assert a[:24] != b[:24] and a != b


def test_in_and_out_files(ctl, tmp_path):
    k = write_key(tmp_path, "raw")
    src, sealed, back = tmp_path / "pt", tmp_path / "ct.hex", tmp_path / "back"
    src.write_bytes(b"file data")
    expect(ctl("seal", "--key-file", k, "--in", src, "--out", sealed), 0)
    assert sealed.read_bytes().endswith(b"\n")
    p = expect(ctl("open", "--key-file", k, "--in", sealed, "--out", back), 0)
    assert p.stdout == b""
    assert back.read_bytes() == b"file data"
    # A plaintext file is created for the owner only.
    assert stat.S_IMODE(back.stat().st_mode) & 0o077 == 0


@pytest.mark.parametrize("how", ["wrong-key", "wrong-aad", "missing-aad", "tampered"])
def test_open_refuses_what_is_not_authentic(ctl, tmp_path, how):
    k = write_key(tmp_path, "raw")
    hexstr = py_seal(KEY, b"secret", b"right")
    args = ["--aad", "right"]
    if how == "wrong-key":
        k = write_key(tmp_path, "raw", key=bytes(32), name="other")
    elif how == "wrong-aad":
        args = ["--aad", "wrong"]
    elif how == "missing-aad":
        args = []
    else:
        raw = bytearray(bytes.fromhex(hexstr))
        raw[20] ^= 1
        hexstr = raw.hex()
    out = tmp_path / "must-not-exist"
    p = expect(ctl("open", "--key-file", k, "--out", out, *args, input=hexstr), 1,
               "authentication failed")
    assert p.stdout == b""
    assert not out.exists()


@pytest.mark.parametrize("text,why", [
    ("abc", "not hex"),
    ("zz" * 40, "not hex"),
    ("00" * 27, "shorter"),
    ("", "shorter"),
])
def test_open_bad_input(ctl, tmp_path, text, why):
    k = write_key(tmp_path, "raw")
    expect(ctl("open", "--key-file", k, input=text), 2, why)


@pytest.mark.parametrize("data", [
    b"",                                    # empty
    bytes(31),                              # 31 raw bytes
    bytes(33),                              # 33 raw bytes
    KEY.hex()[:63].encode(),                # 63 hex characters
    KEY.hex().encode() + b"00",             # 66 hex characters
    base64.b64encode(bytes(16)),            # base64 of 16 bytes
    base64.b64encode(bytes(33)),            # base64 of 33 bytes
    b"not a key at all, just some text\n",  # 33 bytes of text
    b"A" * 5000,                            # far too large
])
def test_bad_key_files(ctl, tmp_path, data):
    k = tmp_path / "bad"
    k.write_bytes(data)
    for cmd in ("seal", "open"):
        expect(ctl(cmd, "--key-file", k, input=b"x"), 2, "key file")


@pytest.mark.parametrize("text", [
    b"0123456789abcdef0123456789abcdef",    # an AES-128 key in hex: 32 characters
    b"correct horse battery staple 31\n",   # 31 characters and a newline
    b"\t \r\n" * 8,                          # whitespace only
    b"~" * 32,                              # the last printable byte
])
def test_thirty_two_bytes_of_text_are_refused(ctl, tmp_path, text):
    # Issue 20, F37: a 32-byte file that is all text was taken as a raw key
    # made of its ASCII codes. It is ambiguous, so it is refused, and
    # nothing is sealed or opened with it.
    assert len(text) == 32
    k = tmp_path / "k"
    k.write_bytes(text)
    for cmd in ("seal", "open", "commitment"):
        r = expect(ctl(cmd, "--key-file", k, input=b"p"), 2, "32 bytes of text, not a key")
        assert r.stdout == b""
        assert b"xxd -p -c 64" in r.stderr


def test_raw_random_keys_still_work(ctl, tmp_path):
    # 32 random bytes are raw keys; one byte outside text is enough.
    keys = [hashlib.sha256(b"raw key %d" % i).digest() for i in range(8)]
    keys.append(b"0123456789abcdef0123456789abcde\x80")
    keys.append(b"\x00" + b"A" * 31)
    for i, key in enumerate(keys):
        assert any(b < 0x20 and b not in b" \t\r\n" or b > 0x7e for b in key)
        k = tmp_path / ("k%d" % i)
        k.write_bytes(key)
        out = expect(ctl("seal", "--key-file", k, input=b"p"), 0).stdout
        assert py_open(key, out.decode().strip()) == b"p"


def test_aes128_hex_key_with_newline_refused(ctl, tmp_path):
    # The same AES-128 hex key as `openssl rand -hex 16` writes it (33 bytes).
    k = tmp_path / "k"
    k.write_bytes(b"0123456789abcdef0123456789abcdef\n")
    expect(ctl("seal", "--key-file", k, input=b"p"), 2, "64 hex characters")


def test_missing_key_file(ctl, tmp_path):
    expect(ctl("seal", "--key-file", tmp_path / "nope", input=b"x"), 2,
           ["key file", "No such file"])


def test_seal_needs_no_daemon(ctl, tmp_path):
    # Endpoint settings are irrelevant to the data owner's tools.
    k = write_key(tmp_path, "raw")
    p = ctl("--enclave", "tcp:127.0.0.1:1", "seal", "--key-file", k, input=b"x",
            env=clean_env(ENCLAVE_CID="garbage"))
    expect(p, 0)


# --- usage ------------------------------------------------------------------------

COMMANDS = ["ping", "health", "configure", "process", "seal", "open", "grant",
            "commitment", "forget", "attest", "verify-attestation"]


def test_help_lists_commands(ctl):
    p = expect(ctl("--help"), 0)
    text = p.stdout.decode()
    assert "usage: enclavectl" in text
    for c in COMMANDS:
        assert c in text
    assert p.stderr == b""


def test_usage_line_names_every_global_option(ctl):
    """The usage line and the option list agree (--retry was missing)."""
    text = expect(ctl("--help"), 0).stdout.decode()
    usage = text.split("\n\n")[0]
    options = text.split("global options:")[1]
    names = set(re.findall(r"^  (--[a-z-]+)", options, re.M)) - {"--help"}
    assert names >= {"--enclave", "--framing", "--timeout", "--retry"}, names
    for name in names:
        assert name in usage, (name, usage)


@pytest.mark.parametrize("args", [
    ["ping"], ["health"], ["forget", "--key-id", "k"], ["process"],
    ["configure", "--tsk", "TSK"], ["attest"],
], ids=lambda a: a[0])
def test_every_enclave_command_honours_retry(ctl, tmp_path, args):
    """One retry loop serves every command that talks to the enclave
    (issue 25 item 3): attest had none of its own. The peer takes each
    connection and closes it unanswered: a broken exchange, retried once
    on a new connection, then exit 3."""
    tsk = tmp_path / "tsk.b64"
    tsk.write_text("QUJD")
    args = [str(tsk) if a == "TSK" else a for a in args]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    accepted = []

    def hang_up():
        while True:
            try:
                c, _ = srv.accept()
            except OSError:
                return
            c.recv(65536)
            accepted.append(1)
            c.close()

    t = threading.Thread(target=hang_up, daemon=True)
    t.start()
    try:
        p = ctl("--enclave", "tcp:127.0.0.1:%d" % srv.getsockname()[1],
                "--retry", "1", *args, input=b"00" * 40,
                env=clean_env(**{"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
                                 "AWS_SECRET_ACCESS_KEY": "c2VjcmV0",
                                 "AWS_SESSION_TOKEN": "dG9rZW4="}))
    finally:
        srv.close()
    err = p.stderr.decode()
    assert p.returncode == 3, (p.returncode, err)
    assert err.count("retrying in") == 1, err
    assert len(accepted) == 2, (accepted, err)


@pytest.mark.parametrize("cmd", COMMANDS)
def test_help_for_every_command(ctl, cmd):
    p = expect(ctl(cmd, "--help", env=clean_env()), 0)
    assert ("usage: enclavectl" in p.stdout.decode()) and cmd in p.stdout.decode()
    # -h works too, and --help wins over missing required options.
    expect(ctl(cmd, "-h"), 0)


@pytest.mark.parametrize("args,why", [
    ([], "no command"),
    (["frobnicate"], "unknown command"),
    (["--bogus", "ping"], "unknown option '--bogus'"),
    (["--enclave"], "needs a value"),
    (["--framing", "json", "ping"], "--framing"),
    (["--timeout", "0", "ping"], "--timeout"),
    (["--timeout", "-1", "ping"], "--timeout"),
    (["--timeout", "abc", "ping"], "--timeout"),
    (["--timeout", "nan", "ping"], "--timeout"),
    (["ping", "extra"], "unexpected argument 'extra'"),
    (["ping", "--bogus"], "unknown option '--bogus'"),
    (["ping", "--enclave", "tcp:127.0.0.1:1"], "global option"),
    (["health", "-x"], "unknown option '-x'"),
    (["process", "--aad"], "needs a value"),
    (["process", "stray"], "unexpected argument"),
    (["configure"], "--tsk"),
    (["configure", "--tsk"], "needs a value"),
    (["seal"], "--key-file"),
    (["open", "--in", "x"], "--key-file"),
    (["--enclave", "http://x", "ping"], "bad endpoint"),
    (["--enclave", "vsock:5000", "ping"], "bad endpoint"),
    (["--enclave", "tcp:127.0.0.1:99999", "ping"], "bad endpoint"),
])
def test_usage_errors_exit_2(ctl, args, why):
    p = expect(ctl(*args), 2, why)
    assert p.stdout == b""
    assert b"--help" in p.stderr


def test_bad_environment_endpoint_is_usage(ctl):
    p = ctl("ping", env=clean_env(ENCLAVE_CID="sixteen"))
    expect(p, 2, "vsock:sixteen:5000")


def test_default_endpoint_from_environment(ctl):
    # Nothing listens on vsock CID 16 here: whatever the kernel says, the
    # endpoint named in the message is built from the variables/defaults.
    p = ctl("--timeout", "2", "ping")
    expect(p, 3, "vsock:16:5000")
    p = ctl("--timeout", "2", "ping", env=clean_env(ENCLAVE_CID="3", ENCLAVE_PORT="7001"))
    expect(p, 3, "vsock:3:7001")


@pytest.mark.parametrize("missing", [
    ["AWS_ACCESS_KEY_ID"],
    ["AWS_SECRET_ACCESS_KEY"],
    ["AWS_SESSION_TOKEN"],
    ["AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN"],
])
def test_configure_credentials_only_from_environment(ctl, tmp_path, missing):
    tsk = tmp_path / "tsk"
    tsk.write_text("QUJDRA==\n")
    env = clean_env(**{k: v for k, v in ENV_AWS.items() if k not in missing})
    if missing == ["AWS_SECRET_ACCESS_KEY"]:
        env["AWS_SECRET_ACCESS_KEY"] = ""           # empty counts as missing
        missing_names = missing
    else:
        missing_names = missing
    p = expect(ctl("--enclave", "tcp:127.0.0.1:1", "configure", "--tsk", tsk, env=env),
               2, missing_names)
    # Never a credential value in the message.
    for v in ENV_AWS.values():
        assert v.encode() not in p.stderr


def test_configure_has_no_credential_options(ctl, tmp_path):
    tsk = tmp_path / "tsk"
    tsk.write_text("QUJD")
    expect(ctl("configure", "--tsk", tsk, "--aws-secret-access-key", "x",
               env=clean_env(**ENV_AWS)), 2, "unknown option")


@pytest.mark.parametrize("content,why", [
    (b"", "empty"),
    (b" \n\t\n", "empty"),
    (b"not base64!", "base64"),
    (b"QUJD RA==", "base64"),
])
def test_configure_bad_tsk_file(ctl, tmp_path, content, why):
    tsk = tmp_path / "tsk"
    tsk.write_bytes(content)
    expect(ctl("--enclave", "tcp:127.0.0.1:1", "configure", "--tsk", tsk,
               env=clean_env(**ENV_AWS)), 2, why)


def test_configure_missing_tsk_file(ctl, tmp_path):
    expect(ctl("--enclave", "tcp:127.0.0.1:1", "configure", "--tsk",
               tmp_path / "nope", env=clean_env(**ENV_AWS)), 2, "No such file")


def test_process_empty_input_is_usage(ctl):
    expect(ctl("--enclave", "tcp:127.0.0.1:1", "process", input=b" \n"), 2,
           "no ciphertext")


# --- a scripted peer: requests and exit codes without a daemon ----------------------

class Peer:
    """A one-connection-at-a-time server on TCP or a Unix socket that answers
    with `handler(request_dict, framing)` -> dict (sent in the request's
    framing), bytes (sent as they are), or None (close without answering).
    The requests it saw are in .requests as (framing, dict)."""

    def __init__(self, handler, unix=False):
        self.handler = handler
        self.requests = []
        if unix:
            self.dir = short_tmpdir()
            path = os.path.join(self.dir, "peer.sock")
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(path)
            self.endpoint = "unix:" + path
        else:
            self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            self.sock.bind(("127.0.0.1", 0))
            self.endpoint = "tcp:127.0.0.1:%d" % self.sock.getsockname()[1]
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                try:
                    self._connection(conn)
                except (OSError, ValueError):
                    pass

    @staticmethod
    def _read_request(conn, buf):
        """One request of either framing: (framing, dict, rest) or None."""
        dec = json.JSONDecoder()
        while True:
            s = buf.lstrip(b" \t\r\n")
            if s[:1] == b"{":
                try:
                    obj, end = dec.raw_decode(s.decode())
                    return "raw", obj, s[len(s.decode()[:end].encode()):]
                except ValueError:
                    pass
            elif len(s) >= 4:
                (n,) = struct.unpack(">I", s[:4])
                if len(s) >= 4 + n:
                    return "len", json.loads(s[4:4 + n]), s[4 + n:]
            chunk = conn.recv(1 << 20)
            if not chunk:
                return None
            buf = s + chunk

    def _connection(self, conn):
        buf = b""
        while True:
            got = self._read_request(conn, buf)
            if got is None:
                return
            framing, req, buf = got
            self.requests.append((framing, req))
            resp = self.handler(req, framing)
            if resp is None:
                return
            if isinstance(resp, dict):
                body = json.dumps(resp).encode()
                resp = body + b"\n" if framing == "raw" else struct.pack(">I", len(body)) + body
            conn.sendall(resp)

    def close(self):
        self.stop = True
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def peer():
    made = []

    def make(handler, unix=False):
        p = Peer(handler, unix=unix)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()


RESULT = py_seal(KEY, b"result")


def answer(req, framing):
    t = req.get("type")
    if t == "ping":
        return {"status": "ok", "msg": "pong"}
    if t == "health":
        return {"status": "healthy", "configured": False,
                "timestamp": "2025-12-13T10:00:00Z"}
    if t == "configure":
        return {"status": "ok", "msg": "configured",
                "timestamp": "2025-12-13T10:00:00Z"}
    if t == "process":
        return {"status": "ok", "result": RESULT}
    return {"status": "error", "msg": "unknown_type", "details": "?"}


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("unix", [False, True], ids=["tcp", "unix"])
def test_ping_health_request_and_output(ctl, peer, framing, unix):
    p = peer(answer, unix=unix)
    out = expect(ctl("--enclave", p.endpoint, "--framing", framing, "ping"), 0).stdout
    assert json.loads(out) == {"status": "ok", "msg": "pong"}
    assert out.endswith(b"\n")
    out = expect(ctl("--enclave", p.endpoint, "--framing", framing, "health"), 0).stdout
    assert json.loads(out)["status"] == "healthy"
    assert p.requests == [(framing, {"type": "ping"}), (framing, {"type": "health"})]


@pytest.mark.parametrize("framing", FRAMINGS)
def test_process_request_and_output(ctl, peer, tmp_path, framing):
    p = peer(answer)
    ct = py_seal(KEY, b"in")
    out = expect(ctl("--enclave", p.endpoint, "--framing", framing, "process",
                     "--aad", 'a "quoted" \\ aad', input=ct + "\n"), 0).stdout
    assert out == (RESULT + "\n").encode()
    assert p.requests[-1] == (framing, {"type": "process", "ciphertext": ct,
                                        "aad": 'a "quoted" \\ aad'})
    # --in / --out, no aad: no aad field at all.
    src, dst = tmp_path / "ct", tmp_path / "out"
    src.write_text("  " + ct.upper() + "\r\n")
    expect(ctl("--enclave", p.endpoint, "--framing", framing, "process",
               "--in", src, "--out", dst), 0)
    assert dst.read_text() == RESULT + "\n"
    assert p.requests[-1] == (framing, {"type": "process", "ciphertext": ct.upper()})


@pytest.mark.parametrize("framing", FRAMINGS)
@pytest.mark.parametrize("region", [None, "eu-central-1"])
def test_configure_request_from_file_and_environment(ctl, peer, tmp_path, framing, region):
    p = peer(answer)
    tsk = tmp_path / "tsk"
    tsk.write_text("\n  QUJDREVGR0g=  \n\n")
    args = ["--region", region] if region else []
    out = expect(ctl("--enclave", p.endpoint, "--framing", framing, "configure",
                     "--tsk", tsk, *args, env=clean_env(**ENV_AWS)), 0).stdout
    assert json.loads(out)["msg"] == "configured"
    want = {"type": "configure", "encrypted_tsk": "QUJDREVGR0g="}
    want.update(CREDS)
    if region:
        want["region"] = region
    assert p.requests == [(framing, want)]


def test_configure_tsk_from_stdin(ctl, peer):
    p = peer(answer)
    expect(ctl("--enclave", p.endpoint, "configure", "--tsk", "-",
               input=b"QUJD\n", env=clean_env(**ENV_AWS)), 0)
    assert p.requests[0][1]["encrypted_tsk"] == "QUJD"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_enclave_error_is_exit_1_with_code_and_details(ctl, peer, framing):
    p = peer(lambda req, fr: {"status": "error", "msg": "decrypt_failed",
                              "details": "authentication failed"})
    for args, inp in ((["ping"], b""), (["health"], b""),
                      (["process"], b"00" * 30)):
        r = expect(ctl("--enclave", p.endpoint, "--framing", framing, *args,
                       input=inp), 1, ["decrypt_failed", "authentication failed"])
        assert r.stdout == b""


def test_process_out_file_not_created_on_error(ctl, peer, tmp_path):
    p = peer(lambda req, fr: {"status": "error", "msg": "not_configured",
                              "details": "no key"})
    dst = tmp_path / "out"
    expect(ctl("--enclave", p.endpoint, "process", "--out", dst, input="00" * 30),
           1, "not_configured")
    assert not dst.exists()


def test_connection_refused_is_3(ctl):
    port = free_tcp_port()
    expect(ctl("--enclave", "tcp:127.0.0.1:%d" % port, "ping"), 3, "connect")
    expect(ctl("--enclave", "unix:/nonexistent/x.sock", "health"), 3, "connect")


def test_peer_closes_without_answer_is_3(ctl, peer):
    p = peer(lambda req, fr: None)
    expect(ctl("--enclave", p.endpoint, "ping"), 3, "closed")


def test_silent_peer_times_out_with_3(ctl, peer):
    hold = threading.Event()
    p = peer(lambda req, fr: (hold.wait(10), None)[1])
    try:
        r = expect(ctl("--enclave", p.endpoint, "--timeout", "0.3", "ping"), 3,
                   "timed out")
    finally:
        hold.set()
    assert r.stdout == b""


@pytest.mark.parametrize("garbage", [
    b"{not json}\n",
    b'{"no":"status"}\n',
    b"HTTP/1.1 400 Bad Request\r\n\r\n",
    b'{"status":"ok","result":"zz"}\n',
])
def test_garbled_answer_is_3(ctl, peer, garbage):
    p = peer(lambda req, fr: garbage)
    expect(ctl("--enclave", p.endpoint, "process", input="00" * 30), 3, "protocol")


# --- against a real enclaved ---------------------------------------------------------

def endpoints(d):
    return [d.tcp, d.unix]


@pytest.mark.parametrize("framing", FRAMINGS)
def test_daemon_ping_health(ctl, daemon, framing):
    for ep in endpoints(daemon):
        out = expect(ctl("--enclave", ep, "--framing", framing, "ping"), 0).stdout
        assert json.loads(out) == {"status": "ok", "msg": "pong"}
        h = json.loads(expect(ctl("--enclave", ep, "--framing", framing, "health"), 0).stdout)
        assert h["status"] == "healthy" and h["configured"] is False


def test_daemon_process_before_configure_is_1(ctl, daemon):
    ct = py_seal(KEY, b"x")
    expect(ctl("--enclave", daemon.tcp, "process", input=ct), 1, "not_configured")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_daemon_full_loop(ctl, daemon, kmstool_dev_bin, tmp_path, framing):
    """genkey -> configure via enclavectl -> seal -> process -> open, and the
    same ciphertext through Python's cryptography."""
    tsk, key = genkey()
    (tmp_path / "tsk").write_text(tsk + "\n")
    keyfile = tmp_path / "key.b64"
    keyfile.write_text(base64.b64encode(key).decode() + "\n")
    g = ["--enclave", daemon.unix if framing == "len" else daemon.tcp,
         "--framing", framing]
    out = expect(ctl(*g, "configure", "--tsk", tmp_path / "tsk", "--region", REGION,
                     env=clean_env(**ENV_AWS)), 0).stdout
    resp = json.loads(out)
    assert resp["status"] == "ok" and resp["msg"] == "configured"
    h = json.loads(expect(ctl(*g, "health"), 0).stdout)
    assert h["configured"] is True

    pt = b'{"agent_id":"a","iteration":1,"data":"d"}'
    sealed = expect(ctl("seal", "--key-file", keyfile, "--aad", "job-1", input=pt), 0).stdout
    result = expect(ctl(*g, "process", "--aad", "job-1", input=sealed), 0).stdout
    assert result.endswith(b"\n")
    # echo step: the same plaintext comes back under a fresh nonce.
    assert result != sealed
    assert expect(ctl("open", "--key-file", keyfile, "--aad", "job-1",
                      input=result), 0).stdout == pt
    assert py_open(key, result.decode().strip(), b"job-1") == pt

    # Python-sealed input goes through too; a wrong aad is the enclave's error.
    ct = py_seal(key, b"from python")
    result = expect(ctl(*g, "process", input=ct), 0).stdout
    assert py_open(key, result.decode().strip()) == b"from python"
    expect(ctl(*g, "process", "--aad", "other", input=ct), 1, "decrypt_failed")
    expect(ctl(*g, "process", input="xyz"), 1, "invalid_hex")


def test_daemon_configure_with_bad_tsk_is_1(ctl, daemon, kmstool_dev_bin, tmp_path):
    tsk = tmp_path / "tsk"
    tsk.write_text(base64.b64encode(b"not a kmstool-dev blob at all").decode())
    p = expect(ctl("--enclave", daemon.tcp, "configure", "--tsk", tsk,
                   env=clean_env(**ENV_AWS)), 1, "kms_decrypt_failed")
    for v in ENV_AWS.values():
        assert v.encode() not in p.stderr and v.encode() not in p.stdout


def test_daemon_large_process(ctl, daemon, kmstool_dev_bin, tmp_path):
    tsk, key = genkey()
    (tmp_path / "tsk").write_text(tsk)
    expect(ctl("--enclave", daemon.tcp, "configure", "--tsk", tmp_path / "tsk",
               env=clean_env(**ENV_AWS)), 0)
    pt = os.urandom(8 << 20)
    ct = py_seal(key, pt)
    for framing in FRAMINGS:
        out = expect(ctl("--enclave", daemon.tcp, "--framing", framing, "process",
                         input=ct), 0).stdout
        assert py_open(key, out.decode().strip()) == pt


@pytest.mark.parametrize("framing", FRAMINGS)
def test_daemon_busy_is_1(ctl, start_daemon, framing):
    # Past the connection limit the daemon answers `busy` and closes, maybe
    # before it has read a byte of ours: enclavectl reports its answer.
    d = start_daemon("--max-connections", "1")
    with d.connect() as held:
        assert held.request({"type": "ping"})["status"] == "ok"
        expect(ctl("--enclave", d.tcp, "--framing", framing, "ping"), 1, "busy")


@pytest.mark.parametrize("framing", FRAMINGS)
def test_daemon_too_large(ctl, start_daemon, framing):
    d = start_daemon("--max-message", "1024")
    expect(ctl("--enclave", d.tcp, "--framing", framing, "process",
               input="00" * 2048), 1, "too_large")
    # Far over the limit the daemon may close while we are still sending;
    # either its answer or a broken connection, never a hang or a crash.
    p = ctl("--enclave", d.tcp, "--framing", framing, "process", input="00" * (4 << 20))
    assert p.returncode in (1, 3), p.stderr
    if p.returncode == 1:
        assert b"too_large" in p.stderr
