"""scripts/run-enclave.sh against the nitro-cli stand-in."""
import json
import signal
import subprocess
import time

import pytest

from deploykit import PCR0, REPO

SCRIPT = REPO / "scripts/run-enclave.sh"
RUNNING = json.dumps([{"EnclaveID": "i-0123-enc0001", "EnclaveCID": 16, "State": "RUNNING"},
                      {"EnclaveID": "i-0123-enc0002", "EnclaveCID": 17, "State": "RUNNING"}])


@pytest.fixture
def eif(sandbox):
    d = sandbox.tmp / "build"
    d.mkdir()
    (d / "enclave.eif").write_bytes(b"EIF")
    (d / "measurements.json").write_text(json.dumps({"Measurements": {"PCR0": PCR0}}))
    return d / "enclave.eif"


def run_calls(sandbox):
    return [c["argv"] for c in sandbox.calls("nitro-cli") if c["argv"][0] == "run-enclave"]


def test_defaults(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif)
    assert r.returncode == 0, r.stderr
    assert run_calls(sandbox) == [["run-enclave", "--eif-path", str(eif), "--cpu-count", "2",
                                   "--memory", "512", "--enclave-cid", "16"]]
    assert json.loads(r.stdout)["EnclaveCID"] == 16
    assert PCR0 in r.stderr
    assert "DEBUG" not in r.stderr


def test_options_are_passed(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, "--cpu-count", "4", "--memory", "256",
                    "--enclave-cid", "21")
    assert r.returncode == 0, r.stderr
    assert run_calls(sandbox) == [["run-enclave", "--eif-path", str(eif), "--cpu-count", "4",
                                   "--memory", "256", "--enclave-cid", "21"]]
    assert "vsock:21:5000" in r.stderr


def test_debug_mode_warns_loudly(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, "--debug", "--attach-console")
    assert r.returncode == 0, r.stderr
    assert run_calls(sandbox)[0][-2:] == ["--debug-mode", "--attach-console"]
    assert "WARNING: DEBUG MODE" in r.stderr
    assert "ALL ZEROS" in r.stderr
    assert "REFUSE" in r.stderr and "kms_decrypt_failed" in r.stderr
    # The warning comes before the enclave starts.
    assert r.stderr.index("WARNING: DEBUG MODE") < r.stderr.index("nitro-cli run-enclave")


def terminate_calls(sandbox):
    return [c["argv"] for c in sandbox.calls("nitro-cli") if c["argv"][0] == "terminate-enclave"]


def test_running_enclave_stops_the_script(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, env={"STANDIN_ENCLAVES": RUNNING})
    assert r.returncode == 1
    assert "already running at CID 16" in r.stderr and "--terminate-existing" in r.stderr
    assert "i-0123-enc0001" in r.stderr
    assert "i-0123-enc0002" not in r.stderr
    assert run_calls(sandbox) == []
    assert terminate_calls(sandbox) == []


def test_terminate_existing_ends_only_that_cid(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, "--terminate-existing",
                    env={"STANDIN_ENCLAVES": RUNNING})
    assert r.returncode == 0, r.stderr
    assert terminate_calls(sandbox) == [["terminate-enclave", "--enclave-id", "i-0123-enc0001"]]
    assert run_calls(sandbox)[0][-2:] == ["--enclave-cid", "16"]


def test_another_cid_starts_beside_a_running_one(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, "--enclave-cid", "18",
                    env={"STANDIN_ENCLAVES": RUNNING})
    assert r.returncode == 0, r.stderr
    assert terminate_calls(sandbox) == []
    assert run_calls(sandbox)[0][-2:] == ["--enclave-cid", "18"]


@pytest.fixture
def fleet(sandbox):
    """The stand-in keeps its enclaves in a file: several at once, by CID."""
    state = sandbox.tmp / "enclaves.json"
    sandbox.env["STANDIN_ENCLAVES_STATE"] = str(state)

    def running():
        if not state.exists():
            return {}
        return {e["EnclaveCID"]: e for e in json.loads(state.read_text())}
    return running


def test_two_cids_side_by_side_and_stopping_one_leaves_the_other(sandbox, eif, fleet):
    for cid in ("16", "17"):
        r = sandbox.run(SCRIPT, "--eif", eif, "--enclave-cid", cid)
        assert r.returncode == 0, r.stderr
    assert sorted(fleet()) == [16, 17]
    assert all(e["State"] == "RUNNING" for e in fleet().values())
    id17 = fleet()[17]["EnclaveID"]
    # A second start at a taken CID refuses; with --terminate-existing it
    # replaces only that one.
    r = sandbox.run(SCRIPT, "--eif", eif, "--enclave-cid", "16")
    assert r.returncode == 1 and "already running at CID 16" in r.stderr
    old16 = fleet()[16]["EnclaveID"]
    r = sandbox.run(SCRIPT, "--eif", eif, "--enclave-cid", "16", "--terminate-existing")
    assert r.returncode == 0, r.stderr
    assert fleet()[16]["EnclaveID"] != old16 and fleet()[17]["EnclaveID"] == id17
    r = sandbox.run(SCRIPT, "--stop", "--enclave-cid", "16")
    assert r.returncode == 0, r.stderr
    assert list(fleet()) == [17] and fleet()[17]["EnclaveID"] == id17
    # Stopping a CID with nothing running is not an error.
    r = sandbox.run(SCRIPT, "--stop", "--enclave-cid", "16")
    assert r.returncode == 0, r.stderr
    assert list(fleet()) == [17]
    assert all("--all" not in argv for argv in terminate_calls(sandbox))
    assert ["terminate-enclave", "--enclave-id", id17] not in terminate_calls(sandbox)


