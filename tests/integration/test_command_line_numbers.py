"""
One rule for a number on any command line (common/number.c, issue 15 item
4): decimal digits only, no sign, no white space, nothing after, not empty,
within the option's range. Each binary refuses the same bad forms with its
usage exit status (2; kmstool-dev 1, like AWS's tool) and one line that
names the option, what was given (kmstool-dev: never, a value may be a
credential) and the range. Before the one parser,
the gateway and enclavectl took " +5" (strtol skips spaces and a sign)
while enclaved refused "+5".
"""

import os
import subprocess

import pytest

from helpers.harness import binary, free_tcp_port

BAD = [" +5", "+5", " 5", "-1", "5x", "", "0x10", "18446744073709551616"]


def run(argv, timeout=20):
    exe = argv[0]
    if not os.access(exe, os.X_OK):
        pytest.skip("%s not built" % os.path.basename(exe))
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL,
                       env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    return p.returncode, p.stdout, p.stderr


def refused(argv, option, given, lo, hi, prog, status=2):
    rc, out, err = run(argv)
    assert rc == status, (argv, rc, err)
    first = err.splitlines()[0]
    assert first == "%s: %s: '%s' is not a number in %s..%s" % (
        prog, option, given, lo, hi), err
    return err


@pytest.mark.parametrize("given", BAD)
def test_enclaved_refuses(given):
    refused([binary("enclaved"), "--threads", given],
            "--threads", given, 1, 256, "enclaved")


@pytest.mark.parametrize("given", BAD)
def test_gateway_refuses(given):
    refused([binary("enclave-gateway"), "--queue", given],
            "--queue", given, 0, 100000, "enclave-gateway")


@pytest.mark.parametrize("given", BAD)
def test_enclavectl_refuses(given):
    refused([binary("enclavectl"), "--retry", given, "ping"],
            "--retry", given, 0, 100, "enclavectl")


@pytest.mark.parametrize("given", BAD)
def test_kmstool_dev_refuses(given):
    # kmstool-dev never echoes a value (it may be a credential typed in the
    # wrong place): its line names the option and the range only.
    rc, out, err = run([binary("kmstool-dev"), "genrandom", "--region",
                        "eu-west-1", "--proxy-port", "8000",
                        "--aws-access-key-id", "AKIDTEST",
                        "--aws-secret-access-key", "S",
                        "--aws-session-token", "T", "--length", given])
    assert rc == 1, err
    assert err.splitlines()[0] == "kmstool-dev: bad --length: expected 1..1024"
    rc, out, err = run([binary("kmstool-dev"), "genrandom", "--proxy-port",
                        given])
    assert rc == 1, err
    assert err.splitlines()[0] == "kmstool-dev: bad --proxy-port: expected 1..65535"


@pytest.mark.parametrize("given", BAD)
def test_loadgen_refuses(given):
    refused([binary("bench/loadgen"), "run", "--connect", "tcp:127.0.0.1:1",
             "--conns", given], "--conns", given, 1, 4096, "loadgen")


def test_range_ends_are_inclusive():
    # enclavectl reads its global options in order, so a --help after the
    # number shows whether the number was taken.
    for given in ["0", "100", "007"]:
        rc, out, err = run([binary("enclavectl"), "--retry", given, "--help"])
        assert rc == 0 and "usage" in out, (given, err)
    refused([binary("enclavectl"), "--retry", "101", "--help"],
            "--retry", "101", 0, 100, "enclavectl")
    refused([binary("enclaved"), "--max-connections", "65537"],
            "--max-connections", "65537", 1, 65536, "enclaved")
    refused([binary("enclaved"), "--max-encryptions", "4294967297"],
            "--max-encryptions", "4294967297", 1, 4294967296, "enclaved")
    refused([binary("enclave-gateway"), "--connections-per-enclave", "0"],
            "--connections-per-enclave", "0", 1, 256, "enclave-gateway")
    refused([binary("enclave-gateway"), "--memory-limit", "65535"],
            "--memory-limit", "65535", 65536, 18446744073709551615,
            "enclave-gateway")


def test_endpoint_ports_follow_the_rule():
    for port in ["+5000", " 5000", "5000 ", "0x1388"]:
        rc, out, err = run([binary("enclavectl"), "--enclave",
                            "tcp:127.0.0.1:" + port, "ping"])
        assert rc == 2, (port, err)
        assert "port" in err, err


def test_seconds_take_a_fraction_and_nothing_else():
    for given in ["1e3", " 1", "+1", ".5", "5.", "inf", "0", "3600.5"]:
        rc, out, err = run([binary("enclave-gateway"), "--timeout", given])
        assert rc == 2, (given, err)
        assert err.splitlines()[0] == (
            "enclave-gateway: --timeout: '%s' is not a time in seconds in "
            "0.001..3600" % given), err
    rc, out, err = run([binary("enclavectl"), "--timeout", "1e3", "ping"])
    assert rc == 2
    assert "--timeout: '1e3' is not a time in seconds in 0.001..86400" in err
    # a fraction is a time like any other: accepted, then the connect fails
    rc, out, err = run([binary("enclavectl"), "--timeout", "0.5", "--enclave",
                        "tcp:127.0.0.1:%d" % free_tcp_port(), "ping"])
    assert rc == 3, err


def test_pcr_index_and_at_follow_the_rule():
    for given in ["+1=" + "00" * 48, " 1=" + "00" * 48, "32=" + "00" * 48,
                  "=" + "00" * 48]:
        rc, out, err = run([binary("enclavectl"), "verify-attestation",
                            "--expect-pcr", given, "/dev/null"])
        assert rc == 2, (given, err)
        assert "--expect-pcr takes N=HEX with N in 0..31" in err, err
    for given in ["+5", " 5", "-5", "5x"]:
        rc, out, err = run([binary("enclavectl"), "verify-attestation",
                            "--at", given, "/dev/null"])
        assert rc == 2, (given, err)
        assert "--at takes" in err, err


def test_log_level_one_rule():
    # One parser (common/log.c) for both: exact lowercase names.
    for given in [" info", "INFO", "warning", ""]:
        rc, out, err = run([binary("enclaved"), "--log-level", given])
        assert rc == 2, (given, err)
        assert err.splitlines()[0] == ("enclaved: --log-level: '%s' is not "
                                       "debug, info, warn or error" % given)
        rc, out, err = run([binary("enclave-gateway"), "--log-level", given])
        assert rc == 2, (given, err)
        assert err.splitlines()[0] == ("enclave-gateway: --log-level is debug, "
                                       "info, warn or error, not '%s'" % given)
