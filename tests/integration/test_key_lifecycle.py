"""
enclaved: several named TSKs (docs/protocol.md, "Keys"): configure with
key_id, process with key_id and result_key_id, forget, health's key list,
--max-keys, the nonce budget counted per key identity (docs/security.md
F11), and configure's encryption_context, which the kmstool backend
refuses (F39: the real tool cannot send one; --kms native does).
"""

import base64
import os
import threading
import time

import pytest

from helpers.harness import (CREDS, assert_error, genkey,
                             make_grant, open_sealed, process_memory,
                             seal, skip_memory_scan_under_asan)
from cryptography.exceptions import InvalidTag


def process(d, key, pt, key_id=None, result_key_id=None, aad=None,
            grant=None):
    msg = {"type": "process", "ciphertext": seal(key, pt, aad)}
    if key_id is not None:
        msg["key_id"] = key_id
    if result_key_id is not None:
        msg["result_key_id"] = result_key_id
    if grant is not None:
        msg["grant"] = grant
    if aad is not None:
        msg["aad"] = aad
    return d.request(msg)


def keys_of(d):
    return {k["key_id"]: k["encryptions"]
            for k in d.request({"type": "health"})["keys"]}


# --- several keys -------------------------------------------------------------

def test_two_keys_served_at_once(daemon):
    (t1, k1), (t2, k2) = genkey(), genkey()
    r = daemon.configure(t1, key_id="owner-a")
    assert r["status"] == "ok" and r["key_id"] == "owner-a", r
    assert daemon.configure(t2, key_id="owner-b")["status"] == "ok"
    errors = []

    def load(key, kid):
        for i in range(30):
            pt = b"%s-%d" % (kid.encode(), i)
            resp = process(daemon, key, pt, key_id=kid)
            if resp.get("status") != "ok" or \
                    open_sealed(key, resp["result"]) != pt:
                errors.append((kid, resp))

    threads = [threading.Thread(target=load, args=a)
               for a in ((k1, "owner-a"), (k2, "owner-b"))] * 1
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # A ciphertext under one owner's key does not open under the other's.
    assert_error(process(daemon, k1, b"x", key_id="owner-b"), "decrypt_failed")
    assert keys_of(daemon) == {"owner-a": 30, "owner-b": 30}


def test_defaults_keep_old_clients_working(daemon):
    (t1, k1), (t2, k2) = genkey(), genkey()
    r = daemon.configure(t1)
    assert r["status"] == "ok" and r["key_id"] == "default", r
    assert keys_of(daemon) == {"default": 0}
    resp = process(daemon, k1, b"old client")
    assert open_sealed(k1, resp["result"]) == b"old client"
    # Without key_id: the key configured last.
    assert daemon.configure(t2, key_id="newer")["status"] == "ok"
    resp = process(daemon, k2, b"latest")
    assert open_sealed(k2, resp["result"]) == b"latest"
    assert_error(process(daemon, k1, b"x"), "decrypt_failed")
    resp = process(daemon, k1, b"named", key_id="default")
    assert open_sealed(k1, resp["result"]) == b"named"


def test_result_sealed_under_result_key_opens_only_with_it(daemon):
    (t1, k1), (t2, k2) = genkey(), genkey()
    daemon.configure(t1, key_id="upstream")
    daemon.configure(t2, key_id="downstream")
    resp = process(daemon, k1, b"re-encrypt me", key_id="upstream",
                   result_key_id="downstream", aad="rec-7",
                   grant=make_grant(k1, k2))
    assert resp["status"] == "ok", resp
    assert open_sealed(k2, resp["result"], "rec-7") == b"re-encrypt me"
    with pytest.raises(InvalidTag):
        open_sealed(k1, resp["result"], "rec-7")
    # The budget counted is the sealing key's.
    assert keys_of(daemon) == {"upstream": 0, "downstream": 1}
    # An unknown result key: nothing is sealed.
    assert_error(process(daemon, k1, b"x", key_id="upstream",
                         result_key_id="nobody"), "unknown_key", "nobody")


