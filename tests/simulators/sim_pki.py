"""
sim_pki.py - test certificates for the simulators (test-only, never in
an image): an ECDSA P-384 chain root -> intermediate -> leaf shaped like
the AWS Nitro PKI (for the NSM simulator), and a TLS server certificate
for kms.<region>.amazonaws.com signed by a test CA (for the KMS simulator).
"""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def _name(cn, ou="AWS"):
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Amazon"),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou),
        x509.NameAttribute(NameOID.COMMON_NAME, cn),
    ])


def _now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def make_cert(subject, issuer, public_key, signing_key, not_before, not_after,
              ca, path_len=None, san=None, server=False):
    """One X.509 v3 certificate with the extensions a verifier insists on."""
    b = (x509.CertificateBuilder()
         .subject_name(subject).issuer_name(issuer)
         .public_key(public_key)
         .serial_number(x509.random_serial_number())
         .not_valid_before(not_before).not_valid_after(not_after)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=path_len),
                        critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key),
                        critical=False))
    if ca:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
    else:
        b = b.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False,
            key_encipherment=server, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
    if san:
        b = b.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName(n) for n in san]), critical=False)
    if server:
        b = b.add_extension(x509.ExtendedKeyUsage(
            [x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    if signing_key is not None and issuer != subject:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
            signing_key.public_key()), critical=False)
    return b.sign(signing_key, hashes.SHA384())


class NitroChain:
    """root -> intermediate -> leaf, all P-384, like the Nitro PKI. The
    leaf lives a few hours, as real ones do."""

    def __init__(self, leaf_hours=3, root_key=None, root=None):
        """root_key and root (PEM bytes): an existing root, so that several
        simulated enclaves chain to one root as all Nitro enclaves do."""
        now = _now()
        if root_key is not None:
            self.root_key = serialization.load_pem_private_key(root_key, None)
            self.root = x509.load_pem_x509_certificate(root)
        else:
            self.root_key = ec.generate_private_key(ec.SECP384R1())
            self.root = make_cert(_name("aws.nitro-enclaves.test-root"),
                                  _name("aws.nitro-enclaves.test-root"),
                                  self.root_key.public_key(), self.root_key,
                                  now - datetime.timedelta(days=1),
                                  now + datetime.timedelta(days=30), ca=True)
        self.inter_key = ec.generate_private_key(ec.SECP384R1())
        self.inter = make_cert(_name("test-zone.aws.nitro-enclaves"),
                               self.root.subject, self.inter_key.public_key(),
                               self.root_key,
                               now - datetime.timedelta(days=1),
                               now + datetime.timedelta(days=10), ca=True,
                               path_len=0)
        self.leaf_key = ec.generate_private_key(ec.SECP384R1())
        self.leaf = make_cert(_name("i-0sim.enc0sim.test.aws", ou="AWS"),
                              self.inter.subject, self.leaf_key.public_key(),
                              self.inter_key,
                              now - datetime.timedelta(minutes=5),
                              now + datetime.timedelta(hours=leaf_hours),
                              ca=False)

    def der(self, cert):
        return cert.public_bytes(serialization.Encoding.DER)

    def root_pem(self):
        return self.root.public_bytes(serialization.Encoding.PEM)

    def root_key_pem(self):
        return self.root_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption())


class TlsServerPki:
    """A test CA and a server certificate for `hostnames`."""

    def __init__(self, hostnames):
        now = _now()
        self.ca_key = ec.generate_private_key(ec.SECP384R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                "confidential-enclave test CA")])
        self.ca = make_cert(ca_name, ca_name, self.ca_key.public_key(),
                            self.ca_key, now - datetime.timedelta(days=1),
                            now + datetime.timedelta(days=30), ca=True)
        self.key = ec.generate_private_key(ec.SECP384R1())
        self.cert = make_cert(
            x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]),
            ca_name, self.key.public_key(), self.ca_key,
            now - datetime.timedelta(days=1), now + datetime.timedelta(days=30),
            ca=False, san=hostnames, server=True)

    def write(self, directory):
        """ca.pem, server.pem (certificate) and server.key; returns paths."""
        import os
        paths = {n: os.path.join(directory, n)
                 for n in ("ca.pem", "server.pem", "server.key")}
        with open(paths["ca.pem"], "wb") as f:
            f.write(self.ca.public_bytes(serialization.Encoding.PEM))
        with open(paths["server.pem"], "wb") as f:
            f.write(self.cert.public_bytes(serialization.Encoding.PEM))
        with open(paths["server.key"], "wb") as f:
            f.write(self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()))
        os.chmod(paths["server.key"], 0o600)
        return paths
