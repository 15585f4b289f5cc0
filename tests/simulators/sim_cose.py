"""
sim_cose.py - AWS Nitro attestation documents for the simulators
(test-only): build one (COSE_Sign1, ES384, untagged, as the NSM does) and
verify one against a chosen root (what KMS does with a Recipient).

Written from AWS's rules (aws-nitro-enclaves-nsm-api,
docs/attestation_process.md), independently of the C verifier in
src/verify/, so each checks the other.
"""

import datetime
import hashlib
import time

import cbor2
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)

PROTECTED_ES384 = b"\xa1\x01\x38\x22"     # {1: -35}


def sig_structure(protected, payload):
    return cbor2.dumps(["Signature1", protected, b"", payload])


def build_document(chain, pcrs, module_id, public_key=None, user_data=None,
                   nonce=None, timestamp_ms=None):
    """A COSE_Sign1 document signed by chain.leaf_key; pcrs is {index: bytes}."""
    payload = cbor2.dumps({
        "module_id": module_id,
        "digest": "SHA384",
        "timestamp": timestamp_ms if timestamp_ms is not None
        else int(time.time() * 1000),
        "pcrs": {i: bytes(v) for i, v in sorted(pcrs.items())},
        "certificate": chain.der(chain.leaf),
        "cabundle": [chain.der(chain.root), chain.der(chain.inter)],
        "public_key": public_key,
        "user_data": user_data,
        "nonce": nonce,
    })
    der = chain.leaf_key.sign(sig_structure(PROTECTED_ES384, payload),
                              ec.ECDSA(hashes.SHA384()))
    r, s = decode_dss_signature(der)
    signature = r.to_bytes(48, "big") + s.to_bytes(48, "big")
    return cbor2.dumps([PROTECTED_ES384, {}, payload, signature])


class VerifyError(Exception):
    pass


def _check_time(cert, when):
    nb = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    na = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    if not nb <= when <= na:
        raise VerifyError("certificate %s not valid at %s"
                          % (cert.subject.rfc4514_string(), when))


def _check_issued(child, parent):
    if child.issuer != parent.subject:
        raise VerifyError("certificate chain: issuer mismatch")
    bc = parent.extensions.get_extension_for_class(x509.BasicConstraints)
    if not bc.value.ca:
        raise VerifyError("certificate chain: issuer is not a CA")
    try:
        parent.public_key().verify(child.signature, child.tbs_certificate_bytes,
                                   ec.ECDSA(child.signature_hash_algorithm))
    except InvalidSignature:
        raise VerifyError("certificate chain: bad signature")


def verify_document(data, root_pem, when=None):
    """Verify COSE ES384 and the chain leaf -> cabundle[1..] -> root (only
    the given root is trusted). Returns the payload dict."""
    when = when or datetime.datetime.now(datetime.timezone.utc)
    try:
        cose = cbor2.loads(data)
    except Exception as e:
        raise VerifyError("not CBOR: %s" % e)
    if isinstance(cose, cbor2.CBORTag):
        if cose.tag != 18:
            raise VerifyError("unexpected CBOR tag %d" % cose.tag)
        cose = cose.value
    if not (isinstance(cose, list) and len(cose) == 4):
        raise VerifyError("not a COSE_Sign1 array")
    protected, _unprotected, payload_bytes, signature = cose
    if cbor2.loads(protected) != {1: -35}:
        raise VerifyError("protected header is not ES384")
    payload = cbor2.loads(payload_bytes)
    for k in ("module_id", "digest", "timestamp", "pcrs", "certificate",
              "cabundle"):
        if k not in payload:
            raise VerifyError("payload lacks %s" % k)
    root = x509.load_pem_x509_certificate(root_pem)
    leaf = x509.load_der_x509_certificate(payload["certificate"])
    chain = [leaf] + [x509.load_der_x509_certificate(c)
                      for c in reversed(payload["cabundle"][1:])]
    for cert in chain + [root]:
        _check_time(cert, when)
    for child, parent in zip(chain, chain[1:] + [root]):
        _check_issued(child, parent)
    if len(signature) != 96:
        raise VerifyError("signature is not 96 bytes")
    der = encode_dss_signature(int.from_bytes(signature[:48], "big"),
                               int.from_bytes(signature[48:], "big"))
    try:
        leaf.public_key().verify(der, sig_structure(protected, payload_bytes),
                                 ec.ECDSA(hashes.SHA384()))
    except InvalidSignature:
        raise VerifyError("signature does not verify")
    return payload


def image_sha384_hex(payload):
    return payload["pcrs"][0].hex()


def sha384(data):
    return hashlib.sha384(data).digest()
