"""The same tree builds bit-identical binaries in two different directories.

scripts/reproducible-check.sh copies the tree twice (different directory
names and lengths), runs `make clean && make TARGET` in each with the same
SOURCE_DATE_EPOCH and compares SHA-256 hashes. The image build always
compiles in /src, but an operator or auditor rebuilding elsewhere must get
the same enclaved, so build paths must not reach the binary.
"""
import subprocess

import pytest

from deploykit import REPO

SCRIPT = REPO / "scripts/reproducible-check.sh"


def check(*targets):
    return subprocess.run([str(SCRIPT), "--source-date-epoch", "1700000000", *targets],
                          capture_output=True, text=True, timeout=900)


def test_binaries_are_reproducible():
    r = check("build/enclaved", "build/enclavectl", "build/kmstool-dev")
    if r.returncode == 3 and not (REPO / "src/enclave/main.c").exists():
        pytest.skip("make failed and src/enclave/main.c does not exist: the daemon is "
                    "not written yet")
    assert r.returncode != 3, "make failed:\n" + r.stderr
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.count("same ") == 3


def test_eif_is_reproducible_in_two_folders(tmp_path):
    """make eif in two copies of the tree (other path, later, another
    TMPDIR and umask) writes the same enclave.eif, byte for byte."""
    import os
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    for name in ("bzImage", "cmdline", "init", "nsm.ko"):
        (blobs / name).write_bytes(b"stand-in " + name.encode() + b"\n")
    env = dict(os.environ, NITRO_BLOBS=str(blobs), NITRO_BLOBS_KIND="stand-in")
    r = subprocess.run([str(SCRIPT), "--source-date-epoch", "1700000000", "--eif",
                        "build/enclaved"], capture_output=True, text=True,
                       timeout=1200, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "same " in r.stdout and "build/enclave.eif" in r.stdout
    assert "DIFFERS" not in r.stdout
