#!/usr/bin/python3
"""
kms_sim.py - an AWS KMS simulator for tests (never in an image).

An HTTPS server speaking the KMS JSON API (TrentService.Decrypt and
TrentService.GenerateDataKey) the way enclaved --kms native needs it:

  * TLS with a certificate for kms.<region>.amazonaws.com from a test CA
    made at start (OUT_DIR/ca.pem: give it to enclaved --kms-ca-file);
  * SigV4 checked against its known credentials (sim_sigv4.py);
  * a Recipient's attestation document verified against --attestation-root
    (the NSM simulator's root.pem) with sim_cose.py;
  * a key policy (KMS's JSON shape; Principal {"AWS": access key id, the
    credentials' role ARN, or "*"}, Action or NotAction, Condition with
    String[Not]Equals[IgnoreCase] on kms:RecipientAttestation:ImageSha384 /
    :PCR0..PCR31) enforced, Deny before Allow, nothing allowed unless a
    statement allows it; read again for every request;
  * CiphertextForRecipient as CMS EnvelopedData to the attested public key
    (sim_cms.py), never Plaintext when a Recipient was given: by default
    `openssl cms` streamed BER; with --cms-form kms the exact layout of real
    KMS replies (tests/vectors/cms/), the content in --cms-chunk-byte
    pieces (default 1000, as KMS cuts them);
  * errors as KMS sends them: HTTP 400 {"__type": ..., "message": ...};
  * a Decrypt's KeyId (logged as key_id) must name the key that made the
    blob, by bare id or exactly its ARN (IncorrectKeyException, HTTP 400,
    as KMS); --answer-key-id ARN makes every Decrypt answer name ARN;
  * a request signed more than 5 minutes from the simulator's clock is
    refused as KMS refuses it (InvalidSignatureException, "Signature
    expired: ..." or "Signature not yet current: ..."), and every answer
    carries a Date header from that clock; --clock-skew SECONDS runs the
    clock ahead (positive) or behind (negative) the real one;
  * faults on demand, each for the first N requests, in this order:
    --throttle N (400 ThrottlingException), --fail-5xx N (500
    KMSInternalException), --reset N (part of a response, then a TCP
    reset), --eof N (part of a response, then the connection closed),
    --far-date N (a clock-skew refusal, InvalidSignatureException
    "Signature expired", dated FAR_DATE, the year 9999);
    --answer-delay SECONDS waits before every answer.

Ciphertext blobs are this simulator's own: 0x01 | len(key id) | key id |
nonce(12) | AES-256-GCM(master key of that id, plaintext, aad = key id
followed by the encryption context's encoding, see context_aad()).
Like KMS, an EncryptionContext given when the blob was made must be given
again, exactly, to Decrypt; a policy condition may name
kms:EncryptionContext:KEY. make_blob() (or `kms_sim.py blob
[--context K=V]...`) makes one offline for a test.

  kms_sim.py --out-dir DIR --region ap-southeast-1 \\
      --credentials creds.json --policy policy.json \\
      --attestation-root root.pem --key ID=HEX64 [--listen 127.0.0.1:0]

creds.json: [{"access_key_id": ..., "secret_access_key": ...,
              "session_token": ... (optional), "arn": the role ARN these
              credentials belong to (optional: a policy's Principal may
              name it, as KMS policies name the parent's role)}]
The policy file is read again for every request (the administrator's
PutKeyPolicy); String[Not]Equals[IgnoreCase], Action and NotAction with
wildcards, Deny before Allow; an account root principal matches nobody
(it defers to IAM policies, and there are none here).
It writes OUT_DIR/ca.pem and OUT_DIR/port, then prints "ready PORT".
Each request is logged to OUT_DIR/kms-requests.jsonl (operation, key
principal, whether a Recipient came, outcome, an error's message, the
real time it came), never a secret.
"""

import argparse
import base64
import fnmatch
import binascii
import datetime
import email.utils
import http.server
import json
import os
import socket
import socketserver
import ssl
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # noqa: E402

import sim_cms  # noqa: E402
import sim_cose  # noqa: E402
import sim_sigv4  # noqa: E402
from sim_pki import TlsServerPki  # noqa: E402

