"""scripts/make-eif.sh KMS_KEY_IDS: the KMS key pins (enclaved --kms-key-id,
docs/security.md F27) measured into the EIF's command, with stand-in AWS
blobs (the EIF does not boot; its bytes and PCRs are what matter here)."""
import json
import os
import subprocess

import pytest

from deploykit import REPO

BUILD = os.environ.get("BUILD_DIR", str(REPO / "build"))
PIN_ARN = ("arn:aws:kms:ap-southeast-1:111122223333:key/"
           "1234abcd-12ab-34cd-56ef-1234567890ab")
PIN_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"


@pytest.fixture
def blobs(tmp_path):
    for tool in ("enclaved", "enclave-eif", "enclavectl"):
        if not os.access(os.path.join(BUILD, tool), os.X_OK):
            pytest.skip("%s/%s is not built" % (BUILD, tool))
    d = tmp_path / "blobs"
    d.mkdir()
    for name in ("bzImage", "Image", "cmdline", "init", "nsm.ko"):
        (d / name).write_text("stand-in %s\n" % name)
    return d


def make_eif(blobs, out, pins=None):
    env = dict(os.environ, NITRO_BLOBS=str(blobs), NITRO_BLOBS_KIND="stand-in",
               OUT_DIR=str(out), KMS_BACKEND="native")
    if pins is not None:
        env["KMS_KEY_IDS"] = " ".join(pins)
    return subprocess.run([str(REPO / "scripts/make-eif.sh"), BUILD], env=env,
                          capture_output=True, text=True, timeout=300)


def test_pins_are_measured(blobs, tmp_path):
    r = make_eif(blobs, tmp_path / "plain")
    assert r.returncode == 0, r.stderr
    r = make_eif(blobs, tmp_path / "pinned", [PIN_ARN, PIN_ID])
    assert r.returncode == 0, r.stderr
    plain = json.loads((tmp_path / "plain/measurements.json").read_text())
    pinned = json.loads((tmp_path / "pinned/measurements.json").read_text())
    assert plain["Build"]["kms_key_ids"] == []
    assert pinned["Build"]["kms_key_ids"] == [PIN_ARN, PIN_ID]
    # The pins are in the image: another PCR0 (and PCR2, the ramdisk).
    assert pinned["Measurements"]["PCR0"] != plain["Measurements"]["PCR0"]
    data = (tmp_path / "pinned/enclave.eif").read_bytes()
    want = ("--region\nap-southeast-1\n--kms-key-id\n%s\n--kms-key-id\n%s\n"
            % (PIN_ARN, PIN_ID)).encode()
    assert want in data
    # (enclaved's own help text names the option; the command does not)
    assert b"ap-southeast-1\n--kms-key-id\n" not in \
        (tmp_path / "plain/enclave.eif").read_bytes()


@pytest.mark.parametrize("pin", ["alias/tsk", "tsk", PIN_ID.upper()])
def test_a_pin_enclaved_refuses_stops_the_build(blobs, tmp_path, pin):
    r = make_eif(blobs, tmp_path / "out", [pin])
    assert r.returncode == 1, r
    assert "KMS_KEY_IDS" in r.stderr and "--kms-key-id" in r.stderr
    assert not (tmp_path / "out/enclave.eif").exists()
