"""
harness.py - everything the integration tests need to drive a real enclaved.

Written from the contract (docs/protocol.md), not from the daemon's code.
Test modules import what they need:

    from helpers.harness import Conn, seal, open_sealed, assert_error, ...

Pieces:
  * Daemon      - one enclaved process: started with options, waited on until
                  it logs `listening on ...` for every listener, its stderr
                  kept in a file (Daemon.log()), stopped with SIGTERM.
  * Conn        - one client connection speaking both framings of the spec:
                  bare JSON objects and 4-byte big-endian length prefixes.
  * seal / open_sealed - the data owner's side of `process`:
                  hex(nonce(12) || AESGCM(key).encrypt(nonce, data, aad)).
  * FakeKms     - a /bin/sh stand-in for the KMS tool whose behaviour is
                  chosen by the `encrypted_tsk` it is given (see MODES).
  * assert_error, assert_timestamp - checks of the spec's response shapes.
"""

import base64
import datetime
import errno
import hashlib
import hmac
import json
import os
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# --- constants ------------------------------------------------------------

#: Fake AWS credentials: distinctive so a leak into a log or a response is
#: easy to spot. The secret and token hold characters a shell would treat
#: specially, to prove the daemon runs the KMS tool without a shell.
CREDS = {
    "aws_access_key_id": "AKIAENCLAVETESTKEY77",
    "aws_secret_access_key": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYsecretKEY99",
    "aws_session_token": "FwoGZXIvYXdzEXAMPLEsessionTOKENzz+/abcQ==",
}

#: Region the test daemons are started with (also passed to kmstool-dev).
REGION = "ap-southeast-1"

TIMESTAMP_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

#: Default socket timeout for one read in a test. Generous enough for
#: sanitizer builds (make SAN=1 integration), short enough to fail fast.
IO_TIMEOUT = 5.0

#: The checkout this file belongs to; binaries default to its build/.
REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

BUILD_DIR = os.environ.get("BUILD_DIR", os.path.join(REPO_ROOT, "build"))


def binary(name):
    """Absolute path of a built binary in BUILD_DIR (may not exist)."""
    return os.path.join(os.path.abspath(BUILD_DIR), name)


# --- the environment, key files, memory scans ------------------------------

#: The fake credentials as the environment carries them (enclavectl and the
#: gateway read AWS_*).
ENV_AWS = {
    "AWS_ACCESS_KEY_ID": CREDS["aws_access_key_id"],
    "AWS_SECRET_ACCESS_KEY": CREDS["aws_secret_access_key"],
    "AWS_SESSION_TOKEN": CREDS["aws_session_token"],
}


def clean_env(**extra):
    """The caller's environment without AWS_* and ENCLAVE_* (so a developer's
    own credentials never leak into a test), plus `extra`."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and not k.startswith("ENCLAVE_")}
    env.update(extra)
    return env


def write_key_file(tmp_path, key, form="base64"):
    """A data key in a file as bench/loadgen (and the baseline) read it:
    base64 as `kmstool-dev genkey` prints the PLAINTEXT, or 64 hex digits."""
    path = tmp_path / ("key-" + form)
    text = base64.b64encode(key).decode() if form == "base64" else key.hex()
    path.write_text(text + "\n")
    return str(path)


def process_memory(pid):
    """The bytes of every private writable mapping of process `pid` (heap,
    stacks, anonymous maps): where a stray copy of a secret would sit."""
    chunks = []
    with open("/proc/%d/maps" % pid) as maps, \
            open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            if not fields[1].startswith("rw") or fields[1][3] != "p":
                continue
            try:
                mem.seek(lo)
                chunks.append(mem.read(hi - lo))
            except OSError:
                continue    # guard pages, vvar and the like
    return b"".join(chunks)


def skip_memory_scan_under_asan(pid):
    """A memory scan reads the plain build only: under ASan the allocator
    keeps freed blocks and the shadow memory is terabytes."""
    with open("/proc/%d/maps" % pid) as maps:
        if "libasan" in maps.read():
            pytest.skip("ASan's allocator and terabytes of shadow memory: "
                        "the plain build is the one scanned")


# --- ports and paths ------------------------------------------------------

def free_tcp_port():
    """A TCP port on 127.0.0.1 that was free a moment ago (enclaved does not
    support port 0, so the test picks one)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def short_tmpdir():
    """A short directory under /tmp: a Unix socket path must fit in 108
    bytes, and pytest's tmp_path is often longer."""
    return tempfile.mkdtemp(prefix="encl-", dir="/tmp")