BODY_MAX = 256 * 1024
ACCOUNT = "111122223333"
#: The Date of a --far-date answer: the latest an HTTP date can say.
FAR_DATE = "Fri, 31 Dec 9999 23:59:59 GMT"


class KmsError(Exception):
    def __init__(self, kind, message, status=400):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


# --- blobs -----------------------------------------------------------------

def context_aad(context):
    """The pairs sorted by key, each as u16 length + UTF-8 bytes, key then
    value; nothing for no context (so old blobs open as before)."""
    out = b""
    for k in sorted((context or {}).keys()):
        for part in (k, context[k]):
            b = part.encode("utf-8")
            out += len(b).to_bytes(2, "big") + b
    return out


def make_blob(master_key, key_id, plaintext, context=None):
    kid = key_id.encode()
    nonce = os.urandom(12)
    return (bytes([1, len(kid)]) + kid + nonce
            + AESGCM(master_key).encrypt(nonce, plaintext,
                                         kid + context_aad(context)))


def open_blob(keys, blob, context=None):
    if len(blob) < 2 or blob[0] != 1 or len(blob) < 2 + blob[1] + 12 + 16:
        raise KmsError("InvalidCiphertextException", "")
    kid = blob[2:2 + blob[1]]
    key_id = kid.decode(errors="replace")
    if key_id not in keys:
        raise KmsError("InvalidCiphertextException", "")
    rest = blob[2 + blob[1]:]
    try:
        return key_id, AESGCM(keys[key_id]).decrypt(
            rest[:12], rest[12:], kid + context_aad(context))
    except Exception:
        raise KmsError("InvalidCiphertextException", "")


# --- policy ----------------------------------------------------------------

def _as_list(v):
    return v if isinstance(v, list) else [v]


def condition_value(key, attested, context=None):
    """The request's value for a condition key, or None when it has none
    (no Recipient, or a key this simulator does not know)."""
    k = key.lower()
    ec_prefix = "kms:encryptioncontext:"
    if k.startswith(ec_prefix):
        # KMS: the key name after the prefix is matched case-insensitively.
        for name, value in (context or {}).items():
            if name.lower() == k[len(ec_prefix):]:
                return value
        return None
    if attested is None:
        return None
    prefix = "kms:recipientattestation:"
    if not k.startswith(prefix):
        return None
    name = k[len(prefix):]
    pcrs = attested["pcrs"]
    if name == "imagesha384":
        return pcrs[0].hex() if 0 in pcrs else None
    if name.startswith("pcr") and name[3:].isdigit():
        i = int(name[3:])
        return pcrs[i].hex() if i in pcrs else None
    return None     # a bare kms:RecipientAttestation never matches


def conditions_hold(cond, attested, context=None):
    """Every condition holds (IAM ANDs operators and keys, ORs a key's
    values). The negated operators hold when the request has no value for
    the key, as in IAM: a Deny on String*Not*Equals catches a Decrypt
    without a Recipient."""
    for op, pairs in (cond or {}).items():
        for key, want in pairs.items():
            have = condition_value(key, attested, context)
            wants = [str(w) for w in _as_list(want)]
            if op == "StringEqualsIgnoreCase":
                ok = have is not None and have.lower() in [w.lower() for w in wants]
            elif op == "StringEquals":
                ok = have is not None and have in wants
            elif op == "StringNotEqualsIgnoreCase":
                ok = have is None or have.lower() not in [w.lower() for w in wants]
            elif op == "StringNotEquals":
                ok = have is None or have not in wants
            else:
                return False
            if not ok:
                return False
    return True


def _action_in(action, patterns):
    return any(fnmatch.fnmatchcase(action.lower(), p.lower())
               for p in _as_list(patterns))


def statement_matches(st, principal, action, attested, context=None):
    """Principal {"AWS": ...} names the caller by access key id or by the
    role ARN its credentials belong to (creds.json "arn"); an account's
    root defers to IAM policies, which this simulator has none of, so it
    matches no caller. Action and NotAction take KMS's wildcards."""
    p = st.get("Principal", "*")
    aws = p.get("AWS", "*") if isinstance(p, dict) else p
    if "*" not in _as_list(aws) and not set(principal) & set(_as_list(aws)):
        return False
    if "NotAction" in st:
        if _action_in(action, st["NotAction"]):
            return False
    elif not _action_in(action, st.get("Action", [])):
        return False
    return conditions_hold(st.get("Condition"), attested, context)


