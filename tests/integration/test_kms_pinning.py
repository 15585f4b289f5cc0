"""
enclaved --kms-key-id: the KMS keys a TSK may come from (docs/security.md
F27, issue 20). With pins, every KMS Decrypt names the key (kmstool
backend: --key-id KEY --encryption-algorithm SYMMETRIC_DEFAULT), so a TSK
the host made under a KMS key it controls is refused at configure; a
configure may only choose among the pins. The native backend's side
(KeyId in the body, the answer's KeyId checked) is in test_native_kms.py.
"""

import subprocess

import pytest

from helpers.harness import assert_error, genkey

UUID1 = "1234abcd-12ab-34cd-56ef-1234567890ab"
UUID2 = "2234abcd-12ab-34cd-56ef-1234567890ab"
ARN1 = "arn:aws:kms:ap-southeast-1:111122223333:key/" + UUID1
ARN2 = "arn:aws:kms:ap-southeast-1:111122223333:key/" + UUID2
#: A KMS key the host controls (another account).
HOST_ARN = "arn:aws:kms:ap-southeast-1:444455556666:key/" + UUID1


def _key_args(args):
    """The --key-id and --encryption-algorithm the tool was given."""
    opts = dict(zip(args[1::2], args[2::2]))
    return opts.get("--key-id"), opts.get("--encryption-algorithm")


def test_tsk_from_another_kms_key_is_refused(start_daemon):
    """The attack: the host makes a TSK under a KMS key it controls (whose
    policy allows this image) and configures it. With the pin the Decrypt
    names the pinned key and KMS (kmstool-dev) refuses the blob:
    IncorrectKeyException, HTTP 400. Before F27 it was configured."""
    d = start_daemon("--kms-key-id", ARN1)
    tsk, _ = genkey(key_id=HOST_ARN)
    resp = d.configure(tsk)
    assert_error(resp, "kms_decrypt_failed", "Got non-200 answer from KMS: 400")
    tsk, _ = genkey(key_id=ARN2)
    assert_error(d.configure(tsk), "kms_decrypt_failed")
    assert d.request({"type": "health"})["configured"] is False
    # The owner's TSK, made under the pinned key (by ARN or by its id).
    for made_with in (ARN1, UUID1):
        tsk, _ = genkey(key_id=made_with)
        assert d.configure(tsk)["status"] == "ok"


def test_the_pin_is_what_kms_receives(start_daemon, fake_kms):
    d = start_daemon("--kms-key-id", ARN1, kmstool=fake_kms.path)
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    assert _key_args(fake_kms.last_args()) == (ARN1, "SYMMETRIC_DEFAULT")
    # Naming the pin changes nothing.
    resp = d.configure(fake_kms.token("key1"), kms_key_id=ARN1)
    assert resp["status"] == "ok", resp
    assert _key_args(fake_kms.last_args()) == (ARN1, "SYMMETRIC_DEFAULT")


def test_a_key_outside_the_pins_is_refused_before_kms(start_daemon, fake_kms):
    d = start_daemon("--kms-key-id", ARN1, "--kms-key-id", UUID2,
                     kmstool=fake_kms.path)
    for other in (HOST_ARN, ARN2, UUID1):
        resp = d.configure(fake_kms.token("key1"), kms_key_id=other)
        assert_error(resp, "invalid_field", ["kms_key_id", "--kms-key-id"])
    # Several pins and none named: which one is the configure's to say.
    assert_error(d.configure(fake_kms.token("key1")), "missing_fields",
                 "kms_key_id")
    assert fake_kms.calls() == 0
    for pin in (ARN1, UUID2):
        assert d.configure(fake_kms.token("key1"),
                           kms_key_id=pin)["status"] == "ok"
        assert _key_args(fake_kms.last_args()) == (pin, "SYMMETRIC_DEFAULT")


def test_without_pins_a_named_key_is_passed_on(fake_daemon, fake_kms):
    assert fake_daemon.configure(fake_kms.token("key1"))["status"] == "ok"
    assert _key_args(fake_kms.last_args()) == (None, None)
    resp = fake_daemon.configure(fake_kms.token("key1"), kms_key_id=ARN2)
    assert resp["status"] == "ok", resp
    assert _key_args(fake_kms.last_args()) == (ARN2, "SYMMETRIC_DEFAULT")


