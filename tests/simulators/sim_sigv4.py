"""
sim_sigv4.py - SigV4 verification as KMS does it, for the KMS simulator
(test-only). Written from the reference (section 4) in Python, separately
from src/common/sigv4.c, so a shared misunderstanding cannot hide.
"""

import datetime
import hashlib
import hmac
import re

AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+)/(\d{8})/([^/]+)/([^/]+)/"
    r"aws4_request,\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]{64})$")


class SigV4Error(Exception):
    def __init__(self, kind, message):
        super().__init__(message)
        self.kind = kind
        self.message = message


def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def signing_key(secret, date, region, service):
    k = _hmac(("AWS4" + secret).encode(), date)
    k = _hmac(k, region)
    k = _hmac(k, service)
    return _hmac(k, "aws4_request")


def _canon_value(values):
    return ",".join(" ".join(v.strip().split()) for v in values)


def _amz(t):
    return t.strftime("%Y%m%dT%H%M%SZ")


def check_skew(when, now, max_skew=300):
    """KMS's refusal of a request signed more than max_skew seconds from
    its clock, in KMS's own words (as AWS SDK users quote them):
      Signature expired: 20240820T230143Z is now earlier than
        20240820T230302Z (20240820T230802Z - 5 min.)
      Signature not yet current: 20181002T170509Z is still later than
        20181002T170312Z (20181002T165812Z + 5 min.)
    Exactly max_skew off is still accepted."""
    window = datetime.timedelta(seconds=max_skew)
    minutes = "%d min." % (max_skew // 60)
    if when < now - window:
        raise SigV4Error("InvalidSignatureException",
                         "Signature expired: %s is now earlier than %s "
                         "(%s - %s)" % (_amz(when), _amz(now - window),
                                        _amz(now), minutes))
    if when > now + window:
        raise SigV4Error("InvalidSignatureException",
                         "Signature not yet current: %s is still later than "
                         "%s (%s + %s)" % (_amz(when), _amz(now + window),
                                           _amz(now), minutes))


def verify(method, path, headers, body, credentials, region, service="kms",
           max_skew=300, now=None):
    """headers: list of (name, value) as received. credentials: dict
    access_key_id -> {"secret_access_key", "session_token"?}. Returns the
    access key id, or raises SigV4Error(kind, message) with KMS's error
    type for kind."""
    by_name = {}
    for name, value in headers:
        by_name.setdefault(name.lower(), []).append(value)
    auth = by_name.get("authorization", [None])[0]
    if not auth:
        raise SigV4Error("MissingAuthenticationTokenException",
                         "Missing Authentication Token")
    m = AUTH_RE.match(auth.strip())
    if not m:
        raise SigV4Error("IncompleteSignatureException",
                         "Authorization header is malformed")
    akid, date, scope_region, scope_service, signed, signature = m.groups()
    cred = credentials.get(akid)
    if cred is None:
        raise SigV4Error("UnrecognizedClientException",
                         "The security token included in the request is invalid.")
    token = cred.get("session_token")
    if token and by_name.get("x-amz-security-token", [None])[0] != token:
        raise SigV4Error("UnrecognizedClientException",
                         "The security token included in the request is invalid.")
    if scope_region != region or scope_service != service:
        raise SigV4Error("InvalidSignatureException",
                         "Credential should be scoped to a valid region and "
                         "service ('%s', '%s')" % (region, service))
    names = signed.split(";")
    if names != sorted(names) or "host" not in names or "x-amz-date" not in names:
        raise SigV4Error("IncompleteSignatureException",
                         "host and x-amz-date must be signed")
    amz_date = by_name.get("x-amz-date", [""])[0]
    try:
        when = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
            tzinfo=datetime.timezone.utc)
    except ValueError:
        raise SigV4Error("IncompleteSignatureException", "bad x-amz-date")
    if amz_date[:8] != date:
        raise SigV4Error("InvalidSignatureException",
                         "Date in Credential scope does not match X-Amz-Date")
    now = (now or datetime.datetime.now(datetime.timezone.utc)).replace(
        microsecond=0)
    check_skew(when, now, max_skew)
    body_hash = hashlib.sha256(body).hexdigest()
    declared = by_name.get("x-amz-content-sha256", [None])[0]
    if declared is not None and declared != body_hash:
        raise SigV4Error("InvalidSignatureException",
                         "x-amz-content-sha256 does not match the body")
    canon = ""
    for n in names:
        if n not in by_name:
            raise SigV4Error("InvalidSignatureException",
                             "signed header %s is missing" % n)
        canon += "%s:%s\n" % (n, _canon_value(by_name[n]))
    creq = "\n".join([method, path, "", canon, signed, body_hash])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date,
                     "%s/%s/%s/aws4_request" % (date, region, service),
                     hashlib.sha256(creq.encode()).hexdigest()])
    want = hmac.new(signing_key(cred["secret_access_key"], date, region,
                                service), sts.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature):
        raise SigV4Error(
            "InvalidSignatureException",
            "The request signature we calculated does not match the signature "
            "you provided. Check your AWS Secret Access Key and signing method. "
            "Consult the service documentation for details.")
    return akid


def sign(host, region, target, body, access_key_id, secret_access_key,
         session_token=None, service="kms", now=None):
    """Headers (list of pairs) for a signed KMS POST, for test clients of
    the simulator (a data owner calling GenerateDataKey)."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    headers = [("host", host),
               ("content-type", "application/x-amz-json-1.1"),
               ("x-amz-target", target),
               ("x-amz-date", amz_date),
               ("x-amz-content-sha256", hashlib.sha256(body).hexdigest())]
    if session_token:
        headers.append(("x-amz-security-token", session_token))
    names = sorted(n for n, _ in headers)
    canon = "".join("%s:%s\n" % (n, dict(headers)[n]) for n in names)
    signed = ";".join(names)
    creq = "\n".join(["POST", "/", "", canon, signed,
                      hashlib.sha256(body).hexdigest()])
    scope = "%s/%s/%s/aws4_request" % (amz_date[:8], region, service)
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                     hashlib.sha256(creq.encode()).hexdigest()])
    sig = hmac.new(signing_key(secret_access_key, amz_date[:8], region,
                               service), sts.encode(), hashlib.sha256).hexdigest()
    headers.append(("authorization",
                    "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, "
                    "Signature=%s" % (access_key_id, scope, signed, sig)))
    return headers
