"""enclave/Dockerfile, read statically: pins, stages, runtime contents, CMD.

No Docker engine here, so the build itself is not run; what the runtime
stage receives is tested by running enclave/stage-rootfs.sh (test_rootfs.py).
"""
import json
import re

from deploykit import REPO

DOCKERFILE = REPO / "enclave/Dockerfile"


def instructions():
    """(instruction, argument) pairs, continuation lines joined."""
    out, cur = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        cur += line.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        word, _, rest = cur.strip().partition(" ")
        out.append((word.upper(), rest.strip()))
        cur = ""
    return out


def stages():
    """{stage name: [(instruction, argument), ...]} plus the FROM of each."""
    result, froms, name = {}, {}, None
    for ins, arg in instructions():
        if ins == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", arg, re.I)
            name = m.group(2) or "<final>"
            froms[name] = m.group(1)
            result[name] = []
        elif name:
            result[name].append((ins, arg))
    return result, froms


def global_args():
    args = {}
    for ins, arg in instructions():
        if ins == "FROM":
            break
        if ins == "ARG":
            k, _, v = arg.partition("=")
            args[k] = v
    return args


def test_base_image_pinned_by_digest():
    base = global_args()["DEBIAN_IMAGE"]
    assert re.fullmatch(r"docker\.io/library/debian:bookworm-slim@sha256:[0-9a-f]{64}", base)
    assert re.fullmatch(r"\d{8}T\d{6}Z", global_args()["DEBIAN_SNAPSHOT"])
    _, froms = stages()
    # Every stage starts from the pinned base, scratch or another stage.
    for name, src in froms.items():
        assert src in ("${DEBIAN_IMAGE}", "scratch", "image-${KMS_BACKEND}") or src in froms, (name, src)
    # How to refresh the pins is written next to them.
    text = DOCKERFILE.read_text()
    assert "imagetools inspect" in text and "snapshot.debian.org" in text


def test_build_stage_builds_enclaved_from_source_with_make():
    st, froms = stages()
    assert froms["build"] == "${DEBIAN_IMAGE}"
    runs = " ".join(a for i, a in st["build"] if i == "RUN")
    assert "make clean && make" in runs and "build/enclaved" in runs
    copies = [a for i, a in st["build"] if i == "COPY"]
    assert "Makefile ./" in copies and "src/ src/" in copies and "include/ include/" in copies
    # The packages the Makefile links against are installed.
    makefile = (REPO / "Makefile").read_text()
    pkgs = re.search(r"^PKGS\s*:=\s*(.*)$", makefile, re.M).group(1).split()
    deb = {"libssl": "libssl-dev", "libcrypto": "libssl-dev", "libcjson": "libcjson-dev",
           "libcbor": "libcbor-dev", "libseccomp": "libseccomp-dev"}
    for p in pkgs:
        assert deb.get(p, p + "-dev") in runs, "the build stage does not install %s" % p


def test_runtime_images_hold_only_the_staged_rootfs():
    st, froms = stages()
    for backend in ("kmstool", "native"):
        name = "image-" + backend
        assert froms[name] == "scratch"
        body = st[name]
        assert [i for i, _ in body] == ["COPY", "CMD"], body
        assert body[0][1] == "--from=rootfs-%s /rootfs/ /" % backend
    # The rootfs stages only run the staging script (no shell, busybox or
    # package manager is copied in; stage-rootfs.sh is tested in test_rootfs.py).
    assert [a for i, a in st["rootfs-native"] if i == "RUN"] == ["stage-rootfs /rootfs build/enclaved"]
    assert [a for i, a in st["rootfs-kmstool"] if i == "RUN"] == [
        "stage-rootfs --kmstool /opt/kmstool /rootfs build/enclaved"]
    assert ("COPY", "--from=kmstool kmstool_enclave_cli libnsm.so /opt/kmstool/") in st["rootfs-kmstool"]
    # The default image is the one KMS_BACKEND names.
    assert froms["<final>"] == "image-${KMS_BACKEND}"
    assert st["<final>"] == []
    assert global_args()["KMS_BACKEND"] == "kmstool"


def cmd(stage):
    st, _ = stages()
    (arg,) = [a for i, a in st[stage] if i == "CMD"]
    return json.loads(arg)          # exec form: no shell needed to start it


