"""
enclaved: command line, startup, SIGTERM.
"""

import os
import pathlib
import re
import signal
import subprocess
import threading
import time

import pytest

from helpers.harness import REPO_ROOT, Conn, free_tcp_port

PING = {"type": "ping"}


def _run(exe, *args):
    return subprocess.run([exe] + list(args), capture_output=True, text=True,
                          timeout=10, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args", [
    ["--bogus"],
    ["--max-connections", "abc"],
    ["--max-connections", "-1"],
    ["--max-message", "12x"],
    ["--memory-limit", "1000"],
    ["--memory-limit", "1M"],
    ["--read-timeout", ""],
    ["--listen", "bogus:1"],
    ["--listen", "tcp:127.0.0.1:notaport"],
    ["--listen", "tcp:127.0.0.1:70000"],
    ["--step", "no-such-step"],
    ["--kms-timeout"],
    ["positional"],
], ids=lambda a: " ".join(a) or "empty")
def test_bad_option_exits_2_with_message(enclaved_bin, args):
    port = free_tcp_port()
    p = _run(enclaved_bin, "--listen", "tcp:127.0.0.1:%d" % port, *args)
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert p.stderr.strip(), "no message for a bad option"
    assert "listening on" not in p.stderr


def test_help_exits_0(enclaved_bin):
    p = _run(enclaved_bin, "--help")
    assert p.returncode == 0
    out = p.stdout + p.stderr
    for opt in ("--listen", "--kmstool", "--region", "--proxy-port", "--kms-timeout",
                "--step", "--agent-id", "--max-message", "--idle-timeout",
                "--read-timeout", "--max-connections", "--memory-limit"):
        assert opt in out, opt


def registered_steps():
    """The step names the source registers (src/enclave/steps/, step.h)."""
    steps = set()
    for path in (pathlib.Path(REPO_ROOT) / "src" / "enclave" / "steps").glob("*.c"):
        text = path.read_text()
        if "STEP_REGISTER(" in text:
            steps.update(re.findall(r'\.name\s*=\s*"([^"]+)"', text))
    return steps


def test_help_lists_the_registered_steps(enclaved_bin):
    """--help names every step linked in, not a list written by hand
    (issue 25 item 7): a new step file shows up by itself."""
    out = _run(enclaved_bin, "--help").stdout
    lines = out.splitlines()
    at = [i for i, l in enumerate(lines) if l.lstrip().startswith("--step")]
    assert len(at) == 1, out
    listed = {s.strip() for s in lines[at[0] + 1].split(",")}
    assert listed == registered_steps() and "echo" in listed, (listed, out)


def test_listening_line_per_listener(daemon):
    log = daemon.log()
    assert "listening on " + daemon.tcp in log
    assert "listening on " + daemon.unix in log
    line = [l for l in log.splitlines() if "listening on " + daemon.tcp in l][0]
    assert "INFO" in line


def test_sigterm_exits_0(daemon):
    assert daemon.request(PING)["msg"] == "pong"
    idle = daemon.connect()
    t0 = time.monotonic()
    rc = daemon.terminate(timeout=10)
    idle.close()
    assert rc == 0, "exit status %r after SIGTERM\n%s" % (rc, daemon.log()[-2000:])
    assert time.monotonic() - t0 < 5


def test_sigterm_with_half_sent_message_exits_promptly(daemon):
    # a message that is only half here is not a request in flight: SIGTERM
    # must not wait for the (30 s) read timeout
    with daemon.connect() as c, daemon.connect() as c2:
        c.send_raw(b'{"type":"ping","x":"')
        c2.send_raw(b"\x00\x00\x01\x00{")
        time.sleep(0.1)
        t0 = time.monotonic()
        rc = daemon.terminate(timeout=10)
        took = time.monotonic() - t0
    assert rc == 0, rc
    assert took < 5, "SIGTERM took %.1f s with a half-sent message open" % took


def test_sigterm_configured_exits_0(configured_daemon):
    with configured_daemon.connect() as c:
        assert c.request({"type": "health"})["configured"] is True
        rc = configured_daemon.terminate(timeout=10)
    assert rc == 0, rc


def test_sigterm_stops_accepting(daemon):
    assert daemon.terminate(timeout=10) == 0
    with pytest.raises(OSError):
        Conn(daemon.tcp, timeout=1).request(PING)
    with pytest.raises(OSError):
        Conn(daemon.unix, timeout=1).request(PING)


def test_sigterm_finishes_request_in_flight(start_daemon, fake_kms):
    # "SIGTERM: stop accepting, finish requests in flight, wipe, exit 0"
    d = start_daemon("--kms-timeout", "10", kmstool=fake_kms.path)
    result = {}

    def slow():
        try:
            result["resp"] = d.configure(fake_kms.token("slow-key2"), timeout=15)
        except Exception as e:                      # noqa: BLE001
            result["err"] = repr(e)

    t = threading.Thread(target=slow)
    t.start()
    deadline = time.monotonic() + 3
    while fake_kms.calls() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)
    d.proc.send_signal(signal.SIGTERM)
    t.join(15)
    rc = d.terminate(timeout=10)
    assert rc == 0, rc
    assert result.get("resp", {}).get("status") == "ok", result


def test_unbindable_unix_path_fails(enclaved_bin):
    # a daemon that cannot bind says so and does not claim to listen
    path = "/tmp/encl-notdir-%d/x.sock" % os.getpid()
    p = _run(enclaved_bin, "--listen", "unix:" + path)
    assert p.returncode != 0
    assert "listening on" not in p.stderr


def test_port_in_use_fails_with_message(enclaved_bin):
    import socket
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    port = holder.getsockname()[1]
    try:
        p = _run(enclaved_bin, "--listen", "tcp:127.0.0.1:%d" % port,
                 "--kmstool", "/bin/false")
    finally:
        holder.close()
    assert p.returncode != 0
    assert p.stderr.strip()
    assert "listening on tcp:127.0.0.1:%d" % port not in p.stderr
