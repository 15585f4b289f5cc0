"""
data_owner.py - sealing inputs for the enclave and opening its results, as
the data owner does it (the orchestrator never holds the key), and granting
a re-encryption to another key.

Needs Python's `cryptography`: on Debian and Ubuntu `apt-get install
python3-cryptography`; elsewhere `pip install cryptography`.

The layout is hex of nonce(12) || AES-256-GCM ciphertext || tag(16) under
the TSK, the data owner's key (docs/protocol.md, "process"). With
`bind_direction=True`, for a daemon run with `enclaved --bind-direction`,
the associated data carries the direction in front of the aad: an input
is sealed under b"request\\0" + aad and a result opens under
b"result\\0" + aad, so a result handed back as an input (or an input
handed back as a result) fails to authenticate (docs/security.md).

    key = load_key("tsk.key")   # base64, as every documented way gives it
                                # (aws kms generate-data-key's Plaintext,
                                # kmstool-dev genkey), or 64 hex digits
    ct = seal_request(key, b'{"task": 1}', aad="tenant-7/workflow-42/step-1",
                      bind_direction=True)
    # ... POST {"ciphertext": ct, "aad": "tenant-7/workflow-42/step-1"} to
    # the gateway; the aad travels as it is, without the label ...
    plaintext = open_result(key, result_hex, aad="tenant-7/workflow-42/step-1",
                            bind_direction=True)

Rotation to a new key: the enclave seals a result under another key only
with a grant that the holders of both keys made (docs/protocol.md,
"process"); the owner of both makes it whole:

    g = accept(new_key, release(old_key, commitment(new_key), valid_for=3600))
    # ... POST {"ciphertext": ct, "key_id": "v1", "result_key_id": "v2",
    #           "grant": g} ...

Between two parties, the downstream one sends `commitment(their_key)`, the
upstream one sends back `release(...)`, and the downstream one completes
it with `accept(their_key, released)`.
"""

import base64
import binascii
import hashlib
import hmac
import os
import string
import struct
import time

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REQUEST_LABEL = b"request\0"
COMMITMENT_LABEL = b"confidential-enclave key commitment v1"
RELEASE_LABEL = b"confidential-enclave grant release key v1"
ACCEPT_LABEL = b"confidential-enclave grant accept key v1"


def load_key(path):
    """The 32-byte key in a text file: base64 (with padding) or 64 hex
    digits, whitespace around it ignored. Anything else is refused."""
    text = open(path, "rb").read().strip()
    if len(text) == 64 and all(c in string.hexdigits.encode() for c in text):
        return bytes.fromhex(text.decode())
    try:
        key = base64.b64decode(text, validate=True)
    except binascii.Error:
        key = b""
    if len(key) != 32:
        raise ValueError("%s: not a 32-byte key as base64 or 64 hex digits"
                         % path)
    return key
RESULT_LABEL = b"result\0"


def _aad(label, aad, bind_direction):
    """The associated data AES-GCM authenticates: the aad's UTF-8 bytes, with
    the direction's label in front when the direction is bound."""
    data = aad.encode("utf-8") if isinstance(aad, str) else (aad or b"")
    if not bind_direction:
        return data or None
    return label + data


def seal_request(key, plaintext, aad="", bind_direction=False):
    """The hex `process` takes as its ciphertext."""
    nonce = os.urandom(12)
    return (nonce + AESGCM(key).encrypt(
        nonce, plaintext, _aad(REQUEST_LABEL, aad, bind_direction))).hex()


def open_result(key, result_hex, aad="", bind_direction=False):
    """The plaintext of `process`'s result; raises
    cryptography.exceptions.InvalidTag when it is not authentic (wrong key,
    wrong aad, tampered, or, with bind_direction, not a result)."""
    raw = bytes.fromhex(result_hex)
    return AESGCM(key).decrypt(raw[:12], raw[12:],
                               _aad(RESULT_LABEL, aad, bind_direction))


def commitment(key):
    """A key's public name: lets its holder be named in a grant without
    handing the key over."""
    return hmac.new(key, COMMITMENT_LABEL, hashlib.sha256).digest()


def _tag(key, label, body):
    side_key = hmac.new(key, label, hashlib.sha256).digest()
    return hmac.new(side_key, body, hashlib.sha256).digest()


def release(input_key, result_commitment, valid_for=3600):
    """hex of a grant, released by the holder of input_key, letting the
    enclave seal results of data under it with the key whose commitment is
    given, for valid_for seconds (the enclave's clock decides); its accept
    tag is zero until the result key's holder accept()s it."""
    body = (b"\x01" + struct.pack(">Q", int(time.time()) + valid_for) +
            commitment(input_key) + result_commitment)
    return (body + _tag(input_key, RELEASE_LABEL, body) + bytes(32)).hex()


def accept(result_key, released_hex):
    """The complete grant: the result key's holder accepts a release that
    names its key (ValueError when it names another)."""
    raw = bytes.fromhex(released_hex)
    body = raw[:73]
    if not hmac.compare_digest(body[41:73], commitment(result_key)):
        raise ValueError("the grant names another result key")
    return (body + raw[73:105] + _tag(result_key, ACCEPT_LABEL, body)).hex()
