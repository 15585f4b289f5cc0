"""scripts/build-enclave.sh against the docker and nitro-cli stand-ins."""
import json
import re

import pytest

from deploykit import PCR0, PCR1, PCR2, PCR8, git


def kmstool_dir(tmp):
    d = tmp / "kmstool"
    d.mkdir()
    (d / "kmstool_enclave_cli").write_bytes(b"\x7fELF fake tool")
    (d / "libnsm.so").write_bytes(b"\x7fELF fake libnsm")
    return d


def opt(argv, name):
    i = argv.index(name)
    return argv[i + 1]


def docker_build(sandbox):
    """The recorded `docker buildx build` call."""
    calls = [c for c in sandbox.calls("docker") if c["argv"][:2] == ["buildx", "build"]]
    assert len(calls) == 1, sandbox.calls("docker")
    return calls[0]


def test_builds_eif_and_measurements_from_head(sandbox, mini_repo):
    kt = kmstool_dir(sandbox.tmp)
    out = sandbox.tmp / "out"
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kmstool-dir", kt,
                    "--out-dir", out)
    assert r.returncode == 0, r.stderr
    # PCR0 is what the script prints on stdout, alone on its line.
    assert r.stdout.strip().splitlines()[-1] == "PCR0: " + PCR0

    docker = sandbox.calls("docker")
    # First whether buildx is there, then the build, then the image's id.
    assert docker[0]["argv"] == ["buildx", "version"]
    build = docker[1]["argv"]
    assert build[:2] == ["buildx", "build"]
    ctx = build[-1]
    assert opt(build, "--file") == ctx + "/enclave/Dockerfile"
    assert opt(build, "--platform") == "linux/amd64"
    assert "KMS_BACKEND=kmstool" in build
    assert "SOURCE_DATE_EPOCH=1700000000" in build     # HEAD's commit time
    assert "--provenance=false" in build
    short = git(mini_repo, "rev-parse", "--short=12", "HEAD").strip()
    tag = "confidential-enclave:" + short
    assert opt(build, "--output") == "type=docker,name=%s,rewrite-timestamp=true" % tag
    assert opt(build, "--build-context") == "kmstool=%s" % kt
    # The context is exactly the committed tree.
    committed = sorted(git(mini_repo, "ls-tree", "-r", "--name-only", "HEAD").split())
    assert sorted(docker[1]["context_files"]) == committed
    assert docker[2]["argv"][:2] == ["image", "inspect"]

    nitro = sandbox.calls("nitro-cli")
    assert len(nitro) == 1
    assert nitro[0]["argv"] == ["build-enclave", "--docker-uri", tag,
                                "--output-file", str(out / "enclave.eif.tmp")]

    assert (out / "enclave.eif").read_bytes().startswith(b"EIF-STANDIN")
    assert not list(out.glob("*.tmp"))
    m = json.loads((out / "measurements.json").read_text())
    assert m["Measurements"]["PCR0"] == PCR0
    assert m["Measurements"]["PCR1"] == PCR1
    assert m["Measurements"]["PCR2"] == PCR2
    assert m["Measurements"]["HashAlgorithm"].startswith("Sha384")
    b = m["Build"]
    assert b["git_commit"] == git(mini_repo, "rev-parse", "HEAD").strip()
    assert b["git_dirty"] is False
    assert b["kms_backend"] == "kmstool"
    assert b["source"] == "head"
    assert b["source_date_epoch"] == 1700000000
    assert re.fullmatch(r"[0-9a-f]{64}", b["eif_sha256"])
    assert b["eif_bytes"] == (out / "enclave.eif").stat().st_size
    assert set(b["kmstool_sha256"]) == {"kmstool_enclave_cli", "libnsm.so"}


def test_head_build_leaves_out_uncommitted_and_ignored_files(sandbox, mini_repo):
    (mini_repo / "src/enclave/new.c").write_text("/* not committed */\n")
    (mini_repo / "key.secret").write_text("ignored\n")
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend",
                    "native", "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 0, r.stderr
    assert "uncommitted changes" in r.stderr
    files = docker_build(sandbox)["context_files"]
    assert "src/enclave/new.c" not in files
    assert "key.secret" not in files
    m = json.loads((sandbox.tmp / "out/measurements.json").read_text())
    assert m["Build"]["git_dirty"] is True


def test_worktree_build_takes_untracked_but_not_ignored(sandbox, mini_repo):
    (mini_repo / "src/enclave/new.c").write_text("/* work in progress */\n")
    (mini_repo / "key.secret").write_text("ignored\n")
    (mini_repo / "build").mkdir()
    (mini_repo / "build/enclaved").write_text("old build output\n")
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend",
                    "native", "--source", "worktree", "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 0, r.stderr
    assert "WARNING" in r.stderr and "match no commit" in r.stderr
    files = docker_build(sandbox)["context_files"]
    assert "src/enclave/new.c" in files
    assert "key.secret" not in files
    assert not any(f.startswith(("build/", ".git/")) for f in files)


