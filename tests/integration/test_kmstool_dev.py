"""
kmstool-dev: the command line and output contract it shares with AWS's
kmstool_enclave_cli (aws-nitro-enclaves-sdk-c, bin/kmstool-enclave-cli), its
blob round trip, its exit codes 0 / 1 / 255, its test hooks, and that no
credential ever reaches its output.

Every run uses an EMPTY environment and no shell, the way enclaved runs it.
The binary comes from $BUILD_DIR (default build/ of this checkout), through
conftest's kmstool_dev_bin fixture (skipped when not built).
"""

import base64
import os
import re
import signal
import subprocess
import time

import pytest

# Distinctive values: any of them in any output is a leak. The secret and
# the token carry shell metacharacters; no shell is involved anyway.
AKID = "AKIAKMSTOOLDEVTEST42"
SECRET = "kmsdevSECRETvalue/+$(id)`x`;rm-rf*Zq9"
TOKEN = "kmsdevTOKENvalue==&&|<>'\"QWERTY77"
LEAKS = [AKID, SECRET, TOKEN, "kmsdevSECRET", "kmsdevTOKEN"]

REASON_400 = "Got non-200 answer from KMS: 400"
REASON_500 = "Got non-200 answer from KMS: 500"
B64_RE = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
INFO_RE = re.compile(r"^\[INFO\] \[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] \[kmstool-dev\] - ")


def creds_args(akid=AKID, secret=SECRET, token=TOKEN):
    return ["--region", "eu-central-1", "--proxy-port", "8000",
            "--aws-access-key-id", akid, "--aws-secret-access-key", secret,
            "--aws-session-token", token]


def run(binary, *args, timeout=20, env=None):
    """Run the tool as the daemon does: argv only, empty environment
    (`env`: kmstool-dev's own variables, for a test that needs them)."""
    p = subprocess.run([binary] + list(args), capture_output=True,
                       env=dict(env or {}),
                       stdin=subprocess.DEVNULL, timeout=timeout)
    out, err = p.stdout.decode(), p.stderr.decode()
    for secret in LEAKS:
        assert secret not in out, "credential on stdout"
        assert secret not in err, "credential on stderr"
    return p.returncode, out, err


def genkey(binary, key_id="alias/dev-it", spec="AES-256", extra=(), env=None,
           **kw):
    rc, out, err = run(binary, "genkey", *creds_args(**kw), "--key-id", key_id,
                       "--key-spec", spec, *extra, env=env)
    assert rc == 0, err
    m = re.fullmatch(r"CIPHERTEXT: (%s)\nPLAINTEXT: (%s)\n" % (B64_RE, B64_RE),
                     out)
    assert m, "genkey output %r" % out
    return m.group(1), base64.b64decode(m.group(2), validate=True)


def decrypt(binary, blob, *extra, env=None, **kw):
    return run(binary, "decrypt", *creds_args(**kw), "--ciphertext", blob,
               *extra, env=env)


def plaintext_of(out):
    m = re.fullmatch(r"PLAINTEXT: (%s)\n" % B64_RE, out)
    assert m, "stdout %r" % out
    return base64.b64decode(m.group(1), validate=True)


def assert_failed(rc, out, err, reason=REASON_400):
    assert rc == 255
    assert out == ""
    lines = err.splitlines()
    assert lines and lines[-1] == reason, err
    # stderr carries INFO log lines too, like the real tool
    assert any(INFO_RE.match(line) for line in lines), err


def assert_usage(rc, out, err):
    assert rc == 1
    assert out == ""
    assert "usage: kmstool-dev" in err


def b64(data):
    return base64.b64encode(data).decode()


# --- the happy path -----------------------------------------------------------

@pytest.mark.parametrize("spec,size", [("AES-256", 32), ("AES-128", 16)])
def test_genkey_then_decrypt(kmstool_dev_bin, spec, size):
    blob, key = genkey(kmstool_dev_bin, spec=spec)
    assert len(key) == size
    rc, out, err = decrypt(kmstool_dev_bin, blob)
    assert rc == 0, err
    assert plaintext_of(out) == key


def test_output_lines_and_info_logs(kmstool_dev_bin):
    blob, _ = genkey(kmstool_dev_bin)
    rc, out, err = decrypt(kmstool_dev_bin, blob)
    assert rc == 0
    assert out.startswith("PLAINTEXT: ") and out.endswith("\n")
    assert out.count("\n") == 1
    info = [l for l in err.splitlines() if INFO_RE.match(l)]
    assert len(info) >= 2, err
    assert all(INFO_RE.match(l) for l in err.splitlines()), err
    assert "eu-central-1" in err      # region is logged, credentials are not


