"""enclave/stage-rootfs.sh: what the enclave image's filesystem holds.

The Dockerfile's runtime stage is `FROM scratch` plus the directory this
script stages, so running it here (same Debian release as the build stage)
shows exactly what goes into the image: the daemon, its libraries, the CA
bundle, the mount points, and nothing that could run a shell.
"""
import os
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from deploykit import REPO

STAGE = REPO / "enclave/stage-rootfs.sh"
SDE = 1700000000
IS_ROOT = os.geteuid() == 0

FAKE_DAEMON = r"""
#include <openssl/evp.h>
#include <cJSON.h>
#include <stdio.h>
int main(int argc, char **argv) {
	(void)argv;
	if (argc > 9) { EVP_MD_CTX_new(); cJSON_Parse("{}"); }
	puts("enclaved 0.0.0-test");
	return 0;
}
"""


def cc(tmp, name, source, *args):
    if not shutil.which("cc"):
        pytest.skip("no C compiler")
    src = tmp / (name + ".c")
    src.write_text(source)
    subprocess.run(["cc", "-O2", "-o", str(tmp / name), str(src), *args], check=True,
                   capture_output=True)
    return tmp / name


@pytest.fixture(scope="module")
def binaries(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bins")
    # cJSON as the Makefile includes it: <cJSON.h>, with pkg-config's flags.
    cjson = subprocess.run(["pkg-config", "--cflags", "--libs", "libcjson"],
                           check=True, capture_output=True, text=True).stdout.split()
    daemon = cc(tmp, "enclaved", FAKE_DAEMON, "-lcrypto", *cjson)
    kt = tmp / "kmstool"
    kt.mkdir()
    (tmp / "nsm.c").write_text("int nsm_lib_init(void) { return 3; }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", str(kt / "libnsm.so"), str(tmp / "nsm.c")],
                   check=True)
    cc(tmp, "kmstool_enclave_cli",
       "int nsm_lib_init(void);\nint main(void) { return nsm_lib_init() == 3 ? 1 : 2; }\n",
       "-L" + str(kt), "-lnsm")
    shutil.move(str(tmp / "kmstool_enclave_cli"), str(kt / "kmstool_enclave_cli"))
    return {"daemon": daemon, "kmstool": kt}


def stage(tmp, daemon, *opts):
    root = tmp / "rootfs"
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(SDE))
    if not IS_ROOT:
        opts = ("--no-chroot-check",) + opts
    r = subprocess.run([str(STAGE), *map(str, opts), str(root), str(daemon)], env=env,
                       capture_output=True, text=True)
    return r, root


def listing(root):
    out = set()
    for p in root.rglob("*"):
        rel = "/" + str(p.relative_to(root))
        out.add(rel + ("/" if p.is_dir() and not p.is_symlink() else ""))
    return out


def executables(root):
    """Programs: executable files that are not shared objects (libc.so.6 and
    the loader carry the x bit in Debian, and cannot run a command)."""
    return sorted("/" + str(p.relative_to(root)) for p in root.rglob("*")
                  if p.is_file() and not p.is_symlink() and os.access(p, os.X_OK)
                  and ".so" not in p.name)


def test_native_rootfs_has_only_the_daemon_and_its_libraries(tmp_path, binaries):
    r, root = stage(tmp_path, binaries["daemon"])
    assert r.returncode == 0, r.stderr
    files = listing(root)
    for d in ("/dev/", "/proc/", "/sys/", "/run/", "/tmp/"):
        assert d in files                      # the enclave init's mount points
    assert "/usr/bin/enclaved" in files
    assert "/etc/ssl/certs/ca-certificates.crt" in files
    assert os.readlink(root / "usr/lib/ssl/cert.pem") == "/etc/ssl/certs/ca-certificates.crt"
    assert "/lib64/ld-linux-x86-64.so.2" in files
    libs = {Path(f).name for f in files if ".so" in f}
    assert {"libc.so.6", "libcjson.so.1"} <= libs
    assert any(n.startswith("libcrypto.so") for n in libs)
    # Nothing to run but the daemon: no shell, no busybox, no package manager.
    assert executables(root) == ["/usr/bin/enclaved"]
    for banned in ("/bin/sh", "/bin/bash", "/usr/bin/apt", "/usr/bin/dpkg", "/bin/busybox"):
        assert not (root / banned.lstrip("/")).exists()
    assert not any("kmstool" in f or "libnsm" in f for f in files)


