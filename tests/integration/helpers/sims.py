"""Starting the NSM and KMS simulators (tests/simulators/) for a test:
where they are, the interpreter they need, and the bounded wait for the
"ready" line every simulator prints once it listens."""

import os
import select
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SIMULATORS = os.path.abspath(os.path.join(HERE, "..", "..", "simulators"))
if SIMULATORS not in sys.path:
    sys.path.insert(0, SIMULATORS)

PYTHON = "/usr/bin/python3"
START_TIMEOUT = 30.0


def wait_ready(proc, what):
    """The first stdout line ("ready ..."), within START_TIMEOUT, split."""
    deadline = time.monotonic() + START_TIMEOUT
    line = b""
    while time.monotonic() < deadline:
        r, _, _ = select.select([proc.stdout], [], [], 0.2)
        if r:
            line = proc.stdout.readline()
            if line.startswith(b"ready"):
                return line.decode().split()
        if proc.poll() is not None:
            break
    raise AssertionError("%s did not start: %r %s" % (
        what, line, proc.stderr.read().decode(errors="replace")
        if proc.poll() is not None else "(still running)"))


def start(script, *args):
    """tests/simulators/SCRIPT ARGS, started and ready: (process, words of
    its ready line)."""
    proc = subprocess.Popen([PYTHON, os.path.join(SIMULATORS, script)] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        return proc, wait_ready(proc, script)
    except AssertionError:
        stop(proc)
        raise


def stop(proc):
    """Terminate a simulator (killed if it does not go) and close its pipes."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for s in (proc.stdout, proc.stderr):
        s.close()