def copies_for_another_user(paths):
    """Copies of executables in a fresh mode-0755 directory under /tmp, for
    a test that runs them as another user (nobody): the checkout may lie in
    a folder only its owner can traverse (any `mktemp -d`, /root), where
    that user cannot reach build/. Returns (directory, [copies]); the
    caller removes the directory."""
    d = tempfile.mkdtemp(prefix="encl-bin-", dir="/tmp")
    os.chmod(d, 0o755)
    copies = []
    for p in paths:
        q = os.path.join(d, os.path.basename(p))
        shutil.copyfile(p, q)
        os.chmod(q, 0o755)
        copies.append(q)
    return d, copies


# --- AES-256-GCM, the data owner's side --------------------------------------

def _aad_bytes(aad):
    if aad is None:
        return None
    if isinstance(aad, str):
        aad = aad.encode("utf-8")
    return aad or None


def seal(key, plaintext, aad=None, nonce=None):
    """hex(nonce || AESGCM(key).encrypt(nonce, plaintext, aad)), the layout of
    the spec's `process.ciphertext`. `aad` is a str (UTF-8) or bytes."""
    if isinstance(plaintext, str):
        plaintext = plaintext.encode("utf-8")
    nonce = nonce if nonce is not None else os.urandom(12)
    return (nonce + AESGCM(key).encrypt(nonce, plaintext, _aad_bytes(aad))).hex()


def open_sealed(key, hexstr, aad=None):
    """Inverse of seal(); raises cryptography's InvalidTag on a bad tag."""
    raw = bytes.fromhex(hexstr)
    return AESGCM(key).decrypt(raw[:12], raw[12:], _aad_bytes(aad))


# --- re-encryption grants, from docs/protocol.md ("process") ---------------

def key_commitment(key):
    """The public name of a key: HMAC-SHA256(key, label)."""
    return hmac.new(key, b"confidential-enclave key commitment v1",
                    hashlib.sha256).digest()


def _grant_tag(key, side, body):
    derived = hmac.new(key, b"confidential-enclave grant %s key v1" % side,
                       hashlib.sha256).digest()
    return hmac.new(derived, body, hashlib.sha256).digest()


def make_grant(input_key, result_key=None, expires_at=None, valid_for=3600,
               commitment=None, version=1, accept_key=None,
               input_commitment=None):
    """hex of the grant letting results of data under input_key be sealed
    under result_key, written from the protocol's table, not from the
    daemon's code. `commitment` names the result key instead of
    result_key; the accept tag is made with accept_key (default
    result_key; zero when neither is given: released only)."""
    if expires_at is None:
        expires_at = int(time.time()) + valid_for
    if commitment is None:
        commitment = key_commitment(result_key)
    if input_commitment is None:
        input_commitment = key_commitment(input_key)
    body = (bytes([version]) + struct.pack(">Q", expires_at) +
            input_commitment + commitment)
    accept_key = accept_key if accept_key is not None else result_key
    accept = (_grant_tag(accept_key, b"accept", body)
              if accept_key is not None else bytes(32))
    return (body + _grant_tag(input_key, b"release", body) + accept).hex()


# --- response checks -------------------------------------------------------