def authorize(policy, principal, action, key_arn, attested, context=None):
    """`principal`: the caller's access key id, or the names it goes by
    (the access key id and its role ARN)."""
    names = [principal] if isinstance(principal, str) else list(principal)
    sts = _as_list(policy.get("Statement", []))
    if any(st.get("Effect") == "Deny" and
           statement_matches(st, names, action, attested, context)
           for st in sts):
        why = "with an explicit deny in a resource-based policy"
    elif any(st.get("Effect") == "Allow" and
             statement_matches(st, names, action, attested, context)
             for st in sts):
        return
    else:
        why = "because no resource-based policy allows the %s action" % action
    raise KmsError("AccessDeniedException",
                   "User: arn:aws:iam::%s:user/%s is not authorized to perform: "
                   "%s on resource: %s %s" % (ACCOUNT, names[0], action,
                                             key_arn, why))


# --- the server --------------------------------------------------------------

class Sim:
    def __init__(self, args):
        self.region = args.region
        self.host = "kms.%s.amazonaws.com%s" % (
            args.region, ".cn" if args.region.startswith("cn-") else "")
        with open(args.credentials) as f:
            self.creds = {c["access_key_id"]: c for c in json.load(f)}
        self.policy_path = args.policy
        self.policy()       # a policy that does not parse stops the start
        with open(args.attestation_root, "rb") as f:
            self.root_pem = f.read()
        self.keys = {}
        for spec in args.key:
            kid, _, h = spec.partition("=")
            self.keys[kid] = bytes.fromhex(h)
        self.cms_form = args.cms_form
        self.cms_chunk = args.cms_chunk
        self.log_path = os.path.join(args.out_dir, "kms-requests.jsonl")
        self.lock = threading.Lock()
        self.skew = args.clock_skew
        self.answer_delay = args.answer_delay
        self.answer_key_id = args.answer_key_id
        # Faults still to inject, consumed in this order.
        self.faults = [["throttle", args.throttle], ["5xx", args.fail_5xx],
                       ["reset", args.reset], ["eof", args.eof],
                       ["far-date", args.far_date]]

    def policy(self):
        """The key policy, read for every request: a test that rewrites
        the file is the administrator's PutKeyPolicy, effective for the
        next request (KMS applies a new policy within seconds)."""
        with open(self.policy_path) as f:
            return json.load(f)

    def names(self, principal):
        """The names a caller goes by in a policy: its access key id, and
        the role ARN its credentials belong to (creds.json "arn")."""
        arn = self.creds.get(principal, {}).get("arn")
        return [principal] + ([arn] if arn else [])

    def now(self):
        """The simulator's clock: the real one moved by --clock-skew."""
        return time.time() + self.skew

    def next_fault(self):
        with self.lock:
            for f in self.faults:
                if f[1] > 0:
                    f[1] -= 1
                    return f[0]
        return None

    def arn(self, key_id):
        return "arn:aws:kms:%s:%s:key/%s" % (self.region, ACCOUNT, key_id)

    def key_id_of(self, ref):
        """The key a KeyId names: its bare id, or exactly its ARN (in this
        Region and account; another ARN is another key, as in KMS)."""
        if ref in self.keys:
            return ref
        if isinstance(ref, str) and ref.startswith("arn:") \
                and ref.split("key/")[-1] in self.keys \
                and ref == self.arn(ref.split("key/")[-1]):
            return ref.split("key/")[-1]
        raise KmsError("NotFoundException", "Key '%s' does not exist" % ref)

    def envelope(self, plaintext, public_key):
        """CiphertextForRecipient (base64) in the chosen --cms-form."""
        if self.cms_form == "kms":
            cms = sim_cms.envelope_kms(plaintext, public_key, self.cms_chunk)
        else:
            cms = sim_cms.envelope(plaintext, public_key)
        return base64.b64encode(cms).decode()

    def log(self, entry):
        with self.lock, open(self.log_path, "a") as f:
            f.write(json.dumps(entry) + "\n")

    def recipient(self, body, entry):
        """(attested payload, public key DER) or (None, None); the attested
        PCR0 goes into the request's log entry."""
        r = body.get("Recipient")
        if r is None:
            return None, None
        if not isinstance(r, dict) or \
                r.get("KeyEncryptionAlgorithm") != "RSAES_OAEP_SHA_256":
            raise KmsError("ValidationException",
                           "Recipient.KeyEncryptionAlgorithm must be "
                           "RSAES_OAEP_SHA_256")
        try:
            doc = base64.b64decode(r.get("AttestationDocument", ""),
                                   validate=True)
        except (binascii.Error, TypeError):
            raise KmsError("ValidationException",
                           "Recipient.AttestationDocument is not base64")
        try:
            payload = sim_cose.verify_document(doc, self.root_pem)
        except Exception as e:
            raise KmsError("ValidationException",
                           "The attestation document is not valid: %s" % e)
        entry["pcr0"] = payload["pcrs"][0].hex()
        if not payload.get("public_key"):
            raise KmsError("ValidationException",
                           "The attestation document has no public key")
        return payload, payload["public_key"]

    def b64_field(self, body, name):
        try:
            return base64.b64decode(body[name], validate=True)
        except (KeyError, binascii.Error, TypeError):
            raise KmsError("ValidationException",
                           "1 validation error detected: Value at '%s' "
                           "failed to satisfy constraint" % name[0].lower()
                           + name[1:])

    def encryption_context(self, body, entry):
        """The request's EncryptionContext: an object of strings, or None."""
        ec = body.get("EncryptionContext")
        if ec is None:
            return None
        if not isinstance(ec, dict) or not all(
                isinstance(k, str) and isinstance(v, str) and k
                for k, v in ec.items()):
            raise KmsError("ValidationException",
                           "EncryptionContext must be a map of strings")
        entry["encryption_context"] = sorted(ec.keys())
        return ec

    def decrypt(self, principal, body, entry):
        blob = self.b64_field(body, "CiphertextBlob")
        context = self.encryption_context(body, entry)
        if "KeyId" in body:
            entry["key_id"] = body["KeyId"]
        key_id, plaintext = open_blob(self.keys, blob, context)
        if "KeyId" in body and self.key_id_of(body["KeyId"]) != key_id:
            raise KmsError("IncorrectKeyException",
                           "The key ID in the request does not identify a "
                           "CMK that can perform this operation.")
        if body.get("EncryptionAlgorithm", "SYMMETRIC_DEFAULT") != \
                "SYMMETRIC_DEFAULT":
            raise KmsError("InvalidCiphertextException", "")
        attested, pk = self.recipient(body, entry)
        authorize(self.policy(), self.names(principal), "kms:Decrypt", self.arn(key_id),
                  attested, context)
        out = {"KeyId": self.answer_key_id or self.arn(key_id),
               "EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
        if pk is not None:
            out["CiphertextForRecipient"] = self.envelope(plaintext, pk)
        else:
            out["Plaintext"] = base64.b64encode(plaintext).decode()
        return out, attested

    def generate_data_key(self, principal, body, entry):
        key_id = self.key_id_of(body.get("KeyId"))
        spec, nbytes = body.get("KeySpec"), body.get("NumberOfBytes")
        if spec is not None and nbytes is not None:
            raise KmsError("ValidationException",
                           "KeySpec and NumberOfBytes are mutually exclusive")
        if nbytes is None:
            nbytes = {"AES_256": 32, "AES_128": 16}.get(spec or "")
        if not isinstance(nbytes, int) or not 1 <= nbytes <= 1024:
            raise KmsError("ValidationException",
                           "KeySpec or NumberOfBytes is required")
        context = self.encryption_context(body, entry)
        attested, pk = self.recipient(body, entry)
        authorize(self.policy(), self.names(principal), "kms:GenerateDataKey",
                  self.arn(key_id), attested, context)
        plaintext = os.urandom(nbytes)
        out = {"KeyId": self.arn(key_id),
               "CiphertextBlob": base64.b64encode(
                   make_blob(self.keys[key_id], key_id, plaintext,
                             context)).decode()}
        if pk is not None:
            out["CiphertextForRecipient"] = self.envelope(plaintext, pk)
        else:
            out["Plaintext"] = base64.b64encode(plaintext).decode()
        return out, attested

    def handle(self, headers, body_bytes):
        """(status, JSON dict) for one request."""
        entry = {"op": None, "principal": None, "recipient": False,
                 "time": time.time()}
        try:
            host = [v for n, v in headers if n.lower() == "host"]
            if host != [self.host]:
                raise KmsError("InvalidSignatureException",
                               "Host header is not %s" % self.host)
            principal = sim_sigv4.verify(
                "POST", "/", headers, body_bytes, self.creds, self.region,
                now=datetime.datetime.fromtimestamp(self.now(),
                                                    datetime.timezone.utc))
            entry["principal"] = principal
            target = dict((n.lower(), v) for n, v in headers).get(
                "x-amz-target", "")
            entry["op"] = target
            ctype = dict((n.lower(), v) for n, v in headers).get(
                "content-type", "")
            if ctype != "application/x-amz-json-1.1":
                raise KmsError("SerializationException",
                               "content-type must be application/x-amz-json-1.1")
            try:
                body = json.loads(body_bytes)
            except ValueError:
                raise KmsError("SerializationException", "body is not JSON")
            if not isinstance(body, dict):
                raise KmsError("SerializationException", "body is not an object")
            entry["recipient"] = "Recipient" in body
            if target == "TrentService.Decrypt":
                out, attested = self.decrypt(principal, body, entry)
            elif target == "TrentService.GenerateDataKey":
                out, attested = self.generate_data_key(principal, body, entry)
            else:
                raise KmsError("UnknownOperationException", "")
            entry["outcome"] = "ok"
            self.log(entry)
            return 200, out
        except (sim_sigv4.SigV4Error, KmsError) as e:
            entry["outcome"], entry["message"] = e.kind, e.message
            self.log(entry)
            return getattr(e, "status", 400), {"__type": e.kind,
                                               "message": e.message}

    def fault_answer(self, fault, headers):
        """(status, JSON dict) for an injected error answer, logged as a
        request like any other."""
        target = dict((n.lower(), v) for n, v in headers).get(
            "x-amz-target", "")
        entry = {"op": target, "principal": None, "recipient": None,
                 "time": time.time()}
        if fault == "far-date":
            kind, status = "InvalidSignatureException", 400
            message = ("Signature expired: %s is now earlier than "
                       "99991231T235459Z (99991231T235959Z - 5 min.)"
                       % time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()))
        elif fault == "throttle":
            kind, status, message = "ThrottlingException", 400, "Rate exceeded"
        elif fault == "5xx":
            kind, status, message = "KMSInternalException", 500, \
                "An internal error occurred"
        else:
            kind, status, message = fault, None, None
        entry["outcome"], entry["message"] = kind, message
        self.log(entry)
        return status, {"__type": kind, "message": message}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kms-sim"

    def log_message(self, fmt, *args):      # quiet: tests read the jsonl log
        pass

    def date_time_string(self, timestamp=None):
        """The Date header, from the simulator's (maybe skewed) clock, or
        FAR_DATE for a --far-date answer."""
        if getattr(self, "far_date", False):
            return FAR_DATE
        return email.utils.formatdate(
            self.server.sim.now() if timestamp is None else timestamp,
            usegmt=True)

    def cut(self, how):
        """Part of a 200 answer, then a TCP reset ("reset") or the
        connection closed without TLS close_notify ("eof"), as a failing
        proxy or load balancer does."""
        self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/"
                         b"x-amz-json-1.1\r\nContent-Length: 4096\r\n\r\n"
                         b'{"KeyId": "arn:aws:kms:')
        self.wfile.flush()
        sock = self.connection
        if how == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                            struct.pack("ii", 1, 0))
        else:
            sock.shutdown(socket.SHUT_RDWR)
        self.rfile.close()
        self.wfile.close()
        sock.close()
        self.close_connection = True

    def do_POST(self):
        sim = self.server.sim
        try:
            n = int(self.headers.get("Content-Length", ""))
        except ValueError:
            n = -1
        if n < 0 or n > BODY_MAX:
            status, out = 400, {"__type": "SerializationException",
                                "message": "bad Content-Length"}
        else:
            body = self.rfile.read(n)
            fault = sim.next_fault()
            self.far_date = fault == "far-date"
            if fault is not None:
                status, out = sim.fault_answer(fault,
                                               list(self.headers.items()))
            else:
                status, out = sim.handle(list(self.headers.items()), body)
            if sim.answer_delay:
                time.sleep(sim.answer_delay)
            if status is None:
                self.cut(fault)
                return
        data = json.dumps(out).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", os.urandom(16).hex())
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.close_connection = True


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass    # a client gone mid-request; tests read the jsonl log

    def finish_request(self, request, client_address):
        # The handshake happens here, in the request's own thread.
        request.settimeout(15)
        try:
            tls = self.tls.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        super().finish_request(tls, client_address)