def supervise(sandbox, eif, cid):
    env = dict(sandbox.env)
    proc = subprocess.Popen([str(SCRIPT), "--eif", str(eif), "--enclave-cid", cid,
                             "--supervise", "--poll-seconds", "1"], env=env,
                            cwd=str(sandbox.tmp), stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return proc


def wait_for(cond, proc, what):
    deadline = time.monotonic() + 30
    while not cond():
        assert proc.poll() is None, "supervisor exited early: " + proc.stderr.read()
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_supervisor_exits_nonzero_when_its_enclave_vanishes(sandbox, eif, fleet):
    r = sandbox.run(SCRIPT, "--eif", eif, "--enclave-cid", "17")
    assert r.returncode == 0, r.stderr
    proc = supervise(sandbox, eif, "16")
    try:
        wait_for(lambda: 16 in fleet(), proc, "the supervised enclave never started")
        # It keeps running while the enclave does (two polls at least).
        polls = lambda: sum(1 for c in sandbox.calls("nitro-cli")
                            if c["argv"] == ["describe-enclaves"])
        before = polls()
        wait_for(lambda: polls() >= before + 2, proc, "the supervisor does not poll")
        # The enclave crashes: it leaves describe-enclaves' list.
        state = sandbox.tmp / "enclaves.json"
        state.write_text(json.dumps([e for e in json.loads(state.read_text())
                                     if e["EnclaveCID"] != 16]))
        rc = proc.wait(timeout=30)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 1, err
    assert "the enclave at CID 16 is gone" in err
    assert list(fleet()) == [17]
    assert terminate_calls(sandbox) == []


def test_supervisor_stopped_by_sigterm_ends_only_its_enclave(sandbox, eif, fleet):
    r = sandbox.run(SCRIPT, "--eif", eif, "--enclave-cid", "17")
    assert r.returncode == 0, r.stderr
    proc = supervise(sandbox, eif, "16")
    try:
        wait_for(lambda: 16 in fleet(), proc, "the supervised enclave never started")
        id16 = fleet()[16]["EnclaveID"]
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
        err = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert rc == 0, err
    assert list(fleet()) == [17]
    assert terminate_calls(sandbox) == [["terminate-enclave", "--enclave-id", id16]]


def test_dry_run_calls_nothing(sandbox):
    r = sandbox.run(SCRIPT, "--dry-run", "--eif", sandbox.tmp / "none.eif",
                    "--enclave-cid", "17", "--terminate-existing", "--supervise")
    assert r.returncode == 0, r.stderr
    assert sandbox.calls() == []
    assert ("nitro-cli run-enclave --eif-path %s --cpu-count 2 --memory 512 --enclave-cid 17"
            % (sandbox.tmp / "none.eif")) in r.stderr
    assert "CID 17" in r.stderr and "terminate-enclave --enclave-id" in r.stderr
    r = sandbox.run(SCRIPT, "--dry-run", "--stop", "--enclave-cid", "17")
    assert r.returncode == 0, r.stderr
    assert sandbox.calls() == []


def test_terminate_failure_stops_before_run(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, "--terminate-existing",
                    env={"STANDIN_ENCLAVES": RUNNING,
                         "STANDIN_FAIL": "nitro-cli terminate-enclave"})
    assert r.returncode == 1
    assert "could not terminate" in r.stderr
    assert run_calls(sandbox) == []


def test_missing_eif(sandbox):
    r = sandbox.run(SCRIPT, "--eif", sandbox.tmp / "none.eif")
    assert r.returncode == 1
    assert "build-enclave.sh" in r.stderr
    assert sandbox.calls() == []


def test_run_failure_is_reported(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, env={"STANDIN_FAIL": "nitro-cli run-enclave"})
    assert r.returncode == 1
    assert "run-enclave failed" in r.stderr


@pytest.mark.parametrize("args", [["--memory", "0"], ["--memory", "1G"], ["--cpu-count", "-1"],
                                  ["--enclave-cid", "3"], ["--enclave-cid", "x"],
                                  ["--attach-console"], ["--cpus", "2"], ["--memory"],
                                  ["--poll-seconds", "0"], ["--stop", "--supervise"],
                                  ["--debug", "--attach-console", "--supervise"]])
def test_bad_usage_exits_2(sandbox, eif, args):
    r = sandbox.run(SCRIPT, "--eif", eif, *args)
    assert r.returncode == 2, r.stderr
    assert sandbox.calls() == []
