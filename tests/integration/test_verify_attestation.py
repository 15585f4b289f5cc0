"""
`enclavectl verify-attestation` against the real Nitro attestation document
in $VECTORS/attestation (default tests/vectors/attestation): exit 0 only
when every check passes, 1 with the reason when one fails, 2 for bad usage.

The document's leaf certificate lived 2023-09-18 14:37:09..17:37:12 UTC, so
the passing cases verify at the document's own time (1695049410860 ms).

Its PCR0, PCR1 and PCR2 are zero: it comes from an enclave run with
--debug-mode, which verify-attestation refuses unless --allow-debug, so
run() passes --allow-debug unless told not to (test_debug_mode_document).
"""

import base64
import os
import subprocess

import pytest

from helpers.harness import assert_verification_refused, assert_verified

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.environ.get("VECTORS") or os.path.join(HERE, "..", "vectors")
ATT = os.path.join(VECTORS, "attestation")
DOC_B64 = os.path.join(ATT, "valid-attestation-doc.b64")
ROOT_PEM = os.path.join(ATT, "aws-nitro-root-g1.pem")
DOC_TIME = "2023-09-18T15:03:30Z"
ZERO_PCR = "00" * 48
PCR3 = ("4a9329d69c836267b18abbf9f4a38889124490453419e426818626348d21f989"
        "dc930b1562682a9082887454e53425aa")


def run(ctl, *args, stdin=None, allow_debug=True):
    extra = ["--allow-debug"] if allow_debug and "--help" not in args else []
    return subprocess.run([ctl, "verify-attestation", *extra, *args],
                          input=stdin,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=30)


def doc_bytes():
    with open(DOC_B64, "rb") as f:
        return base64.b64decode(f.read().strip())


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


@pytest.fixture(scope="module", autouse=True)
def need_vectors():
    # The vectors are part of the repository: missing ones are a broken
    # checkout or a wrong $VECTORS, never a reason to skip.
    assert os.path.exists(DOC_B64), "no attestation vectors at %s (set VECTORS)" % ATT


def test_valid_at_its_own_time(enclavectl_bin):
    out = assert_verified(run(enclavectl_bin, "--at", DOC_TIME, DOC_B64))
    assert "module_id: i-0918f6c55e3b61d89-enc018aa8b8e2285d13\n" in out
    assert "timestamp: 2023-09-18T15:03:30Z (1695049410860 ms)\n" in out
    assert "PCR0: %s\n" % ZERO_PCR in out
    assert "PCR3: %s\n" % PCR3 in out
    assert "nonce: 256 bytes\n" in out
    assert "user_data: 91 bytes\n" in out
    assert "public_key: null\n" in out


def test_debug_mode_document(enclavectl_bin):
    """The real document is a debug-mode one: said first, refused without
    --allow-debug (exit 1), accepted and still said with it."""
    r = run(enclavectl_bin, "--at", DOC_TIME, DOC_B64, allow_debug=False)
    assert_verification_refused(r, "debug mode: yes")
    assert r.stdout.startswith(b"debug mode: yes"), r.stdout
    r = run(enclavectl_bin, "--at", DOC_TIME, "--expect-pcr0", ZERO_PCR,
            DOC_B64, allow_debug=False)
    assert_verification_refused(r, "debug mode: yes")
    out = assert_verified(run(enclavectl_bin, "--at", DOC_TIME, DOC_B64))
    assert out.splitlines()[:2] == [
        "verified: yes", "debug mode: yes (PCR0, PCR1 and PCR2 are zero: the "
        "parent instance can read the enclave's memory)"], out
    # A failing check still says what the document is.
    r = run(enclavectl_bin, "--at", DOC_TIME, "--expect-pcr0", "11" * 48,
            DOC_B64)
    assert_verification_refused(r, "PCR0 mismatch")
    assert b"debug mode: yes" in r.stdout


def test_at_document_and_epoch_seconds(enclavectl_bin):
    assert_verified(run(enclavectl_bin, "--at", "document", DOC_B64))
    assert_verified(run(enclavectl_bin, "--at", "1695049410", DOC_B64))


def test_raw_cbor_and_stdin(enclavectl_bin, tmp_path):
    raw = write(tmp_path, "doc.cbor", doc_bytes())
    assert_verified(run(enclavectl_bin, "--at", DOC_TIME, raw))
    with open(DOC_B64, "rb") as f:
        b64 = f.read()
    assert_verified(run(enclavectl_bin, "--at", DOC_TIME, "-", stdin=b64))
    # base64 wrapped at 64 columns, as `base64` writes it.
    wrapped = b"\n".join(b64.strip()[i:i + 64]
                         for i in range(0, len(b64.strip()), 64)) + b"\n"
    assert_verified(run(enclavectl_bin, "--at", DOC_TIME,
                        write(tmp_path, "wrapped.b64", wrapped)))


def test_default_time_is_now_and_expired(enclavectl_bin):
    assert_verification_refused(run(enclavectl_bin, DOC_B64),
                                "certificate chain: certificate has expired")
    assert_verification_refused(run(enclavectl_bin, "--at", "2023-09-19T15:03:30Z", DOC_B64),
                                "certificate chain: certificate has expired")
    assert_verification_refused(run(enclavectl_bin, "--at", "2023-09-17T15:03:30Z", DOC_B64),
                                "certificate chain: certificate is not yet valid")


def test_expected_pcrs(enclavectl_bin):
    assert_verified(run(enclavectl_bin, "--at", DOC_TIME, "--expect-pcr0", ZERO_PCR,
                        "--expect-pcr", "3=" + PCR3, DOC_B64))
    assert_verified(run(enclavectl_bin, "--at", DOC_TIME,
                        "--expect-pcr0", ZERO_PCR.upper(), DOC_B64))
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME,
                                    "--expect-pcr0", "11" * 48, DOC_B64), "PCR0 mismatch")
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME,
                                    "--expect-pcr", "3=" + ZERO_PCR, DOC_B64), "PCR3 mismatch")
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME,
                                    "--expect-pcr", "20=" + ZERO_PCR, DOC_B64), "PCR20 missing")


