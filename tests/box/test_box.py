"""The enclave box (docs/box.md): build/box.eif, whose application ramdisk
is the one make eif puts in enclave.eif, booted in a real Linux kernel
under QEMU, enclaved serving over real AF_VSOCK.

One boot at the documented smallest memory (docs/operations.md, run.sh's
default) runs the whole flow, scripts/box/flow.sh, and the tests below
read its console: kmstool-dev as the KMS tool, enclavectl configuring,
sealing, processing and opening over vsock:1:5000 in both framings, a
maximum-size message, loads over persistent and reconnecting connections,
a slow client, memory inside the guest, a clean power off. A second,
shorter boot at 256 MiB shows what the image's CMD does there with a
maximum-size message. The numbers (boot time, requests/s over vsock, peak
memory) are printed at the end of the run (conftest.py).

Skipped when the box is not built: `make box-test` builds it and runs
this file. BOX_ACCEL (tcg by default) goes to run.sh.
"""
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("BUILD_DIR", str(REPO / "build")))
BOX = BUILD / "box"
BOX_EIF = BUILD / "box.eif"
RUN = REPO / "scripts/box/run.sh"
ACCEL = os.environ.get("BOX_ACCEL", "tcg")
#: The whole boot, flow and power off; run.sh kills QEMU past it.
BOOT_TIMEOUT = int(os.environ.get("BOX_TIMEOUT", "600"))
SUMMARY = BOX / "summary.json"

sys.path.insert(0, str(REPO / "tests/deploy"))
from deploykit import dockerfile_cmd  # noqa: E402


def need_box():
    if not BOX_EIF.is_file():
        pytest.skip("the box is not built (make box-eif): %s" % BOX_EIF)


class Console:
    """What one boot printed, each line with its host time since the start."""

    def __init__(self, lines, rc):
        self.lines, self.rc = lines, rc
        self.text = "\n".join(l for _, l in lines)

    def first(self, prefix):
        for t, l in self.lines:
            if l.startswith(prefix):
                return t, l
        raise AssertionError("no line starting %r on the console:\n%s" % (prefix, self.tail()))

    def box(self, name):
        """The words of the first `BOX NAME k=v ...` line, as a dict."""
        _, line = self.first("BOX %s " % name)
        return words(line)

    def all_box(self, name):
        return [words(l) for _, l in self.lines if l.startswith("BOX %s " % name)]

    def result(self, label):
        found = [words(l) for _, l in self.lines
                 if l.startswith("RESULT ") and " label=%s " % label in l]
        assert len(found) == 1, "expected one RESULT label=%s:\n%s" % (label, self.tail())
        return found[0]

    def answer_after(self, label):
        """The ANSWER line a stream RESULT is followed by (error answers)."""
        for i, (_, l) in enumerate(self.lines):
            if l.startswith("RESULT ") and " label=%s " % label in l:
                nxt = self.lines[i + 1][1] if i + 1 < len(self.lines) else ""
                return nxt[len("ANSWER "):] if nxt.startswith("ANSWER ") else None
        return None

    def tail(self, n=40):
        return "\n".join(l for _, l in self.lines[-n:])


def words(line):
    out = {}
    for w in line.split()[1:]:
        k, sep, v = w.partition("=")
        if sep:
            out[k] = v
    return out


