"""
The source layout says what things are (docs/architecture.md, "Source
layout"), and stays that way:

  * every #include "prefix/x.h" resolves in one include root: src/ or
    include/, never both (the Makefile passes -Iinclude -Isrc, so a header
    in both would be found by the order of two flags);
  * cJSON is included one way, <cJSON.h>, as its pkg-config flags make it
    resolve;
  * no folder is called tools/ (simulators and stand-ins say so);
  * no source reads or names ../shared: the repository stands alone.

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
