"""The parent's vsock-proxy allowlist and systemd units."""
import configparser
import json
import shlex
import shutil
import signal
import subprocess
import time

import pytest
import yaml

from deploykit import REPO

UNITS = REPO / "deploy/systemd"
ALLOWLIST = REPO / "scripts/vsock-proxy.yaml"


def unit(name):
    p = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    p.optionxform = str
    p.read_string((UNITS / name).read_text())
    return p


def test_allowlist_names_only_the_kms_endpoint():
    doc = yaml.safe_load(ALLOWLIST.read_text())
    assert doc == {"allowlist": [{"address": "kms.ap-southeast-1.amazonaws.com", "port": 443}]}


def test_allowlist_for_another_region_by_sed():
    text = ALLOWLIST.read_text().replace("ap-southeast-1", "eu-west-1")
    assert yaml.safe_load(text)["allowlist"] == [{"address": "kms.eu-west-1.amazonaws.com",
                                                   "port": 443}]


def test_vsock_proxy_unit_runs_the_proxy_for_its_region(sandbox):
    u = unit("enclave-vsock-proxy@.service")
    exec_start = u["Service"]["ExecStart"]
    region = "ap-southeast-1"
    config = sandbox.tmp / ("vsock-proxy-kms-%s.yaml" % region)
    shutil.copy(ALLOWLIST, config)
    argv = shlex.split(exec_start.replace("%i", region))
    assert argv[0] == "/usr/bin/vsock-proxy"
    assert argv[argv.index("--config") + 1] == "/etc/nitro_enclaves/vsock-proxy-kms-%s.yaml" % region
    # Run the command line (with the stand-in proxy and the config copied to
    # a scratch path) as systemd would.
    argv[0] = "vsock-proxy"
    argv[argv.index("--config") + 1] = str(config)
    r = sandbox.run(REPO / "tests/deploy/standins/vsock-proxy", *argv[1:])
    assert r.returncode == 0
    (call,) = sandbox.calls("vsock-proxy")
    assert call["argv"][:3] == ["8000", "kms.%s.amazonaws.com" % region, "443"]
    allow = yaml.safe_load(call["config"])["allowlist"]
    # The proxy's target is on its own allowlist.
    assert {"address": call["argv"][1], "port": int(call["argv"][2])} in allow
    assert u["Unit"]["AssertPathExists"] == "/etc/nitro_enclaves/vsock-proxy-kms-%i.yaml"
    assert u["Unit"]["Conflicts"] == "nitro-enclaves-vsock-proxy.service"
    assert u["Service"]["Restart"] == "always"


def gateway_options():
    """enclave-gateway's long options, from its option table (if written)."""
    import re
    src = "".join(p.read_text() for p in (REPO / "src/host/gateway").glob("*.c")) \
        if (REPO / "src/host/gateway").is_dir() else ""
    return set(re.findall(r'\{\s*"([a-z-]+)"\s*,\s*(?:required|no)_argument', src))


def test_gateway_unit():
    u = unit("enclave-gateway.service")
    argv = shlex.split(u["Service"]["ExecStart"])
    assert argv[0].endswith("/enclave-gateway")
    o = {argv[i]: argv[i + 1] for i in range(1, len(argv), 2)}
    assert o == {"--listen": "127.0.0.1:8080", "--enclave": "vsock:16:5000",
                 "--tsk": "%d/encrypted-tsk.b64", "--credentials": "imds",
                 "--region": "ap-southeast-1"}
    assert u["Service"]["LoadCredential"] == \
        "encrypted-tsk.b64:/etc/confidential-enclave/encrypted-tsk.b64"
    assert u["Service"]["DynamicUser"] == "yes"
    assert "AF_VSOCK" in u["Service"]["RestrictAddressFamilies"]
    assert u["Service"]["Restart"] == "on-failure"
    known = gateway_options()
    if known:
        assert {k[2:] for k in o} <= known, "options enclave-gateway does not know"


def enclave_command(key, cid, env=None):
    """The enclave template unit's command line `key` for instance `cid`, as
    systemd would run it: %i is the CID, ${VAR} the Environment= defaults
    (or `env`), the script from this checkout."""
    u = unit("confidential-enclave@.service")
    raw = (UNITS / "confidential-enclave@.service").read_text()
    values = dict(l.split("=", 1)[1].split("=", 1) for l in raw.splitlines()
                  if l.startswith("Environment="))
    values.update(env or {})
    line = u["Service"][key].replace("%i", str(cid))
    for k, v in values.items():
        line = line.replace("${%s}" % k, v)
    argv = shlex.split(line)
    assert argv[0] == "/opt/confidential-enclave/scripts/run-enclave.sh"
    argv[0] = str(REPO / "scripts/run-enclave.sh")
    return argv