def test_without_pins_kms_refuses_a_blob_of_another_key(daemon):
    tsk, _ = genkey(key_id=ARN2)
    assert_error(daemon.configure(tsk, kms_key_id=ARN1), "kms_decrypt_failed")
    assert daemon.configure(tsk, kms_key_id=UUID2)["status"] == "ok"


@pytest.mark.parametrize("bad", [
    "alias/tsk", "arn:aws:kms:ap-southeast-1:111122223333:alias/tsk",
    "--encryption-context", "tenant=acme", UUID1.upper(), ARN1 + "\n", 7,
    ["a"], "x" * 3000,
])
def test_bad_kms_key_id_in_configure(fake_daemon, fake_kms, bad):
    resp = fake_daemon.configure(fake_kms.token("key1"), kms_key_id=bad)
    assert_error(resp, "invalid_field", "kms_key_id")
    assert fake_kms.calls() == 0


@pytest.mark.parametrize("pin,why", [
    ("alias/tsk", "an alias cannot be checked"),
    ("arn:aws:kms:ap-southeast-1:111122223333:alias/tsk",
     "an alias ARN cannot be checked"),
    ("tsk", "not a KMS key ARN"),
    ("arn:aws:kms:ap-southeast-1:1111:key/" + UUID1, "account"),
])
def test_bad_pin_refused_at_startup(enclaved_bin, pin, why):
    """An alias cannot be checked against the key ARN KMS answers with."""
    p = subprocess.run([enclaved_bin, "--kms-key-id", pin, "--listen",
                        "tcp:127.0.0.1:0"], capture_output=True, timeout=20)
    assert p.returncode == 2, p
    err = p.stderr.decode()
    assert "--kms-key-id" in err and why in err, err


def test_at_most_16_pins(enclaved_bin):
    pins = []
    for i in range(17):
        pins += ["--kms-key-id", "%08x-12ab-34cd-56ef-1234567890ab" % i]
    p = subprocess.run([enclaved_bin] + pins + ["--listen", "tcp:127.0.0.1:0"],
                       capture_output=True, timeout=20)
    assert p.returncode == 2 and b"at most 16" in p.stderr, p


def test_pins_are_logged_at_startup(start_daemon):
    d = start_daemon("--kms-key-id", ARN1, "--kms-key-id", UUID2)
    assert "kms-key-id: " + ARN1 in d.log()
    assert "kms-key-id: " + UUID2 in d.log()


# --- the host's tools carry the key: enclavectl and the gateway ---------------

def _ctl(enclavectl_bin, d, *args):
    from helpers.harness import ENV_AWS, clean_env
    return subprocess.run([enclavectl_bin, "--enclave", d.tcp] + list(args),
                          capture_output=True, timeout=60,
                          env=clean_env(**ENV_AWS))


def test_enclavectl_configure_kms_key_id(start_daemon, enclavectl_bin,
                                         tmp_path):
    d = start_daemon("--kms-key-id", ARN1, "--kms-key-id", UUID2)
    tsk, _ = genkey(key_id=ARN1)
    f = tmp_path / "tsk.b64"
    f.write_text(tsk)
    p = _ctl(enclavectl_bin, d, "configure", "--tsk", str(f))
    assert p.returncode == 1 and b"missing_fields" in p.stderr, p
    p = _ctl(enclavectl_bin, d, "configure", "--tsk", str(f),
             "--kms-key-id", UUID2)
    assert p.returncode == 1 and b"kms_decrypt_failed" in p.stderr, p
    p = _ctl(enclavectl_bin, d, "configure", "--tsk", str(f),
             "--kms-key-id", ARN1)
    assert p.returncode == 0, p
    p = _ctl(enclavectl_bin, d, "configure", "--tsk", str(f),
             "--kms-key-id", "alias/tsk")
    assert p.returncode == 2 and b"alias" in p.stderr, p


def test_gateway_forwards_kms_key_id(start_daemon, fake_kms, gateways):
    d = start_daemon("--kms-key-id", ARN1, "--kms-key-id", UUID2,
                     kmstool=fake_kms.path)
    g = gateways([d.tcp], "--kms-key-id", UUID2, tsk=fake_kms.token("key1"))
    g.wait_healthy()
    assert _key_args(fake_kms.last_args()) == (UUID2, "SYMMETRIC_DEFAULT")
