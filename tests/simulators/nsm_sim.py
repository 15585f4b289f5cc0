#!/usr/bin/python3
"""
nsm_sim.py - a Nitro Secure Module simulator for tests (never in an image).

enclaved --nsm-device unix:PATH sends it exactly the CBOR request bytes it
would pass to /dev/nsm's raw ioctl, prefixed by a 4-byte big-endian length,
and reads back the response bytes framed the same way (one exchange per
connection). It answers

  {"Attestation": {"user_data", "nonce", "public_key"}}
      -> {"Attestation": {"document": COSE_Sign1}}   (ES384, test chain)
  "GetRandom"           -> {"GetRandom": {"random": 32 bytes}}
  {"DescribePCR": {"index": i}} -> {"DescribePCR": {"lock": true, "data": ...}}
  anything else         -> {"Error": "InvalidOperation"}

The signing chain (root -> intermediate -> leaf, P-384) is made at start;
the root is written to OUT_DIR/root.pem for verifiers (enclavectl attest
--verify --root, the KMS simulator's --attestation-root). PCR0 (the image
hash) is --pcr0; other PCRs are zero unless --pcr N=HEX. With --root-dir
DIR several simulators (several enclaves) chain to one root kept in DIR.

  nsm_sim.py --socket /tmp/x/nsm.sock --out-dir /tmp/x --pcr0 HEX

It prints "ready" on stdout once listening. Every request is appended to
OUT_DIR/nsm-requests.jsonl (operation, field sizes) for tests to inspect.
"""

import argparse
import json
import os
import socketserver
import struct
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cbor2  # noqa: E402

from sim_cose import build_document  # noqa: E402
from sim_pki import NitroChain  # noqa: E402

REQUEST_MAX = 0x1000
FIELD_MAX = 1024


def shared_chain(root_dir):
    """A chain under the root kept in ROOT_DIR (root.pem, root-key.pem),
    made there by the first simulator: several enclaves, one Nitro root."""
    key_path = os.path.join(root_dir, "root-key.pem")
    cert_path = os.path.join(root_dir, "root.pem")
    if os.path.exists(key_path):
        with open(key_path, "rb") as k, open(cert_path, "rb") as c:
            return NitroChain(root_key=k.read(), root=c.read())
    chain = NitroChain()
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(chain.root_key_pem())
    with open(cert_path, "wb") as f:
        f.write(chain.root_pem())
    return chain


class State:
    def __init__(self, args):
        self.chain = shared_chain(args.root_dir) if args.root_dir else NitroChain()
        self.pcrs = {i: bytes(48) for i in range(16)}
        self.pcrs[0] = bytes.fromhex(args.pcr0)
        for spec in args.pcr:
            i, _, h = spec.partition("=")
            self.pcrs[int(i)] = bytes.fromhex(h)
        self.module_id = args.module_id
        self.log_path = os.path.join(args.out_dir, "nsm-requests.jsonl")
        self.lock = threading.Lock()

    def log(self, entry):
        with self.lock, open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")


def _opt_bytes(fields, name):
    v = fields.get(name)
    if v is None:
        return None
    if not isinstance(v, bytes) or len(v) > FIELD_MAX:
        raise ValueError(name)
    return v


def answer(state, req):
    if req == "GetRandom":
        state.log({"op": "GetRandom"})
        return {"GetRandom": {"random": os.urandom(32)}}
    if isinstance(req, dict) and len(req) == 1:
        (op, fields), = req.items()
        if op == "Attestation" and isinstance(fields, dict):
            try:
                ud = _opt_bytes(fields, "user_data")
                nonce = _opt_bytes(fields, "nonce")
                pk = _opt_bytes(fields, "public_key")
            except ValueError:
                state.log({"op": "Attestation", "error": "InvalidArgument"})
                return {"Error": "InvalidArgument"}
            state.log({"op": "Attestation",
                       "user_data": None if ud is None else len(ud),
                       "nonce": None if nonce is None else nonce.hex(),
                       "public_key": None if pk is None else len(pk)})
            doc = build_document(state.chain, state.pcrs, state.module_id,
                                 public_key=pk, user_data=ud, nonce=nonce)
            return {"Attestation": {"document": doc}}
        if op == "DescribePCR" and isinstance(fields, dict):
            i = fields.get("index")
            if not isinstance(i, int) or i not in state.pcrs:
                return {"Error": "InvalidIndex"}
            return {"DescribePCR": {"lock": True, "data": state.pcrs[i]}}
    state.log({"op": repr(req)[:80], "error": "InvalidOperation"})
    return {"Error": "InvalidOperation"}


class Handler(socketserver.BaseRequestHandler):
    def _recv_exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def handle(self):
        self.request.settimeout(10)
        try:
            (n,) = struct.unpack(">I", self._recv_exact(4))
            if n == 0 or n > REQUEST_MAX:
                resp = {"Error": "InputTooLarge"}
            else:
                try:
                    req = cbor2.loads(self._recv_exact(n))
                except (cbor2.CBORDecodeError, ValueError):
                    req = None
                resp = answer(self.server.state, req)
            body = cbor2.dumps(resp)
            self.request.sendall(struct.pack(">I", len(body)) + body)
        except (EOFError, OSError):
            pass


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--out-dir", required=True)
    p.add_argument("--pcr0", default="ab" * 48,
                   help="PCR0, 96 hex characters (default abab...)")
    p.add_argument("--pcr", action="append", default=[], metavar="N=HEX")
    p.add_argument("--module-id", default="i-0simulated0000000-enc0sim0000000")
    p.add_argument("--root-dir", metavar="DIR",
                   help="share the Nitro root with other simulators: its "
                        "key and certificate in DIR, made by the first")
    args = p.parse_args()
    if len(bytes.fromhex(args.pcr0)) != 48:
        p.error("--pcr0 must be 48 bytes of hex")
    state = State(args)
    with open(os.path.join(args.out_dir, "root.pem"), "wb") as f:
        f.write(state.chain.root_pem())
    try:
        os.unlink(args.socket)
    except FileNotFoundError:
        pass
    srv = Server(args.socket, Handler)
    srv.state = state
    print("ready", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
