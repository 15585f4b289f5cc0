"""
enclaved carries only what it runs (docs/architecture.md, "Source
layout"). The verifiers live in src/verify/ (libverify.a): the attestation
document verifier with its COSE_Sign1 parsing, which enclavectl runs, and
the SigV4 verifier, which only the tests run. enclaved signs SigV4 and
decodes the NSM's CBOR through common/cbor_bounded, but verifies nothing
itself, so no symbol of libverify.a may be in the trusted binary.

Read with `nm` from $BUILD_DIR/enclaved (not stripped: the build keeps
its symbol table, which the first test checks, so an empty answer cannot
pass for a clean one).
"""
import os
import shutil
import subprocess

import pytest

from helpers.harness import binary

#: Named here so the check holds even if libverify.a were not built.
VERIFIER_SYMBOLS = (
    "attestation_verify",
    "attestation_doc_parse",
    "attestation_decode_input",
    "attestation_aws_nitro_root_g1_pem",
    "cose_sign1_parse",
    "cose_sign1_sig_structure",
    "cose_sign1_free",
    "sigv4_verify",
)

#: What enclaved must keep: the signer, the bounded CBOR loader, the NSM
#: request and response.
RUNTIME_SYMBOLS = (
    "sigv4_sign",
    "cbor_load_bounded",
    "nsm_attestation_request",
    "nsm_attestation_response",
)


def defined_symbols(path, *extra):
    """Names of the symbols `path` defines (nm --defined-only)."""
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    out = subprocess.run([nm, "--defined-only", *extra, path],
                         capture_output=True, text=True, timeout=60,
                         check=True).stdout
    names = set()
    for line in out.splitlines():
        fields = line.split()
        # "ADDRESS TYPE NAME"; archive member headers ("x.o:") have one.
        if len(fields) == 3:
            names.add(fields[2])
    return names


@pytest.fixture(scope="module")
def enclaved_symbols(enclaved_bin):
    return defined_symbols(enclaved_bin)


def test_symbols_are_readable(enclaved_symbols):
    """The binary has a symbol table and keeps what it runs."""
    missing = [s for s in RUNTIME_SYMBOLS if s not in enclaved_symbols]
    assert not missing, "enclaved lacks %s (stripped?)" % ", ".join(missing)


def test_no_verifier_in_enclaved(enclaved_symbols):
    """No attestation verifier, COSE parsing or SigV4 verifier."""
    found = sorted(s for s in VERIFIER_SYMBOLS if s in enclaved_symbols)
    assert not found, "enclaved carries verifier code: %s" % ", ".join(found)


def test_nothing_from_libverify_in_enclaved(enclaved_symbols):
    """Every global symbol src/verify/ defines stays out of enclaved."""
    lib = binary(os.path.join("lib", "libverify.a"))
    assert os.path.exists(lib), "%s is not built" % lib
    verify = defined_symbols(lib, "--extern-only")
    assert set(VERIFIER_SYMBOLS) <= verify, \
        "libverify.a lacks %s" % ", ".join(sorted(set(VERIFIER_SYMBOLS) - verify))
    found = sorted(verify & enclaved_symbols)
    assert not found, "enclaved carries libverify.a code: %s" % ", ".join(found)
