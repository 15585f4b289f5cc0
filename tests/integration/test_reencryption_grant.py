"""
Re-encryption needs a grant from both key holders (issue 20 items 1 and 2,
docs/security.md F26, docs/protocol.md "process").

The attacks, replayed as the red team ran them: a hostile host configures a
key it knows and asks for an owner's record sealed under it; a gateway
caller holding tenant B's key asks for tenant A's record sealed under B.
Both must get an error with nothing sealed. And the other way round: the
host must not get data of its choosing (sealed under its own key) sealed
under an owner's key. Grants are made here from the protocol's table
(helpers.harness.make_grant), independently of the C code, and by
`enclavectl grant`, which must agree with them byte for byte.
"""

import json
import subprocess
import time

import pytest
from cryptography.exceptions import InvalidTag

from helpers.harness import (assert_error, binary, clean_env, genkey,
                             key_commitment, make_grant, open_sealed, seal,
                             write_key_file)


def process(d, key, pt, aad=None, **fields):
    msg = {"type": "process", "ciphertext": seal(key, pt, aad)}
    if aad is not None:
        msg["aad"] = aad
    msg.update({k: v for k, v in fields.items() if v is not None})
    return d.request(msg)


def encryptions(d):
    return {k["key_id"]: k["encryptions"]
            for k in d.request({"type": "health"})["keys"]}


@pytest.fixture
def owner_and_host(start_daemon):
    """A daemon holding the owner's key ("default") and a key the host made
    itself from a KMS key it controls ("evil"): it knows the plaintext."""
    def start(*options):
        d = start_daemon(*options)
        (t_owner, k_owner), (t_evil, k_evil) = genkey(), genkey()
        assert d.configure(t_owner)["status"] == "ok"
        assert d.configure(t_evil, key_id="evil")["status"] == "ok"
        return d, k_owner, k_evil
    return start


# --- the attack of item 1 --------------------------------------------------

@pytest.mark.parametrize("options", [(), ("--bind-direction",)],
                         ids=["plain", "bind-direction"])
def test_host_cannot_reseal_an_owners_record_under_its_own_key(owner_and_host,
                                                               options):
    d, k_owner, k_evil = owner_and_host(*options)
    aad = "rec-1"
    sealed_aad = ("request\0" + aad) if options else aad
    record = seal(k_owner, b"owner's secret", sealed_aad)
    resp = d.request({"type": "process", "ciphertext": record, "aad": aad,
                      "key_id": "default", "result_key_id": "evil"})
    assert_error(resp, "grant_required", ["evil", "default", "grant"])
    assert "result" not in resp
    # Nothing was sealed under either key.
    assert encryptions(d) == {"default": 0, "evil": 0}
    # The host's own forgeries: a grant made with the key it knows, for
    # its own key's data, or claiming to be for the owner's.
    resp = d.request({"type": "process", "ciphertext": record, "aad": aad,
                      "key_id": "default", "result_key_id": "evil",
                      "grant": make_grant(k_evil, k_evil)})
    assert_error(resp, "grant_invalid", "for data under another key")
    resp = d.request({"type": "process", "ciphertext": record, "aad": aad,
                      "key_id": "default", "result_key_id": "evil",
                      "grant": make_grant(
                          k_evil, k_evil,
                          input_commitment=key_commitment(k_owner))})
    assert_error(resp, "grant_invalid", "not released with the key that opens")
    assert encryptions(d) == {"default": 0, "evil": 0}
    # The owner's own records still work as before, without any grant.
    resp = d.request({"type": "process", "ciphertext": record, "aad": aad,
                      "key_id": "default"})
    assert resp["status"] == "ok", resp
    result_aad = ("result\0" + aad) if options else aad
    assert open_sealed(k_owner, resp["result"], result_aad) == b"owner's secret"


