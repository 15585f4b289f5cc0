"""
Fixtures for the integration tests: real enclaved daemons on TCP and a Unix
socket, the kmstool-dev stand-in, and fake KMS tools.

Binaries come from $BUILD_DIR (default build/ of this checkout): enclaved,
enclavectl, kmstool-dev. Tests needing one that is not built are skipped.

Fixtures (all function-scoped unless said otherwise):

  enclaved_bin, enclavectl_bin, kmstool_dev_bin, gateway_bin,
  loadgen_bin (bench/loadgen)   (session)
        absolute paths; skip the test when the binary is missing.
  gateways
        factory: gateways([endpoint, ...], *options, env=None, tsk=None)
        starts a helpers.gateway.Gateway (HTTP on a free port); each is
        stopped after the test, and one whose log shows a sanitizer
        error fails it.
  creds
        the fake AWS credentials dict (aws_access_key_id, aws_secret_access_key,
        aws_session_token) used by every configure; see helpers.harness.CREDS.
  start_daemon(*options, unix=True, env=None, kmstool=None, region=...)
        factory: starts an enclaved with extra argv words (e.g.
        "--max-connections", "4"), listening on tcp:127.0.0.1:<free port>
        and unix:<short path>, waits until it logs `listening on ...` and
        returns a helpers.harness.Daemon (.tcp, .unix, .connect(),
        .request(), .configure(), .process(), .log(), .terminate()).
        --kmstool defaults to kmstool-dev, --region to REGION. Every daemon
        is stopped after the test; one that died during the test, or whose
        log shows a sanitizer error, fails the test.
  daemon
        a fresh, unconfigured enclaved (echo step) using kmstool-dev.
  dev_key
        (encrypted_tsk_b64, key_bytes) from `kmstool-dev genkey`.
  configured_daemon
        `daemon` configured with dev_key; the key is configured_daemon.key.
  fake_kms
        a helpers.harness.FakeKms: a shell-script KMS tool whose behaviour is
        chosen by the encrypted_tsk (fake_kms.token("key1") etc.).
  fake_daemon
        an unconfigured enclaved using fake_kms as its KMS tool
        (--kms-timeout 1, --region eu-west-3, --proxy-port 8123).
  fake_configured_daemon
        fake_daemon configured with fake_kms.K1 (.key == fake_kms.K1).

Helpers to import in test modules: `from helpers.harness import ...`
(Conn, seal, open_sealed, assert_error, assert_timestamp, CREDS, REGION...).
"""

import os
import resource
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from helpers import harness  # noqa: E402
from helpers.gateway import Gateway  # noqa: E402
from helpers.harness import CREDS, REGION, FakeKms, binary  # noqa: E402


def pytest_configure(config):
    # 256+ simultaneous connections need file descriptors, here and in the
    # daemon (which inherits the limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = 4096 if hard == resource.RLIM_INFINITY else min(4096, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def _need(name):
    path = binary(name)
    if not os.access(path, os.X_OK):
        pytest.skip("%s not built (looked in BUILD_DIR=%s)" % (name, harness.BUILD_DIR))
    return path


@pytest.fixture(scope="session")
def enclaved_bin():
    return _need("enclaved")


@pytest.fixture(scope="session")
def enclavectl_bin():
    return _need("enclavectl")


@pytest.fixture(scope="session")
def kmstool_dev_bin():
    return _need("kmstool-dev")


@pytest.fixture(scope="session")
def gateway_bin():
    return _need("enclave-gateway")


@pytest.fixture(scope="session")
def loadgen_bin():
    return _need("bench/loadgen")


@pytest.fixture
def gateways(tmp_path):
    """factory: gateways([endpoint, ...], *options, env=, tsk=) starts a
    helpers.gateway.Gateway; each is stopped after the test, and a log
    with a sanitizer report fails it."""
    started = []

    def start(*a, **kw):
        g = Gateway(tmp_path, *a, **kw)
        started.append(g)
        return g

    yield start
    for g in started:
        g.stop()
        log = g.log()
        for mark in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            assert mark not in log, log[-3000:]


@pytest.fixture
def creds():
    return dict(CREDS)


@pytest.fixture
def start_daemon(enclaved_bin, tmp_path):
    started = []

    def start(*options, unix=True, env=None, kmstool=None, region=REGION):
        opts = list(options)
        if "--kmstool" not in opts:
            opts += ["--kmstool", kmstool or binary("kmstool-dev")]
        if "--region" not in opts and region:
            opts += ["--region", region]
        d = harness.start_daemon(enclaved_bin, opts, tmp_path, unix=unix,
                                 env_extra=env)
        started.append(d)
        return d

    yield start

    problems = []
    for d in started:
        mine = []
        if not d.stopped_by_test and not d.alive():
            mine.append("enclaved (%s) died during the test with status %s"
                        % (d.tcp, d.proc.returncode))
        if not d.stopped_by_test:
            d.terminate()
        bad = d.sanitizer_errors()
        if bad:
            mine.append("sanitizer errors in enclaved's log: %s" % bad[:5])
        if mine:
            problems += mine + ["log tail:\n" + d.log()[-4000:]]
        d.cleanup()
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def daemon(start_daemon):
    return start_daemon()


@pytest.fixture
def dev_key(kmstool_dev_bin):
    return harness.genkey()


@pytest.fixture
def configured_daemon(daemon, dev_key):
    tsk, key = dev_key
    resp = daemon.configure(tsk)
    assert resp.get("status") == "ok", "configure with kmstool-dev failed: %r" % resp
    daemon.key = key
    return daemon


@pytest.fixture
def fake_kms(tmp_path):
    d = tmp_path / "fake-kms"
    d.mkdir()
    fk = FakeKms(d)
    yield fk
    harness.kill_pid(fk.child_pid())    # the sleep-child mode's orphan


@pytest.fixture
def fake_daemon(start_daemon, fake_kms):
    return start_daemon("--kms-timeout", "1", "--proxy-port", "8123",
                        kmstool=fake_kms.path, region="eu-west-3")


@pytest.fixture
def fake_configured_daemon(fake_daemon, fake_kms):
    resp = fake_daemon.configure(fake_kms.token("key1"))
    assert resp.get("status") == "ok", resp
    fake_daemon.key = fake_kms.K1
    return fake_daemon
