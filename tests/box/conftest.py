"""Prints the box's numbers (tests/box/test_box.py records them) after the
run, above pytest's closing line."""
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SUMMARY = Path(os.environ.get("BUILD_DIR", str(REPO / "build"))) / "box/summary.json"


def pytest_sessionstart(session):
    if SUMMARY.exists():
        SUMMARY.unlink()


def pytest_terminal_summary(terminalreporter):
    if not SUMMARY.exists():
        return
    data = json.loads(SUMMARY.read_text())
    terminalreporter.write_line("enclave box (%s):" % data.get("accel", "?"))
    for k in sorted(data):
        terminalreporter.write_line("  %-32s %s" % (k, data[k]))