def test_host_cannot_seal_its_own_data_under_an_owners_key(owner_and_host):
    """The write side: data the host sealed under its own key must not come
    out under the owner's key, even with a grant the host made naming the
    owner's key by its commitment (public: it is in every grant)."""
    d, k_owner, k_evil = owner_and_host()
    forged = seal(k_evil, b'{"agent_id":"mallory","data":"injected"}')
    resp = d.request({"type": "process", "ciphertext": forged,
                      "key_id": "evil", "result_key_id": "default"})
    assert_error(resp, "grant_required")
    # Released by the host, never accepted by the owner.
    released = make_grant(k_evil, commitment=key_commitment(k_owner))
    resp = d.request({"type": "process", "ciphertext": forged,
                      "key_id": "evil", "result_key_id": "default",
                      "grant": released})
    assert_error(resp, "grant_invalid", "has not accepted")
    # An acceptance the host made with its own key in the owner's slot.
    resp = d.request({"type": "process", "ciphertext": forged,
                      "key_id": "evil", "result_key_id": "default",
                      "grant": make_grant(k_evil, k_owner, accept_key=k_evil)})
    assert_error(resp, "grant_invalid", "has not accepted")
    assert encryptions(d) == {"default": 0, "evil": 0}


def test_grant_checked_before_anything_is_decrypted(owner_and_host):
    """A ciphertext that would not even open gets grant_required, not
    decrypt_failed: the enclave decides who may read before it reads."""
    d, k_owner, k_evil = owner_and_host()
    resp = d.request({"type": "process", "ciphertext": seal(k_evil, b"x"),
                      "result_key_id": "evil", "key_id": "default"})
    assert_error(resp, "grant_required")


def test_a_grant_for_one_result_key_does_not_open_another(owner_and_host):
    """The owner rotates default -> v2 with a grant; the host replays that
    grant to seal under its own key: refused."""
    d, k_owner, k_evil = owner_and_host()
    t_v2, k_v2 = genkey()
    assert d.configure(t_v2, key_id="v2")["status"] == "ok"
    grant = make_grant(k_owner, k_v2)
    resp = process(d, k_owner, b"rotate me", key_id="default",
                   result_key_id="evil", grant=grant)
    assert_error(resp, "grant_invalid", "names another result key")
    resp = process(d, k_owner, b"rotate me", key_id="default",
                   result_key_id="v2", grant=grant)
    assert resp["status"] == "ok", resp
    assert open_sealed(k_v2, resp["result"]) == b"rotate me"
    with pytest.raises(InvalidTag):
        open_sealed(k_owner, resp["result"])
    assert encryptions(d) == {"default": 0, "evil": 0, "v2": 1}


def test_expired_grant_refused(owner_and_host):
    d, k_owner, _ = owner_and_host()
    t_v2, k_v2 = genkey()
    d.configure(t_v2, key_id="v2")
    now = int(time.time())
    for expires_at in (now - 1, now - 86400, 1):
        resp = process(d, k_owner, b"x", key_id="default", result_key_id="v2",
                       grant=make_grant(k_owner, k_v2, expires_at=expires_at))
        assert_error(resp, "grant_invalid", "expired at %d" % expires_at)
    resp = process(d, k_owner, b"x", key_id="default", result_key_id="v2",
                   grant=make_grant(k_owner, k_v2, expires_at=now + 120))
    assert resp["status"] == "ok", resp
    # Nor may a grant run (nearly) for ever: at most 367 days from now.
    for expires_at in (now + 400 * 86400, 2 ** 64 - 1):
        resp = process(d, k_owner, b"x", key_id="default", result_key_id="v2",
                       grant=make_grant(k_owner, k_v2, expires_at=expires_at))
        assert_error(resp, "grant_invalid", "more than 367 days")


def test_same_key_under_two_ids_needs_no_grant(start_daemon):
    """The rule is about key bytes, not ids: a result under the very key
    that opened the input leaves nothing to anyone new."""
    d = start_daemon()
    t, k = genkey()
    d.configure(t, key_id="a")
    d.configure(t, key_id="b")
    resp = process(d, k, b"same key", key_id="a", result_key_id="b")
    assert resp["status"] == "ok", resp
    assert open_sealed(k, resp["result"]) == b"same key"


