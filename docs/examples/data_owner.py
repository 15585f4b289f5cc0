"""
data_owner.py - sealing inputs for the enclave and opening its results, as
the data owner does it (the orchestrator never holds the key).

    pip install cryptography

The layout is hex of nonce(12) || AES-256-GCM ciphertext || tag(16) under
the TSK, the data owner's key (docs/protocol.md, "process"). With
`bind_direction=True`, for a daemon run with `enclaved --bind-direction`,
the associated data carries the direction in front of the aad: an input
is sealed under b"request\\0" + aad and a result opens under
b"result\\0" + aad, so a result handed back as an input (or an input
handed back as a result) fails to authenticate (docs/security.md).

    key = bytes.fromhex(open("tsk.hex").read().strip())
    ct = seal_request(key, b'{"task": 1}', aad="tenant-7/workflow-42/step-1",
                      bind_direction=True)
    # ... POST {"ciphertext": ct, "aad": "tenant-7/workflow-42/step-1"} to
    # the gateway; the aad travels as it is, without the label ...
    plaintext = open_result(key, result_hex, aad="tenant-7/workflow-42/step-1",
                            bind_direction=True)
"""

import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

REQUEST_LABEL = b"request\0"
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