def test_expected_measurements_compare_pcr0_pcr1_and_pcr2(enclavectl_bin, tmp_path):
    """--expect-measurements takes make eif's measurements.json and holds
    the document to all three PCRs: one that differs in PCR2 alone (bytes
    moved between ramdisks leave PCR0 as it was) is refused."""
    import json

    def measurements(**pcrs):
        m = {"PCR0": ZERO_PCR, "PCR1": ZERO_PCR, "PCR2": ZERO_PCR}
        m.update(pcrs)
        m = {k: v for k, v in m.items() if v is not None}
        return write(tmp_path, "m.json", json.dumps({"Measurements": m}).encode())

    assert_verified(run(enclavectl_bin, "--at", DOC_TIME,
                        "--expect-measurements", measurements(), DOC_B64))
    for k in ("PCR0", "PCR1", "PCR2"):
        assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME,
                                        "--expect-measurements",
                                        measurements(**{k: "11" * 48}), DOC_B64),
                                    "%s mismatch" % k)
    # A file without all three is not a measurements file: bad usage.
    r = run(enclavectl_bin, "--at", DOC_TIME, "--expect-measurements",
            measurements(PCR1=None), DOC_B64)
    assert r.returncode == 2 and b"PCR1" in r.stderr


def test_expected_nonce(enclavectl_bin):
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME,
                                    "--expect-nonce", "00" * 32, DOC_B64), "nonce mismatch")


def tampered(tmp_path, offset_fn):
    d = bytearray(doc_bytes())
    i = offset_fn(bytes(d))
    d[i] ^= 0x01
    return write(tmp_path, "tampered.cbor", bytes(d))


def test_tampered_payload_and_signature(enclavectl_bin, tmp_path):
    payload = tampered(tmp_path, lambda d: d.index(b"module_id") + 11)
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME, payload),
                                "signature does not verify")
    sig = tampered(tmp_path, lambda d: len(d) - 1)
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME, sig),
                                "signature does not verify")


def test_tampered_certificate(enclavectl_bin, tmp_path):
    # The leaf is the first DER certificate in the payload; its last byte
    # lies inside its signature value.
    def leaf_last_byte(d):
        i = d.index(b"certificate") + len(b"certificate")
        assert d[i] == 0x59      # bstr, 2-byte length
        n = int.from_bytes(d[i + 1:i + 3], "big")
        return i + 3 + n - 1
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME,
                                    tampered(tmp_path, leaf_last_byte)),
                                "certificate chain: certificate signature failure")


def test_root(enclavectl_bin, tmp_path):
    assert_verified(run(enclavectl_bin, "--at", DOC_TIME, "--root", ROOT_PEM,
                        DOC_B64))
    key = str(tmp_path / "k.pem")
    cert = str(tmp_path / "other-root.pem")
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-384", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "36500",
                        "-subj", "/CN=aws.nitro-enclaves"],
                       check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("openssl command line not available")
    assert_verification_refused(run(enclavectl_bin, "--at", DOC_TIME, "--root", cert, DOC_B64),
                                "certificate chain: unable to get local issuer certificate")


def test_garbage_and_truncated(enclavectl_bin, tmp_path):
    d = doc_bytes()
    r = run(enclavectl_bin, "--at", DOC_TIME,
            write(tmp_path, "trunc.cbor", d[:len(d) // 2]))
    assert_verification_refused(r, "CBOR: truncated input")
    r = run(enclavectl_bin, "--at", DOC_TIME,
            write(tmp_path, "junk", b"{not: base64 or CBOR}\n"))
    assert r.returncode == 1
    assert b"neither base64 nor CBOR" in r.stderr
    r = run(enclavectl_bin, "--at", DOC_TIME,
            write(tmp_path, "trailing.cbor", d + b"\x00"))
    assert_verification_refused(r, "CBOR: trailing bytes")


@pytest.mark.parametrize("args", [
    [],
    ["--at", "yesterday", "DOC"],
    ["--at", "2023-09-18 15:03:30", "DOC"],
    ["--expect-pcr0", "xyz", "DOC"],
    ["--expect-pcr0", "0", "DOC"],
    ["--expect-pcr", "32=" + ZERO_PCR, "DOC"],
    ["--expect-pcr", "x=00", "DOC"],
    ["--expect-pcr0", ZERO_PCR, "--expect-pcr", "0=" + ZERO_PCR, "DOC"],
    ["--bogus", "DOC"],
    ["DOC", "extra"],
    ["/nonexistent/doc.b64"],
    ["--root", "/nonexistent/root.pem", "DOC"],
])
def test_usage_errors(enclavectl_bin, args):
    args = [DOC_B64 if a == "DOC" else a for a in args]
    r = run(enclavectl_bin, *args)
    assert r.returncode == 2, (args, r.stdout, r.stderr)
    assert r.stderr.startswith(b"enclavectl verify-attestation: ")


def test_bad_root_pem_is_a_failure(enclavectl_bin, tmp_path):
    r = run(enclavectl_bin, "--at", DOC_TIME, "--root",
            write(tmp_path, "bad.pem", b"not a certificate\n"), DOC_B64)
    assert_verification_refused(r, "root certificate is not PEM X.509")


def test_help(enclavectl_bin):
    r = run(enclavectl_bin, "--help")
    assert r.returncode == 0
    assert b"usage: enclavectl verify-attestation" in r.stdout