def test_a_grant_given_is_always_checked(owner_and_host):
    d, k_owner, k_evil = owner_and_host()
    # A grant naming the input key itself is valid (and useless).
    resp = process(d, k_owner, b"x", key_id="default",
                   grant=make_grant(k_owner, k_owner))
    assert resp["status"] == "ok", resp
    # One naming another key, with no result_key_id: refused, not ignored.
    resp = process(d, k_owner, b"x", key_id="default",
                   grant=make_grant(k_owner, k_evil))
    assert_error(resp, "grant_invalid", "names another result key")


BAD_GRANTS = [
    ("", "274 hex characters"),
    ("ab" * 136, "274 hex characters"),
    ("ab" * 138, "274 hex characters"),
    ("ab" * 73, "274 hex characters"),     # the length of a draft's grant
    ("zz" * 137, "non-hex"),
    (7, "hex string"),
    (["00"], "hex string"),
    ("\u0000" * 274, "hex string"),
]


@pytest.mark.parametrize("bad,says", BAD_GRANTS, ids=repr)
def test_malformed_grant_is_invalid_field(owner_and_host, bad, says):
    d, k_owner, _ = owner_and_host()
    resp = process(d, k_owner, b"x", key_id="default", result_key_id="evil",
                   grant=bad)
    assert_error(resp, "invalid_field", ["grant", says])
    assert encryptions(d) == {"default": 0, "evil": 0}


def test_released_but_not_accepted_is_refused(owner_and_host):
    d, k_owner, k_evil = owner_and_host()
    t_v2, k_v2 = genkey()
    d.configure(t_v2, key_id="v2")
    released = make_grant(k_owner, commitment=key_commitment(k_v2))
    resp = process(d, k_owner, b"x", key_id="default", result_key_id="v2",
                   grant=released)
    assert_error(resp, "grant_invalid", "has not accepted")
    assert encryptions(d) == {"default": 0, "evil": 0, "v2": 0}


def test_unknown_grant_version_refused(owner_and_host):
    d, k_owner, k_evil = owner_and_host()
    resp = process(d, k_owner, b"x", key_id="default", result_key_id="evil",
                   grant=make_grant(k_owner, k_evil, version=2))
    assert_error(resp, "grant_invalid", "version 2")


def test_a_null_grant_is_no_grant(owner_and_host):
    d, k_owner, _ = owner_and_host()
    resp = d.request({"type": "process", "ciphertext": seal(k_owner, b"x"),
                      "key_id": "default", "grant": None})
    assert resp["status"] == "ok", resp
    resp = d.request({"type": "process", "ciphertext": seal(k_owner, b"x"),
                      "key_id": "default", "result_key_id": "evil",
                      "grant": None})
    assert_error(resp, "grant_required")


# --- enclavectl: the data owner makes grants -------------------------------

def ctl(*args, input=b""):
    return subprocess.run([binary("enclavectl")] + [str(a) for a in args],
                          input=input, capture_output=True, timeout=60,
                          env=clean_env())


