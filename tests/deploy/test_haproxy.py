"""deploy/haproxy/haproxy.cfg, the example balancer in front of the parents,
and the configuration tests/fleet/fleet.py derives from it."""
import importlib.util
import re
import shutil
import subprocess
from types import SimpleNamespace

import pytest

from deploykit import REPO

CFG = REPO / "deploy/haproxy/haproxy.cfg"


def lines(text):
    return [l.split("#", 1)[0].strip() for l in text.splitlines()
            if l.split("#", 1)[0].strip()]


def test_health_checks_and_retries_follow_the_readme():
    cfg = lines(CFG.read_text())
    assert "option httpchk GET /healthz" in cfg
    assert "http-check expect status 200" in cfg
    (retry_on,) = [l for l in cfg if l.startswith("retry-on ")]
    statuses = {w for w in retry_on.split()[1:] if w.isdigit()}
    # README: 502, 503 and 504 are retryable; a 4xx is the enclave's verdict.
    assert statuses == {"502", "503", "504"}
    assert "option redispatch 1" in cfg
    # The gateway answers (--timeout, 30 s by default) before HAProxy gives up.
    (server,) = [l for l in cfg if l.startswith("timeout server ")]
    assert int(re.fullmatch(r"timeout server (\d+)s", server).group(1)) > 30
    servers = [l for l in cfg if l.startswith("server ")]
    assert len(servers) >= 3


def test_haproxy_accepts_it():
    if not shutil.which("haproxy"):
        pytest.skip("haproxy is not installed (scripts/install-deps.sh installs it)")
    r = subprocess.run(["haproxy", "-c", "-f", str(CFG)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def fleet_config(tmp_path):
    spec = importlib.util.spec_from_file_location("fleet", REPO / "tests/fleet/fleet.py")
    fleet = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fleet)
    lb = fleet.HAProxy.__new__(fleet.HAProxy)
    lb.port, lb.sock, lb.lb_retry = 18080, str(tmp_path / "s.sock"), True
    parents = [SimpleNamespace(name="parent%d" % i, port=18080 + i) for i in (1, 2, 3)]
    return lb.config(parents)


def test_the_fleet_runs_this_file_with_only_addresses_changed(tmp_path):
    """What make fleet-test measures is the example's behaviour: only the
    bind, server, stats socket and process lines differ."""
    ours = fleet_config(tmp_path)
    mine = [l for l in lines(ours) if not l.startswith(("bind ", "server ", "stats socket "))]
    example = [l for l in lines(CFG.read_text())
               if not l.startswith(("bind ", "server ", "stats socket ", "log /dev/log",
                                    "chroot ", "user ", "group "))]
    assert mine == example
    assert "bind 127.0.0.1:18080" in ours
    assert [l for l in lines(ours) if l.startswith("server ")] == \
        ["server parent%d 127.0.0.1:%d" % (i, 18080 + i) for i in (1, 2, 3)]
    if shutil.which("haproxy"):
        path = tmp_path / "fleet.cfg"
        path.write_text(ours)
        r = subprocess.run(["haproxy", "-c", "-f", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stdout + r.stderr
