"""
Adversarial tests: tampered, swapped and replayed ciphertexts, wrong aad,
bad key ids and forget under load (issue 4; the threat model is
docs/security.md; the daemons, fixtures and the check after every test:
helpers/adversary.py).
"""

import os
import threading
import time

import pytest

from helpers.harness import CREDS, assert_error, open_sealed, seal
from helpers.adversary import (  # fixtures and helpers
    dev_key_mod,
    flip,
    main,
    main_holder,
    still_serving,
    workdir)


# --- tampering, aad, replay, swapping ---------------------------------------------------

@pytest.mark.parametrize("where", ["nonce", "body", "tag-first", "tag-last"])
def test_tampered(main, where):
    ct = seal(main.key, b"sixteen byte msg", "wf")
    n = len(bytes.fromhex(ct))
    idx = {"nonce": 0, "body": 12, "tag-first": n - 16, "tag-last": n - 1}[where]
    assert_error(main.process(flip(ct, idx), aad="wf"), "decrypt_failed")


def test_truncated_tag(main):
    ct = seal(main.key, b"payload")
    assert_error(main.process(ct[:-2]), "decrypt_failed")


def test_wrong_key(main):
    assert_error(main.process(seal(os.urandom(32), b"x")), "decrypt_failed")


@pytest.mark.parametrize("sealed_aad,sent_aad", [
    ("workflow-A", "workflow-B"),
    ("workflow-A", None),
    (None, "workflow-A"),
    ("workflow-A", "workflow-a"),
    ("workflow-A", "workflow-A "),
])
def test_wrong_aad(main, sealed_aad, sent_aad):
    ct = seal(main.key, b"state of A", sealed_aad)
    assert_error(main.process(ct, aad=sent_aad), "decrypt_failed")


def test_swap_ciphertexts_between_workflows(main):
    # The orchestrator hands workflow B's request workflow A's ciphertext.
    a = seal(main.key, b"A's data", "tenant-1/workflow-A/step-3")
    b = seal(main.key, b"B's data", "tenant-1/workflow-B/step-3")
    assert_error(main.process(a, aad="tenant-1/workflow-B/step-3"), "decrypt_failed")
    assert_error(main.process(b, aad="tenant-1/workflow-A/step-3"), "decrypt_failed")
    # And a result of A cannot be fed back as B's input either.
    ra = main.process(a, aad="tenant-1/workflow-A/step-3")["result"]
    assert_error(main.process(ra, aad="tenant-1/workflow-B/step-3"), "decrypt_failed")


def test_swap_steps_needs_step_in_aad(main):
    # Reordering within a workflow is only caught if the step is in aad.
    s3 = seal(main.key, b"output of step 3", "wf-A/step-3")
    assert_error(main.process(s3, aad="wf-A/step-4"), "decrypt_failed")


def test_replay_is_answered_with_fresh_nonces(main):
    # The daemon keeps no replay state (documented in docs/security.md):
    # the same request twice is answered twice, under different nonces.
    ct = seal(main.key, b"replayed", "wf")
    r1 = main.process(ct, aad="wf")["result"]
    r2 = main.process(ct, aad="wf")["result"]
    assert r1[:24] != r2[:24]
    assert open_sealed(main.key, r1, "wf") == open_sealed(main.key, r2, "wf") == b"replayed"


# --- key ids and forget (issue 13) ---------------------------------------------

BAD_KEY_IDS = ["", "x" * 65, "x" * 4000, "a b", "a/b", "../default", "caf\u00e9",
               "a\u0000b", "default\u0000", "\u0000", "a\nb", "key;rm -rf",
               1, -1, 1.5, True, False, [], {}, ["default"], {"a": "b"}]


@pytest.mark.parametrize("bad", BAD_KEY_IDS, ids=repr)
def test_bad_key_ids_refused_everywhere(main, bad):
    """A key id that is not 1..64 of [A-Za-z0-9._-] is invalid_field in
    configure, process (key_id and result_key_id) and forget, in both
    framings; none reaches the keystore or KMS, the key in use stays."""
    tsk = "QUJD"
    for framing in ("bare", "len"):
        with main.connect() as c:
            cfg = dict({"type": "configure", "encrypted_tsk": tsk,
                        "key_id": bad}, **CREDS)
            assert_error(c.request(cfg, framing), "invalid_field", "key_id")
            for field in ("key_id", "result_key_id"):
                assert_error(c.request({"type": "process", field: bad,
                                        "ciphertext": seal(main.key, b"x")},
                                       framing), "invalid_field", field)
            assert_error(c.request({"type": "forget", "key_id": bad}, framing),
                         "invalid_field", "key_id")
    resp = main.process(seal(main.key, b"still mine"))
    assert open_sealed(main.key, resp["result"]) == b"still mine"
    health = main.request({"type": "health"})
    assert [k["key_id"] for k in health["keys"]] == ["default"]


def test_key_id_with_raw_control_bytes_is_invalid_json(main):
    for raw in (b'{"type":"forget","key_id":"a\x00b"}',
                b'{"type":"forget","key_id":"a\x01b"}'):
        with main.connect() as c:
            c.send_raw(raw)
            assert_error(c.recv_bare(), "invalid_json")


def test_forget_of_a_key_in_use_under_load(main, dev_key_mod):
    """Several clients process under a key while it is forgotten and
    configured again, over and over: every answer is a result that opens
    under that key, or unknown_key; nothing else, no crash, no stall, and
    the default key is never touched."""
    tsk, key = dev_key_mod
    assert main.configure(tsk, key_id="adv-inuse")["status"] == "ok"
    stop = threading.Event()
    answers, lock = [], threading.Lock()

    def client():
        with main.connect() as c:
            while not stop.is_set():
                pt = os.urandom(64)
                r = c.request({"type": "process", "key_id": "adv-inuse",
                               "ciphertext": seal(key, pt)})
                with lock:
                    answers.append((pt, r))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(10):
            time.sleep(0.03)
            assert main.request({"type": "forget", "key_id": "adv-inuse"}) == \
                {"status": "ok", "msg": "forgotten"}
            time.sleep(0.03)
            assert main.configure(tsk, key_id="adv-inuse")["status"] == "ok"
    finally:
        stop.set()
        for t in threads:
            t.join(10)
        main.request({"type": "forget", "key_id": "adv-inuse"})
    kinds = {"ok": 0, "unknown_key": 0}
    for pt, r in answers:
        if r["status"] == "ok":
            assert open_sealed(key, r["result"]) == pt
            kinds["ok"] += 1
        else:
            assert_error(r, "unknown_key", "adv-inuse")
            kinds["unknown_key"] += 1
    assert kinds["ok"] > 20 and kinds["unknown_key"] > 0, kinds
    resp = main.process(seal(main.key, b"default untouched"))
    assert open_sealed(main.key, resp["result"]) == b"default untouched"
