"""
`enclavectl verify-attestation` against documents made here with a test
Nitro-like chain (tests/simulators/sim_pki.py) and signed ES384 like the
NSM signs them (tests/simulators/sim_cose.py), each breaking one rule of
the AWS attestation spec (aws-nitro-enclaves-nsm-api
docs/attestation_process.md, 3.2.2 and 3.2.3) or the debug-mode policy:

  * nonce and user_data at most 512 bytes, public_key 1..1024 when present;
  * the leaf carries the digitalSignature key usage;
  * the timestamp lies within the leaf's validity;
  * no map has two keys of the same value, however each is encoded
    (definite or indefinite-length map, definite or chunked text key);
  * alg ES384 only (QEMU's nitro-enclave machine writes alg -1 and no
    signature);
  * PCR0, PCR1 and PCR2 all zero is a --debug-mode enclave: "debug mode:
    yes", refused unless --allow-debug.

Every document is correctly signed, so a refusal is the rule's, not the
signature's.
"""

import datetime
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.abspath(os.path.join(HERE, "..", "simulators")))

cbor2 = pytest.importorskip("cbor2")
pytest.importorskip("cryptography")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import \
    decode_dss_signature  # noqa: E402

import sim_cose  # noqa: E402
import sim_pki  # noqa: E402
from helpers.harness import assert_verification_refused, assert_verified  # noqa: E402

PCR0 = bytes.fromhex("ab" * 48)
ZERO = bytes(48)


@pytest.fixture(scope="module")
def chain():
    return sim_pki.NitroChain()


@pytest.fixture(scope="module")
def root_file(chain, tmp_path_factory):
    p = tmp_path_factory.mktemp("root") / "root.pem"
    p.write_bytes(chain.root_pem())
    return str(p)


# --- CBOR by hand, so a map may hold what cbor2 would never write ------------

def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def cmap(pairs, indefinite=False):
    """A map of (key bytes, value) pairs: keys already encoded (so they can
    be chunked or repeated), values encoded by cbor2."""
    body = b"".join(k + cbor2.dumps(v) for k, v in pairs)
    return (b"\xbf" + body + b"\xff") if indefinite else \
        head(5, len(pairs)) + body


def key(s):
    return cbor2.dumps(s)


def chunked_key(*parts):
    """An indefinite-length text string of these chunks."""
    return b"\x7f" + b"".join(cbor2.dumps(p) for p in parts) + b"\xff"


def fields(chain, pcrs=None, leaf=None, timestamp_ms=None, **extra):
    """The payload's (key, value) pairs, mandatory ones first."""
    pcrs = pcrs if pcrs is not None else {0: PCR0, 1: ZERO, 2: ZERO}
    out = [(key("module_id"), "i-0sim-enc0sim"),
           (key("digest"), "SHA384"),
           (key("timestamp"), timestamp_ms if timestamp_ms is not None
            else int(datetime.datetime.now().timestamp() * 1000)),
           (key("pcrs"), {i: v for i, v in sorted(pcrs.items())}),
           (key("certificate"), chain.der(leaf or chain.leaf)),
           (key("cabundle"), [chain.der(chain.root), chain.der(chain.inter)])]
    for name in ("public_key", "user_data", "nonce"):
        out.append((key(name), extra.get(name)))
    return out


def sign(payload, signing_key, protected=sim_cose.PROTECTED_ES384):
    der = signing_key.sign(sim_cose.sig_structure(protected, payload),
                           ec.ECDSA(hashes.SHA384()))
    r, s = decode_dss_signature(der)
    return cbor2.dumps([protected, {}, payload,
                        r.to_bytes(48, "big") + s.to_bytes(48, "big")])


def document(chain, pairs=None, indefinite=False, signing_key=None, **kw):
    pairs = pairs if pairs is not None else fields(chain, **kw)
    return sign(cmap(pairs, indefinite), signing_key or chain.leaf_key)


def verify(ctl, root_file, tmp_path, doc, *args):
    p = tmp_path / "doc.cbor"
    p.write_bytes(doc)
    return subprocess.run([ctl, "verify-attestation", "--root", root_file,
                           *args, str(p)], capture_output=True, timeout=30)


def replace(pairs, name, value):
    return [(k, value if k == key(name) else v) for k, v in pairs]


# --- the baseline ------------------------------------------------------------

def test_a_well_formed_document_verifies(enclavectl_bin, root_file, chain,
                                         tmp_path):
    out = assert_verified(verify(enclavectl_bin, root_file, tmp_path, document(
        chain, nonce=b"n" * 512, user_data=b"u" * 512,
        public_key=b"k" * 1024), "--expect-nonce", "6e" * 512))
    assert "debug mode: no\n" in out
    assert "nonce: 512 bytes\n" in out and "public_key: 1024 bytes\n" in out