def test_kmstool_rootfs_adds_the_tool_and_libnsm(tmp_path, binaries):
    r, root = stage(tmp_path, binaries["daemon"], "--kmstool", binaries["kmstool"])
    assert r.returncode == 0, r.stderr
    assert executables(root) == ["/usr/bin/enclaved", "/usr/bin/kmstool_enclave_cli"]
    (libc,) = [p for p in root.rglob("libc.so.6")]
    assert (libc.parent / "libnsm.so").is_file()      # where the loader looks


@pytest.mark.skipif(not IS_ROOT, reason="the chroot self-check needs root")
def test_staged_binaries_start_inside_the_rootfs(tmp_path, binaries):
    r, root = stage(tmp_path, binaries["daemon"], "--kmstool", binaries["kmstool"])
    assert r.returncode == 0, r.stderr
    out = subprocess.run(["chroot", str(root), "/usr/bin/enclaved", "--version"],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "enclaved" in out.stdout


def test_missing_library_is_caught(tmp_path, binaries):
    kt = tmp_path / "kt"
    kt.mkdir()
    shutil.copy2(binaries["kmstool"] / "kmstool_enclave_cli", kt)
    (kt / "libnsm.so").write_text("not a library")       # present but useless
    r, _ = stage(tmp_path, binaries["daemon"], "--kmstool", kt)
    if IS_ROOT:
        assert r.returncode != 0
        assert "kmstool_enclave_cli" in r.stderr


def test_missing_kmstool_files(tmp_path, binaries):
    r, _ = stage(tmp_path, binaries["daemon"], "--kmstool", tmp_path / "empty")
    assert r.returncode == 1
    assert "kmstool_enclave_cli is missing" in r.stderr


def tar_of(root):
    """The rootfs as a tar archive with sorted members: what a layer holds."""
    import io
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for p in sorted(root.rglob("*")):
            t.add(str(p), arcname=str(p.relative_to(root)), recursive=False)
    return buf.getvalue()


def test_staging_is_reproducible_and_timestamps_fixed(tmp_path, binaries):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    ra, root_a = stage(a, binaries["daemon"], "--kmstool", binaries["kmstool"])
    rb, root_b = stage(b, binaries["daemon"], "--kmstool", binaries["kmstool"])
    assert ra.returncode == 0 and rb.returncode == 0
    for p in [root_a] + list(root_a.rglob("*")):
        assert int(os.lstat(p).st_mtime) == SDE, p
    assert tar_of(root_a) == tar_of(root_b)


def test_real_daemon_rootfs_size(tmp_path):
    """The built enclaved's runtime filesystem (reported; docs/operations.md
    quotes it for memory sizing)."""
    path = Path(os.environ.get("BUILD_DIR", str(REPO / "build"))) / "enclaved"
    if not os.access(path, os.X_OK):
        pytest.skip("no built enclaved (run make)")
    if "libasan" in subprocess.run(["ldd", str(path)], capture_output=True, text=True).stdout:
        pytest.skip("a sanitizer build (make SAN=1) is not what the image holds")
    # (No chroot self-check: a sanitizer build cannot start without /proc.)
    r, root = stage(tmp_path, path, "--no-chroot-check")
    assert r.returncode == 0, r.stderr
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())
    assert executables(root) == ["/usr/bin/enclaved"]
    # Debian's libcrypto alone is ~4.5 MB; anything near 64 MB means the
    # staging copied far more than the daemon needs.
    assert size < 16 * 1024 * 1024, size
