"""The parent's vsock-proxy allowlist and systemd units."""
import configparser
import shlex
import shutil
import subprocess

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


def test_enclave_unit_runs_the_run_script():
    u = unit("confidential-enclave.service")
    argv = shlex.split(u["Service"]["ExecStart"])
    assert argv[0].endswith("/scripts/run-enclave.sh")
    assert "--terminate-existing" in argv and "--debug" not in argv
    assert argv[argv.index("--enclave-cid") + 1] == "16"
    assert u["Unit"]["Requires"] == "nitro-enclaves-allocator.service"


@pytest.mark.parametrize("name", ["enclave-vsock-proxy@.service", "enclave-gateway.service",
                                  "confidential-enclave.service"])
def test_systemd_accepts_the_unit(name, tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    src = UNITS / name
    dst = tmp_path / (name.replace("@.", "@ap-southeast-1.") if "@." in name else name)
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
                and "Unit enclave-vsock-proxy@" not in l]
    assert problems == []
