"""
sim_cms.py - CiphertextForRecipient for the KMS simulator (test-only):
CMS EnvelopedData to an RSA public key, as KMS makes it: one
KeyTransRecipientInfo by subjectKeyIdentifier, rsaesOaep with SHA-256 and
MGF1-SHA-256, aes-256-CBC content, BER with indefinite lengths.

Two forms:

  * envelope(): `openssl cms -encrypt -stream` (python3-cryptography 38
    cannot make EnvelopedData), which needs a certificate for the
    recipient: a throwaway one carrying the attested public key (its
    signature and names mean nothing);
  * envelope_kms(): byte for byte the layout of the real KMS replies in
    tests/vectors/cms/ (version 2 everywhere, a 32-byte subjectKeyIdentifier,
    OAEP parameters with explicit NULLs, every constructed element of
    indefinite length, the encrypted content as a constructed OCTET STRING
    of `chunk`-byte pieces, 1000 as KMS cuts them), with the RSA-OAEP and
    AES-CBC steps done by python3-cryptography.
"""

import datetime
import hashlib
import os
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, padding, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.x509.oid import NameOID


def _carrier_cert(public_key):
    now = datetime.datetime.now(datetime.timezone.utc)
    signer = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "recipient")])
    return (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                           critical=False)
            .sign(signer, hashes.SHA256()))


def envelope(plaintext, spki_der):
    """DER/BER bytes of a CMS ContentInfo(envelopedData) of `plaintext` to
    the RSA key whose SubjectPublicKeyInfo is `spki_der`."""
    public_key = serialization.load_der_public_key(spki_der)
    cert = _carrier_cert(public_key)
    with tempfile.TemporaryDirectory(prefix="kms-sim-cms-") as d:
        path = os.path.join(d, "recipient.pem")
        with open(path, "wb") as f:
            f.write(cert.public_bytes(serialization.Encoding.PEM))
        p = subprocess.run(
            ["openssl", "cms", "-encrypt", "-binary", "-stream",
             "-outform", "DER", "-aes-256-cbc", "-keyid", "-recip", path,
             "-keyopt", "rsa_padding_mode:oaep",
             "-keyopt", "rsa_oaep_md:sha256",
             "-keyopt", "rsa_mgf1_md:sha256"],
            input=plaintext, capture_output=True, timeout=20, check=False)
    if p.returncode != 0 or not p.stdout:
        raise RuntimeError("openssl cms -encrypt failed: %s"
                           % p.stderr.decode(errors="replace"))
    return p.stdout


# --- KMS's own layout ----------------------------------------------------------

KMS_CHUNK = 1000        # KMS cuts the encrypted content into 1000-byte pieces

OID_ENVELOPED = bytes.fromhex("06092a864886f70d010703")
OID_DATA = bytes.fromhex("06092a864886f70d010701")
# rsaesOaep { [0] sha256 NULL, [1] mgf1 { sha256 NULL } }, as KMS writes it
RSAES_OAEP_SHA256 = bytes.fromhex(
    "303c06092a864886f70d010107302fa00f300d060960864801650304020105"
    "00a11c301a06092a864886f70d010108300d06096086480165030402010500")
OID_AES256_CBC = bytes.fromhex("060960864801650304012a")


def _der(tag, content):
    """A definite-length TLV."""
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + length + content


def _indef(tag, content):
    """A constructed TLV of indefinite length (content, then 00 00)."""
    return bytes([tag, 0x80]) + content + b"\x00\x00"


def envelope_kms(plaintext, spki_der, chunk=KMS_CHUNK):
    """BER bytes of a CMS ContentInfo(envelopedData) of `plaintext` to the
    RSA key whose SubjectPublicKeyInfo is `spki_der`, laid out as KMS lays
    out CiphertextForRecipient."""
    if chunk < 1:
        raise ValueError("chunk must be at least 1")
    public_key = serialization.load_der_public_key(spki_der)
    cek, iv = os.urandom(32), os.urandom(16)
    padder = padding.PKCS7(128).padder()
    padded = padder.update(plaintext) + padder.finalize()
    enc = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    content = enc.update(padded) + enc.finalize()
    wrapped = public_key.encrypt(cek, asym_padding.OAEP(
        mgf=asym_padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(), label=None))
    ski = hashlib.sha256(spki_der).digest()
    ktri = _der(0x30, _der(0x02, b"\x02") + _der(0x80, ski) +
                RSAES_OAEP_SHA256 + _der(0x04, wrapped))
    pieces = b"".join(_der(0x04, content[i:i + chunk])
                      for i in range(0, len(content), chunk))
    eci = _indef(0x30, OID_DATA +
                 _der(0x30, OID_AES256_CBC + _der(0x04, iv)) +
                 _indef(0xa0, pieces))
    env = _indef(0x30, _der(0x02, b"\x02") + _der(0x31, ktri) + eci)
    return _indef(0x30, OID_ENVELOPED + _indef(0xa0, env))