def test_forget_is_immediate_and_spares_the_other_key(daemon):
    (t1, k1), (t2, k2) = genkey(), genkey()
    daemon.configure(t1, key_id="old")
    daemon.configure(t2, key_id="new")
    assert process(daemon, k1, b"a", key_id="old")["status"] == "ok"
    assert daemon.request({"type": "forget", "key_id": "old"}) == \
        {"status": "ok", "msg": "forgotten"}
    assert_error(process(daemon, k1, b"a", key_id="old"), "unknown_key", "old")
    resp = process(daemon, k2, b"b", key_id="new")
    assert open_sealed(k2, resp["result"]) == b"b"
    assert keys_of(daemon) == {"new": 1}
    assert_error(daemon.request({"type": "forget", "key_id": "old"}),
                 "unknown_key")
    assert_error(daemon.request({"type": "forget"}), "missing_fields")
    # Forgetting the latest key: process without key_id falls back to
    # the newest key still held, and with none, not_configured.
    daemon.configure(t1, key_id="old")
    daemon.request({"type": "forget", "key_id": "old"})
    resp = process(daemon, k2, b"c")
    assert open_sealed(k2, resp["result"]) == b"c"
    daemon.request({"type": "forget", "key_id": "new"})
    assert_error(process(daemon, k2, b"c"), "not_configured")
    assert_error(process(daemon, k2, b"c", key_id="new"), "not_configured")
    health = daemon.request({"type": "health"})
    assert health["configured"] is False and health["keys"] == []


def test_max_keys_then_too_many_keys(start_daemon, fake_kms):
    # Refused before KMS is asked: the fake tool never runs for it.
    fd = start_daemon("--max-keys", "1", kmstool=fake_kms.path)
    assert fd.configure(fake_kms.token("key1"), key_id="one")["status"] == "ok"
    calls = fake_kms.calls()
    assert_error(fd.configure(fake_kms.token("key1"), key_id="two"),
                 "too_many_keys")
    assert fake_kms.calls() == calls
    d = start_daemon("--max-keys", "2")
    (t1, _), (t2, _), (t3, k3) = genkey(), genkey(), genkey()
    assert d.configure(t1, key_id="a")["status"] == "ok"
    assert d.configure(t2, key_id="b")["status"] == "ok"
    assert_error(d.configure(t3, key_id="c"), "too_many_keys")
    # Replacing a held id is no new key; forgetting one frees a place.
    assert d.configure(t3, key_id="b")["status"] == "ok"
    d.request({"type": "forget", "key_id": "a"})
    assert d.configure(t1, key_id="c")["status"] == "ok"
    assert sorted(keys_of(d)) == ["b", "c"]


def test_health_lists_keys_never_material(daemon):
    (t1, k1), (t2, k2) = genkey(), genkey()
    daemon.configure(t1, key_id="x.1")
    daemon.configure(t2, key_id="y_2-Z")
    for _ in range(2):
        process(daemon, k2, b"p", key_id="y_2-Z")
    raw = daemon.connect().request({"type": "health"})
    assert raw["keys"] == [{"key_id": "x.1", "encryptions": 0},
                           {"key_id": "y_2-Z", "encryptions": 2}]
    text = repr(raw)
    for k in (k1, k2):
        assert k.hex() not in text and base64.b64encode(k).decode() not in text


# --- replacing and forgetting under load ---------------------------------------