def test_enclave_template_unit_supervises_one_cid():
    u = unit("confidential-enclave@.service")
    argv = enclave_command("ExecStart", 17)
    assert "--supervise" in argv and "--debug" not in argv
    assert argv[argv.index("--enclave-cid") + 1] == "17"
    assert argv[argv.index("--eif") + 1] == "/opt/confidential-enclave/build/enclave.eif"
    stop = enclave_command("ExecStopPost", 17)
    assert stop[1:] == ["--stop", "--enclave-cid", "17"]
    assert "ExecStop" not in u["Service"]
    assert "--all" not in (UNITS / "confidential-enclave@.service").read_text().replace(
        "terminate-enclave --all`", "")
    assert u["Service"]["Type"] == "exec"
    assert u["Service"]["Restart"] == "on-failure"
    assert u["Service"]["KillMode"] == "mixed"
    assert int(u["Unit"]["StartLimitBurst"]) >= 1
    assert u["Service"]["EnvironmentFile"] == "-/etc/confidential-enclave/enclave-%i.env"
    assert u["Unit"]["Requires"] == "nitro-enclaves-allocator.service"


def test_enclave_template_unit_runs_two_cids_side_by_side(sandbox):
    """Two instances' command lines against the stand-in nitro-cli: both
    run, stopping one (ExecStopPost, what systemd runs after the
    supervisor exits) leaves the other."""
    state = sandbox.tmp / "enclaves.json"
    sandbox.env["STANDIN_ENCLAVES_STATE"] = str(state)
    eif = sandbox.tmp / "enclave.eif"
    eif.write_bytes(b"EIF")
    procs = []
    try:
        for cid, memory in ((16, "512"), (17, "1024")):
            argv = enclave_command("ExecStart", cid, {"ENCLAVE_EIF": str(eif),
                                                      "ENCLAVE_MEMORY_MIB": memory})
            procs.append(subprocess.Popen(argv, env=sandbox.env, stdin=subprocess.DEVNULL,
                                          stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL))
        running = lambda: {e["EnclaveCID"]: e for e in json.loads(state.read_text())} \
            if state.exists() else {}
        deadline = time.monotonic() + 30
        while sorted(running()) != [16, 17]:
            assert all(p.poll() is None for p in procs)
            assert time.monotonic() < deadline, running()
            time.sleep(0.05)
        assert running()[17]["MemoryMiB"] == 1024
        id17 = running()[17]["EnclaveID"]
        # systemctl stop confidential-enclave@16: SIGTERM to its main
        # process, then ExecStopPost.
        procs[0].send_signal(signal.SIGTERM)
        assert procs[0].wait(timeout=30) == 0
        r = sandbox.run(*enclave_command("ExecStopPost", 16))
        assert r.returncode == 0, r.stderr
        assert list(running()) == [17] and running()[17]["EnclaveID"] == id17
        assert procs[1].poll() is None
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    terminates = [c["argv"] for c in sandbox.calls("nitro-cli")
                  if c["argv"][0] == "terminate-enclave"]
    assert len(terminates) == 1 and terminates[0][:2] == ["terminate-enclave", "--enclave-id"]


def test_gateway_unit_follows_the_enclave_instance():
    u = unit("enclave-gateway.service")
    assert "confidential-enclave@16.service" in u["Unit"]["After"].split()
    assert "confidential-enclave@16.service" in u["Unit"]["Wants"].split()
    assert not (UNITS / "confidential-enclave.service").exists()


INSTANCE = {"enclave-vsock-proxy@.service": "ap-southeast-1",
            "confidential-enclave@.service": "16"}


@pytest.mark.parametrize("name", ["enclave-vsock-proxy@.service", "enclave-gateway.service",
                                  "confidential-enclave@.service"])
def test_systemd_accepts_the_unit(name, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    src = UNITS / name
    dst = tmp_path / (name.replace("@.", "@%s." % INSTANCE[name]) if "@." in name else name)
    if "@." in name:
        shutil.copy(src, tmp_path / name)
    shutil.copy(src, dst)
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(dst)],
                       capture_output=True, text=True, env={"SYSTEMD_LOG_LEVEL": "warning",
                                                            "PATH": "/usr/bin:/bin"})
    # What only the parent instance has (the binaries, nitro-cli's units)
    # cannot be found here; anything else systemd says is a real problem.
    problems = [l for l in (r.stdout + r.stderr).splitlines() if l.strip()
                and "is not executable: No such file or directory" not in l
                and "Unit nitro-enclaves-allocator.service not found" not in l
                and "Unit enclave-vsock-proxy@" not in l
                and "Unit confidential-enclave@" not in l]
    assert problems == []
