"""
adversary.py - what the adversarial tests share (tests/integration/
test_adversarial_*.py, split by what they attack; the threat model is
docs/security.md).

Every adversarial test sends something a well-behaved client never would,
then checks the daemon still serves everyone: after each test the autouse
fixture `still_serving` opens a NEW connection and expects `pong` (and a
live process). A test that breaks the daemon so fails even if its own
assertions passed.

Daemons: each test module starts its own (module-scoped, so the resource
test sees one long-lived process), each on a free TCP port:

  main        kmstool-dev, configured with a `kmstool-dev genkey` key;
              --read-timeout 2 --idle-timeout 20 --max-connections 1100
              --max-message 65536 --kms-timeout 2
  fake        the same limits, its KMS tool a /bin/sh script written here
              whose behaviour the encrypted_tsk picks (hang, SIGSEGV,
              garbage, a 16-byte key, a flood, ...); configured with K1 first

A module daemon that a test kills fails that test and is restarted for the
next one; the module's teardown reports every crash. ENCLAVED_EXTRA_ARGS
(e.g. --no-sandbox) adds options to every daemon started here.

Binaries come from $BUILD_DIR (default build/ of this checkout); `make SAN=1
integration` runs the same tests on the ASan+UBSan build, and a sanitizer
report in a daemon's log fails the module. A test module imports the
fixtures it uses from here (pytest finds them in its namespace).
"""

import base64
import os
import struct

import pytest

from helpers import harness
from helpers.harness import open_sealed, seal

READ_TIMEOUT = 2
IDLE_TIMEOUT = 20
MAX_MESSAGE = 65536
MAX_CONNECTIONS = 1100
KMS_TIMEOUT = 2

# Extra daemon options for a run, e.g. ENCLAVED_EXTRA_ARGS=--no-sandbox to
# tell a sandbox problem from another one.
EXTRA = os.environ.get("ENCLAVED_EXTRA_ARGS", "").split()

LIMITS = ["--read-timeout", str(READ_TIMEOUT), "--idle-timeout", str(IDLE_TIMEOUT),
          "--max-connections", str(MAX_CONNECTIONS),
          "--max-message", str(MAX_MESSAGE), "--kms-timeout", str(KMS_TIMEOUT)] + EXTRA

SANITIZED = None


def sanitized_build():
    """True when BUILD_DIR holds an ASan build (RSS is then ASan's)."""
    global SANITIZED
    if SANITIZED is None:
        try:
            with open(harness.binary("enclaved"), "rb") as f:
                data = f.read()
            # libasan is linked dynamically: the binary names its symbols.
            SANITIZED = b"__asan_init" in data or b"AddressSanitizer" in data
        except OSError:
            SANITIZED = False
    return SANITIZED


def io_scale():
    return 3.0 if sanitized_build() else 1.0


# --- a fake KMS tool -----------------------------------------------------------

K1 = bytes(range(32))
K2 = bytes(range(200, 232))

# mode -> shell body. The daemon runs the tool with an empty environment and
# no shell: absolute paths only (kill is a /bin/sh builtin).
FAKE_MODES = {
    "ok": 'echo "PLAINTEXT: %s"' % base64.b64encode(K1).decode(),
    "ok2": 'echo "[INFO] decrypted" >&2\necho "PLAINTEXT: %s"'
           % base64.b64encode(K2).decode(),
    "hang": "exec /bin/sleep 60",
    "hang-child": "/bin/sleep 60 &\necho $! > {D}/child-pid\nwait",
    "segv": "kill -SEGV $$",
    "ok-then-segv": 'echo "PLAINTEXT: %s"\nkill -SEGV $$' % base64.b64encode(K2).decode(),
    "garbage": "echo 'this is not a PLAINTEXT line'\necho '\x01\x02 binary \xff'\nexit 0",
    "binary": "/usr/bin/head -c 4096 /dev/urandom\nexit 0",
    "key16": 'echo "PLAINTEXT: %s"' % base64.b64encode(bytes(16)).decode(),
    "key33": 'echo "PLAINTEXT: %s"' % base64.b64encode(bytes(33)).decode(),
    "empty": "exit 0",
    "flood": "exec /usr/bin/yes 'PLAINTEXT: garbage garbage garbage garbage'",
    "flood-stderr": "exec /usr/bin/yes '[INFO] noise noise noise noise noise' >&2",
    "flood-then-key": '/usr/bin/yes AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA | /usr/bin/head -c 5000000\n'
                      'echo\necho "PLAINTEXT: %s"' % base64.b64encode(K2).decode(),
    "deny-echo-creds": 'echo "[INFO] args: $*" >&2\n'
                       'echo "Got non-200 answer from KMS: 400 ($akid $secret $token)" >&2\n'
                       "exit 255",
}


def fake_token(mode):
    raw = ("adv-kms:" + mode).encode()
    raw += b"." * (-len(raw) % 3)
    return base64.b64encode(raw).decode()