def test_every_genkey_is_fresh(kmstool_dev_bin):
    a = genkey(kmstool_dev_bin)
    b = genkey(kmstool_dev_bin)
    assert a[0] != b[0] and a[1] != b[1]


def test_decrypt_with_matching_key_id_and_algorithm(kmstool_dev_bin):
    blob, key = genkey(kmstool_dev_bin, key_id="arn:aws:kms:eu-central-1:"
                       "111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab")
    rc, out, _ = decrypt(kmstool_dev_bin, blob, "--key-id",
                         "arn:aws:kms:eu-central-1:111122223333:key/"
                         "1234abcd-12ab-34cd-56ef-1234567890ab",
                         "--encryption-algorithm", "SYMMETRIC_DEFAULT")
    assert rc == 0
    assert plaintext_of(out) == key


@pytest.mark.parametrize("length", [1, 2, 32, 1000, 1024])
def test_genrandom(kmstool_dev_bin, length):
    rc, out, err = run(kmstool_dev_bin, "genrandom", *creds_args(),
                       "--length", str(length))
    assert rc == 0, err
    assert len(plaintext_of(out)) == length


def test_defaults_for_region_and_port(kmstool_dev_bin):
    rc, out, err = run(kmstool_dev_bin, "genrandom", "--length", "8",
                       "--aws-access-key-id", AKID,
                       "--aws-secret-access-key", SECRET,
                       "--aws-session-token", TOKEN)
    assert rc == 0
    assert "us-east-1" in err and "8000" in err


def test_equals_form_is_not_an_option(kmstool_dev_bin):
    """The real tool's parser (aws_cli_getopt_long) matches a long option's
    whole name: --length=4 is an unknown option there, so here too."""
    assert_usage(*run(kmstool_dev_bin, "genrandom", "--length=4",
                      *creds_args()))


def test_help(kmstool_dev_bin):
    for args in (["--help"], ["decrypt", "--help"]):
        rc, out, err = run(kmstool_dev_bin, *args)
        assert rc == 0
        assert "usage: kmstool-dev" in out
        assert "FOR DEMOS AND TESTS" in out
        assert "NEVER put it into the" in out and "enclave image" in out
        assert "INSECURE" in out
        for hook in ("DEVDENY", "hook/deny", "DEVHANG", "DEVSLOW"):
            assert hook in out


# --- bad arguments: exit 1, usage on stderr -----------------------------------

#: Every option of kmstool_enclave_cli at v0.4.4 (bin/kmstool-enclave-cli/
#: main.c; docs: the spec's section 6), by the command that takes it.
REAL_OPTIONS = {
    "region": "all", "proxy-port": "all", "aws-access-key-id": "all",
    "aws-secret-access-key": "all", "aws-session-token": "all",
    "help": "all", "ciphertext": "decrypt", "key-id": "decrypt genkey",
    "encryption-algorithm": "decrypt", "key-spec": "genkey",
    "length": "genrandom",
}


def options_in_help(binary):
    """The option table as kmstool-dev prints it: the lines of --help's
    options section, which usage.c writes from args.c's one table."""
    rc, out, _ = run(binary, "--help")
    assert rc == 0
    section = out.split("Options (exactly the real tool's")[1].split("\n\n")[0]
    return re.findall(r"^  --([a-z-]+)", section, re.M)


def test_options_are_exactly_the_real_tools(kmstool_dev_bin):
    """F39: the table kmstool-dev parses with is the real tool's, no more:
    no --encryption-context (the real tool has none), no --master-key-file
    (the master key comes from KMSTOOL_DEV_MASTER_KEY_FILE)."""
    assert sorted(options_in_help(kmstool_dev_bin)) == sorted(REAL_OPTIONS)