def assert_timestamp(ts, slack=10):
    """RFC 3339 UTC, second precision, `Z`, and close to now."""
    assert isinstance(ts, str), ts
    assert TIMESTAMP_RE.match(ts), "timestamp %r is not YYYY-MM-DDTHH:MM:SSZ" % ts
    when = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    drift = abs(when.timestamp() - time.time())
    assert drift <= slack, "timestamp %s is %.0f s away from now" % (ts, drift)


def assert_error(resp, code, mentions=None):
    """The spec's one error shape: {"status":"error","msg":code,"details":str}.
    `mentions`: a string (or list of them) that `details` must contain, e.g.
    the name of the offending field."""
    assert isinstance(resp, dict), resp
    assert resp.get("status") == "error", resp
    assert resp.get("msg") == code, "expected %s, got %r" % (code, resp)
    assert isinstance(resp.get("details"), str) and resp["details"].strip(), resp
    if mentions is not None:
        for word in ([mentions] if isinstance(mentions, str) else mentions):
            assert word in resp["details"], \
                "details %r should name %r" % (resp["details"], word)


def assert_verified(r):
    """enclavectl verify-attestation (or attest --verify) accepted the
    document: exit 0 and "verified: yes". Returns its stdout."""
    assert r.returncode == 0, r.stderr.decode()
    assert b"verified: yes" in r.stdout
    return r.stdout.decode()


def assert_verification_refused(r, reason):
    """It refused the document for `reason` (exit 1, the reason right after
    "verification failed: ") and said nothing of it verified."""
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    err = r.stderr.decode()
    assert "verification failed: " + reason in err, err
    assert b"verified" not in r.stdout
    return r


def parse_any(data):
    """Parse one whole response of either framing from `data` (bytes up to
    EOF); for answers whose framing the client did not choose (busy)."""
    assert data, "no response before the connection closed"
    if data[:1] == b"{":
        assert data.endswith(b"\n"), data
        return json.loads(data)
    assert len(data) >= 4, data
    (n,) = struct.unpack(">I", data[:4])
    assert len(data) == 4 + n, data
    return json.loads(data[4:])


# --- one client connection ---------------------------------------------------

def to_bytes(msg):
    """A request as wire bytes: dicts become compact JSON, str is UTF-8."""
    if isinstance(msg, (bytes, bytearray)):
        return bytes(msg)
    if isinstance(msg, str):
        return msg.encode("utf-8")
    return json.dumps(msg, separators=(",", ":")).encode("utf-8")


def len_frame(msg):
    body = to_bytes(msg)
    return struct.pack(">I", len(body)) + body


class ConnectionClosed(Exception):
    """The daemon closed (or reset) the connection."""


