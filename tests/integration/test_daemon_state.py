"""
The daemon's state lives in one place (issue 25 item 1, docs/architecture.md
"Startup"): `struct enclave_ctx` in src/enclave/context.h, made by main.c
and passed to every handler. No object of src/enclave/ may keep mutable
data of its own in .data or .bss (the keys, the NSM, the broker's channel,
the job limit and the sandbox's switches used to live there), but for the
scratch named below, each with its reason.

Read with `objdump -t` from the objects of $BUILD_DIR/obj/src/enclave, so a
new file-scope variable anywhere in the daemon fails here.
"""
import os
import re
import shutil
import subprocess

import pytest

from helpers.harness import BUILD_DIR

#: (object, symbol prefix): mutable data that is not the daemon's state.
SCRATCH = {
    # The KMS broker child's one receive buffer (64 KiB, off the stack):
    # a broker child serves one request and exits.
    ("kms/broker.o", "msg."),
    # The registered steps' names, built once for --help and messages.
    ("steps/registry.o", "names."),
}


def objects():
    root = os.path.join(BUILD_DIR, "obj", "src", "enclave")
    if not os.path.isdir(root):
        pytest.skip("no objects under %s: build first" % root)
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(".o"):
                yield os.path.join(d, n), os.path.relpath(os.path.join(d, n), root)


def mutable_symbols(path):
    """Named objects the linker puts in .data or .bss (writable)."""
    out = subprocess.run(["objdump", "-t", path], capture_output=True,
                         text=True, check=True).stdout
    found = []
    for line in out.splitlines():
        m = re.search(r"\s(\.data|\.bss)(\.\S+)?\s+[0-9a-f]+\s+(\S+)$", line)
        # AddressSanitizer's own markers (__odr_asan.*, __asan_*) are not
        # the daemon's: the sanitized build is checked the same way.
        if m and not m.group(3).startswith((".", "__odr_asan", "__asan")) \
                and (m.group(2) is None or not m.group(2).startswith(".rel")):
            found.append(m.group(3))
    return found


@pytest.mark.skipif(shutil.which("objdump") is None, reason="no objdump")
def test_no_file_scope_state_in_the_daemon():
    seen, stray = 0, []
    for path, rel in objects():
        seen += 1
        for sym in mutable_symbols(path):
            if not any(rel == o and sym.startswith(p) for o, p in SCRATCH):
                stray.append("%s: %s" % (rel, sym))
    assert seen > 20, "too few objects read: %d" % seen
    assert stray == [], "state outside struct enclave_ctx:\n" + "\n".join(stray)


@pytest.mark.skipif(shutil.which("objdump") is None, reason="no objdump")
def test_the_check_sees_a_variable():
    """The check itself: the scratch it allows is really there, so an empty
    answer cannot pass for a clean tree."""
    found = {(rel, sym) for path, rel in objects()
             for sym in mutable_symbols(path)}
    for obj, prefix in SCRATCH:
        assert any(o == obj and s.startswith(prefix) for o, s in found), \
            (obj, prefix, sorted(found))