def test_replace_under_load_loses_no_request(daemon):
    """A configure replacing key "a" in the middle of a load of requests:
    every request is answered; requests on the other key all succeed;
    on "a", what was sent before the configure opens under the old key,
    what is sent after it answered under the new one, and every ok answer
    decrypts under the key it was sealed for."""
    (t1, k1), (t2, k2), (tb, kb) = genkey(), genkey(), genkey()
    daemon.configure(t1, key_id="a")
    daemon.configure(tb, key_id="b")
    switched = threading.Event()
    before_switch = threading.Event()
    conf_sent = [None]
    results, lock = [], threading.Lock()

    stop = threading.Event()

    def load(kid):
        with daemon.connect() as c:
            i = 0
            while not stop.is_set():
                after = switched.is_set()
                key = kb if kid == "b" else (k2 if after else k1)
                pt = b"%s-%d" % (kid.encode(), i)
                sent = time.monotonic()
                resp = c.request({"type": "process", "key_id": kid,
                                  "ciphertext": seal(key, pt)})
                with lock:
                    results.append((kid, after, sent, key, pt, resp))
                if i == 10:
                    before_switch.set()
                i += 1

    threads = [threading.Thread(target=load, args=(kid,))
               for kid in ("a", "a", "b")]
    for t in threads:
        t.start()
    before_switch.wait(10)
    conf_sent[0] = time.monotonic()
    assert daemon.configure(t2, key_id="a")["status"] == "ok"
    switched.set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with lock:
            if sum(1 for r in results if r[0] == "a" and r[1]) >= 40:
                break
        time.sleep(0.01)
    stop.set()
    for t in threads:
        t.join()
    assert len(results) > 100
    window = 0
    for kid, after, sent, key, pt, resp in results:  # every one answered
        if resp.get("status") == "ok":
            assert open_sealed(key, resp["result"]) == pt
            continue
        # Only a request sealed under the old key and sent after the
        # configure was may meet the new key.
        assert kid == "a" and not after and sent >= conf_sent[0], resp
        assert_error(resp, "decrypt_failed")
        window += 1
    # How many fall in that window depends only on how long the configure
    # answer took to reach the load threads (56 were seen under ASan on a
    # loaded machine), so it is reported, not bounded: the property is
    # which requests may fail, asserted above.
    print("requests in the switch window:", window)
    assert sum(1 for r in results if r[0] == "a" and r[1]) >= 40


def test_forget_of_a_key_in_use(daemon):
    """forget while big requests hold the key: each answer is either a
    result under that key or unknown_key, nothing else, and the daemon
    (ASan build too) keeps serving."""
    t1, k1 = genkey()
    daemon.configure(t1, key_id="busy")
    pt = os.urandom(2 * 1024 * 1024)
    ct = seal(k1, pt)
    answers = []

    def load():
        with daemon.connect(timeout=60) as c:
            for _ in range(6):
                answers.append(c.request({"type": "process", "key_id": "busy",
                                          "ciphertext": ct}, timeout=60))

    t = threading.Thread(target=load)
    t.start()
    time.sleep(0.05)
    assert daemon.request({"type": "forget", "key_id": "busy"})["status"] == "ok"
    t.join()
    assert len(answers) == 6
    for a in answers:
        if a["status"] == "ok":
            assert open_sealed(k1, a["result"]) == pt
        else:
            assert_error(a, "not_configured")
    assert daemon.request({"type": "ping"})["msg"] == "pong"


# --- the nonce budget per key identity (F11) ------------------------------------

def test_reconfiguring_the_same_key_does_not_reset_its_budget(start_daemon):
    d = start_daemon("--max-encryptions", "3")
    t1, k1 = genkey()
    t2, k2 = genkey()
    assert d.configure(t1)["status"] == "ok"
    for i in range(3):
        assert process(d, k1, b"m%d" % i)["status"] == "ok"
    assert_error(process(d, k1, b"4"), "key_exhausted")
    # The same TSK again: same id, another id, after a forget.
    assert d.configure(t1)["status"] == "ok"
    assert_error(process(d, k1, b"5"), "key_exhausted")
    assert d.request({"type": "health"})["key_encryptions"] == 3
    assert d.configure(t1, key_id="again")["status"] == "ok"
    assert_error(process(d, k1, b"6", key_id="again"), "key_exhausted")
    d.request({"type": "forget", "key_id": "again"})
    d.request({"type": "forget", "key_id": "default"})
    assert d.configure(t1, key_id="third")["status"] == "ok"
    assert_error(process(d, k1, b"7", key_id="third"), "key_exhausted")
    assert keys_of(d) == {"third": 3}
    # A new key starts from zero.
    assert d.configure(t2)["status"] == "ok"
    assert process(d, k2, b"fresh")["status"] == "ok"
    assert keys_of(d) == {"third": 3, "default": 1}