def pairs(argv):
    return {argv[i]: argv[i + 1] for i in range(1, len(argv) - 1, 2)}


def test_cmd_is_the_daemon_with_production_options():
    for stage, backend in (("image-kmstool", "kmstool"), ("image-native", "native")):
        argv = cmd(stage)
        assert argv[0] == "/usr/bin/enclaved"
        assert len(argv) % 2 == 1            # every option has its value
        o = pairs(argv)
        assert o["--listen"] == "vsock:5000"
        assert o["--kms"] == backend
        assert o["--proxy-port"] == "8000"
        assert o["--region"] == "ap-southeast-1"
        assert o["--log-level"] == "info"
        for k in ("--max-message", "--read-timeout", "--idle-timeout", "--max-connections",
                  "--kms-timeout"):
            assert o[k].isdigit()
    assert pairs(cmd("image-kmstool"))["--kmstool"] == "/usr/bin/kmstool_enclave_cli"
    assert "--kmstool" not in pairs(cmd("image-native"))


def test_cmd_equals_the_native_builders_description():
    """enclave/cmd-<flavour> is what `make eif` measures as the ramdisk's
    `cmd` (one argument a line, as nitro-cli writes it); the Dockerfile's
    CMD must be the same argv, so both builders measure one command."""
    for flavour in ("kmstool", "native"):
        text = (REPO / "enclave" / ("cmd-" + flavour)).read_text()
        assert text.endswith("\n") and "\n\n" not in text
        assert text.splitlines() == cmd("image-" + flavour), flavour
    env = (REPO / "enclave/env").read_text().splitlines()
    assert env == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


def test_cmd_options_exist_in_the_daemon():
    # Every option the image passes is one enclaved's option table knows.
    src = "".join(p.read_text() for p in (REPO / "src/enclave").glob("options*.c"))
    known = set(re.findall(r'\{\s*"([a-z-]+)"\s*,\s*(?:required|no)_argument', src))
    if not known:
        import pytest
        pytest.skip("src/enclave/options.c has no long option table yet")
    for stage in ("image-kmstool", "image-native"):
        for opt in pairs(cmd(stage)):
            assert opt[2:] in known, "%s passes %s, which enclaved does not know" % (stage, opt)


def test_dockerignore_admits_only_the_sources():
    lines = [l.strip() for l in (REPO / "enclave/Dockerfile.dockerignore").read_text().splitlines()
             if l.strip() and not l.startswith("#")]
    assert lines[0] == "*"
    assert set(lines[1:]) == {"!Makefile", "!include/", "!src/", "!enclave/stage-rootfs.sh"}
    # Everything the Dockerfile copies from the context is admitted.
    st, _ = stages()
    for ins, arg in st["build"]:
        if ins == "COPY" and not arg.startswith("--from"):
            src = arg.split()[0]
            assert "!" + src in lines or "!" + src.rstrip("/") + "/" in lines, src


def enclaved_binary():
    import os
    import pytest
    path = os.path.join(os.environ.get("BUILD_DIR", str(REPO / "build")), "enclaved")
    if not os.access(path, os.X_OK):
        pytest.skip("no built enclaved at %s (run make)" % path)
    return path


def start_with_cmd(stage):
    """Start the built daemon with the image's CMD, listening on TCP instead
    of vsock; return (started, output)."""
    import socket
    import subprocess
    import time
    argv = cmd(stage)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    argv[argv.index("--listen") + 1] = "tcp:127.0.0.1:%d" % port
    p = subprocess.Popen([enclaved_binary()] + argv[1:], stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 10
    while time.time() < deadline and p.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    started = p.poll() is None
    p.terminate()
    try:
        _, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    return started, err


def test_daemon_starts_with_the_kmstool_image_cmd():
    started, err = start_with_cmd("image-kmstool")
    assert started, err
    assert "listening on tcp:127.0.0.1:" in err


def test_daemon_starts_with_the_native_image_cmd():
    import pytest
    started, err = start_with_cmd("image-native")
    if not started and "unknown backend 'native'" in err:
        pytest.xfail("this enclaved has no native KMS backend yet (issue 7)")
    assert started, err