@pytest.mark.parametrize("unknown", [
    "--encryption-context", "--master-key-file", "--context", "--key",
    "--key_id", "--keyid", "--cipher", "--len", "--regio", "--help-me",
    "--grant-tokens", "--dry-run", "--profile", "--endpoint-url",
])
@pytest.mark.parametrize("cmd", ["decrypt", "genkey", "genrandom"])
def test_unknown_options_exit_1_with_usage(kmstool_dev_bin, cmd, unknown):
    """Every option outside the table (found from --help, so from the
    table itself), abbreviations included, is usage and exit 1, as the real
    tool does, whether it comes first, last, or takes a value."""
    assert unknown[2:] not in options_in_help(kmstool_dev_bin)
    base = {"decrypt": ["--ciphertext", "AAAA"],
            "genkey": ["--key-id", "alias/x", "--key-spec", "AES-256"],
            "genrandom": ["--length", "4"]}[cmd]
    for args in ([unknown, "k=v"] + base, base + [unknown, "k=v"],
                 base + [unknown], base + [unknown + "=k=v"]):
        rc, out, err = run(kmstool_dev_bin, cmd, *creds_args(), *args)
        assert_usage(rc, out, err)
        assert unknown in err


def test_every_table_option_belongs_to_its_commands(kmstool_dev_bin):
    """Each option of the table is accepted by the commands the real tool
    takes it for (with a valid value), refused with usage by the others."""
    good = {"region": "eu-west-1", "proxy-port": "8001",
            "ciphertext": "AAAA", "key-id": "alias/x",
            "encryption-algorithm": "SYMMETRIC_DEFAULT",
            "key-spec": "AES-256", "length": "4"}
    for name in options_in_help(kmstool_dev_bin):
        if name in ("help",) or name.startswith("aws-"):
            continue
        for cmd in ("decrypt", "genkey", "genrandom"):
            takes = REAL_OPTIONS[name] == "all" or cmd in REAL_OPTIONS[name]
            if takes:
                continue
            rc, out, err = run(kmstool_dev_bin, cmd, *creds_args(),
                               "--" + name, good[name])
            assert_usage(rc, out, err)


def test_key_id_needs_encryption_algorithm(kmstool_dev_bin):
    """The real tool: "--encryption-algorithm must be set if key-id
    exists" (exit 1); with both, the key must be the blob's."""
    blob, key = genkey(kmstool_dev_bin, key_id="alias/one")
    rc, out, err = decrypt(kmstool_dev_bin, blob, "--key-id", "alias/one")
    assert_usage(rc, out, err)
    assert "--encryption-algorithm must be set" in err
    rc, out, _ = decrypt(kmstool_dev_bin, blob, "--key-id", "alias/one",
                         "--encryption-algorithm", "SYMMETRIC_DEFAULT")
    assert rc == 0 and plaintext_of(out) == key


@pytest.mark.parametrize("args", [
    [],
    ["encrypt"],
    ["decrypt"],
    ["decrypt", "--ciphertext", "AAAA"],
    ["decrypt", "--ciphertext", "AAAA", "--aws-access-key-id", AKID,
     "--aws-secret-access-key", SECRET],
    ["decrypt", "--ciphertext", "AAAA", "--aws-access-key-id", AKID,
     "--aws-session-token", TOKEN],
    ["decrypt", "--ciphertext", "AAAA", "--aws-secret-access-key", SECRET,
     "--aws-session-token", TOKEN],
    ["decrypt", "--ciphertext", "AAAA", "--aws-access-key-id", "",
     "--aws-secret-access-key", SECRET, "--aws-session-token", TOKEN],
])
def test_missing_pieces_exit_1(kmstool_dev_bin, args):
    assert_usage(*run(kmstool_dev_bin, *args))


@pytest.mark.parametrize("cmd,extra", [
    ("decrypt", []),                                         # no --ciphertext
    ("decrypt", ["--ciphertext", ""]),
    ("decrypt", ["--ciphertext", "AAAA", "--encryption-algorithm", "AES"]),
    ("decrypt", ["--ciphertext", "AAAA", "--key-spec", "AES-256"]),
    ("genkey", ["--key-spec", "AES-256"]),                    # no --key-id
    ("genkey", ["--key-id", "alias/x"]),                      # no --key-spec
    ("genkey", ["--key-id", "alias/x", "--key-spec", "AES-512"]),
    ("genkey", ["--key-id", "alias/x", "--key-spec", "aes-256"]),
    ("genkey", ["--key-id", "has space", "--key-spec", "AES-256"]),
    ("genkey", ["--key-id", "k" * 256, "--key-spec", "AES-256"]),
    ("genrandom", []),
    ("genrandom", ["--length", "0"]),
    ("genrandom", ["--length", "1025"]),
    ("genrandom", ["--length", "-1"]),
    ("genrandom", ["--length", "12abc"]),
    ("genrandom", ["--length", " 5"]),
    ("genrandom", ["--length", "5", "--key-id", "alias/x"]),
    ("genrandom", ["--length", "5", "--proxy-port", "0"]),
    ("genrandom", ["--length", "5", "--proxy-port", "65536"]),
    ("genrandom", ["--length", "5", "--region", "EU WEST"]),
    ("genrandom", ["--length", "5", "--no-such-option"]),
    ("decrypt", ["--ciphertext", "AAAA", "--encryption-context", "a=b"]),
    ("genkey", ["--key-id", "alias/x", "--key-spec", "AES-256",
                "--encryption-context", "a=b"]),
    ("genrandom", ["--length", "5", "stray"]),
    ("genrandom", ["--length"]),                              # value missing
])
def test_bad_arguments_exit_1(kmstool_dev_bin, cmd, extra):
    assert_usage(*run(kmstool_dev_bin, cmd, *creds_args(), *extra))


