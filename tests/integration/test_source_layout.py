"""
The source layout says what things are (docs/architecture.md, "Source
layout"), and stays that way:

  * every #include "prefix/x.h" resolves in one include root: src/ or
    include/, never both (the Makefile passes -Iinclude -Isrc, so a header
    in both would be found by the order of two flags);
  * cJSON is included one way, <cJSON.h>, as its pkg-config flags make it
    resolve;
  * no folder is called tools/ (simulators and stand-ins say so);
  * no source reads or names ../shared: the repository stands alone;
  * nothing outside src/common/buf.c writes a `struct buf`'s `len`: a
    buffer changes only through buf.h (buf_tail/buf_commit, buf_truncate,
    ...), so its invariants are kept in one file.

Reads the checkout only; needs no build.
"""
import os
import re

from helpers.harness import REPO_ROOT

ROOTS = ("src", "include")
SOURCE_DIRS = ("src", "include", "tests/unit", "tests/fuzz", "bench")
INCLUDE = re.compile(r'^\s*#\s*include\s+([<"])([^>"]+)[>"]', re.M)


def sources(exts=(".c", ".h")):
    for top in SOURCE_DIRS:
        for dirpath, _, files in os.walk(os.path.join(REPO_ROOT, top)):
            for f in files:
                if f.endswith(exts):
                    yield os.path.join(dirpath, f)


def includes():
    """(file, kind, name) for every #include in the C sources."""
    for path in sources():
        with open(path, encoding="utf-8", errors="replace") as f:
            for m in INCLUDE.finditer(f.read()):
                yield os.path.relpath(path, REPO_ROOT), m.group(1), m.group(2)


def test_every_prefix_resolves_in_one_root():
    both, seen = [], 0
    for path, kind, name in includes():
        if kind != '"' or "/" not in name:
            continue
        seen += 1
        found = [r for r in ROOTS
                 if os.path.exists(os.path.join(REPO_ROOT, r, name))]
        if len(found) > 1:
            both.append("%s: %s in %s" % (path, name, " and ".join(found)))
    assert seen > 100, "found only %d prefixed includes" % seen
    assert not both, "\n".join(both)


def test_no_prefix_is_split_across_roots():
    """A prefix ("enclave/", "common/") lives under one root only."""
    prefixes = {r: {d for d in os.listdir(os.path.join(REPO_ROOT, r))
                    if os.path.isdir(os.path.join(REPO_ROOT, r, d))}
                for r in ROOTS}
    shared = prefixes["src"] & prefixes["include"]
    assert not shared, "prefixes under both src/ and include/: %s" % \
        ", ".join(sorted(shared))


def test_cjson_included_one_way():
    ways = {}
    for path, _, name in includes():
        if name.endswith("cJSON.h"):
            ways.setdefault(name, []).append(path)
    assert set(ways) <= {"cJSON.h"}, \
        "cJSON included as %s" % {k: v[:3] for k, v in ways.items()}
    assert ways, "no file includes cJSON?"


def test_no_folder_called_tools():
    found = []
    for dirpath, dirs, _ in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if not d.startswith(".")
                   and not d.startswith("build")]
        found += [os.path.relpath(os.path.join(dirpath, d), REPO_ROOT)
                  for d in dirs if d == "tools"]
    assert not found, "folders called tools/: %s" % ", ".join(found)


def test_no_source_names_shared():
    here = os.path.abspath(__file__)
    named = []
    for top in SOURCE_DIRS + ("tests", "scripts", "enclave"):
        for dirpath, _, files in os.walk(os.path.join(REPO_ROOT, top)):
            for f in files:
                p = os.path.join(dirpath, f)
                if not f.endswith((".c", ".h", ".py", ".sh")) or \
                        os.path.abspath(p) == here:
                    continue
                with open(p, encoding="utf-8", errors="replace") as fh:
                    if "../shared" in fh.read():
                        named.append(os.path.relpath(p, REPO_ROOT))
    assert not named, "name ../shared: %s" % ", ".join(sorted(set(named)))


#: Writes to a `len` field that is not a struct buf's, each with its type:
#: slices, secrets, frames and the like, which own no block.
NOT_A_BUF = {
    ("src/client/recv.c", "fr->len"): "struct frame",
    ("src/common/cbor_keys.c", "k->len"): "struct cbor_key",
    ("src/common/frame.c", "out->len"): "struct frame",
    ("src/common/json_scan.c", "ref.len"): "struct name_ref",
    ("src/common/secret.c", "s->len"): "struct secret",
    ("src/enclave/bulk_field.c", "field->len"): "struct bulk_field",
    ("src/enclave/handlers/process.c", "p->len"): "struct process_request",
    ("src/enclave/keystore.c", "bytes->len"): "struct secret",
    ("src/enclave/kms/native/http_response.c", "out->body.len"): "struct slice",
    ("src/enclave/kms/native/native.c", "pk.len"): "struct slice",
    ("src/enclave/nsm/nsm_device.c", "raw.request.len"): "struct nsm_iovec",
    ("src/enclave/nsm/nsm_device.c", "raw.response.len"): "struct nsm_iovec",
    ("src/enclave/reply.c", "s.len"): "struct slice",
    ("src/host/credentials/credential_set.c", "s->len"): "struct secret",
    ("src/host/enclavectl/cmd_attest.c", "pcr0.len"): "struct slice",
    ("src/host/enclavectl/cmd_verify_attestation.c", "a->pcrs[i].len"): "struct att_expect_pcr",
    ("src/standins/kmstool-dev/args.c", "dst->len"): "struct secret",
    ("src/verify/attestation_doc.c", "d->pcrs[idx].len"): "struct slice",
    ("src/verify/attestation_doc.c", "out->len"): "struct slice",
    ("src/verify/cose_sign1.c", "out->len"): "struct slice",
    ("src/verify/eif_read.c", "s->len"): "struct slice",
}

LEN_WRITE = re.compile(r"([\w\[\]>.-]*?(?:\.|->)len)\s*(?:=(?!=)|\+=|-=|\+\+|--)")


def test_no_buf_len_written_outside_buf_c():
    found = set()
    for path in sources((".c",)):
        rel = os.path.relpath(path, REPO_ROOT)
        if not rel.startswith("src/") or rel == "src/common/buf.c":
            continue
        with open(path, errors="replace") as f:
            for line in f:
                for m in LEN_WRITE.finditer(line):
                    found.add((rel, m.group(1).lstrip("(*!&")))
    stray = sorted(found - set(NOT_A_BUF))
    assert stray == [], ("a len written outside buf.c (use buf.h, or name "
                         "the type here if it is not a struct buf): %r" % stray)
    # The list names only writes that exist: it cannot hide a stale entry.
    assert set(NOT_A_BUF) <= found, sorted(set(NOT_A_BUF) - found)