def boot(*args, timeout=BOOT_TIMEOUT):
    argv = [str(RUN), "--accel", ACCEL, "--timeout", str(timeout), *args, str(BOX_EIF)]
    start = time.monotonic()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, errors="replace")
    lines = []
    try:
        for line in p.stdout:
            lines.append((time.monotonic() - start, line.rstrip("\r\n")))
        rc = p.wait(timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return Console(lines, rc)


@pytest.fixture(scope="module")
def flow():
    need_box()
    return boot("--flow", "all")


@pytest.fixture(scope="module")
def at_256():
    need_box()
    return boot("--flow", "max", "--memory", "256")


def mib(kib):
    return int(kib) / 1024


# --- the boot ---------------------------------------------------------------

def test_box_boots_and_enclaved_answers_over_vsock(flow):
    t_ready, _ = flow.first("BOX ready ")
    ready = flow.box("ready")
    assert ready["answer"] == '{"status":"ok","msg":"pong"}'
    assert "vsock modules loaded" in flow.text
    # Started with exactly the image's CMD, read from the Dockerfile.
    _, line = flow.first("BOX cmd ")
    assert line[len("BOX cmd "):].split() == dockerfile_cmd("image-kmstool")
    record(boot_wall_s=round(t_ready, 1), guest_uptime_at_ready_s=float(ready["uptime_s"]),
           accel=ACCEL)


def describe(eif):
    r = subprocess.run([str(BUILD / "enclavectl"), "describe-eif", "--json", str(eif)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def ramdisks(eif):
    """The ramdisk sections' bytes (each after its 12-byte section header)."""
    data = Path(eif).read_bytes()
    return [data[s["Offset"] + 12:s["Offset"] + 12 + s["Size"]]
            for s in describe(eif)["Sections"] if s["Type"] == "ramdisk"]


def newc_files(archive):
    """{path: bytes} of a cpio newc archive, read from the format alone."""
    out, off = {}, 0
    while True:
        h = archive[off:off + 110]
        assert h[:6] == b"070701", off
        size, namesize = int(h[54:62], 16), int(h[94:102], 16)
        name = archive[off + 110:off + 110 + namesize - 1].decode()
        off = (off + 110 + namesize + 3) & ~3
        if name == "TRAILER!!!":
            return out
        out[name] = archive[off:off + size]
        off = (off + size + 3) & ~3


@pytest.fixture(scope="module")
def enclave_eif(tmp_path_factory):
    """enclave.eif of this commit as make eif builds it, with stand-in blob
    files and the same KMS tool files box.eif was built with."""
    need_box()
    tmp = tmp_path_factory.mktemp("enclave-eif")
    blobs = tmp / "blobs"
    blobs.mkdir()
    (blobs / "bzImage").write_bytes(b"stand-in kernel\0" * 1000)
    (blobs / "cmdline").write_bytes(b"reboot=k panic=30 pci=off nomodules console=ttyS0\n")
    (blobs / "init").write_bytes(b"stand-in init\n")
    (blobs / "nsm.ko").write_bytes(b"stand-in nsm.ko\n")
    env = dict(os.environ, NITRO_BLOBS=str(blobs), NITRO_BLOBS_KIND="stand-in",
               KMS_BACKEND="kmstool", KMSTOOL_DIR=str(BOX / "kmstool-placeholder"),
               KMSTOOL_KIND="placeholder", OUT_DIR=str(tmp), TMPDIR=str(tmp))
    # The commit and time box.eif was built from (make does not rebuild it
    # for a new commit that changes none of its inputs).
    built = json.loads((BUILD / "box-measurements.json").read_text())["Build"]
    env.update(SOURCE_DATE_EPOCH=str(built["source_date_epoch"]),
               GIT_COMMIT=built["git_commit"])
    r = subprocess.run([str(REPO / "scripts/make-eif.sh"), str(BUILD)], env=env,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    return tmp / "enclave.eif"


def test_box_eif_pcr2_equals_enclave_eif_pcr2(enclave_eif):
    box, enclave = describe(BOX_EIF), describe(enclave_eif)
    assert box["Measurements"]["PCR2"] == enclave["Measurements"]["PCR2"]
    # The bootstrap is the box's own: PCR1 differs, PCR2 alone is shared.
    assert box["Measurements"]["PCR1"] != enclave["Measurements"]["PCR1"]
    assert ramdisks(BOX_EIF)[1] == ramdisks(enclave_eif)[1]
    assert box["Metadata"]["CustomMetadata"]["KmsTool"] == "placeholder"
    record(pcr2=box["Measurements"]["PCR2"][:16] + "...")


def test_the_application_ramdisk_holds_no_stand_in_and_the_enclaved_make_built():
    need_box()
    boot, app = (newc_files(r) for r in ramdisks(BOX_EIF))
    assert "init" in boot and "box/kmstool-dev" in boot
    assert boot["box/kmstool-dev"] == (BOX / "kmstool-dev").read_bytes()
    tool = app["rootfs/usr/bin/kmstool_enclave_cli"]
    assert tool == (BOX / "kmstool-placeholder/kmstool_enclave_cli").read_bytes()
    for standin in ("kmstool-dev", "box/kmstool-dev"):
        assert tool != (BUILD / standin).read_bytes()
    assert not [p for p in app if "kmstool-dev" in p or p.startswith("box")]
    # The one make built (stage-rootfs.sh strips it: the build ids agree).
    staged = BOX / "enclaved.staged"
    staged.write_bytes(app["rootfs/usr/bin/enclaved"])
    def build_id(path):
        out = subprocess.run(["readelf", "-n", str(path)], capture_output=True, text=True,
                             check=True).stdout
        m = re.search(r"Build ID: ([0-9a-f]+)", out)
        assert m, out
        return m.group(1)
    assert build_id(staged) == build_id(BUILD / "enclaved")
    staged.unlink()
    assert app["cmd"].decode().split() == dockerfile_cmd("image-kmstool")


def test_a_change_to_enclaved_source_rebuilds_the_box():
    need_box()
    rel = os.path.relpath(BUILD, REPO)   # the BUILD make knows its objects by
    target = "%s/box.eif" % rel
    def up_to_date(*extra):
        return subprocess.run(["make", "-q", "BUILD=" + rel, *extra, target], cwd=REPO,
                              capture_output=True, text=True, timeout=120).returncode == 0
    assert up_to_date(), "the box is not up to date right after make box-eif"
    assert not up_to_date("-W", "src/enclave/server.c"), \
        "a newer src/enclave/server.c would not rebuild the box"
    assert not up_to_date("-W", "scripts/box/flow.sh")


def test_init_refuses_to_run_unless_pid_1():
    init = BUILD / "box/init"
    if not os.access(init, os.X_OK):
        pytest.skip("build/box/init is not built")
    r = subprocess.run([str(init)], capture_output=True, text=True, timeout=10)
    assert r.returncode == 2 and "not PID 1" in r.stderr


# --- the flow over vsock -----------------------------------------------------

def test_configure_seal_process_open_in_both_framings(flow):
    assert '"configured"' in flow.box("configure")["answer"]
    framings = {w["framing"] for w in flow.all_box("roundtrip")}
    assert framings == {"raw", "len"}, flow.tail()
    _, line = flow.first("BOX health ")
    health = json.loads(line[len("BOX health "):])
    assert health["configured"] is True and health["key_memory_locked"] is True
    assert health["errors_total"] == 0


def test_the_gateway_serves_over_vsock(flow):
    g = flow.box("gateway")
    assert g["roundtrip"] == "ok", flow.tail()
    assert g["bad_request_http"] == "400"        # the enclave's verdict on bad hex
    assert g["exit"] == "0"                      # SIGTERM: finished, exited 0


def test_attest_says_there_is_no_nsm(flow):
    a = flow.box("attest")
    assert a["status"] == "1", flow.tail()          # the enclave answered an error
    assert "attestation_unavailable" in flow.first("BOX attest ")[1]


def test_the_daemon_ran_sandboxed_and_logged_every_answer(flow):
    log = flow.box("daemon-log")
    assert log["seccomp"] == "1" and log["errors"] == "0", log
    clients = sum(int(flow.result(l)["total"]) for l in
                  ("persistent-raw", "persistent-len", "reconnect-raw", "reconnect-len",
                   "beside-slow-client"))
    assert int(log["served"]) >= clients, (log, clients)


def test_a_maximum_size_message_is_processed(flow):
    max_message = int(dict(zip(dockerfile_cmd("image-kmstool")[1::2],
                               dockerfile_cmd("image-kmstool")[2::2]))["--max-message"])
    r = flow.result("max-message")
    assert int(r["request_bytes"]) == max_message
    assert r["answer"] == "ok" and r["verified"] == "1" and r["pass"] == "1", \
        flow.answer_after("max-message")
    after = flow.box("memory at=after-max-message")
    # The daemon really held the message: its peak is past the request.
    assert int(after["daemon_VmHWM_kib"]) * 1024 > max_message
    assert flow.box("after-max-message")["answer"] == '{"status":"ok","msg":"pong"}'
    low = int(flow.box("max-message")["MemAvailable_low_kib"])
    total = int(after["MemTotal_kib"])
    assert 0 < low < total
    record(max_message_bytes=max_message, max_message_s=float(r["elapsed"]),
           guest_MemTotal_mib=round(mib(total), 1),
           guest_MemAvailable_low_mib=round(mib(low), 1),
           daemon_VmHWM_mib=round(mib(after["daemon_VmHWM_kib"]), 1),
           broker_VmHWM_mib=round(mib(after["broker_VmHWM_kib"]), 1),
           daemon_VmRSS_after_mib=round(mib(after["daemon_VmRSS_kib"]), 1))


def test_one_byte_over_the_maximum_is_refused_in_both_framings(flow):
    for framing in ("len", "raw"):
        r = flow.result("over-max-" + framing)
        assert r["pass"] == "1", flow.tail()
        assert '"too_large"' in flow.answer_after("over-max-" + framing)


@pytest.mark.parametrize("label", ["persistent-raw", "persistent-len", "reconnect-raw",
                                   "reconnect-len"])
def test_load_over_vsock_every_answer_decrypts(flow, label):
    r = flow.result(label)
    assert int(r["errors"]) == 0 and int(r["conn_errors"]) == 0, flow.tail()
    assert int(r["requests"]) > 0
    # --verify-every 1: every answer was decrypted and compared.
    assert int(r["verified"]) == int(r["total"])
    record(**{"rps_" + label.replace("-", "_"): float(r["rps"])})


def test_a_slow_client_does_not_hold_up_the_others(flow):
    slow = flow.result("slow-client")
    assert slow["pass"] == "1" and slow["verified"] == "1"
    # 4096 bytes in 128-byte pieces 100 ms apart: it really took 3 s.
    assert float(slow["elapsed"]) >= 3.0
    beside = flow.result("beside-slow-client")
    assert int(beside["errors"]) == 0 and int(beside["requests"]) > 0
    # No request waited for the slow one.
    assert int(beside["max_us"]) < float(slow["elapsed"]) * 1e6
    record(rps_beside_slow_client=float(beside["rps"]))


def test_the_box_powers_off_cleanly(flow):
    assert "BOX done" in flow.text, flow.tail()
    assert "BOX FAIL" not in flow.text
    assert re.search(r"^box: \[[0-9.]+\] run exited status=0$", flow.text, re.M), flow.tail()
    # enclaved was stopped with SIGTERM and exited 0 (key wiped, docs/security.md).
    assert re.search(r"^box: \[[0-9.]+\] enclaved exited status=0$", flow.text, re.M)
    assert re.search(r"^box: \[[0-9.]+\] power off$", flow.text, re.M)
    assert flow.rc == 0, flow.tail()
    record(flow_wall_s=round(flow.lines[-1][0], 1))


# --- 256 MiB -------------------------------------------------------------------

def test_at_256_mib_a_maximum_size_message_is_refused_busy_and_serving_goes_on(at_256):
    """With the image's CMD, --memory-limit is its default, half the
    guest's memory: at 256 MiB about 100 MiB, below the 128 MiB a
    maximum-size message claims (its buffer and room for the answer). So
    it is answered busy, not processed, and the daemon serves on. This is
    why docs/operations.md sets the smallest --memory above 256 MiB; when
    the daemon or the CMD change, this test says the docs must too."""
    r = at_256.result("max-message")
    assert r["answer"] == "error", at_256.tail()
    assert '"busy"' in at_256.answer_after("max-message")
    total = int(at_256.box("memory at=after-max-message")["MemTotal_kib"])
    assert total * 1024 // 2 < 128 * 1024 * 1024
    assert at_256.box("after-max-message")["answer"] == '{"status":"ok","msg":"pong"}'
    assert "BOX done" in at_256.text and at_256.rc == 0
    record(at_256_MemTotal_mib=round(mib(total), 1))


# --- never hangs -------------------------------------------------------------

def test_a_hanging_guest_is_ended_by_the_timeout():
    """KVM on this nested machine hangs the guest; run.sh must end it."""
    need_box()
    start = time.monotonic()
    r = subprocess.run([str(RUN), "--accel", "kvm", "--flow", "probe", "--timeout", "8",
                        str(BOX_EIF)], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, timeout=60)
    took = time.monotonic() - start
    assert took < 8 + 15, took
    if r.returncode == 0:                    # KVM works here: then it answered
        assert "BOX probe ok" in r.stdout
    else:
        assert r.returncode in (124, 1), r.stdout + r.stderr
        assert r.returncode == 1 or "TIMED OUT" in r.stdout


def record(**kv):
    """The numbers for the closing summary (conftest.py prints them)."""
    data = json.loads(SUMMARY.read_text()) if SUMMARY.exists() else {}
    data.update(kv)
    SUMMARY.write_text(json.dumps(data, indent=1, sort_keys=True))


# --- the scripts themselves (no box needed) -------------------------------------

BOX_SCRIPTS = sorted((REPO / "scripts/box").glob("*.sh"))


@pytest.mark.parametrize("script", BOX_SCRIPTS, ids=lambda p: p.name)
def test_box_scripts_are_shellcheck_clean(script):
    import shutil
    if not shutil.which("shellcheck"):
        pytest.skip("shellcheck is not installed")
    # flow.sh and shell.sh run in the guest under busybox sh: POSIX sh.
    dialect = ["-s", "sh"] if script.read_text().startswith("#!/usr/bin/busybox sh") else []
    r = subprocess.run(["shellcheck", "--severity=style", *dialect, str(script)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout


def test_run_sh_usage():
    r = subprocess.run([str(RUN), "--help"], capture_output=True, text=True, timeout=10)
    assert r.returncode == 0 and "--accel" in r.stdout
    for bad in (["--accel", "hvf", str(BOX_EIF)], ["--bogus"], []):
        r = subprocess.run([str(RUN), *bad], capture_output=True, text=True, timeout=10)
        assert r.returncode == 2, (bad, r.stdout, r.stderr)