class Conn:
    """A client connection to the daemon.

    request(obj)                  bare JSON, no newline, no half-close
    request(obj, framing="len")   4-byte big-endian length prefix
    send_bare / send_len / send_raw, then recv_bare / recv_len / recv_reply
    wait_closed(timeout)          True once the daemon closed the connection
    """

    def __init__(self, endpoint, timeout=IO_TIMEOUT):
        kind, _, rest = endpoint.partition(":")
        if kind == "tcp":
            host, _, port = rest.rpartition(":")
            self.sock = socket.create_connection((host, int(port)), timeout=timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        elif kind == "unix":
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(rest)
        else:
            raise ValueError("endpoint %r" % endpoint)
        self.sock.settimeout(timeout)
        self.buf = bytearray()
        self.endpoint = endpoint

    # context manager
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    # sending
    def send_raw(self, data):
        self.sock.sendall(data)

    def send_bare(self, msg):
        self.sock.sendall(to_bytes(msg))

    def send_len(self, msg):
        self.sock.sendall(len_frame(msg))

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    # receiving
    def _fill(self, timeout=None):
        if timeout is not None:
            self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(1 << 20)
        except ConnectionResetError:
            raise ConnectionClosed("reset by the daemon")
        finally:
            if timeout is not None:
                self.sock.settimeout(IO_TIMEOUT)
        if not chunk:
            raise ConnectionClosed("closed by the daemon")
        self.buf += chunk            # a bytearray: amortised O(1) append

    def _take(self, n):
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def recv_exact(self, n, timeout=None):
        deadline = time.monotonic() + (timeout or self.sock.gettimeout() or IO_TIMEOUT)
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for %d bytes (have %d)"
                                     % (n, len(self.buf)))
            self._fill(left)
        return self._take(n)

    def recv_bare_raw(self, timeout=None):
        """One bare response: the JSON object bytes *including* the `\\n`."""
        deadline = time.monotonic() + (timeout or self.sock.gettimeout() or IO_TIMEOUT)
        scanned = 0
        while True:
            i = self.buf.find(b"\n", scanned)
            if i >= 0:
                return self._take(i + 1)
            scanned = len(self.buf)
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for a bare response "
                                     "(got %r)" % bytes(self.buf[:200]))
            self._fill(left)

    def recv_bare(self, timeout=None):
        raw = self.recv_bare_raw(timeout)
        assert raw[:1] == b"{", "bare request answered with %r" % raw[:40]
        return json.loads(raw)

    def recv_len(self, timeout=None):
        head = self.recv_exact(4, timeout)
        assert head[:1] != b"{", \
            "length-framed request answered with bare JSON: %r" % (head + self.buf)[:80]
        (n,) = struct.unpack(">I", head)
        assert n < 256 << 20, "absurd response length %d" % n
        body = self.recv_exact(n, timeout)
        return json.loads(body)

    def recv_reply(self, framing="bare", timeout=None):
        return self.recv_bare(timeout) if framing == "bare" else self.recv_len(timeout)

    def recv_any(self, timeout=None):
        """A response in whichever framing it comes."""
        deadline = time.monotonic() + (timeout or IO_TIMEOUT)
        while not self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("timed out waiting for a response")
            self._fill(left)
        first = self.buf
        return self.recv_bare(timeout) if first[:1] == b"{" else self.recv_len(timeout)

    def request(self, msg, framing="bare", timeout=None):
        if framing == "bare":
            self.send_bare(msg)
        else:
            self.send_len(msg)
        return self.recv_reply(framing, timeout)

    def read_until_closed(self, timeout=IO_TIMEOUT):
        """All bytes until the daemon closes; raises socket.timeout if it
        does not close within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise socket.timeout("connection still open after %.1f s" % timeout)
            try:
                self._fill(left)
            except ConnectionClosed:
                return self._take(len(self.buf))

    def wait_closed(self, timeout=IO_TIMEOUT):
        """True when the daemon closed the connection within `timeout`
        (any bytes it sent first are kept in self.buf), False otherwise."""
        try:
            data = self.read_until_closed(timeout)
        except socket.timeout:
            return False
        self.buf = bytearray(data)
        return True

    def is_open_now(self, wait=0.05):
        """True when the connection is not closed by the daemon (no EOF
        pending after `wait` seconds)."""
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return True
        try:
            chunk = self.sock.recv(65536, socket.MSG_PEEK)
        except ConnectionResetError:
            return False
        return bool(chunk)


# --- the daemon -------------------------------------------------------------

class DaemonStartError(Exception):
    pass


class Daemon:
    """One running enclaved.

    Attributes: tcp ("tcp:127.0.0.1:PORT"), unix ("unix:/tmp/.../d.sock" or
    None), proc (Popen), log_path, args (the full argv).
    """

    def __init__(self, exe, options, tcp_port, unix_path, log_path, env):
        self.exe = exe
        self.sockdir = os.path.dirname(unix_path) if unix_path else None
        self.tcp = "tcp:127.0.0.1:%d" % tcp_port
        self.unix = ("unix:" + unix_path) if unix_path else None
        self.log_path = log_path
        self.args = [exe, "--listen", self.tcp]
        if unix_path:
            self.args += ["--listen", self.unix]
        self.args += options
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL,
                                     stdout=self._log, stderr=self._log,
                                     env=env, close_fds=True)
        self.stopped_by_test = False

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        """Everything the daemon wrote to stderr (and stdout) so far."""
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def wait_listening(self, timeout=15.0):
        want = ["listening on " + self.tcp]
        if self.unix:
            want.append("listening on " + self.unix)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log()
            if all(w in text for w in want):
                return
            if self.proc.poll() is not None:
                raise DaemonStartError("enclaved exited %s before listening:\n%s"
                                       % (self.proc.returncode, text[-3000:]))
            time.sleep(0.01)
        raise DaemonStartError("enclaved did not log %r within %.0f s:\n%s"
                               % (want, timeout, self.log()[-3000:]))

    def connect(self, unix=False, timeout=IO_TIMEOUT):
        """A new Conn to the TCP listener (or the Unix one)."""
        return Conn(self.unix if unix else self.tcp, timeout=timeout)

    def request(self, msg, framing="bare", unix=False, timeout=None):
        """One request on a fresh connection."""
        with self.connect(unix=unix) as c:
            return c.request(msg, framing, timeout=timeout)

    def configure(self, encrypted_tsk, creds=None, region=None, timeout=None, **extra):
        """Send `configure` with the test credentials; returns the response."""
        msg = {"type": "configure", "encrypted_tsk": encrypted_tsk}
        msg.update(creds or CREDS)
        if region is not None:
            msg["region"] = region
        msg.update(extra)
        return self.request(msg, timeout=timeout)

    def process(self, ciphertext_hex, aad=None, framing="bare", timeout=None):
        msg = {"type": "process", "ciphertext": ciphertext_hex}
        if aad is not None:
            msg["aad"] = aad
        return self.request(msg, framing, timeout=timeout)

    def alive(self):
        return self.proc.poll() is None

    def terminate(self, timeout=10.0):
        """SIGTERM and wait; returns the exit status (None if it hung, in
        which case it is killed)."""
        self.stopped_by_test = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._log.close()
                return None
        self._log.close()
        return self.proc.returncode

    def cleanup(self):
        """Stop the daemon if still running and remove its socket directory."""
        if self.proc.poll() is None:
            self.terminate()
        if self.sockdir and os.path.basename(self.sockdir).startswith("encl-"):
            shutil.rmtree(self.sockdir, ignore_errors=True)

    def sanitizer_errors(self):
        text = self.log()
        marks = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                 "runtime error:", "ERROR: ThreadSanitizer")
        return [line for line in text.splitlines() if any(m in line for m in marks)]


def start_daemon(exe, options, workdir, unix=True, env_extra=None, attempts=3):
    """Start enclaved with `options` (a list of argv words after --listen),
    listening on a fresh TCP port and, if `unix`, on a Unix socket; wait until
    it is accepting. Retries on a port race."""
    env = dict(os.environ)
    env.update(env_extra or {})
    last = None
    for i in range(attempts):
        port = free_tcp_port()
        sockdir = short_tmpdir() if unix else None
        unix_path = os.path.join(sockdir, "d.sock") if unix else None
        log_path = os.path.join(str(workdir), "enclaved-%d-%d.log" % (port, i))
        d = Daemon(exe, options, port, unix_path, log_path, env)
        try:
            d.wait_listening()
            return d
        except DaemonStartError as e:
            last = e
            d.terminate(timeout=2)
            d.cleanup()
            if "in use" not in str(e).lower():
                raise
    raise last


# --- the KMS tool --------------------------------------------------------------

def run_kmstool_dev(*args, check=True):
    """Run build/kmstool-dev; returns CompletedProcess (text)."""
    p = subprocess.run([binary("kmstool-dev")] + list(args), capture_output=True,
                       text=True, timeout=30, stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError("kmstool-dev %s failed (%d): %s"
                             % (" ".join(args[:1]), p.returncode, p.stderr))
    return p


def parse_kmstool_output(text):
    """{'CIPHERTEXT': b64, 'PLAINTEXT': b64} from the tool's stdout."""
    out = {}
    for line in text.splitlines():
        k, sep, v = line.partition(":")
        if sep and k in ("CIPHERTEXT", "PLAINTEXT"):
            out[k] = v.strip()
    return out


