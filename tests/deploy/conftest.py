"""Fixtures for the deploy kit's tests; helpers live in deploykit.py."""
import os
import shutil
import subprocess

import pytest

from deploykit import REPO, Sandbox, git


@pytest.fixture
def sandbox(tmp_path):
    return Sandbox(tmp_path)


@pytest.fixture
def mini_repo(tmp_path):
    """A small git repository holding the deploy kit and a stub daemon tree,
    so the build script's HEAD / work-tree handling is tested independently
    of the state of the real checkout."""
    repo = tmp_path / "repo"
    for rel in ("scripts/build-enclave.sh", "scripts/run-enclave.sh",
                "scripts/setup-kms.sh", "enclave/Dockerfile",
                "enclave/Dockerfile.dockerignore", "enclave/stage-rootfs.sh",
                "scripts/make-eif.sh", "enclave/cmd-native", "enclave/cmd-kmstool",
                "enclave/env"):
        dst = repo / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / rel, dst)
    (repo / "Makefile").write_text("all:\n\t@true\n")
    (repo / "src/enclave").mkdir(parents=True)
    (repo / "src/enclave/main.c").write_text("int main(void) { return 0; }\n")
    (repo / "include").mkdir()
    (repo / "include/x.h").write_text("/* x */\n")
    (repo / ".gitignore").write_text("/build/\n*.secret\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    env = dict(os.environ, GIT_AUTHOR_DATE="@1700000000 +0000",
               GIT_COMMITTER_DATE="@1700000000 +0000")
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c",
                    "user.email=t@example.com", "commit", "-q", "-m", "init"],
                   check=True, env=env)
    return repo