def write_fake_kms(directory):
    d = os.path.abspath(str(directory))
    cases = ""
    for mode, body in FAKE_MODES.items():
        body = body.replace("{D}", d)
        cases += "    %s)\n%s\n        ;;\n" % (
            fake_token(mode), "\n".join("        " + l for l in body.split("\n")))
    script = """#!/bin/sh
echo $$ > {D}/last-pid
ct=""; akid=""; secret=""; token=""
while [ $# -gt 0 ]; do
    case "$1" in
    --ciphertext) ct="${{2-}}";;
    --aws-access-key-id) akid="${{2-}}";;
    --aws-secret-access-key) secret="${{2-}}";;
    --aws-session-token) token="${{2-}}";;
    esac
    shift
done
case "$ct" in
{cases}    *)
        echo "unknown ciphertext" >&2
        exit 255
        ;;
esac
""".format(D=d, cases=cases)
    path = os.path.join(d, "fake-kmstool")
    with open(path, "w") as f:
        f.write(script)
    os.chmod(path, 0o755)
    return path


# --- /proc -----------------------------------------------------------------------

def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.strip()
    return out


def kb(value):
    return int(value.split()[0])


def fd_count(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kb(pid):
    return kb(proc_status(pid)["VmRSS"])


def pid_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


# --- daemons --------------------------------------------------------------------

def daemon_problems(d):
    """Stop a daemon (if still running); what went wrong with it, if anything."""
    died = not d.alive() and not d.stopped_by_test
    status = d.proc.returncode if died else d.terminate()
    problems = []
    if died:
        problems.append("enclaved %s died during the tests (status %s)" % (d.tcp, status))
    elif status not in (0, None):
        problems.append("enclaved %s exited %s on SIGTERM" % (d.tcp, status))
    bad = d.sanitizer_errors()
    if bad:
        problems.append("sanitizer errors: %s" % bad[:5])
    if problems:
        problems.append("log tail:\n" + d.log()[-3000:])
    return problems


class Holder:
    """A module's long-lived daemon. If a test kills it, that test fails (in
    still_serving) and the next test gets a fresh one, so one crash does not
    fail every later test; the module's teardown then reports every crash."""

    def __init__(self, start):
        self.start = start
        self.daemon = start()
        self.problems = []

    def get(self):
        if not self.daemon.alive():
            self.problems += daemon_problems(self.daemon)
            self.daemon = self.start()
        return self.daemon

    def finish(self):
        self.problems += daemon_problems(self.daemon)
        if self.problems:
            pytest.fail("\n".join(self.problems), pytrace=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("adversarial")


@pytest.fixture(scope="module")
def dev_key_mod(enclaved_bin, kmstool_dev_bin):
    return harness.genkey()


@pytest.fixture(scope="module")
def main_holder(enclaved_bin, kmstool_dev_bin, workdir, dev_key_mod):
    def start():
        d = harness.start_daemon(enclaved_bin, LIMITS + ["--kmstool", kmstool_dev_bin],
                                 workdir, unix=False)
        tsk, key = dev_key_mod
        resp = d.configure(tsk)
        assert resp.get("status") == "ok", resp
        d.key = key
        return d

    h = Holder(start)
    yield h
    h.finish()


@pytest.fixture
def main(main_holder):
    return main_holder.get()


@pytest.fixture(scope="module")
def fake_dir(workdir):
    p = workdir / "fake-kms"
    p.mkdir()
    return p


@pytest.fixture(scope="module")
def fake_holder(enclaved_bin, workdir, fake_dir):
    tool = write_fake_kms(fake_dir)

    def start():
        d = harness.start_daemon(enclaved_bin, LIMITS + ["--kmstool", tool], workdir,
                                 unix=False)
        resp = d.configure(fake_token("ok"))
        assert resp.get("status") == "ok", resp
        d.key = K1
        d.fake_dir = str(fake_dir)
        return d

    h = Holder(start)
    yield h
    child = os.path.join(str(fake_dir), "child-pid")
    if os.path.exists(child):
        harness.kill_pid(int(open(child).read() or 0))
    h.finish()


@pytest.fixture
def fake(fake_holder):
    return fake_holder.get()


def ping_ok(d, timeout=None):
    with d.connect(timeout=timeout or harness.IO_TIMEOUT) as c:
        resp = c.request({"type": "ping"}, timeout=timeout)
    assert resp == {"status": "ok", "msg": "pong"}, resp


@pytest.fixture(autouse=True)
def still_serving(request):
    """After every test: the daemons it used answer a ping on a new
    connection."""
    yield
    for name in ("main", "fake"):
        if name in request.fixturenames:
            d = request.getfixturevalue(name + "_holder").daemon
            assert d.alive(), "enclaved (%s) died in this test (status %s): %s" % (
                name, d.proc.poll(), d.log()[-1500:])
            ping_ok(d)


def exchange(d, data, framing="bare", timeout=None):
    """Send raw bytes on a new connection and read one response."""
    with d.connect() as c:
        c.send_raw(data)
        return c.recv_reply(framing, timeout=timeout)


def len_prefix(body):
    return struct.pack(">I", len(body)) + body


def flip(hexstr, index):
    raw = bytearray(bytes.fromhex(hexstr))
    raw[index] ^= 0x01
    return raw.hex()
