#!/usr/bin/python3
"""The original design's enclave server, reimplemented for the benchmark.

What the original does, and nothing cleverer: one thread; accept a
connection; read until the bytes received parse as JSON; decode the hex,
AES-256-GCM decrypt with `cryptography`'s AESGCM, run the (echo) step,
encrypt under a fresh random nonce, answer with JSON and close. One request
per connection.

It is as fast as that design honestly allows: the bytes go into a growing
bytearray (amortised appends, no quadratic re-concatenation) and a parse is
only attempted once the bytes received end in `}`, so a 32 MiB hex string
is parsed once rather than once per recv.

No KMS: the key is given as a file (base64, as kmstool-dev prints the
PLAINTEXT, or 64 hex digits), which stands for a completed configure.

    server.py --listen 127.0.0.1:PORT --key-file KEY
"""
import argparse
import base64
import binascii
import json
import os
import socket
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

RECV_SIZE = 16384  # the original design's 16 KB read


def load_key(path):
    text = open(path, "rb").read().strip()
    if len(text) == 64:
        try:
            return bytes.fromhex(text.decode())
        except ValueError:
            pass
    key = base64.b64decode(text, validate=True)
    if len(key) != 32:
        sys.exit("baseline: the key must be 32 bytes")
    return key


def read_request(conn):
    """Read until the bytes parse as JSON; None if the peer went away."""
    buf = bytearray()
    while True:
        chunk = conn.recv(RECV_SIZE)
        if not chunk:
            return None
        buf += chunk
        # Look at the tail only: stripping the whole buffer would copy it
        # on every recv and make a 32 MiB request quadratic.
        if buf[-16:].rstrip().endswith(b"}"):
            try:
                return json.loads(buf)
            except ValueError:
                continue


def error(msg, details):
    return {"status": "error", "msg": msg, "details": details}


def process(aesgcm, req):
    hex_ct = req.get("ciphertext")
    if not hex_ct:
        return error("missing_fields", "missing fields: ciphertext")
    try:
        data = bytes.fromhex(hex_ct)
    except ValueError:
        return error("invalid_hex", "ciphertext is not hex")
    if len(data) < 28:
        return error("invalid_ciphertext", "ciphertext too short")
    aad = req.get("aad")
    aad = aad.encode() if aad else None
    try:
        plaintext = aesgcm.decrypt(data[:12], data[12:], aad)
    except Exception:
        return error("decrypt_failed", "authentication failed")
    result = plaintext  # the echo step
    nonce = os.urandom(12)
    sealed = nonce + aesgcm.encrypt(nonce, result, aad)
    return {"status": "ok", "result": sealed.hex()}


def handle(aesgcm, conn):
    req = read_request(conn)
    if req is None:
        return
    if not isinstance(req, dict):
        resp = error("invalid_json", "not a JSON object")
    elif req.get("type") == "process":
        resp = process(aesgcm, req)
    elif req.get("type") == "ping":
        resp = {"status": "ok", "msg": "pong"}
    else:
        resp = error("unknown_type", "unknown request type")
    conn.sendall(json.dumps(resp).encode())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", required=True, help="HOST:PORT")
    ap.add_argument("--key-file", required=True)
    args = ap.parse_args()
    host, port = args.listen.rsplit(":", 1)
    aesgcm = AESGCM(load_key(args.key_file))

    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # As enclaved does on loopback (docs/bench.md): the bench's TCP stands
    # in for vsock, and BBR's pacing would only add timer waits.
    srv.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"reno")
    srv.bind((host, int(port)))
    srv.listen(128)
    print("baseline listening on %s" % args.listen, flush=True)
    while True:
        conn, _ = srv.accept()
        try:
            handle(aesgcm, conn)
        except (OSError, binascii.Error) as e:
            print("baseline: %s" % e, file=sys.stderr)
        finally:
            conn.close()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