def test_native_backend_needs_no_kmstool(sandbox, mini_repo):
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend", "native",
                    "--tag", "enclave:test", "--source-date-epoch", "42",
                    "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 0, r.stderr
    build = docker_build(sandbox)["argv"]
    assert "KMS_BACKEND=native" in build
    assert "SOURCE_DATE_EPOCH=42" in build
    assert "--build-context" not in build
    assert opt(build, "--output") == "type=docker,name=enclave:test,rewrite-timestamp=true"
    m = json.loads((sandbox.tmp / "out/measurements.json").read_text())
    assert "kmstool_sha256" not in m["Build"]


def test_platform_and_old_docker(sandbox, mini_repo):
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend", "native",
                    "--platform", "linux/arm64", "--no-rewrite-timestamp", "--tag", "e:t",
                    "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 0, r.stderr
    build = docker_build(sandbox)["argv"]
    assert opt(build, "--platform") == "linux/arm64"
    assert opt(build, "--output") == "type=docker,name=e:t"


def test_signed_eif_records_pcr8(sandbox, mini_repo):
    cert = sandbox.tmp / "cert.pem"
    key = sandbox.tmp / "key.pem"
    cert.write_text("cert")
    key.write_text("key")
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend", "native",
                    "--signing-certificate", cert, "--private-key", key,
                    "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 0, r.stderr
    argv = sandbox.calls("nitro-cli")[0]["argv"]
    assert opt(argv, "--signing-certificate") == str(cert)
    assert opt(argv, "--private-key") == str(key)
    m = json.loads((sandbox.tmp / "out/measurements.json").read_text())
    assert m["Measurements"]["PCR8"] == PCR8


def test_docker_without_buildx_is_said_plainly(sandbox, mini_repo):
    """A docker client lacking the buildx plugin made docker say only
    "unknown flag: --file" (issue 25 item 7): now the script names what is
    missing, and builds nothing."""
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker",
                    "--kms-backend", "native", "--out-dir", sandbox.tmp / "out",
                    env={"STANDIN_DOCKER_NO_BUILDX": "1"})
    assert r.returncode == 1, r.stderr
    assert "docker buildx is needed" in r.stderr and "--builder native" in r.stderr
    assert "unknown flag" not in r.stderr
    assert [c["argv"][:2] for c in sandbox.calls("docker")] == [["buildx", "version"]]
    assert sandbox.calls("nitro-cli") == []


def test_missing_kmstool_stops_before_docker(sandbox, mini_repo):
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kmstool-dir",
                    sandbox.tmp / "nowhere", "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 1
    assert "kmstool_enclave_cli is missing" in r.stderr
    assert sandbox.calls() == []


@pytest.mark.parametrize("failing,expect_nitro", [("docker buildx", 0),
                                                  ("nitro-cli build-enclave", 1)])
def test_failure_keeps_previous_pair(sandbox, mini_repo, failing, expect_nitro):
    out = sandbox.tmp / "out"
    out.mkdir()
    (out / "enclave.eif").write_text("previous eif")
    (out / "measurements.json").write_text('{"previous": true}')
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend", "native",
                    "--out-dir", out, env={"STANDIN_FAIL": failing})
    assert r.returncode == 1
    assert "failed" in r.stderr
    assert "PCR0" not in r.stdout
    assert len(sandbox.calls("nitro-cli")) == expect_nitro
    assert (out / "enclave.eif").read_text() == "previous eif"
    assert (out / "measurements.json").read_text() == '{"previous": true}'
    assert sorted(p.name for p in out.iterdir()) == ["enclave.eif", "measurements.json"]


def test_garbled_measurements_are_refused(sandbox, mini_repo):
    out = sandbox.tmp / "out"
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend", "native",
                    "--out-dir", out, env={"STANDIN_PCR0": "not-a-hash"})
    assert r.returncode == 1
    assert "no valid PCR0" in r.stderr
    assert not (out / "measurements.json").exists()
    assert not (out / "enclave.eif").exists()


@pytest.mark.parametrize("args", [["--kms-backend", "openssl"], ["--source", "branch"],
                                  ["--signing-certificate", "x.pem"],
                                  ["--source-date-epoch", "yesterday"], ["--bogus"],
                                  ["--platform", "windows/amd64"],
                                  ["--out-dir"]])
def test_bad_usage_exits_2(sandbox, mini_repo, args):
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", *args)
    assert r.returncode == 2, r.stderr
    assert "--help" in r.stderr
    assert sandbox.calls() == []


PIN_ARN = ("arn:aws:kms:ap-southeast-1:111122223333:key/"
           "1234abcd-12ab-34cd-56ef-1234567890ab")
PIN_ID = "mrk-1234abcd12ab34cd56ef1234567890ab"


def test_kms_key_pins_go_into_the_measured_cmd(sandbox, mini_repo):
    """F27: --kms-key-id is written into both runtime stages' CMD (so it is
    part of PCR0) and recorded in measurements.json."""
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend",
                    "native", "--kms-key-id", PIN_ARN, "--kms-key-id", PIN_ID,
                    "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 0, r.stderr
    build = docker_build(sandbox)
    # two stages, each with both pins, in order
    assert build["dockerfile_kms_key_ids"] == [PIN_ARN, PIN_ID] * 2
    m = json.loads((sandbox.tmp / "out/measurements.json").read_text())
    assert m["Build"]["kms_key_ids"] == [PIN_ARN, PIN_ID]
    # the committed Dockerfile is untouched
    assert "--kms-key-id" not in (mini_repo / "enclave/Dockerfile").read_text()