# --- sizes (F19) -------------------------------------------------------------

@pytest.mark.parametrize("name,value,reason", [
    ("nonce", b"n" * 513, "payload: bad nonce (at most 512 bytes"),
    ("user_data", b"u" * 513, "payload: bad user_data (at most 512 bytes"),
    ("public_key", b"", "payload: bad public_key (1..1024 bytes"),
    ("public_key", b"k" * 1025, "payload: bad public_key (1..1024 bytes"),
], ids=["nonce-513", "user_data-513", "public_key-empty", "public_key-1025"])
def test_field_sizes_follow_the_spec(enclavectl_bin, root_file, chain,
                                     tmp_path, name, value, reason):
    doc = document(chain, **{name: value})
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc), reason)


def test_empty_nonce_and_user_data_are_allowed(enclavectl_bin, root_file,
                                               chain, tmp_path):
    out = assert_verified(verify(enclavectl_bin, root_file, tmp_path,
                                 document(chain, nonce=b"", user_data=b"")))
    assert "nonce: 0 bytes\n" in out and "user_data: 0 bytes\n" in out


# --- the leaf (F19) ----------------------------------------------------------

def leaf_with(chain, key_usage, not_before=None, not_after=None):
    """A leaf under chain.inter with the given KeyUsage (None: none)."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    k = ec.generate_private_key(ec.SECP384R1())
    b = (x509.CertificateBuilder()
         .subject_name(x509.Name([x509.NameAttribute(
             x509.oid.NameOID.COMMON_NAME, "i-0sim.leaf.test")]))
         .issuer_name(chain.inter.subject).public_key(k.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before or now - datetime.timedelta(minutes=5))
         .not_valid_after(not_after or now + datetime.timedelta(hours=3))
         .add_extension(x509.BasicConstraints(ca=False, path_length=None),
                        critical=True))
    if key_usage is not None:
        b = b.add_extension(key_usage, critical=True)
    return b.sign(chain.inter_key, hashes.SHA384()), k


def usage(**on):
    names = ("digital_signature", "content_commitment", "key_encipherment",
             "data_encipherment", "key_agreement", "key_cert_sign",
             "crl_sign", "encipher_only", "decipher_only")
    return x509.KeyUsage(**{n: on.get(n, False) for n in names})


@pytest.mark.parametrize("ku", [usage(content_commitment=True), None],
                         ids=["nonRepudiation-only", "no-key-usage"])
def test_leaf_needs_digital_signature(enclavectl_bin, root_file, chain,
                                      tmp_path, ku):
    leaf, k = leaf_with(chain, ku)
    doc = document(chain, leaf=leaf, signing_key=k)
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc),
                                "certificate: the leaf lacks the digitalSignature key usage")


def test_leaf_with_digital_signature_verifies(enclavectl_bin, root_file,
                                              chain, tmp_path):
    leaf, k = leaf_with(chain, usage(digital_signature=True))
    assert_verified(verify(enclavectl_bin, root_file, tmp_path,
                           document(chain, leaf=leaf, signing_key=k)))


@pytest.mark.parametrize("offset", [
    datetime.timedelta(hours=-1),      # before the leaf's notBefore
    datetime.timedelta(hours=4),       # after its notAfter (3 h)
])
def test_timestamp_within_leaf_validity(enclavectl_bin, root_file, chain,
                                        tmp_path, offset):
    when = datetime.datetime.now(datetime.timezone.utc) + offset
    doc = document(chain, timestamp_ms=int(when.timestamp() * 1000))
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc),
                                "timestamp: the document is dated outside its leaf "
                                "certificate's validity")


# --- duplicate keys (F19) ----------------------------------------------------

def with_second_nonce(chain, second_key, indefinite=False):
    pairs = fields(chain, nonce=b"A" * 16)
    pairs.append((second_key, b"B" * 16))
    return document(chain, pairs=pairs, indefinite=indefinite)


@pytest.mark.parametrize("second_key,indefinite", [
    (key("nonce"), False),
    (key("nonce"), True),
    (chunked_key("no", "nce"), False),
    (chunked_key("no", "nce"), True),
    (chunked_key("nonce"), False),
], ids=["definite", "indefinite-map", "chunked-key", "chunked-key-indef-map",
        "one-chunk-key"])
def test_duplicate_nonce_is_refused(enclavectl_bin, root_file, chain,
                                    tmp_path, second_key, indefinite):
    doc = with_second_nonce(chain, second_key, indefinite)
    for want in ("41" * 16, "42" * 16):
        assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc,
                                           "--expect-nonce", want),
                                    "CBOR: a map has a duplicate key")


def test_duplicate_unknown_key_and_pcr_are_refused(enclavectl_bin, root_file,
                                                   chain, tmp_path):
    pairs = fields(chain) + [(key("extra"), 1), (chunked_key("ex", "tra"), 2)]
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path,
                                       document(chain, pairs=pairs)),
                                "CBOR: a map has a duplicate key")
    # pcrs {0: .., 0: ..}: a nested map, by hand.
    pcrs = head(5, 2) + cbor2.dumps(0) + cbor2.dumps(PCR0) + \
        cbor2.dumps(0) + cbor2.dumps(PCR0)
    pairs = [(k, v) for k, v in fields(chain) if k != key("pcrs")]
    body = cmap(pairs)[1:]          # fewer than 24 pairs: a one-byte head
    payload = head(5, len(pairs) + 1) + body + key("pcrs") + pcrs
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path,
                                       sign(payload, chain.leaf_key)),
                                "CBOR: a map has a duplicate key")


def test_chunked_nonce_key_is_the_nonce(enclavectl_bin, root_file, chain,
                                        tmp_path):
    """A single "nonce" key sent as an indefinite-length string is the nonce
    (not an unknown key to skip), so --expect-nonce checks it."""
    pairs = [(chunked_key("no", "nce") if k == key("nonce") else k, v)
             for k, v in fields(chain, nonce=b"C" * 8)]
    doc = document(chain, pairs=pairs)
    assert_verified(verify(enclavectl_bin, root_file, tmp_path, doc,
                           "--expect-nonce", "43" * 8))
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc,
                                       "--expect-nonce", "44" * 8), "nonce mismatch")


def test_map_keys_must_be_integers_or_strings(enclavectl_bin, root_file,
                                              chain, tmp_path):
    pairs = fields(chain) + [(cbor2.dumps([1]), 1)]
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path,
                                       document(chain, pairs=pairs)),
                                "CBOR: a map key that is not an integer or a string")


# --- the algorithm (F25) -----------------------------------------------------

@pytest.mark.parametrize("alg,signature,words", [
    (-1, b"", "algorithm -1 is not ES384 (-35): not a COSE signature "
              "algorithm, and the document carries no signature"),
    (-7, b"\x01" * 64, "algorithm -7 is not ES384 (-35): it is ES256"),
    (-36, b"\x01" * 132, "algorithm -36 is not ES384 (-35): it is ES512"),
], ids=["qemu-alg-1-unsigned", "ES256", "ES512"])
def test_only_es384_is_accepted(enclavectl_bin, root_file, chain, tmp_path,
                                alg, signature, words):
    protected = cbor2.dumps({1: alg})
    payload = cmap(fields(chain))
    doc = cbor2.dumps([protected, {}, payload, signature])
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc),
                                "COSE: " + words)


# --- debug mode (F25) --------------------------------------------------------

def debug_doc(chain):
    return document(chain, pcrs={i: ZERO for i in range(16)})


def test_debug_mode_is_refused_by_default(enclavectl_bin, root_file, chain,
                                          tmp_path):
    r = assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, debug_doc(chain)),
                                    "debug mode: yes")
    assert r.stdout.decode().startswith("debug mode: yes")
    assert b"--allow-debug" in r.stderr


def test_debug_mode_allowed_says_so(enclavectl_bin, root_file, chain,
                                    tmp_path):
    r = verify(enclavectl_bin, root_file, tmp_path, debug_doc(chain),
               "--allow-debug")
    out = assert_verified(r)
    assert out.splitlines()[1].startswith("debug mode: yes")
    assert b"warning: debug mode: yes" in r.stderr


def test_debug_mode_with_expect_pcr0(enclavectl_bin, root_file, chain,
                                     tmp_path):
    doc = debug_doc(chain)
    assert_verified(verify(enclavectl_bin, root_file, tmp_path, doc, "--allow-debug",
                           "--expect-pcr0", ZERO.hex()))
    r = assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc,
                                           "--allow-debug", "--expect-pcr0", PCR0.hex()),
                                    "PCR0 mismatch")
    assert b"debug mode: yes" in r.stdout
    assert_verification_refused(verify(enclavectl_bin, root_file, tmp_path, doc,
                                       "--expect-pcr0", ZERO.hex()), "debug mode: yes")


@pytest.mark.parametrize("pcrs", [
    {0: ZERO, 1: ZERO, 2: PCR0},
    {0: ZERO, 1: PCR0, 2: ZERO},
    {0: PCR0, 1: ZERO, 2: ZERO},
    {0: ZERO, 1: ZERO},
], ids=["pcr2-set", "pcr1-set", "pcr0-set", "no-pcr2"])
def test_not_debug_unless_pcr0_to_2_all_zero(enclavectl_bin, root_file,
                                             chain, tmp_path, pcrs):
    out = assert_verified(verify(enclavectl_bin, root_file, tmp_path,
                                 document(chain, pcrs=pcrs)))
    assert "debug mode: no\n" in out