def test_unreadable_master_key_file_exit_1(kmstool_dev_bin, tmp_path):
    rc, out, err = run(kmstool_dev_bin, "genkey", *creds_args(), "--key-id",
                       "alias/x", "--key-spec", "AES-256",
                       env={"KMSTOOL_DEV_MASTER_KEY_FILE":
                            str(tmp_path / "missing.key")})
    assert rc == 1 and out == ""
    bad = tmp_path / "short.key"
    bad.write_bytes(b"0123")
    rc, out, err = run(kmstool_dev_bin, "genkey", *creds_args(), "--key-id",
                       "alias/x", "--key-spec", "AES-256",
                       env={"KMSTOOL_DEV_MASTER_KEY_FILE": str(bad)})
    assert rc == 1 and out == ""
    assert "0123" not in err


# --- operation failures: exit 255 and the reason last on stderr --------------

def flip(blob_b64, index):
    raw = bytearray(base64.b64decode(blob_b64))
    raw[index % len(raw)] ^= 0x01
    return b64(bytes(raw))


@pytest.mark.parametrize("index", [0, 4, 5, 6, 20, 30, -17, -1])
def test_tampered_blob_is_400(kmstool_dev_bin, index):
    blob, _ = genkey(kmstool_dev_bin)
    assert_failed(*decrypt(kmstool_dev_bin, flip(blob, index)))


@pytest.mark.parametrize("junk", [
    b"x", b"\x00" * 64, b"KTDV", b"KTDV\x01\x05alias" + b"\x00" * 40,
    os.urandom(200),
])
def test_foreign_bytes_are_400(kmstool_dev_bin, junk):
    assert_failed(*decrypt(kmstool_dev_bin, b64(junk)))


def test_oversized_ciphertext_is_400(kmstool_dev_bin):
    # KMS refuses a CiphertextBlob over 6144 bytes (ValidationException)
    assert_failed(*decrypt(kmstool_dev_bin, "A" * 9000))


