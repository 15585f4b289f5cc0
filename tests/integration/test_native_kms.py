"""
enclaved --kms native and the attest request, end to end, with no Nitro
hardware and no AWS: the NSM simulator (tests/simulators/nsm_sim.py,
reached through --nsm-device unix:PATH, the same code path as /dev/nsm but
for the final ioctl) and the KMS simulator (tests/simulators/kms_sim.py:
HTTPS with a test CA, SigV4, Recipient attestation checked against the NSM
simulator's root, a key policy on kms:RecipientAttestation:ImageSha384)
over TCP in place of the vsock-proxy (--kms-endpoint, --kms-ca-file; TLS
and hostname checks unchanged).

Every wait is bounded: simulators must say "ready" within START_TIMEOUT
(helpers/sims.py), requests use the harness's socket timeouts,
subprocesses a timeout.
"""

import base64
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

from helpers.harness import CREDS, REGION, Conn, assert_error, open_sealed, seal
from helpers.sims import wait_ready as _wait_ready

HERE = os.path.dirname(os.path.abspath(__file__))
SIMULATORS = os.path.abspath(os.path.join(HERE, "..", "simulators"))
sys.path.insert(0, SIMULATORS)

PYTHON = "/usr/bin/python3"
CONFIGURE_TIMEOUT = 30.0

PCR0_GOOD = "ab" * 48
PCR0_OTHER = "cd" * 48
MASTER = bytes(range(1, 33))
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
OWNER = {"access_key_id": "AKIADATAOWNER0000001",
         "secret_access_key": "owner/secret+key/for/GenerateDataKey0000"}


def _need_tools():
    missing = []
    if not os.access(PYTHON, os.X_OK):
        missing.append(PYTHON)
    if shutil.which("openssl") is None:
        missing.append("openssl")
    try:
        subprocess.run([PYTHON, "-c", "import cbor2, cryptography"],
                       check=True, capture_output=True, timeout=30)
    except (subprocess.SubprocessError, OSError):
        missing.append("python3-cbor2/python3-cryptography "
                       "(scripts/install-deps.sh installs them)")
    return missing


@pytest.fixture(scope="module", autouse=True)
def tools_present():
    missing = _need_tools()
    if missing:
        # Not a silent skip: the reason names what to install.
        pytest.fail("the simulators need: %s" % ", ".join(missing),
                    pytrace=False)