def serve(args):
    sim = Sim(args)
    pki = TlsServerPki([sim.host])
    paths = pki.write(args.out_dir)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(paths["server.pem"], paths["server.key"])
    tls.set_alpn_protocols(["http/1.1"])
    host, _, port = args.listen.rpartition(":")
    srv = Server((host, int(port)), Handler)
    srv.sim, srv.tls = sim, tls
    port = srv.server_address[1]
    with open(os.path.join(args.out_dir, "port"), "w") as f:
        f.write("%d\n" % port)
    print("ready %d" % port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd")
    b = sub.add_parser("blob", help="print a CiphertextBlob (base64) offline")
    b.add_argument("--key", required=True, metavar="ID=HEX64")
    b.add_argument("--plaintext-hex", required=True)
    b.add_argument("--context", action="append", default=[], metavar="K=V")
    p.add_argument("--out-dir")
    p.add_argument("--listen", default="127.0.0.1:0")
    p.add_argument("--region", default="ap-southeast-1")
    p.add_argument("--credentials")
    p.add_argument("--policy")
    p.add_argument("--attestation-root")
    p.add_argument("--key", action="append", default=[], metavar="ID=HEX64")
    p.add_argument("--clock-skew", type=float, default=0.0, metavar="SECONDS",
                   help="run the clock this far ahead (negative: behind)")
    p.add_argument("--throttle", type=int, default=0, metavar="N",
                   help="answer the first N requests ThrottlingException")
    p.add_argument("--fail-5xx", type=int, default=0, metavar="N",
                   help="then N with 500 KMSInternalException")
    p.add_argument("--reset", type=int, default=0, metavar="N",
                   help="then reset N connections mid-response")
    p.add_argument("--eof", type=int, default=0, metavar="N",
                   help="then close N connections mid-response")
    p.add_argument("--far-date", type=int, default=0, metavar="N",
                   help="then refuse N as signed too far from a clock in "
                        "the year 9999 (Date: %s)" % FAR_DATE)
    p.add_argument("--answer-key-id", metavar="ARN",
                   help="name this key in every Decrypt answer's KeyId, "
                        "whichever key decrypted (a lying or buggy KMS)")
    p.add_argument("--answer-delay", type=float, default=0.0,
                   metavar="SECONDS", help="wait before every answer")
    p.add_argument("--cms-form", choices=("openssl", "kms"),
                   default="openssl",
                   help="CiphertextForRecipient as `openssl cms` writes it, "
                        "or byte for byte as KMS does")
    p.add_argument("--cms-chunk", type=int, default=sim_cms.KMS_CHUNK,
                   metavar="N", help="with --cms-form kms: bytes per piece "
                   "of the encrypted content (default %(default)s)")
    args = p.parse_args()
    if args.cmd == "blob":
        kid, _, h = args.key.partition("=")
        context = dict(c.split("=", 1) for c in args.context) or None
        print(base64.b64encode(make_blob(bytes.fromhex(h), kid,
                                         bytes.fromhex(args.plaintext_hex),
                                         context)).decode())
        return
    for need in ("out_dir", "credentials", "policy", "attestation_root"):
        if getattr(args, need) is None:
            p.error("--%s is required" % need.replace("_", "-"))
    if args.cms_chunk < 1:
        p.error("--cms-chunk must be at least 1")
    serve(args)


if __name__ == "__main__":
    main()