def test_truncated_blob_is_400(kmstool_dev_bin):
    blob, _ = genkey(kmstool_dev_bin)
    raw = base64.b64decode(blob)
    for cut in (1, 16, len(raw) // 2, len(raw) - 1):
        assert_failed(*decrypt(kmstool_dev_bin, b64(raw[:cut])))


def test_not_base64_fails_255(kmstool_dev_bin):
    for text in ("not base64!", "AAA", "AAAA\n", "AA=A"):
        rc, out, err = decrypt(kmstool_dev_bin, text)
        assert rc == 255 and out == ""
        assert err.splitlines()[-1] == "Ciphertext not a valid base64 string"


SYM = ("--encryption-algorithm", "SYMMETRIC_DEFAULT")
KEY_UUID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = "arn:aws:kms:eu-central-1:111122223333:key/" + KEY_UUID


def test_key_id_mismatch_and_rsa_algorithm_are_400(kmstool_dev_bin):
    blob, _ = genkey(kmstool_dev_bin, key_id="alias/one")
    assert_failed(*decrypt(kmstool_dev_bin, blob, "--key-id", "alias/two",
                           *SYM))
    assert_failed(*decrypt(kmstool_dev_bin, blob, "--key-id", "alias/one",
                           "--encryption-algorithm", "RSAES_OAEP_SHA_256"))


def test_key_arn_and_its_key_id_name_the_same_key(kmstool_dev_bin):
    """As KMS: a Decrypt's KeyId may be the key's ARN or its bare id; a key
    other than the blob's (another id, the same id in another account or
    Region) is IncorrectKeyException, HTTP 400."""
    for made, asked in ((KEY_ARN, KEY_UUID), (KEY_UUID, KEY_ARN),
                        (KEY_ARN, KEY_ARN), (KEY_UUID, KEY_UUID)):
        blob, key = genkey(kmstool_dev_bin, key_id=made)
        rc, out, err = decrypt(kmstool_dev_bin, blob, "--key-id", asked, *SYM)
        assert rc == 0, (made, asked, err)
        assert plaintext_of(out) == key
    blob, _ = genkey(kmstool_dev_bin, key_id=KEY_ARN)
    for other in (KEY_UUID.replace("1234abcd", "ffffffff"),
                  KEY_ARN.replace("111122223333", "444455556666"),
                  KEY_ARN.replace("eu-central-1", "us-east-1")):
        assert_failed(*decrypt(kmstool_dev_bin, blob, "--key-id", other,
                               *SYM))


def test_master_key_file(kmstool_dev_bin, tmp_path):
    raw = os.urandom(32)
    forms = {"raw.key": raw, "hex.key": raw.hex().encode() + b"\n",
             "b64.key": base64.b64encode(raw) + b"\n"}
    for name, content in forms.items():
        (tmp_path / name).write_bytes(content)
    env = lambda name: {"KMSTOOL_DEV_MASTER_KEY_FILE": str(tmp_path / name)}
    blob, key = genkey(kmstool_dev_bin, env=env("raw.key"))
    # the same key in every file form opens it ...
    for name in forms:
        rc, out, err = decrypt(kmstool_dev_bin, blob, env=env(name))
        assert rc == 0, err
        assert plaintext_of(out) == key
    # ... the built-in key does not, nor does another key
    assert_failed(*decrypt(kmstool_dev_bin, blob))
    (tmp_path / "other.key").write_bytes(os.urandom(32))
    assert_failed(*decrypt(kmstool_dev_bin, blob, env=env("other.key")))
    # and a blob under the built-in key does not open under the file's key
    blob2, _ = genkey(kmstool_dev_bin)
    assert_failed(*decrypt(kmstool_dev_bin, blob2, env=env("raw.key")))


# --- hooks -------------------------------------------------------------------

def test_deny_hook(kmstool_dev_bin):
    blob, _ = genkey(kmstool_dev_bin)
    assert_failed(*decrypt(kmstool_dev_bin, blob, akid="DEVDENY"))
    assert_failed(*run(kmstool_dev_bin, "genkey", *creds_args(akid="DEVDENY"),
                       "--key-id", "k", "--key-spec", "AES-256"))
    assert_failed(*run(kmstool_dev_bin, "genrandom",
                       *creds_args(akid="DEVDENY"), "--length", "4"))


def test_deny_hook_still_checks_arguments(kmstool_dev_bin):
    assert_usage(*run(kmstool_dev_bin, "decrypt", *creds_args(akid="DEVDENY")))


@pytest.mark.parametrize("akid,key_id,reason", [
    ("DEVDENY", "hook/deny", REASON_400),
    ("DEVINTERNAL", "hook/internal", REASON_500),
    ("DEVUNAVAILABLE", "hook/unavailable", REASON_500),
])
def test_failure_hooks(kmstool_dev_bin, akid, key_id, reason):
    blob, _ = genkey(kmstool_dev_bin)
    assert_failed(*decrypt(kmstool_dev_bin, blob, akid=akid), reason=reason)
    # the same behaviour from a blob's key id; genkey mints such blobs
    hooked, _ = genkey(kmstool_dev_bin, key_id=key_id)
    assert_failed(*decrypt(kmstool_dev_bin, hooked), reason=reason)


def test_hook_names_are_exact(kmstool_dev_bin):
    blob, key = genkey(kmstool_dev_bin)
    for akid in ("devdeny", "DEVDENYX", "XDEVDENY"):
        rc, out, _ = decrypt(kmstool_dev_bin, blob, akid=akid)
        assert rc == 0 and plaintext_of(out) == key


def test_slow_hook(kmstool_dev_bin):
    blob, key = genkey(kmstool_dev_bin)
    t0 = time.monotonic()
    rc, out, _ = decrypt(kmstool_dev_bin, blob, akid="DEVSLOW")
    assert time.monotonic() - t0 >= 1.9
    assert rc == 0 and plaintext_of(out) == key


def test_output_hooks(kmstool_dev_bin):
    blob, _ = genkey(kmstool_dev_bin)
    rc, out, _ = decrypt(kmstool_dev_bin, blob, akid="DEVNOOUTPUT")
    assert (rc, out) == (0, "")
    rc, out, _ = decrypt(kmstool_dev_bin, blob, akid="DEVBADOUTPUT")
    assert rc == 0 and out.startswith("PLAINTEXT: ")
    with pytest.raises(ValueError):
        base64.b64decode(out.split(": ", 1)[1].strip(), validate=True)
    rc, out, err = decrypt(kmstool_dev_bin, blob, akid="DEVFLOOD")
    assert rc == 255
    assert len(out) >= 1 << 20 and len(err) >= 1 << 20
    assert "PLAINTEXT" not in out


def test_killed_hook(kmstool_dev_bin):
    blob, _ = genkey(kmstool_dev_bin)
    rc, out, _ = decrypt(kmstool_dev_bin, blob, akid="DEVKILLED")
    assert rc == -signal.SIGKILL and out == ""
    hooked, _ = genkey(kmstool_dev_bin, key_id="hook/killed")
    rc, out, _ = decrypt(kmstool_dev_bin, hooked)
    assert rc == -signal.SIGKILL and out == ""


def test_hang_hook_and_argv_wiped(kmstool_dev_bin):
    """DEVHANG never answers; while it waits, its argv no longer shows
    the secret key or the token (they are wiped after parsing)."""
    blob, _ = genkey(kmstool_dev_bin)
    p = subprocess.Popen([kmstool_dev_bin, "decrypt",
                          *creds_args(akid="DEVHANG"), "--ciphertext", blob],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         stdin=subprocess.DEVNULL, env={})
    try:
        # the INFO line comes once the arguments are parsed
        line = p.stderr.readline().decode()
        assert INFO_RE.match(line), line
        with open("/proc/%d/cmdline" % p.pid, "rb") as f:
            cmdline = f.read()
        assert SECRET.encode() not in cmdline
        assert TOKEN.encode() not in cmdline
        assert AKID.encode() not in cmdline
        with pytest.raises(subprocess.TimeoutExpired):
            p.wait(timeout=1.5)
    finally:
        p.kill()
        p.wait()
    assert p.stdout.read() == b""


# --- credentials never printed -----------------------------------------------

def test_credentials_never_printed(kmstool_dev_bin, tmp_path):
    """Every path, success or failure; run() asserts no leak on each."""
    blob, _ = genkey(kmstool_dev_bin)
    decrypt(kmstool_dev_bin, blob)
    decrypt(kmstool_dev_bin, flip(blob, 10))
    decrypt(kmstool_dev_bin, "%%%")
    decrypt(kmstool_dev_bin, blob, "--key-id", "alias/other", *SYM)
    run(kmstool_dev_bin, "genrandom", *creds_args(), "--length", "16")
    run(kmstool_dev_bin, "genrandom", *creds_args(akid="DEVDENY"),
        "--length", "16")
    run(kmstool_dev_bin, "genrandom", *creds_args(), "--length", "0")
    run(kmstool_dev_bin, "bogus", *creds_args())
    run(kmstool_dev_bin, "decrypt", *creds_args(), "--ciphertext", blob,
        env={"KMSTOOL_DEV_MASTER_KEY_FILE": str(tmp_path / "none")})
    # mistyped options around the secrets: neither value may be echoed
    run(kmstool_dev_bin, "decrypt", "--aws-secret-acess-key=" + SECRET,
        "--aws-session-tokn", TOKEN, "--ciphertext", blob)
    run(kmstool_dev_bin, "decrypt", "-" + SECRET, TOKEN)
    run(kmstool_dev_bin, "decrypt", *creds_args(), SECRET)
    # the secret where a value is validated and refused
    run(kmstool_dev_bin, "genrandom", *creds_args(), "--length", SECRET)
    run(kmstool_dev_bin, "genrandom", *creds_args(), "--region", SECRET)
    run(kmstool_dev_bin, "genkey", *creds_args(), "--key-spec", SECRET,
        "--key-id", "k")
    # an access key id that is itself printable, as a hook name is not
    rc, _, err = run(kmstool_dev_bin, "genrandom", *creds_args(),
                     "--length", "1")
    assert rc == 0 and AKID not in err
