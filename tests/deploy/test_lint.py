"""Every deploy script: shellcheck clean, strict mode, --help, bad usage."""
import shutil
import subprocess

import pytest

from deploykit import REPO

SCRIPTS = sorted(list((REPO / "scripts").glob("*.sh")) + [REPO / "enclave/stage-rootfs.sh"])
DEPLOY = ["build-enclave.sh", "run-enclave.sh", "setup-kms.sh", "reproducible-check.sh",
          "stage-rootfs.sh"]
OURS = [p for p in SCRIPTS if p.name in DEPLOY]


def test_the_kit_is_all_there():
    assert sorted(p.name for p in OURS) == sorted(DEPLOY)


@pytest.mark.parametrize("script", OURS, ids=lambda p: p.name)
def test_shellcheck_clean(script):
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed")
    r = subprocess.run(["shellcheck", "--severity=style", "--external-sources", str(script)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("script", OURS, ids=lambda p: p.name)
def test_strict_mode_and_executable(script):
    text = script.read_text()
    assert text.startswith("#!/usr/bin/env bash\n") or text.startswith("#!/bin/bash\n")
    assert "\nset -euo pipefail\n" in text
    assert script.stat().st_mode & 0o111


@pytest.mark.parametrize("script", OURS, ids=lambda p: p.name)
def test_help(script):
    r = subprocess.run([str(script), "--help"], capture_output=True, text=True)
    assert r.returncode == 0
    assert "usage:" in r.stdout.lower()
    assert r.stdout.count("\n") > 5
    assert "set -euo" not in r.stdout


@pytest.mark.parametrize("script", OURS, ids=lambda p: p.name)
def test_unknown_option(script):
    r = subprocess.run([str(script), "--no-such-option"], capture_output=True, text=True)
    assert r.returncode in (1, 2)
    assert "no-such-option" in r.stderr