class Sims:
    """An NSM simulator and a KMS simulator in one short directory."""

    def __init__(self, directory, pcr0, allowed_pcr0, region=REGION,
                 sim_args=(), context_condition=None):
        self.dir = directory
        self.sock = os.path.join(directory, "nsm.sock")
        self.procs = []
        nsm = subprocess.Popen(
            [PYTHON, os.path.join(SIMULATORS, "nsm_sim.py"), "--socket", self.sock,
             "--out-dir", directory, "--pcr0", pcr0],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.procs.append(nsm)
        _wait_ready(nsm, "nsm_sim.py")
        self.root = os.path.join(directory, "root.pem")
        creds = [{"access_key_id": CREDS["aws_access_key_id"],
                  "secret_access_key": CREDS["aws_secret_access_key"],
                  "session_token": CREDS["aws_session_token"]}, OWNER]
        policy = {"Version": "2012-10-17", "Statement": [
            {"Sid": "enclave may decrypt, attested",
             "Effect": "Allow",
             "Principal": {"AWS": CREDS["aws_access_key_id"]},
             "Action": ["kms:Decrypt"],
             "Condition": dict({"StringEqualsIgnoreCase": {
                 "kms:RecipientAttestation:ImageSha384": allowed_pcr0}},
                 **({"StringEquals": context_condition}
                    if context_condition else {}))},
            {"Sid": "the data owner makes data keys",
             "Effect": "Allow",
             "Principal": {"AWS": OWNER["access_key_id"]},
             "Action": ["kms:GenerateDataKey"]}]}
        with open(os.path.join(directory, "creds.json"), "w") as f:
            json.dump(creds, f)
        with open(os.path.join(directory, "policy.json"), "w") as f:
            json.dump(policy, f)
        kms = subprocess.Popen(
            [PYTHON, os.path.join(SIMULATORS, "kms_sim.py"), "--out-dir", directory,
             "--region", region,
             "--credentials", os.path.join(directory, "creds.json"),
             "--policy", os.path.join(directory, "policy.json"),
             "--attestation-root", self.root,
             "--key", "%s=%s" % (KEY_ID, MASTER.hex())] + list(sim_args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE)
        self.procs.append(kms)
        self.port = int(_wait_ready(kms, "kms_sim.py")[1])
        self.ca = os.path.join(directory, "ca.pem")
        self.region = region

    def daemon_options(self, *extra):
        return ["--kms", "native", "--nsm-device", "unix:" + self.sock,
                "--kms-endpoint", "tcp:127.0.0.1:%d" % self.port,
                "--kms-ca-file", self.ca, "--kms-timeout", "20"] + list(extra)

    def kms_log(self):
        path = os.path.join(self.dir, "kms-requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]

    def nsm_log(self):
        path = os.path.join(self.dir, "nsm-requests.jsonl")
        if not os.path.exists(path):
            return []
        with open(path) as f:
            return [json.loads(line) for line in f]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            for s in (p.stdout, p.stderr):
                s.close()


@pytest.fixture
def make_sims():
    made, dirs = [], []

    def make(pcr0=PCR0_GOOD, allowed_pcr0=PCR0_GOOD, sim_args=(),
             context_condition=None):
        d = __import__("tempfile").mkdtemp(prefix="nksim-", dir="/tmp")
        dirs.append(d)
        s = Sims(d, pcr0, allowed_pcr0, sim_args=sim_args,
                 context_condition=context_condition)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def sims(make_sims):
    return make_sims()


def tsk_blob(key, context=None):
    import kms_sim
    return base64.b64encode(kms_sim.make_blob(MASTER, KEY_ID, key,
                                              context)).decode()


def configure(d, tsk, creds=None, **extra):
    return d.configure(tsk, creds=creds, timeout=CONFIGURE_TIMEOUT, **extra)


# --- configure through the simulators ----------------------------------------

def test_configure_native_then_process(start_daemon, sims):
    d = start_daemon(*sims.daemon_options())
    key = os.urandom(32)
    resp = configure(d, tsk_blob(key))
    assert resp.get("status") == "ok", resp
    assert resp.get("msg") == "configured"
    out = d.process(seal(key, b"hello native kms", aad="rec-1"), aad="rec-1")
    assert out.get("status") == "ok", out
    assert open_sealed(key, out["result"], aad="rec-1") == b"hello native kms"
    # The enclave asked KMS with a Recipient, attested by the NSM with a
    # 294-byte RSA-2048 SubjectPublicKeyInfo, under the right principal.
    kms = sims.kms_log()
    assert [e["op"] for e in kms] == ["TrentService.Decrypt"]
    assert kms[0]["recipient"] is True and kms[0]["outcome"] == "ok"
    assert kms[0]["principal"] == CREDS["aws_access_key_id"]
    assert kms[0]["pcr0"] == PCR0_GOOD
    att = [e for e in sims.nsm_log() if e["op"] == "Attestation"]
    assert att and att[-1]["public_key"] == 294
    health = d.request({"type": "health"})
    assert health.get("kms_backend") == "native", health
    log = d.log()
    for secret in CREDS.values():
        assert secret not in log


@pytest.mark.parametrize("chunk", [1000, 16, 1])
def test_configure_with_kms_style_cms(start_daemon, make_sims, chunk):
    """CiphertextForRecipient in the layout real KMS replies have (BER,
    indefinite lengths, the encrypted content as a constructed OCTET STRING
    of chunks: 1000 bytes as KMS cuts them, or smaller so the 48 bytes of a
    wrapped TSK come in 3 and 48 pieces) opens in the enclave."""
    s = make_sims(sim_args=("--cms-form", "kms", "--cms-chunk", str(chunk)))
    d = start_daemon(*s.daemon_options())
    key = os.urandom(32)
    resp = configure(d, tsk_blob(key))
    assert resp.get("status") == "ok", resp
    out = d.process(seal(key, b"chunked", aad="c"), aad="c")
    assert out.get("status") == "ok", out
    assert open_sealed(key, out["result"], aad="c") == b"chunked"
    assert [e["outcome"] for e in s.kms_log()] == ["ok"]


def _asn1_lines(der, tmp_path):
    p = tmp_path / "x.ber"
    p.write_bytes(der)
    r = subprocess.run(["openssl", "asn1parse", "-inform", "DER", "-in",
                        str(p)], capture_output=True, timeout=30, check=True)
    return r.stdout.decode().splitlines()


def test_simulator_kms_form_is_laid_out_as_kms(tmp_path):
    """sim_cms.envelope_kms() writes what the captures in tests/vectors/cms
    hold, element for element (only the values differ), the content of a
    4096-byte plaintext in 1000, 1000, 1000, 1000 and 112 bytes as KMS sent
    it; OpenSSL's own `cms -decrypt` opens it."""
    import sim_cms
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    k = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    spki = k.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    vectors = os.environ.get("VECTORS") or os.path.join(HERE, "..", "vectors")
    with open(os.path.join(vectors, "cms",
                           "kms_ciphertext_for_recipient_2.ber"), "rb") as f:
        capture = f.read()

    def shape(lines):
        # offsets, lengths, types, OIDs and integers; no byte values
        return [ln.split("[HEX DUMP]")[0].rstrip() for ln in lines]
    ours = sim_cms.envelope_kms(bytes(range(32)), spki)   # 48 bytes as (2)
    assert shape(_asn1_lines(ours, tmp_path)) == \
        shape(_asn1_lines(capture, tmp_path))
    plaintext = os.urandom(4096)
    ber = sim_cms.envelope_kms(plaintext, spki)
    pieces = [ln for ln in _asn1_lines(ber, tmp_path)[-11:]
              if "OCTET STRING" in ln]
    assert [int(ln.split(" l=")[1].split()[0]) for ln in pieces] == \
        [1000, 1000, 1000, 1000, 112]
    key_pem = tmp_path / "k.pem"
    key_pem.write_bytes(k.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    (tmp_path / "m.ber").write_bytes(ber)
    r = subprocess.run(["openssl", "cms", "-decrypt", "-binary", "-inform",
                        "DER", "-in", str(tmp_path / "m.ber"), "-inkey",
                        str(key_pem)], capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout == plaintext


def _owner_generate_data_key(sims, recipient=None):
    import sim_sigv4
    host = "kms.%s.amazonaws.com" % sims.region
    body = {"KeyId": KEY_ID, "KeySpec": "AES_256"}
    if recipient:
        body["Recipient"] = recipient
    raw = json.dumps(body).encode()
    headers = sim_sigv4.sign(host, sims.region, "TrentService.GenerateDataKey",
                             raw, OWNER["access_key_id"],
                             OWNER["secret_access_key"])
    ctx = ssl.create_default_context(cafile=sims.ca)
    ctx.check_hostname = False      # the simulator is reached by address
    req = urllib.request.Request("https://127.0.0.1:%d/" % sims.port,
                                 data=raw, method="POST")
    for n, v in headers:
        req.add_header(n, v)
    req.add_unredirected_header("Host", host)
    with urllib.request.urlopen(req, context=ctx, timeout=20) as r:
        return json.loads(r.read())


def test_generate_data_key_then_configure(start_daemon, sims):
    """The data owner's GenerateDataKey (no Recipient: Plaintext comes
    back) makes the TSK the enclave then gets through Decrypt."""
    out = _owner_generate_data_key(sims)
    key = base64.b64decode(out["Plaintext"])
    assert len(key) == 32 and "CiphertextForRecipient" not in out
    d = start_daemon(*sims.daemon_options())
    resp = configure(d, out["CiphertextBlob"])
    assert resp.get("status") == "ok", resp
    res = d.process(seal(key, b"x"))
    assert open_sealed(key, res["result"]) == b"x"


def _nsm_attestation(sims, public_key):
    import cbor2
    import struct
    req = cbor2.dumps({"Attestation": {"user_data": None, "nonce": None,
                                       "public_key": public_key}})
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(10)
        s.connect(sims.sock)
        s.sendall(struct.pack(">I", len(req)) + req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return cbor2.loads(data[4:])["Attestation"]["document"]


def test_simulator_generate_data_key_with_recipient(sims, tmp_path):
    """The KMS simulator's other operation, as an enclave would call it:
    GenerateDataKey with a Recipient answers CiphertextForRecipient (CMS
    EnvelopedData to the attested key, which `openssl cms` opens) and no
    Plaintext; the attested PCR0 must satisfy the policy."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    k = rsa.generate_private_key(65537, 2048)
    spki = k.public_key().public_bytes(
        serialization.Encoding.DER,
        serialization.PublicFormat.SubjectPublicKeyInfo)
    doc = _nsm_attestation(sims, spki)
    out = _owner_generate_data_key(sims, {
        "KeyEncryptionAlgorithm": "RSAES_OAEP_SHA_256",
        "AttestationDocument": base64.b64encode(doc).decode()})
    assert "Plaintext" not in out and out["CiphertextForRecipient"]
    key_pem = tmp_path / "k.pem"
    key_pem.write_bytes(k.private_bytes(serialization.Encoding.PEM,
                                        serialization.PrivateFormat.PKCS8,
                                        serialization.NoEncryption()))
    p = subprocess.run(["openssl", "cms", "-decrypt", "-inform", "DER",
                        "-inkey", str(key_pem), "-binary"],
                       input=base64.b64decode(out["CiphertextForRecipient"]),
                       capture_output=True, timeout=20)
    assert p.returncode == 0, p.stderr
    assert len(p.stdout) == 32


def test_pcr0_not_in_policy_is_access_denied(start_daemon, make_sims):
    sims = make_sims(pcr0=PCR0_OTHER, allowed_pcr0=PCR0_GOOD)
    d = start_daemon(*sims.daemon_options())
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert_error(resp, "kms_decrypt_failed", "AccessDeniedException")
    assert "kms:Decrypt" in resp["details"]
    assert sims.kms_log()[-1]["pcr0"] == PCR0_OTHER
    # A failed configure leaves the daemon unconfigured.
    assert_error(d.process(seal(os.urandom(32), b"x")), "not_configured")


def test_wrong_secret_is_signature_mismatch(start_daemon, sims):
    d = start_daemon(*sims.daemon_options())
    creds = dict(CREDS, aws_secret_access_key="not/the/right/secret/key0000000000000000")
    resp = configure(d, tsk_blob(os.urandom(32)), creds=creds)
    assert_error(resp, "kms_decrypt_failed", ["InvalidSignatureException",
                                              "signature we calculated does not match"])
    for v in creds.values():
        assert v not in resp["details"]
        assert v not in d.log()


def test_unknown_access_key_is_unrecognized_client(start_daemon, sims):
    d = start_daemon(*sims.daemon_options())
    creds = dict(CREDS, aws_access_key_id="AKIANOBODYKNOWSTHIS0")
    resp = configure(d, tsk_blob(os.urandom(32)), creds=creds)
    assert_error(resp, "kms_decrypt_failed", "UnrecognizedClientException")


def test_ciphertext_of_unknown_key_is_invalid_ciphertext(start_daemon, sims):
    d = start_daemon(*sims.daemon_options())
    resp = configure(d, base64.b64encode(os.urandom(80)).decode())
    assert_error(resp, "kms_decrypt_failed", "InvalidCiphertextException")


def test_tls_hostname_is_verified(start_daemon, sims):
    """The simulator's certificate is for kms.<REGION>.amazonaws.com; a
    configure for another region expects another name and must refuse it."""
    d = start_daemon(*sims.daemon_options())
    resp = configure(d, tsk_blob(os.urandom(32)), region="eu-west-1")
    assert_error(resp, "kms_decrypt_failed", "certificate verify failed")
    assert sims.kms_log() == []


def test_tls_untrusted_ca_is_refused(start_daemon, sims):
    opts = sims.daemon_options()
    opts[opts.index("--kms-ca-file") + 1] = sims.root     # not the TLS CA
    d = start_daemon(*opts)
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert_error(resp, "kms_decrypt_failed", "certificate verify failed")


def test_silent_kms_is_kms_timeout(start_daemon, sims):
    """A proxy that accepts and never answers: kms_timeout, within bounds."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(4)
    held = []
    stop = threading.Event()

    def accept():
        lsock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(lsock.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        opts = sims.daemon_options()
        opts[opts.index("--kms-endpoint") + 1] = \
            "tcp:127.0.0.1:%d" % lsock.getsockname()[1]
        opts[opts.index("--kms-timeout") + 1] = "2"
        d = start_daemon(*opts)
        t0 = time.monotonic()
        resp = configure(d, tsk_blob(os.urandom(32)))
        assert_error(resp, "kms_timeout")
        assert time.monotonic() - t0 < 10
    finally:
        stop.set()
        t.join(2)
        for s in held:
            s.close()
        lsock.close()


def test_no_kms_listening_is_a_clear_failure(start_daemon, sims):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    opts = sims.daemon_options()
    opts[opts.index("--kms-endpoint") + 1] = "tcp:127.0.0.1:%d" % port
    d = start_daemon(*opts)
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert_error(resp, "kms_decrypt_failed", "cannot connect to KMS")


# --- clock skew (issue 14) ------------------------------------------------------
#
# KMS refuses a SigV4 request signed more than 5 minutes from its clock. The
# simulator runs its clock --clock-skew seconds off; the daemon must take
# KMS's time from the refusal's Date header, re-sign once, and keep the
# offset for later configures (each runs in a fresh broker child).

SKEW_RE = re.compile(r"KMS's clock is (\d+) s (ahead of|behind) ours")


def _outcomes(sims):
    return [e["outcome"] for e in sims.kms_log()]


def test_simulator_refuses_skew_as_kms_does():
    """sim_sigv4's refusal, at the boundary and in KMS's own words."""
    import datetime
    import sim_sigv4
    utc = datetime.timezone.utc
    now = datetime.datetime(2024, 8, 20, 23, 8, 2, tzinfo=utc)
    five = datetime.timedelta(seconds=300)
    sim_sigv4.check_skew(now - five, now)           # exactly 5 min: fine
    sim_sigv4.check_skew(now + five, now)
    with pytest.raises(sim_sigv4.SigV4Error) as e:
        sim_sigv4.check_skew(now - five - datetime.timedelta(seconds=79), now)
    assert e.value.kind == "InvalidSignatureException"
    assert e.value.message == ("Signature expired: 20240820T230143Z is now "
                               "earlier than 20240820T230302Z "
                               "(20240820T230802Z - 5 min.)")
    with pytest.raises(sim_sigv4.SigV4Error) as e:
        sim_sigv4.check_skew(now + five + datetime.timedelta(seconds=1), now)
    assert e.value.message == ("Signature not yet current: 20240820T231303Z "
                               "is still later than 20240820T231302Z "
                               "(20240820T230802Z + 5 min.)")


@pytest.mark.parametrize("skew,refusal,direction", [
    (600, "Signature expired", "ahead of"),
    (-600, "Signature not yet current", "behind"),
])
def test_clock_skew_is_corrected_and_kept(start_daemon, make_sims, skew,
                                          refusal, direction):
    sims = make_sims(sim_args=["--clock-skew", str(skew)])
    d = start_daemon(*sims.daemon_options())
    key = os.urandom(32)
    resp = configure(d, tsk_blob(key))
    assert resp.get("status") == "ok", resp
    log = sims.kms_log()
    assert [e["outcome"] for e in log] == ["InvalidSignatureException", "ok"]
    assert log[0]["message"].startswith(refusal + ": "), log[0]
    out = d.process(seal(key, b"skewed"))
    assert open_sealed(key, out["result"]) == b"skewed"
    # The measured skew is logged (KMS's Date has 1 s resolution).
    m = SKEW_RE.search(d.log())
    assert m, d.log()
    assert m.group(2) == direction and abs(int(m.group(1)) - abs(skew)) <= 2
    # The next configure (a new broker child) signs with the kept offset:
    # one request, no refusal, no new measurement.
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert resp.get("status") == "ok", resp
    assert _outcomes(sims) == ["InvalidSignatureException", "ok", "ok"]
    assert len(SKEW_RE.findall(d.log())) == 1
    for secret in CREDS.values():
        assert secret not in d.log()


def test_small_skew_needs_no_correction(start_daemon, make_sims):
    """Within KMS's 5 minutes nothing is refused and nothing corrected."""
    sims = make_sims(sim_args=["--clock-skew", "-240"])
    d = start_daemon(*sims.daemon_options())
    assert configure(d, tsk_blob(os.urandom(32))).get("status") == "ok"
    assert _outcomes(sims) == ["ok"]
    assert not SKEW_RE.search(d.log())


def test_wrong_secret_is_not_taken_for_skew(start_daemon, make_sims):
    """Another InvalidSignatureException (a wrong secret) is final: one
    request, however far the clocks are apart."""
    sims = make_sims(sim_args=["--clock-skew", "30"])
    d = start_daemon(*sims.daemon_options())
    creds = dict(CREDS, aws_secret_access_key="not/the/right/secret/key00000"
                 "00000000000")
    resp = configure(d, tsk_blob(os.urandom(32)), creds=creds)
    assert_error(resp, "kms_decrypt_failed", "signature we calculated")
    assert _outcomes(sims) == ["InvalidSignatureException"]


def test_far_date_never_becomes_the_offset(start_daemon, make_sims):
    """F31: a skew refusal dated Fri, 31 Dec 9999 23:59:59 GMT. Before the
    bound the daemon kept that as its clock offset, could not sign the
    retry (internal_error) nor any later request until restarted. Now the
    Date is ignored with a log line: this configure fails with KMS's
    refusal, the next one (KMS answering normally) succeeds."""
    sims = make_sims(sim_args=["--far-date", "1"])
    d = start_daemon(*sims.daemon_options())
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert_error(resp, "kms_decrypt_failed", "Signature expired")
    assert _outcomes(sims) == ["InvalidSignatureException"]
    assert "not a clock drift, ignored" in d.log()
    assert not SKEW_RE.search(d.log())
    key = os.urandom(32)
    resp = configure(d, tsk_blob(key))
    assert resp.get("status") == "ok", resp
    assert _outcomes(sims) == ["InvalidSignatureException", "ok"]
    out = d.process(seal(key, b"after 9999"))
    assert open_sealed(key, out["result"]) == b"after 9999"


# --- throttling and transient failures (issue 14) ------------------------------

@pytest.mark.parametrize("fault,outcome", [
    ("--throttle", "ThrottlingException"),
    ("--fail-5xx", "KMSInternalException"),
    ("--reset", "reset"),
    ("--eof", "eof"),
])
def test_transient_failures_are_retried(start_daemon, make_sims, fault,
                                        outcome):
    sims = make_sims(sim_args=[fault, "2"])
    d = start_daemon(*sims.daemon_options())
    key = os.urandom(32)
    resp = configure(d, tsk_blob(key))
    assert resp.get("status") == "ok", resp
    log = sims.kms_log()
    assert [e["outcome"] for e in log] == [outcome, outcome, "ok"]
    # Backed off: retry 1 waits 250-500 ms, retry 2 500-1000 ms.
    gaps = [b["time"] - a["time"] for a, b in zip(log, log[1:])]
    assert gaps[0] >= 0.25 and gaps[1] >= 0.5, gaps
    assert open_sealed(key, d.process(seal(key, b"t"))["result"]) == b"t"
    assert "trying again" in d.log()


def test_transient_retries_are_bounded(start_daemon, make_sims):
    sims = make_sims(sim_args=["--throttle", "100"])
    d = start_daemon(*sims.daemon_options())
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert_error(resp, "kms_decrypt_failed",
                 ["ThrottlingException: Rate exceeded", "(4 attempts)"])
    assert _outcomes(sims) == ["ThrottlingException"] * 4
    # The daemon still serves, and a later configure asks again.
    assert d.request({"type": "ping"}).get("msg") == "pong"


@pytest.mark.parametrize("make_blob,kind", [
    (lambda: base64.b64encode(os.urandom(80)).decode(),
     "InvalidCiphertextException"),
    (None, "AccessDeniedException"),
])
def test_permanent_errors_are_not_retried(start_daemon, make_sims, make_blob,
                                          kind):
    if make_blob is None:       # attested PCR0 outside the key policy
        sims = make_sims(pcr0=PCR0_OTHER, allowed_pcr0=PCR0_GOOD)
        blob = tsk_blob(os.urandom(32))
    else:
        sims = make_sims()
        blob = make_blob()
    d = start_daemon(*sims.daemon_options())
    resp = configure(d, blob)
    assert_error(resp, "kms_decrypt_failed", kind)
    assert "attempts" not in resp["details"]
    assert _outcomes(sims) == [kind]
    assert "trying again" not in d.log()


def test_retries_stay_within_the_kms_timeout(start_daemon, make_sims):
    """--kms-timeout is one deadline for every attempt and wait: a KMS that
    throttles each request after 3 s ends the configure at 4 s, where
    two attempts and a wait would take at least 6.25 s, four 13.75 s."""
    sims = make_sims(sim_args=["--throttle", "100", "--answer-delay", "3"])
    opts = sims.daemon_options()
    opts[opts.index("--kms-timeout") + 1] = "4"
    d = start_daemon(*opts)
    t0 = time.monotonic()
    resp = configure(d, tsk_blob(os.urandom(32)))
    elapsed = time.monotonic() - t0
    assert_error(resp, "kms_timeout", "within 4 s")
    assert elapsed < 6.0, elapsed
    assert 1 <= len(sims.kms_log()) <= 2
    assert d.request({"type": "ping"}).get("msg") == "pong"


# --- no NSM ---------------------------------------------------------------------

def test_no_nsm_device_fails_clearly(start_daemon, tmp_path):
    missing = str(tmp_path / "no-such-nsm")
    d = start_daemon("--kms", "native", "--nsm-device", missing,
                     "--kms-endpoint", "tcp:127.0.0.1:9")
    resp = d.request({"type": "attest", "nonce": "00" * 16})
    assert_error(resp, "attestation_unavailable",
                 "no NSM device at %s: not running in a Nitro Enclave" % missing)
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert_error(resp, "kms_decrypt_failed", "no NSM device at %s" % missing)
    assert "attestation_unavailable" not in d.log() or "WARN" in d.log()


def test_default_nsm_device_absent_here(start_daemon):
    """Without --nsm-device the daemon looks at /dev/nsm, absent on CI."""
    if os.path.exists("/dev/nsm"):
        pytest.fail("/dev/nsm exists on this machine: this test expects a "
                    "host without Nitro hardware", pytrace=False)
    d = start_daemon()
    resp = d.request({"type": "attest", "nonce": "0102"})
    assert_error(resp, "attestation_unavailable", "no NSM device at /dev/nsm")


# --- attest ----------------------------------------------------------------

def test_attest_returns_a_document_binding_the_nonce(start_daemon, sims,
                                                     enclavectl_bin, tmp_path):
    d = start_daemon(*sims.daemon_options())
    nonce = os.urandom(64).hex()
    resp = d.request({"type": "attest", "nonce": nonce, "user_data": "c0ffee"},
                     timeout=20)
    assert resp.get("status") == "ok", resp
    doc = base64.b64decode(resp["document"], validate=True)
    assert doc[:1] == b"\x84"
    import sim_cose
    payload = sim_cose.verify_document(doc, open(sims.root, "rb").read())
    assert payload["nonce"].hex() == nonce
    assert payload["user_data"] == bytes.fromhex("c0ffee")
    assert payload["public_key"] is None
    assert payload["pcrs"][0].hex() == PCR0_GOOD
    # The saved document verifies offline with verify-attestation too.
    f = tmp_path / "doc.b64"
    f.write_text(resp["document"])
    r = subprocess.run([enclavectl_bin, "verify-attestation", "--root",
                        sims.root, "--expect-pcr0", PCR0_GOOD,
                        "--expect-nonce", nonce, str(f)],
                       capture_output=True, timeout=30)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize("msg,code,word", [
    ({"type": "attest"}, "missing_fields", "nonce"),
    ({"type": "attest", "nonce": ""}, "missing_fields", "nonce"),
    ({"type": "attest", "nonce": None}, "missing_fields", "nonce"),
    ({"type": "attest", "nonce": 7}, "invalid_field", "nonce"),
    ({"type": "attest", "nonce": "abc"}, "invalid_hex", "nonce"),
    ({"type": "attest", "nonce": "zz"}, "invalid_hex", "nonce"),
    ({"type": "attest", "nonce": "00" * 513}, "invalid_field", "nonce"),
    ({"type": "attest", "nonce": "00", "user_data": ["x"]}, "invalid_field",
     "user_data"),
    ({"type": "attest", "nonce": "00", "user_data": "0"}, "invalid_hex",
     "user_data"),
    ({"type": "attest", "nonce": "00", "user_data": "11" * 513},
     "invalid_field", "user_data"),
])
def test_attest_field_errors(start_daemon, sims, msg, code, word):
    d = start_daemon(*sims.daemon_options())
    assert_error(d.request(msg), code, word)


def test_attest_limits_accepted(start_daemon, sims):
    d = start_daemon(*sims.daemon_options())
    resp = d.request({"type": "attest", "nonce": "5a" * 512,
                      "user_data": "a5" * 512}, framing="len", timeout=20)
    assert resp.get("status") == "ok", resp


def _ctl_attest(ctl, d, *args):
    return subprocess.run([ctl, "--enclave", d.tcp, "--timeout", "30",
                           "attest"] + list(args),
                          capture_output=True, timeout=60)


def test_enclavectl_attest_verify(start_daemon, sims, enclavectl_bin):
    d = start_daemon(*sims.daemon_options())
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--expect-pcr0", PCR0_GOOD,
                    "--root", sims.root)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert "verified: yes" in out and "PCR0: %s (as expected)" % PCR0_GOOD in out
    # The nonce was fresh: two documents, two different nonces.
    nonces = [e["nonce"] for e in sims.nsm_log() if e["op"] == "Attestation"]
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--root", sims.root,
                    "--nonce", "00112233")
    assert r.returncode == 0, r.stderr
    nonces += [e["nonce"] for e in sims.nsm_log()
               if e["op"] == "Attestation"][len(nonces):]
    assert len(nonces) == 2 and len(nonces[0]) == 64 and nonces[1] == "00112233"


def test_enclavectl_attest_wrong_pcr0_fails(start_daemon, sims, enclavectl_bin):
    d = start_daemon(*sims.daemon_options())
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--expect-pcr0", PCR0_OTHER,
                    "--root", sims.root)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert b"verification failed: PCR0 mismatch" in r.stderr
    assert b"verified" not in r.stdout


def test_enclavectl_attest_debug_mode(start_daemon, make_sims, enclavectl_bin):
    """An enclave run with --debug-mode attests with PCR0, PCR1 and PCR2
    zero (the NSM simulator's other PCRs are zero already): attest --verify
    says so and fails unless --allow-debug; --expect-pcr0 still applies."""
    s = make_sims(pcr0="00" * 48)
    d = start_daemon(*s.daemon_options())
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--root", s.root)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert r.stdout.startswith(b"debug mode: yes"), r.stdout
    assert b"verification failed: debug mode: yes" in r.stderr
    assert b"--allow-debug" in r.stderr and b"verified" not in r.stdout
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--root", s.root,
                    "--allow-debug", "--expect-pcr0", "00" * 48)
    assert r.returncode == 0, r.stderr
    out = r.stdout.decode()
    assert out.startswith("verified: yes\ndebug mode: yes"), out
    assert "(as expected)" in out
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--root", s.root,
                    "--allow-debug", "--expect-pcr0", PCR0_GOOD)
    assert r.returncode == 1 and b"PCR0 mismatch" in r.stderr
    assert b"debug mode: yes" in r.stdout
    assert _ctl_attest(enclavectl_bin, d, "--allow-debug").returncode == 2


def test_enclavectl_attest_production_is_not_debug(start_daemon, sims,
                                                   enclavectl_bin):
    d = start_daemon(*sims.daemon_options())
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--root", sims.root)
    assert r.returncode == 0, r.stderr
    assert b"debug mode: no\n" in r.stdout


def test_enclavectl_attest_default_root_refuses_test_chain(start_daemon, sims,
                                                          enclavectl_bin):
    d = start_daemon(*sims.daemon_options())
    r = _ctl_attest(enclavectl_bin, d, "--verify", "--expect-pcr0", PCR0_GOOD)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert b"verification failed: certificate chain" in r.stderr


def test_enclavectl_attest_without_nsm(start_daemon, enclavectl_bin, tmp_path):
    d = start_daemon("--nsm-device", str(tmp_path / "nope"))
    r = _ctl_attest(enclavectl_bin, d, "--verify")
    assert r.returncode == 1
    assert b"attestation_unavailable" in r.stderr
    assert b"not running in a Nitro Enclave" in r.stderr


def test_enclavectl_attest_prints_document(start_daemon, sims, enclavectl_bin):
    d = start_daemon(*sims.daemon_options())
    r = _ctl_attest(enclavectl_bin, d, "--user-data", "01")
    assert r.returncode == 0, r.stderr
    assert base64.b64decode(r.stdout.strip(), validate=True)[:1] == b"\x84"
    r = _ctl_attest(enclavectl_bin, d, "--expect-pcr0", PCR0_GOOD)
    assert r.returncode == 2


# --- options and the default transport -----------------------------------------

def test_default_transport_is_the_vsock_proxy(start_daemon, sims):
    """Without --kms-endpoint the backend dials the parent's vsock-proxy
    (CID 3, --proxy-port); here there is none, and the reason says where it
    looked (or the KMS timeout ends it: vsock may just not answer)."""
    opts = sims.daemon_options("--proxy-port", "8123")
    i = opts.index("--kms-endpoint")
    del opts[i:i + 2]
    d = start_daemon(*opts)
    t0 = time.monotonic()
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert time.monotonic() - t0 < 25
    assert resp.get("status") == "error", resp
    if resp["msg"] == "kms_decrypt_failed":
        assert "cannot connect to KMS through vsock:3:8123 (the parent's " \
               "vsock-proxy)" in resp["details"], resp
    else:
        assert_error(resp, "kms_timeout")


@pytest.mark.parametrize("args,words", [
    (["--kms", "kmsd"], "kmstool, native"),
    (["--kms-endpoint", "unix:/tmp/x"], "not a Unix socket"),
    (["--kms-endpoint", "tcp:nohostport"], "--kms-endpoint"),
    (["--nsm-device", ""], "--nsm-device"),
    (["--kms-ca-file", ""], "--kms-ca-file"),
])
def test_native_option_errors(enclaved_bin, args, words):
    p = subprocess.run([enclaved_bin] + args, capture_output=True, timeout=20)
    assert p.returncode == 2, p
    assert words in p.stderr.decode(), p.stderr


def test_help_names_the_native_options(enclaved_bin):
    p = subprocess.run([enclaved_bin, "--help"], capture_output=True,
                       timeout=20)
    out = p.stdout.decode()
    for word in ("native", "--nsm-device", "--kms-endpoint", "--kms-ca-file"):
        assert word in out


# --- encryption_context (issue 13) ---------------------------------------------

def test_native_encryption_context_must_match(start_daemon, sims):
    """The native backend sends configure's encryption_context as the
    Decrypt body's EncryptionContext; KMS (the simulator) opens the blob
    only with exactly the context it was made with."""
    ctx = {"tenant": "acme", "purpose": "enclave-tsk"}
    key = os.urandom(32)
    tsk = tsk_blob(key, ctx)
    d = start_daemon(*sims.daemon_options())
    assert_error(configure(d, tsk), "kms_decrypt_failed",
                 "InvalidCiphertextException")
    assert_error(configure(d, tsk, encryption_context=dict(ctx, tenant="x")),
                 "kms_decrypt_failed", "InvalidCiphertextException")
    resp = configure(d, tsk, encryption_context=ctx, key_id="acme")
    assert resp.get("status") == "ok", resp
    out = d.process(seal(key, b"ctx"))
    assert open_sealed(key, out["result"]) == b"ctx"
    log = sims.kms_log()
    assert [e.get("encryption_context") for e in log] == \
        [None, ["purpose", "tenant"], ["purpose", "tenant"]]


def test_native_policy_condition_on_encryption_context(start_daemon,
                                                       make_sims):
    """A key policy may require kms:EncryptionContext:tenant (what
    scripts/setup-kms.sh --encryption-context writes): a blob made for
    another tenant is refused even with its own, correct, context."""
    sims = make_sims(context_condition={"kms:EncryptionContext:tenant": "acme"})
    d = start_daemon(*sims.daemon_options())
    k1, k2 = os.urandom(32), os.urandom(32)
    other = {"tenant": "other"}
    assert_error(configure(d, tsk_blob(k2, other), encryption_context=other),
                 "kms_decrypt_failed", "AccessDeniedException")
    acme = {"tenant": "acme"}
    resp = configure(d, tsk_blob(k1, acme), encryption_context=acme)
    assert resp.get("status") == "ok", resp


# --- KMS key pinning (F27, issue 20) --------------------------------------------

OTHER_KEY_ID = "2234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_MASTER = bytes(range(101, 133))


def _arn(key_id, region=REGION):
    return "arn:aws:kms:%s:111122223333:key/%s" % (region, key_id)


def test_native_pin_is_the_keyid_and_refuses_another_key(start_daemon,
                                                          make_sims):
    """A TSK made under another KMS key (one the host controls) is refused
    by KMS, since the Decrypt names the pinned key; before F27 the Decrypt
    named no key and the TSK was configured."""
    import kms_sim
    sims = make_sims(sim_args=["--key", "%s=%s" % (OTHER_KEY_ID,
                                                   OTHER_MASTER.hex())])
    pin = _arn(KEY_ID)
    d = start_daemon(*sims.daemon_options("--kms-key-id", pin))
    foreign = base64.b64encode(kms_sim.make_blob(
        OTHER_MASTER, OTHER_KEY_ID, os.urandom(32))).decode()
    assert_error(configure(d, foreign), "kms_decrypt_failed",
                 "IncorrectKeyException")
    assert sims.kms_log()[-1]["key_id"] == pin
    key = os.urandom(32)
    assert configure(d, tsk_blob(key)).get("status") == "ok"
    assert sims.kms_log()[-1]["key_id"] == pin
    out = d.process(seal(key, b"pinned"))
    assert open_sealed(key, out["result"]) == b"pinned"


def test_native_bare_key_id_pin(start_daemon, sims):
    d = start_daemon(*sims.daemon_options("--kms-key-id", KEY_ID))
    assert configure(d, tsk_blob(os.urandom(32))).get("status") == "ok"
    assert sims.kms_log()[-1]["key_id"] == KEY_ID


@pytest.mark.parametrize("pin", [_arn(KEY_ID), KEY_ID])
def test_native_checks_the_keyid_kms_answers(start_daemon, make_sims, pin):
    """KMS (here a simulator told to lie) answers that another key
    decrypted: the pinned enclave refuses the answer, the plaintext is
    never used. Without the check (before F27) it was configured."""
    sims = make_sims(sim_args=["--answer-key-id", _arn(OTHER_KEY_ID)])
    d = start_daemon(*sims.daemon_options("--kms-key-id", pin))
    resp = configure(d, tsk_blob(os.urandom(32)))
    assert_error(resp, "kms_decrypt_failed", ["KMS decrypted with " +
                                              _arn(OTHER_KEY_ID),
                                              "not the pinned key"])
    assert _outcomes(sims) == ["ok"]
    assert d.request({"type": "health"})["configured"] is False


def test_native_answer_from_another_account_is_refused(start_daemon, make_sims):
    """Same key id, another account: another key."""
    sims = make_sims(sim_args=["--answer-key-id", "arn:aws:kms:%s:"
                               "444455556666:key/%s" % (REGION, KEY_ID)])
    d = start_daemon(*sims.daemon_options("--kms-key-id", _arn(KEY_ID)))
    assert_error(configure(d, tsk_blob(os.urandom(32))), "kms_decrypt_failed",
                 "not the pinned key")
