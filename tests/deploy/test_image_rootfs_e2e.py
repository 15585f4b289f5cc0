"""The enclave image's filesystem, alone, serves a request.

What the Dockerfile's runtime stage holds is what enclave/stage-rootfs.sh
stages. Here it is staged from the built enclaved, with kmstool-dev standing
in for AWS's kmstool_enclave_cli at the same path, and the daemon is started
inside it (chroot; /dev and /proc mounted as the enclave's init does) with
the image's own CMD, only --listen moved from vsock to TCP. Then the host
side configures it and processes a message. No file outside the staged
directory is reachable by the daemon, so a missing library, CA bundle or
device path would show here.
"""
import base64
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

from deploykit import REPO, dockerfile_cmd

BUILD = Path(os.environ.get("BUILD_DIR", str(REPO / "build")))


def need(path):
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not built (run make)" % path)
    return path


@pytest.fixture
def staged(tmp_path):
    if os.geteuid() != 0 or not shutil.which("unshare"):
        pytest.skip("needs root and unshare(1) to chroot with /dev and /proc mounted")
    enclaved = need(BUILD / "enclaved")
    kt = tmp_path / "kmstool"
    kt.mkdir()
    shutil.copy2(need(BUILD / "kmstool-dev"), kt / "kmstool_enclave_cli")
    src = tmp_path / "nsm.c"
    src.write_text("int nsm_placeholder;\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(kt / "libnsm.so"), str(src)], check=True)
    root = tmp_path / "rootfs"
    r = subprocess.run([str(REPO / "enclave/stage-rootfs.sh"), "--no-chroot-check", "--kmstool",
                        str(kt), str(root), str(enclaved)], capture_output=True, text=True,
                       env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000"))
    assert r.returncode == 0, r.stderr
    return root


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_staged_image_configures_and_processes(staged, tmp_path):
    ctl = need(BUILD / "enclavectl")
    argv = dockerfile_cmd("image-kmstool")
    port = free_port()
    argv[argv.index("--listen") + 1] = "tcp:127.0.0.1:%d" % port
    script = ('mount --bind /dev "$1/dev" && mount -t proc proc "$1/proc" && '
              'root=$1 && shift && exec chroot "$root" "$@"')
    log = open(tmp_path / "enclaved.log", "w")
    p = subprocess.Popen(["unshare", "-m", "sh", "-c", script, "sh", str(staged)] + argv,
                         stderr=log, stdout=log)
    try:
        deadline = time.time() + 10
        while True:
            if p.poll() is not None:
                log.flush()
                text = (tmp_path / "enclaved.log").read_text()
                if ("mount" in text or "unshare" in text) and (
                        "ermission denied" in text or "not permitted" in text):
                    pytest.skip("cannot mount in a private namespace here: " + text)
                pytest.fail("the daemon exited inside the staged rootfs:\n" + text)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.time() < deadline, "the daemon never listened"
                time.sleep(0.05)

        env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIDTEST", AWS_SECRET_ACCESS_KEY="secret",
                   AWS_SESSION_TOKEN="token")
        kmsdev = [str(BUILD / "kmstool-dev"), "genkey", "--key-id", "e2e", "--key-spec",
                  "AES-256", "--region", "ap-southeast-1", "--proxy-port", "8000",
                  "--aws-access-key-id", "a", "--aws-secret-access-key", "b",
                  "--aws-session-token", "c"]
        out = subprocess.run(kmsdev, capture_output=True, text=True, check=True).stdout
        lines = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
        (tmp_path / "tsk.b64").write_text(lines["CIPHERTEXT"])
        (tmp_path / "key.b64").write_text(lines["PLAINTEXT"])
        assert len(base64.b64decode(lines["PLAINTEXT"])) == 32

        ep = ["--enclave", "tcp:127.0.0.1:%d" % port]
        r = subprocess.run([str(ctl)] + ep + ["configure", "--tsk", str(tmp_path / "tsk.b64")],
                           capture_output=True, text=True, env=env, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert '"configured"' in r.stdout
        (tmp_path / "plain.txt").write_text("through the enclave image\n")
        subprocess.run([str(ctl), "seal", "--key-file", str(tmp_path / "key.b64"), "--in",
                        str(tmp_path / "plain.txt"), "--out", str(tmp_path / "in.hex")], check=True)
        r = subprocess.run([str(ctl)] + ep + ["process", "--in", str(tmp_path / "in.hex"),
                                              "--out", str(tmp_path / "out.hex")],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        r = subprocess.run([str(ctl), "open", "--key-file", str(tmp_path / "key.b64"), "--in",
                            str(tmp_path / "out.hex")], capture_output=True, text=True)
        assert r.returncode == 0 and r.stdout == "through the enclave image\n"
    finally:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        log.close()