def test_without_pins_the_cmd_is_unchanged(sandbox, mini_repo):
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend",
                    "native", "--out-dir", sandbox.tmp / "out")
    assert r.returncode == 0, r.stderr
    assert docker_build(sandbox)["dockerfile_kms_key_ids"] == []
    m = json.loads((sandbox.tmp / "out/measurements.json").read_text())
    assert m["Build"]["kms_key_ids"] == []


@pytest.mark.parametrize("pin,why", [
    ("alias/confidential-enclave-tsk", "alias"),
    ("arn:aws:kms:ap-southeast-1:111122223333:alias/tsk", "alias"),
    ("1234ABCD-12ab-34cd-56ef-1234567890ab", "not a KMS key ARN"),
    ('x", "--no-sandbox', "not a KMS key ARN"),
])
def test_bad_pin_is_usage_error(sandbox, mini_repo, pin, why):
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "docker", "--kms-backend",
                    "native", "--kms-key-id", pin)
    assert r.returncode == 2 and why in r.stderr, r.stderr
    assert sandbox.calls("docker") == []


# --- the native builder (default): make eif, checked by nitro-cli describe-eif

def native_repo(sandbox, mini_repo):
    """mini_repo whose Makefile hands over the real build's binaries, and
    stand-in blobs (the EIF's metadata says so)."""
    import os
    import subprocess
    from deploykit import REPO
    build = os.environ.get("BUILD_DIR", str(REPO / "build"))
    for b in ("enclaved", "enclave-eif", "enclavectl"):
        assert os.access(os.path.join(build, b), os.X_OK), "make all first"
    (mini_repo / "Makefile").write_text(
        "build/%%:\n\t@mkdir -p build && cp %s/$* build/$*\n" % build)
    git(mini_repo, "add", "-A")
    subprocess.run(["git", "-C", str(mini_repo), "-c", "user.name=t", "-c",
                    "user.email=t@example.com", "commit", "-q", "-m", "native"],
                   check=True, env=dict(os.environ, GIT_AUTHOR_DATE="@1700000000 +0000",
                                        GIT_COMMITTER_DATE="@1700000000 +0000"))
    blobs = sandbox.tmp / "blobs"
    blobs.mkdir()
    for name in ("bzImage", "cmdline", "init", "nsm.ko"):
        (blobs / name).write_bytes(b"stand-in " + name.encode() + b"\n")
    return {"NITRO_BLOBS": str(blobs), "NITRO_BLOBS_KIND": "stand-in"}


def test_native_builder_is_the_default_and_nitro_cli_agrees(sandbox, mini_repo):
    env = native_repo(sandbox, mini_repo)
    out = sandbox.tmp / "out"
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--kms-backend", "native",
                    "--kms-key-id", PIN_ARN, "--out-dir", out, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert sandbox.calls("docker") == []
    (call,) = sandbox.calls("nitro-cli")
    assert call["argv"] == ["describe-eif", "--eif-path", call["argv"][2]]
    m = json.loads((out / "measurements.json").read_text())
    assert r.stdout.strip().splitlines()[-1] == "PCR0: " + m["Measurements"]["PCR0"]
    b = m["Build"]
    assert b["builder"] == "native" and b["blobs"] == "stand-in"
    assert b["git_commit"] == git(mini_repo, "rev-parse", "HEAD").strip()
    assert b["source_date_epoch"] == 1700000000 and b["kms_key_ids"] == [PIN_ARN]
    # the pin is in the measured cmd, after --region and its value
    data = (out / "enclave.eif").read_bytes()
    assert b"--region\nap-southeast-1\n--kms-key-id\n" + PIN_ARN.encode() + b"\n" in data


def test_native_builder_stops_when_nitro_cli_disagrees(sandbox, mini_repo):
    env = native_repo(sandbox, mini_repo)
    env["STANDIN_DESCRIBE_PCR1"] = "ee" * 48
    out = sandbox.tmp / "out"
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--kms-backend", "native",
                    "--out-dir", out, env=env, timeout=300)
    assert r.returncode == 1
    assert "PCR1: ours" in r.stderr and "disagrees" in r.stderr
    assert "PCR0:" not in r.stderr.replace("PCR0: ours", "")
    assert not (out / "enclave.eif").exists() and not (out / "measurements.json").exists()


def test_native_builder_refuses_what_only_docker_does(sandbox, mini_repo):
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--signing-certificate", "c",
                    "--private-key", "k")
    assert r.returncode == 2 and "--builder docker" in r.stderr
    r = sandbox.run(mini_repo / "scripts/build-enclave.sh", "--builder", "podman")
    assert r.returncode == 2 and "native or docker" in r.stderr
