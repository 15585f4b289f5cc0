"""
The public vectors in tests/vectors are other people's files, copied byte for
byte: every file tests/vectors/SHA256SUMS lists is there with that digest,
and the list covers each source the tests read (Wycheproof, the SigV4 suite,
the attestation document and root, the KMS CMS replies). Reads the repository's own copy, not
$VECTORS: this checks the checkout, not whatever a run points at.
"""

import hashlib
import os

HERE = os.path.dirname(os.path.abspath(__file__))
VECTORS = os.path.normpath(os.path.join(HERE, "..", "vectors"))


def listed():
    with open(os.path.join(VECTORS, "SHA256SUMS"), encoding="ascii") as f:
        for line in f:
            digest, name = line.rstrip("\n").split(None, 1)
            yield digest, os.path.normpath(name.lstrip("*"))


def test_every_listed_vector_has_its_digest():
    bad = []
    for digest, name in listed():
        with open(os.path.join(VECTORS, name), "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != digest:
                bad.append(name)
    assert not bad, "vectors changed (never edit one; add a new file): %s" % bad


def test_the_list_covers_what_the_tests_read():
    names = {name for _, name in listed()}
    for need in ("wycheproof/aes_gcm_test.json",
                 "attestation/valid-attestation-doc.b64",
                 "attestation/aws-nitro-root-g1.pem",
                 "sigv4/get-vanilla/context.json",
                 "sigv4/get-vanilla-with-session-token/header-signature.txt",
                 "cms/kms_ciphertext_for_recipient_1.ber",
                 "cms/kms_ciphertext_for_recipient_2.ber",
                 "cms/kms_ciphertext_for_recipient_3.ber"):
        assert need in names, need
    assert sum(1 for n in names if n.startswith("sigv4/")) == 9 * 10


def test_every_source_carries_its_license_and_readme():
    for source in ("wycheproof", "sigv4", "attestation", "cms"):
        for f in ("LICENSE", "README.md"):
            assert os.path.getsize(os.path.join(VECTORS, source, f)) > 0, (source, f)