def test_enclavectl_grant_matches_the_protocol(tmp_path):
    (_, k_in), (_, k_out) = genkey(), genkey()
    f_in = write_key_file(tmp_path, k_in)
    f_out = write_key_file(tmp_path, k_out, form="hex")
    expires = int(time.time()) + 600
    p = ctl("grant", "--key-file", f_in, "--result-key-file", f_out,
            "--expires-at", expires)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == make_grant(k_in, k_out, expires_at=expires) + "\n"
    # Downstream: the result key's holder hands over only its commitment,
    # the input key's holder releases, the result key's holder accepts.
    p = ctl("commitment", "--key-file", f_out)
    assert p.returncode == 0, p.stderr
    commitment = p.stdout.decode().strip()
    assert commitment == key_commitment(k_out).hex()
    p = ctl("grant", "--key-file", f_in, "--result-commitment", commitment,
            "--expires-at", expires)
    assert p.returncode == 0, p.stderr
    released = p.stdout.decode().strip()
    assert released == make_grant(k_in, commitment=bytes.fromhex(commitment),
                                  expires_at=expires)
    assert "--accept" in p.stderr.decode()
    p = ctl("grant", "--accept", released, "--key-file", f_out)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == make_grant(k_in, k_out, expires_at=expires) + "\n"
    # Only the named result key can accept.
    p = ctl("grant", "--accept", released, "--key-file", f_in)
    assert p.returncode == 2 and b"names another result key" in p.stderr
    # --valid-for: an expiry that far from now.
    p = ctl("grant", "--key-file", f_in, "--result-key-file", f_out,
            "--valid-for", 90)
    assert p.returncode == 0, p.stderr
    got = int(p.stdout.decode()[2:18], 16)
    assert abs(got - (time.time() + 90)) < 10


