"""
sim_cms.py - CiphertextForRecipient for the KMS simulator (test-only):
CMS EnvelopedData to an RSA public key, as KMS makes it: one
KeyTransRecipientInfo by subjectKeyIdentifier, rsaesOaep with SHA-256 and
MGF1-SHA-256, aes-256-CBC content, BER with indefinite lengths.

python3-cryptography 38 cannot make EnvelopedData, so `openssl cms` does,
which needs a certificate for the recipient: a throwaway one carrying the
attested public key (its signature and names mean nothing).
"""

import datetime
import os
import subprocess
import tempfile

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
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