# --- encryption_context needs --kms native (F39) ----------------------------------

def test_encryption_context_refused_by_the_kmstool_backend(fake_daemon, fake_kms):
    """kmstool_enclave_cli has no --encryption-context (v0.4.4 exits 1 with
    its usage on any option it lacks), so the kmstool backend refuses a
    context before running the tool, naming --kms native. Before F39 it
    passed --encryption-context KEY=VALUE, which only kmstool-dev took."""
    r = fake_daemon.configure(fake_kms.token("key1"), encryption_context={
        "tenant": "acme", "path": "a=b c"})
    assert_error(r, "invalid_field", ["encryption_context", "--kms native"])
    assert fake_kms.calls() == 0
    # Without a context, the command line is the original design's.
    assert fake_daemon.configure(fake_kms.token("key1"))["status"] == "ok"
    assert "--encryption-context" not in fake_kms.last_args()
    assert fake_kms.calls() == 1


# --- bad key ids and contexts ------------------------------------------------------

def test_longest_key_id_is_accepted(daemon):
    t1, k1 = genkey()
    kid = "A-z_0." + "9" * 58
    assert len(kid) == 64
    assert daemon.configure(t1, key_id=kid)["status"] == "ok"
    assert process(daemon, k1, b"x", key_id=kid)["status"] == "ok"


@pytest.mark.parametrize("bad", [
    "tenant=acme", ["a"], 7, {"a": 1}, {"a": None}, {"a=b": "c"}, {"": "x"},
    {"a\u0000": "b"}, {"a": "b\u0000c"}, {"k%d" % i: "v" for i in range(17)},
    {"k": "v" * 4096}, {"x" * 129: "v"},
], ids=repr)
def test_bad_encryption_context_is_refused(fake_daemon, fake_kms, bad):
    resp = fake_daemon.configure(fake_kms.token("key1"), encryption_context=bad)
    if isinstance(bad, dict) and any("\u0000" in k for k in bad):
        # A member name holding U+0000 is no I-JSON, at any depth (F12).
        assert_error(resp, "invalid_json")
    else:
        assert_error(resp, "invalid_field", "encryption_context")
    assert fake_kms.calls() == 0


def test_encryption_context_name_twice_is_refused(fake_daemon, fake_kms):
    from helpers.harness import Conn  # noqa: F401
    raw = ('{"type":"configure","encrypted_tsk":"%s","aws_access_key_id":"%s",'
           '"aws_secret_access_key":"%s","aws_session_token":"%s",'
           '"encryption_context":{"t":"a","t":"b"}}' % (
               fake_kms.token("key1"), CREDS["aws_access_key_id"],
               CREDS["aws_secret_access_key"], CREDS["aws_session_token"]))
    with fake_daemon.connect() as c:
        resp = c.request(raw)
    assert resp["status"] == "error", resp
    assert fake_kms.calls() == 0


# --- enclavectl --------------------------------------------------------------------

def _ctl(enclavectl_bin, d, *args, input=b""):
    import json
    import subprocess
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and not k.startswith("ENCLAVE_")}
    env.update({"AWS_ACCESS_KEY_ID": CREDS["aws_access_key_id"],
                "AWS_SECRET_ACCESS_KEY": CREDS["aws_secret_access_key"],
                "AWS_SESSION_TOKEN": CREDS["aws_session_token"]})
    p = subprocess.run([enclavectl_bin, "--enclave", d.tcp] + list(args),
                       input=input, capture_output=True, timeout=60, env=env)
    out = p.stdout.decode()
    try:
        return p.returncode, json.loads(out), p.stderr.decode()
    except ValueError:
        return p.returncode, out.strip(), p.stderr.decode()