@pytest.mark.parametrize("args,says", [
    ([], "--result-key-file"),
    (["--result-commitment", "ab"], "64 hex"),
    (["--result-commitment", "zz" * 32], "64 hex"),
    (["--result-key-file", "K", "--result-commitment", "00" * 32], "one of"),
    (["--result-key-file", "K", "--valid-for", "0"], "--valid-for"),
    (["--result-key-file", "K", "--valid-for", "31622401"], "--valid-for"),
    (["--result-key-file", "K", "--expires-at", "1"], "future"),
    (["--result-key-file", "K", "--expires-at", "soon"], "not a time"),
    (["--result-key-file", "K", "--valid-for", "5", "--expires-at",
      "2099-01-01T00:00:00Z"], "not both"),
    (["--accept", "00" * 73], "274 hex"),
    (["--accept", "00" * 137, "--valid-for", "5"], "only --key-file"),
], ids=repr)
def test_enclavectl_grant_usage_errors(tmp_path, args, says):
    f = write_key_file(tmp_path, genkey()[1])
    args = [f if a == "K" else a for a in args]
    p = ctl("grant", "--key-file", f, *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert says in p.stderr.decode(), p.stderr
    assert p.stdout == b""


def test_rotation_with_enclavectl(start_daemon, tmp_path):
    """docs/operations.md's rotation: configure v2 beside v1, make a grant
    with v1's key file, move a record with process --grant."""
    d = start_daemon()
    (t1, k1), (t2, k2) = genkey(), genkey()
    d.configure(t1, key_id="v1")
    d.configure(t2, key_id="v2")
    d1, d2 = tmp_path / "1", tmp_path / "2"
    d1.mkdir()
    d2.mkdir()
    f1, f2 = write_key_file(d1, k1), write_key_file(d2, k2)
    grant = ctl("grant", "--key-file", f1, "--result-key-file", f2)
    assert grant.returncode == 0, grant.stderr
    record = seal(k1, b"old record", "r1")
    base = ["--enclave", d.tcp, "process", "--aad", "r1", "--key-id", "v1",
            "--result-key-id", "v2"]
    p = ctl(*base, input=record.encode())
    assert p.returncode == 1 and b"grant_required" in p.stderr, p.stderr
    p = ctl(*base, "--grant", grant.stdout.decode().strip(),
            input=record.encode())
    assert p.returncode == 0, p.stderr
    assert open_sealed(k2, p.stdout.decode().strip(), "r1") == b"old record"


# --- the attack of item 2: tenants through the gateway ---------------------

def test_tenant_cannot_read_another_tenants_record_through_the_gateway(
        gateway_bin, gateways, start_daemon, tmp_path):
    (ta, ka), (tb, kb) = genkey(), genkey()
    (tmp_path / "a.b64").write_text(ta)
    (tmp_path / "b.b64").write_text(tb)
    d = start_daemon(unix=False)
    g = gateways([d.tcp], "--tsk", "tenant-a=%s" % (tmp_path / "a.b64"),
                 "--tsk", "tenant-b=%s" % (tmp_path / "b.b64"))
    g.wait_up([d.tcp])
    record = seal(ka, b"tenant A only")

    def post(body):
        status, _, data = g.request("POST", "/v1/process", body)
        return status, json.loads(data)

    # Tenant B asks for A's record sealed under B's key.
    status, body = post({"ciphertext": record, "key_id": "tenant-a",
                         "result_key_id": "tenant-b"})
    assert status == 403 and body["error"] == "grant_required", body
    assert "result" not in body
    # With a grant B made itself: still refused.
    status, body = post({"ciphertext": record, "key_id": "tenant-a",
                         "result_key_id": "tenant-b",
                         "grant": make_grant(kb, kb)})
    assert status == 403 and body["error"] == "grant_invalid", body
    # Not retryable: one attempt, no reconfigure (403 is the enclave's verdict).
    # Tenant A allows the hand-over: the gateway forwards the grant.
    status, body = post({"ciphertext": record, "key_id": "tenant-a",
                         "result_key_id": "tenant-b",
                         "grant": make_grant(ka, kb)})
    assert status == 200, body
    assert open_sealed(kb, body["result"]) == b"tenant A only"
    # A grant that is not a string, or empty, never reaches the enclave.
    for bad in (7, "", "a\u0000b", {"g": 1}):
        status, body = post({"ciphertext": record, "key_id": "tenant-a",
                             "result_key_id": "tenant-b", "grant": bad})
        assert status == 400 and body["error"] == "invalid_field", (bad, body)
        assert "grant" in body["details"]
    # A malformed hex grant: the enclave's own verdict, 400.
    status, body = post({"ciphertext": record, "key_id": "tenant-a",
                         "result_key_id": "tenant-b", "grant": "00" * 10})
    assert status == 400 and body["error"] == "invalid_field", body
    h = d.request({"type": "health"})
    assert {k["key_id"]: k["encryptions"] for k in h["keys"]} == \
        {"tenant-a": 0, "tenant-b": 1}


# --- the data owner's Python example (docs/examples/data_owner.py) ---------

def _example():
    import importlib.util
    import os
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                        "docs", "examples", "data_owner.py")
    spec = importlib.util.spec_from_file_location("data_owner", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_python_example_reads_base64_and_hex_keys(tmp_path):
    """Every documented way of getting a key gives base64 (issue 25 item 7:
    the example read hex only); 64 hex digits work too, anything else is
    refused."""
    ex = _example()
    key = genkey()[1]
    for form in ("base64", "hex"):
        assert ex.load_key(write_key_file(tmp_path, key, form=form)) == key
    for bad in (b"short", key.hex()[:32].encode(), b"A" * 45, key):
        path = tmp_path / "bad"
        path.write_bytes(bad)
        with pytest.raises(ValueError):
            ex.load_key(str(path))


def test_python_example_grant_is_accepted(start_daemon):
    ex = _example()
    d = start_daemon()
    (t1, k1), (t2, k2) = genkey(), genkey()
    d.configure(t1, key_id="v1")
    d.configure(t2, key_id="v2")
    released = ex.release(k1, ex.commitment(k2), valid_for=60)
    with pytest.raises(ValueError):
        ex.accept(k1, released)
    g = ex.accept(k2, released)
    assert ex.commitment(k2) == key_commitment(k2)
    resp = process(d, k1, b"not yet", key_id="v1", result_key_id="v2",
                   grant=released)
    assert_error(resp, "grant_invalid", "has not accepted")
    resp = process(d, k1, b"moved", key_id="v1", result_key_id="v2", grant=g)
    assert resp["status"] == "ok", resp
    assert open_sealed(k2, resp["result"]) == b"moved"
