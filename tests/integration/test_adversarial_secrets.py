"""
Adversarial tests: secrets never in a log, a response, swap or a dump (issue
4; the threat model is docs/security.md; the daemons, fixtures and the check
after every test: helpers/adversary.py).
"""

import base64
import json
import os
import pwd
import shutil
import signal
import subprocess
import time

import pytest

from helpers import harness
from helpers.harness import CREDS, Conn, open_sealed, seal
from helpers.adversary import (  # fixtures and helpers
    EXTRA,
    LIMITS,
    dev_key_mod,
    flip,
    kb,
    main,
    main_holder,
    proc_status,
    still_serving,
    workdir)


# --- secret hygiene ------------------------------------------------------------------

def secret_forms(key):
    b64 = base64.b64encode(key).decode()
    return [key.hex(), key.hex().upper(), b64, b64.rstrip("="),
            base64.urlsafe_b64encode(key).decode().rstrip("=")]


def test_secret_hygiene_full_session(start_daemon, dev_key_mod, tmp_path):
    # At debug level, the most the daemon ever logs.
    d = start_daemon("--log-level", "debug", *LIMITS, unix=False)
    tsk, key = dev_key_mod
    responses = []

    def keep(resp):
        responses.append(json.dumps(resp))
        return resp

    keep(d.request({"type": "health"}))
    assert keep(d.configure(tsk))["status"] == "ok"
    for i, aad in enumerate([None, "wf-1", "wf-2/step"]):
        ct = seal(key, ("message %d" % i).encode() * 50, aad)
        r = keep(d.process(ct, aad=aad))
        assert r["status"] == "ok", r
        keep(d.process(ct, aad="wrong"))
        keep(d.process(flip(ct, 20), aad=aad))
    keep(d.process(seal(key, b"len framed"), framing="len"))
    keep(d.request({"type": "health"}, "len"))
    # Failures that carry KMS's reason, and credentials in odd places.
    keep(d.configure("AAAA" + tsk[4:]))
    keep(d.configure("bm90IGEgYmxvYg=="))
    keep(d.configure(tsk, region="bad region!"))
    keep(d.request({"type": "unknown-" + CREDS["aws_secret_access_key"]}))
    keep(d.request({"type": "process", "ciphertext": CREDS["aws_session_token"]}))
    keep(d.request(dict({"type": "configure", "encrypted_tsk": 5}, **CREDS)))
    # Configure again (the key is replaced and the old one wiped).
    assert keep(d.configure(tsk))["status"] == "ok"
    d.terminate()
    log = d.log()
    everything = "\n".join(responses)
    for form in secret_forms(key):
        assert form not in log, "key (%s) in the log" % form
        assert form not in everything, "key (%s) in a response" % form
    for name in ("aws_secret_access_key", "aws_session_token"):
        assert CREDS[name] not in log, "%s in the log" % name
        # the unknown-type echo is bounded to 39 characters and '?'s
        assert CREDS[name] not in everything, "%s in a response" % name
    assert CREDS["aws_access_key_id"] not in everything
    assert "PLAINTEXT" not in log
    assert "message 0" not in log


def test_key_memory_locked(main):
    st = proc_status(main.pid)
    assert kb(st["VmLck"]) > 0, st["VmLck"]
    health = main.request({"type": "health"})
    assert health.get("key_memory_locked") is True, health


def test_not_dumpable(enclaved_bin, kmstool_dev_bin, tmp_path, request):
    """PR_SET_DUMPABLE 0 makes the kernel give the files of /proc/PID to root
    (proc(5); task_dump_owner() in the kernel). That tells it apart only when
    the daemon is not root itself, so: started as an unprivileged user (when
    we are root; it runs copies of the binaries from a folder that user can
    reach, wherever the checkout lies) or as ourselves (when we are not),
    /proc/PID/status, mem and environ must be owned by root while the
    daemon's uid is not 0. Checked
    to fail without the prctl: the files then belong to the daemon's uid."""
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("no user nobody to run the daemon as")
        uid, gid = user.pw_uid, user.pw_gid
        # That user may not reach the checkout (a 0700 folder): run copies.
        bindir, (enclaved_bin, kmstool_dev_bin) = harness.copies_for_another_user(
            [enclaved_bin, kmstool_dev_bin])
        request.addfinalizer(lambda: shutil.rmtree(bindir, ignore_errors=True))
    else:
        uid, gid = os.geteuid(), os.getegid()
    port = harness.free_tcp_port()
    log = open(str(tmp_path / "nobody.log"), "wb")
    kwargs = {}
    if os.geteuid() == 0:
        kwargs = dict(user=uid, group=gid, extra_groups=[])
    proc = subprocess.Popen([enclaved_bin, "--listen", "tcp:127.0.0.1:%d" % port,
                             "--kmstool", kmstool_dev_bin] + EXTRA, stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, cwd="/", **kwargs)
    try:
        deadline = time.monotonic() + 15
        text = ""
        while time.monotonic() < deadline:
            text = open(str(tmp_path / "nobody.log")).read()
            if "listening on tcp:127.0.0.1:%d" % port in text or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "daemon as uid %d exited: %s" % (uid, text[-2000:])
        st = proc_status(proc.pid)
        real_uid = int(st["Uid"].split()[0])
        assert real_uid == uid != 0
        # (The /proc/PID directory itself keeps the task's uid on current
        # kernels; the files in it are what dumpable governs.)
        for f in ("status", "mem", "environ"):
            owner = os.stat("/proc/%d/%s" % (proc.pid, f)).st_uid
            assert owner == 0, "/proc/%d/%s belongs to uid %d: the daemon " \
                "is dumpable" % (proc.pid, f, owner)
        # Core dumps are off too.
        with open("/proc/%d/limits" % proc.pid) as f:
            core = [l for l in f if l.startswith("Max core file size")][0]
        assert core.split()[4] == "0", core
        with Conn("tcp:127.0.0.1:%d" % port) as c:
            assert c.request({"type": "ping"})["msg"] == "pong"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