def test_enclavectl_key_lifecycle(daemon, enclavectl_bin, tmp_path):
    (t1, k1) = genkey()
    (t2, k2) = genkey()
    f1, f2 = tmp_path / "t1", tmp_path / "t2"
    f1.write_text(t1)
    f2.write_text(t2)
    rc, out, err = _ctl(enclavectl_bin, daemon, "configure", "--tsk", f1,
                        "--key-id", "up")
    assert rc == 0 and out["key_id"] == "up", (out, err)
    rc, out, err = _ctl(enclavectl_bin, daemon, "configure", "--tsk", f2,
                        "--key-id", "down", "--encryption-context",
                        "tenant=acme")
    assert rc == 1 and "invalid_field" in err and "--kms native" in err, \
        (out, err)
    rc, out, err = _ctl(enclavectl_bin, daemon, "configure", "--tsk", f2,
                        "--key-id", "down")
    assert rc == 0, (out, err)
    rc, out, err = _ctl(enclavectl_bin, daemon, "process", "--key-id", "up",
                        "--result-key-id", "down", "--aad", "r1",
                        "--grant", make_grant(k1, k2),
                        input=seal(k1, b"hand over", "r1").encode())
    assert rc == 0, err
    assert open_sealed(k2, out, "r1") == b"hand over"
    rc, out, err = _ctl(enclavectl_bin, daemon, "health")
    assert rc == 0 and out["keys"] == [{"key_id": "up", "encryptions": 0},
                                       {"key_id": "down", "encryptions": 1}]
    rc, out, err = _ctl(enclavectl_bin, daemon, "forget", "--key-id", "up")
    assert rc == 0 and out == {"status": "ok", "msg": "forgotten"}, (out, err)
    rc, out, err = _ctl(enclavectl_bin, daemon, "forget", "--key-id", "up")
    assert rc == 1 and "unknown_key" in err
    rc, out, err = _ctl(enclavectl_bin, daemon, "forget")
    assert rc == 2 and "--key-id" in err
    rc, out, err = _ctl(enclavectl_bin, daemon, "configure", "--tsk", f1,
                        "--encryption-context", "novalue")
    assert rc == 2 and "KEY=VALUE" in err


def test_replaced_and_forgotten_keys_are_wiped_from_memory(start_daemon):
    """A key replaced or forgotten is wiped once its last request ends:
    neither its bytes nor its base64 are left anywhere in the daemon's
    memory, while a key still held is found (the scan can see keys)."""
    d = start_daemon()
    skip_memory_scan_under_asan(d.pid)
    (ta, ka), (tb, kb), (tc, kc) = genkey(), genkey(), genkey()
    assert d.configure(ta, key_id="x")["status"] == "ok"
    assert d.configure(tb, key_id="y")["status"] == "ok"
    for k, kid in ((ka, "x"), (kb, "y")):
        assert process(d, k, b"use it", key_id=kid)["status"] == "ok"
        # Naming the same key twice takes two references (and gives both
        # back: found by the request harness, it once kept the key alive).
        assert process(d, k, b"again", key_id=kid,
                       result_key_id=kid)["status"] == "ok"
    assert d.request({"type": "forget", "key_id": "x"})["status"] == "ok"
    assert d.configure(tc, key_id="y")["status"] == "ok"
    assert process(d, kc, b"use it", key_id="y")["status"] == "ok"
    time.sleep(0.2)
    memory = process_memory(d.pid)
    assert kc in memory
    for k, what in ((ka, "forgotten"), (kb, "replaced")):
        assert k not in memory, "the %s key is still in memory" % what
        assert base64.b64encode(k) not in memory, what
