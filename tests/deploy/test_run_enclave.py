"""scripts/run-enclave.sh against the nitro-cli stand-in."""
import json

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


def test_running_enclave_stops_the_script(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, env={"STANDIN_ENCLAVES": RUNNING})
    assert r.returncode == 1
    assert "already running" in r.stderr and "--terminate-existing" in r.stderr
    assert "i-0123-enc0001" in r.stderr
    assert run_calls(sandbox) == []
    assert not [c for c in sandbox.calls("nitro-cli") if c["argv"][0] == "terminate-enclave"]


def test_terminate_existing(sandbox, eif):
    r = sandbox.run(SCRIPT, "--eif", eif, "--terminate-existing",
                    env={"STANDIN_ENCLAVES": RUNNING})
    assert r.returncode == 0, r.stderr
    argvs = [c["argv"] for c in sandbox.calls("nitro-cli")]
    assert argvs[0] == ["describe-enclaves"]
    assert argvs[1] == ["terminate-enclave", "--enclave-id", "i-0123-enc0001"]
    assert argvs[2] == ["terminate-enclave", "--enclave-id", "i-0123-enc0002"]
    assert argvs[3][0] == "run-enclave"


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
                                  ["--attach-console"], ["--cpus", "2"], ["--memory"]])
def test_bad_usage_exits_2(sandbox, eif, args):
    r = sandbox.run(SCRIPT, "--eif", eif, *args)
    assert r.returncode == 2, r.stderr
    assert sandbox.calls() == []