def genkey(region=REGION, key_spec="AES-256", key_id="alias/enclave-it",
           creds=None):
    """A data key from `kmstool-dev genkey`: (encrypted_tsk_b64, key bytes)."""
    creds = creds or CREDS
    p = run_kmstool_dev("genkey", "--key-id", key_id, "--key-spec", key_spec,
                        "--region", region, "--proxy-port", "8000",
                        "--aws-access-key-id", creds["aws_access_key_id"],
                        "--aws-secret-access-key", creds["aws_secret_access_key"],
                        "--aws-session-token", creds["aws_session_token"])
    out = parse_kmstool_output(p.stdout)
    assert "CIPHERTEXT" in out and "PLAINTEXT" in out, p.stdout
    return out["CIPHERTEXT"], base64.b64decode(out["PLAINTEXT"])


class FakeKms:
    """A fake KMS tool: a /bin/sh script (absolute shebang and paths, since the
    daemon runs it without a shell and with an empty environment) whose
    behaviour is picked by the `--ciphertext` it receives.

        fk = FakeKms(dir)
        fk.token("key1")     -> the encrypted_tsk that makes it print K1
        fk.K1, fk.K2         -> the two 32-byte keys it hands out
        fk.last_args()       -> argv (without argv[0]) of its latest run
        fk.calls()           -> how many times it ran
        fk.last_env()        -> the environment it saw (from /usr/bin/env)
        fk.child_pid()       -> pid of the grandchild in mode sleep-child

    Modes (see MODES): key1, key2, key1-noeol, short (16-byte key), long
    (33 bytes), deny (exit 255 with a reason line that quotes the
    credentials), exit1, garbage, empty, badb64, key2-exit255 (prints K2 but
    fails), key2-killed (prints K2 then dies of SIGKILL), sleep (exec sleep),
    sleep-child (a grandchild keeps the pipes open), slow-key2 (K2 after
    SLOW_SECONDS), flood-stdout, flood-stderr, big-garbage (3 MB then exit 0),
    weird-reason (exit 255, reason with quotes, backslashes, control bytes and
    a non-UTF-8 byte).
    """

    SLOW_SECONDS = 1.5
    REASON = "Got non-200 answer from KMS: 400"

    def __init__(self, directory):
        self.dir = os.path.abspath(str(directory))
        self.K1 = bytes(range(32))
        self.K2 = bytes(range(100, 132))
        self.path = os.path.join(self.dir, "fake-kmstool")
        b = lambda k: base64.b64encode(k).decode()
        k1, k2 = b(self.K1), b(self.K2)
        D = shlex.quote(self.dir)
        modes = {
            "key1": 'echo "[INFO] fake kms: decrypt ok" >&2\n'
                    'echo "PLAINTEXT: %s"' % k1,
            "key2": 'echo "PLAINTEXT: %s"' % k2,
            "key1-noeol": "printf 'PLAINTEXT: %s'" % k1,
            "short": 'echo "PLAINTEXT: %s"' % b(os.urandom(16)),
            "long": 'echo "PLAINTEXT: %s"' % b(os.urandom(33)),
            "deny": 'echo "[INFO] Connecting to KMS proxy on port $port" >&2\n'
                    'echo "[INFO] Using region $region" >&2\n'
                    'echo "%s (key $akid, secret $secret, token $token)" >&2\n'
                    'exit 255' % self.REASON,
            "exit1": 'echo "usage: fake-kmstool decrypt ..." >&2\nexit 1',
            "garbage": 'echo "this is not what you expected"\nexit 0',
            "empty": "exit 0",
            "badb64": 'echo "PLAINTEXT: %%%not*base64%%%"\nexit 0',
            "key2-exit255": 'echo "PLAINTEXT: %s"\n'
                            'echo "something failed after all" >&2\nexit 255' % k2,
            "key2-killed": 'echo "PLAINTEXT: %s"\nkill -9 $$' % k2,
            "sleep": "exec /bin/sleep 30",
            "sleep-child": "/bin/sleep 30 &\necho $! > %s/child-pid\nwait" % D,
            "slow-key2": '/bin/sleep %s\necho "PLAINTEXT: %s"' % (self.SLOW_SECONDS, k2),
            "flood-stdout": "exec /usr/bin/yes 'garbage garbage garbage garbage'",
            "flood-stderr": "exec /usr/bin/yes '[INFO] noise noise noise' >&2",
            "big-garbage": "/usr/bin/yes AAAAAAAAAAAAAAA | /usr/bin/head -c 3000000\nexit 0",
            # a reason with quotes, backslashes, control bytes, invalid UTF-8
            "weird-reason": r"""printf '[INFO] starting\n' >&2
printf 'Got non-200 answer from KMS: 400 "q" \\b\\s \t tab \001 ctrl \377 byte {}\n' >&2
exit 255""",
        }
        self.MODES = sorted(modes)
        cases = "".join('    %s)\n%s\n        ;;\n'
                        % (shlex.quote(self.token(m)),
                           "\n".join("        " + l for l in body.split("\n")))
                        for m, body in modes.items())
        script = """#!/bin/sh
# fake KMS tool for enclaved's integration tests (generated)
printf '%s\\0' "$@" > {D}/last-args
echo $$ > {D}/last-pid
echo x >> {D}/calls
/usr/bin/env > {D}/last-env
ct=""; akid=""; secret=""; token=""; region=""; port=""
while [ $# -gt 0 ]; do
    case "$1" in
    --ciphertext) ct="${{2-}}";;
    --aws-access-key-id) akid="${{2-}}";;
    --aws-secret-access-key) secret="${{2-}}";;
    --aws-session-token) token="${{2-}}";;
    --region) region="${{2-}}";;
    --proxy-port) port="${{2-}}";;
    esac
    shift
done
case "$ct" in
{cases}    *)
        echo "fake-kmstool: unknown ciphertext" >&2
        exit 255
        ;;
esac
""".format(D=D, cases=cases)
        with open(self.path, "w") as f:
            f.write(script)
        os.chmod(self.path, 0o755)

    @staticmethod
    def token(mode):
        """The encrypted_tsk (valid base64) that selects `mode`."""
        raw = ("fake-kms-mode:" + mode).encode()
        raw += b"." * (-len(raw) % 3)          # no padding, no surprises
        return base64.b64encode(raw).decode()

    def _read(self, name):
        try:
            with open(os.path.join(self.dir, name)) as f:
                return f.read()
        except FileNotFoundError:
            return None

    def last_args(self):
        text = self._read("last-args")
        return None if text is None else text.split("\0")[:-1]

    def last_env(self):
        return self._read("last-env")

    def last_pid(self):
        text = self._read("last-pid")
        return int(text) if text else None

    def child_pid(self):
        text = self._read("child-pid")
        return int(text) if text else None

    def calls(self):
        text = self._read("calls")
        return 0 if text is None else text.count("x")


def pid_gone(pid, timeout=3.0):
    """True once `pid` no longer exists (killed *and* reaped: a zombie still
    has a /proc entry)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not os.path.exists("/proc/%d" % pid):
            return True
        time.sleep(0.05)
    return False


def kill_pid(pid):
    """Kill one process this test started (directly or via a fake tool)."""
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError as e:
            if e.errno != errno.ESRCH:
                raise
