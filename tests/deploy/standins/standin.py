#!/usr/bin/python3
"""Recording stand-in for docker, nitro-cli, aws and vsock-proxy.

The deploy tests put this directory first on PATH; `docker`, `nitro-cli`,
`aws` and `vsock-proxy` are symlinks to this file, which dispatches on the
name it was called by. Every call appends one JSON line to $STANDIN_LOG:
{"prog": ..., "argv": [...], "cwd": ...} plus what the test needs to check
(the build context's file list, the config file a proxy was given).

Behaviour is set per test through the environment:
  STANDIN_LOG            file the calls are appended to (required)
  STANDIN_FAIL           "docker", "nitro-cli build-enclave", ... : that
                         program (or program + subcommand) exits 1
  STANDIN_PCR0/1/2/8     measurements nitro-cli build-enclave reports
  STANDIN_ENCLAVES       JSON nitro-cli describe-enclaves prints (default [])
  STANDIN_ENCLAVES_STATE a JSON file holding the running enclaves, so that
                         nitro-cli models several at once as the real one
                         does: run-enclave adds one (refused when its CID is
                         taken), describe-enclaves prints them, terminate-
                         enclave --enclave-id ID (or --all) removes them (an
                         unknown ID fails). A test removes an entry to make
                         an enclave vanish. Overrides STANDIN_ENCLAVES.
  STANDIN_DESCRIBE_PCR1  a PCR1 nitro-cli describe-eif reports instead of
                         the one it computes (to test a disagreement)
  STANDIN_AWS_RESPONSES  JSON file: {"kms list-aliases": {"stdout": {...},
                         "stderr": "...", "rc": 0}, ...} overriding the
                         canned answers below, key = "service operation"
"""
import contextlib
import fcntl
import hashlib
import json
import os
import re
import sys

PROG = os.path.basename(sys.argv[0])
ARGV = sys.argv[1:]

KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = "arn:aws:kms:ap-southeast-1:111122223333:key/" + KEY_ID
DEFAULT_POLICY = {
    "Version": "2012-10-17",
    "Id": "key-default-1",
    "Statement": [{
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:*",
        "Resource": "*",
    }],
}
# A ciphertext blob is opaque; this one is recognisably fake.
CIPHERTEXT = "AQIDAHhTZXN0YW5kaW4tY2lwaGVydGV4dC1ibG9iLW5vdC1yZWFs"
PLAINTEXT = "c3RhbmRpbi1wbGFpbnRleHQtdGhhdC1tdXN0LW5ldmVyLWxlYWs="

AWS_CANNED = {
    "sts get-caller-identity": {"stdout": {
        "UserId": "AIDAEXAMPLE", "Account": "111122223333",
        "Arn": "arn:aws:iam::111122223333:user/operator"}},
    "kms list-aliases": {"stdout": {"Aliases": []}},
    "kms create-key": {"stdout": {"KeyMetadata": {
        "AWSAccountId": "111122223333", "KeyId": KEY_ID, "Arn": KEY_ARN,
        "KeyState": "Enabled", "KeyUsage": "ENCRYPT_DECRYPT",
        "KeySpec": "SYMMETRIC_DEFAULT", "Enabled": True}}},
    "kms create-alias": {"stdout": ""},
    "kms enable-key-rotation": {"stdout": ""},
    "kms describe-key": {"stdout": {"KeyMetadata": {
        "KeyId": KEY_ID, "Arn": KEY_ARN, "KeyState": "Enabled",
        "Enabled": True}}},
    "kms get-key-policy": {"stdout": {
        "PolicyName": "default", "Policy": json.dumps(DEFAULT_POLICY)}},
    "kms put-key-policy": {"stdout": ""},
    "kms generate-data-key-without-plaintext": {"stdout": {
        "CiphertextBlob": CIPHERTEXT, "KeyId": KEY_ARN}},
    "kms generate-data-key": {"stdout": {
        "CiphertextBlob": CIPHERTEXT, "Plaintext": PLAINTEXT,
        "KeyId": KEY_ARN}},
}


def log(**extra):
    entry = {"prog": PROG, "argv": ARGV, "cwd": os.getcwd()}
    entry.update(extra)
    path = os.environ.get("STANDIN_LOG")
    if not path:
        sys.stderr.write("standin: STANDIN_LOG is not set\n")
        sys.exit(99)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(entry) + "\n")


def failing(sub=None):
    fail = os.environ.get("STANDIN_FAIL", "")
    wanted = {PROG} | ({PROG + " " + sub} if sub else set())
    return any(item.strip() in wanted for item in fail.split(","))


def opt(name, default=None):
    for i, a in enumerate(ARGV):
        if a == name and i + 1 < len(ARGV):
            return ARGV[i + 1]
        if a.startswith(name + "="):
            return a.split("=", 1)[1]
    return default


def pcr(n, seed):
    env = os.environ.get("STANDIN_PCR%d" % n)
    if env:
        return env
    return hashlib.sha384(("%s/%d" % (seed, n)).encode()).hexdigest()


def context_files(ctx):
    files = []
    for root, dirs, names in os.walk(ctx):
        dirs.sort()
        for n in sorted(names):
            files.append(os.path.relpath(os.path.join(root, n), ctx))
    return files


def docker():
    sub = ARGV[0] if ARGV else ""
    if sub == "buildx" and os.environ.get("STANDIN_DOCKER_NO_BUILDX"):
        # A docker client without the buildx plugin (Debian's docker.io
        # alone): the CLI knows no such command, and reads the flags of
        # `buildx build` as its own.
        log()
        flag = next((a for a in ARGV[1:] if a.startswith("-")), None)
        if flag is not None:
            sys.stderr.write("unknown flag: %s\nSee 'docker --help'.\n"
                             % flag.split("=", 1)[0])
            return 125
        sys.stderr.write("docker: 'buildx' is not a docker command.\n"
                         "See 'docker --help'\n")
        return 1
    if sub == "buildx" and ARGV[1:2] == ["build"]:
        ctx = ARGV[-1]
        extra = {}
        if os.path.isdir(ctx):
            extra["context_files"] = context_files(ctx)
        dockerfile = opt("--file") or opt("-f")
        if dockerfile and os.path.isfile(dockerfile):
            extra["dockerfile_sha256"] = hashlib.sha256(
                open(dockerfile, "rb").read()).hexdigest()
            extra["dockerfile_kms_key_ids"] = re.findall(
                r'"--kms-key-id", "([^"]*)"', open(dockerfile).read())
        log(**extra)
        if failing("buildx"):
            sys.stderr.write("ERROR: failed to solve: process \"/bin/sh -c make\" "
                             "did not complete successfully: exit code: 2\n")
            return 1
        sys.stderr.write("#0 building with \"default\" instance using docker driver\n")
        return 0
    log()
    if sub == "buildx" and ARGV[1:2] == ["version"]:
        # The plugin answers by itself, daemon or not.
        print("github.com/docker/buildx v0.17.1 standin")
        return 0
    if failing(sub):
        sys.stderr.write("Cannot connect to the Docker daemon at "
                         "unix:///var/run/docker.sock. Is the docker daemon running?\n")
        return 1
    if sub == "image" and ARGV[1:2] == ["inspect"]:
        print("sha256:" + hashlib.sha256(ARGV[-1].encode()).hexdigest())
        return 0
    if sub == "version":
        print("Docker version 27.0.0-standin")
        return 0
    return 0


@contextlib.contextmanager
def enclave_state():
    """The running enclaves (a list to edit in place), under a lock, saved
    back on exit: several stand-in calls may run at once."""
    path = os.environ["STANDIN_ENCLAVES_STATE"]
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            with open(path, encoding="utf-8") as f:
                enclaves = json.load(f)
        except FileNotFoundError:
            enclaves = []
        yield enclaves
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(enclaves, f)
        os.replace(tmp, path)


def nitro_cli():
    sub = ARGV[0] if ARGV else ""
    log()
    if failing(sub):
        sys.stderr.write("[ E19 ] File operation failure. standin failure for %s\n" % sub)
        return 1
    if sub == "--version":
        print("Nitro CLI 1.4.2")
        return 0
    if sub == "build-enclave":
        uri = opt("--docker-uri")
        out = opt("--output-file")
        if not uri or not out:
            sys.stderr.write("error: --docker-uri and --output-file are required\n")
            return 1
        with open(out, "wb") as f:
            f.write(b"EIF-STANDIN\0" + uri.encode())
        m = {"HashAlgorithm": "Sha384 { ... }",
             "PCR0": pcr(0, uri), "PCR1": pcr(1, uri), "PCR2": pcr(2, uri)}
        if opt("--signing-certificate"):
            m["PCR8"] = pcr(8, uri)
        sys.stderr.write("Start building the Enclave Image...\n")
        sys.stdout.write("Using the locally available Docker image...\n")
        sys.stdout.write("Enclave Image successfully created.\n")
        print(json.dumps({"Measurements": m}, indent=2))
        return 0
    if sub == "describe-eif":
        return describe_eif(opt("--eif-path"))
    if sub == "describe-enclaves":
        if os.environ.get("STANDIN_ENCLAVES_STATE"):
            with enclave_state() as enclaves:
                print(json.dumps(enclaves, indent=2))
            return 0
        print(os.environ.get("STANDIN_ENCLAVES", "[]"))
        return 0
    if sub == "run-enclave":
        cid = int(opt("--enclave-cid", "16"))
        eif = opt("--eif-path", "")
        info = {"EnclaveName": os.path.splitext(os.path.basename(eif))[0] or "enclave",
                "EnclaveID": "i-0abc123def4567890-enc18c1d2e3f4a5b6c7",
                "ProcessID": 4242, "EnclaveCID": cid,
                "NumberOfCPUs": int(opt("--cpu-count", "2")), "CPUIDs": [1, 3],
                "MemoryMiB": int(opt("--memory", "512"))}
        if os.environ.get("STANDIN_ENCLAVES_STATE"):
            with enclave_state() as enclaves:
                if any(e["EnclaveCID"] == cid for e in enclaves):
                    sys.stderr.write("standin nitro-cli: enclave CID %d is already in use\n" % cid)
                    return 1
                info["EnclaveID"] = "i-0abc123def4567890-enc" + os.urandom(8).hex()
                info["ProcessID"] = os.getpid()
                enclaves.append(dict(info, State="RUNNING",
                                     Flags="DEBUG_MODE" if "--debug-mode" in ARGV else "NONE"))
        sys.stderr.write("Start allocating memory...\n")
        print(json.dumps(info, indent=2))
        return 0
    if sub == "terminate-enclave":
        if os.environ.get("STANDIN_ENCLAVES_STATE"):
            want = opt("--enclave-id")
            with enclave_state() as enclaves:
                gone = [e for e in enclaves if "--all" in ARGV or e["EnclaveID"] == want]
                if not gone and "--all" not in ARGV:
                    sys.stderr.write("standin nitro-cli: no enclave with ID %s is running\n" % want)
                    return 1
                enclaves[:] = [e for e in enclaves if e not in gone]
            for e in gone:
                sys.stdout.write("Successfully terminated enclave %s.\n" % e["EnclaveID"])
                print(json.dumps({"EnclaveID": e["EnclaveID"], "Terminated": True}, indent=2))
            return 0
        print(json.dumps({"EnclaveID": opt("--enclave-id", "all"), "Terminated": True}))
        return 0
    return 0


def describe_eif(path):
    """nitro-cli describe-eif: the PCRs computed from the file, here, from
    the EIF format's rules (independently of our C reader)."""
    import struct
    import zlib
    if not path:
        sys.stderr.write("error: the following required arguments were not provided:\n"
                         "    --eif-path <eif-path>\n")
        return 1
    try:
        data = open(path, "rb").read()
    except OSError as e:
        sys.stderr.write("[ E19 ] File operation failure. %s\n" % e)
        return 1
    if data[:4] != b".eif" or len(data) < 548:
        sys.stderr.write("[ E51 ] EIF file parsing error.\n")
        return 1
    n = struct.unpack(">H", data[26:28])[0]
    offsets = struct.unpack(">32Q", data[28:284])
    crc_ok = zlib.crc32(data[:544] + data[548:]) == struct.unpack(">I", data[544:548])[0]
    sections = []
    for i in range(n):
        typ, _, size = struct.unpack(">HHQ", data[offsets[i]:offsets[i] + 12])
        sections.append((typ, data[offsets[i] + 12:offsets[i] + 12 + size]))

    def extend(b):
        return hashlib.sha384(b"\0" * 48 + hashlib.sha384(b).digest()).hexdigest()
    k = [d for t, d in sections if t in (1, 2)]
    r = [d for t, d in sections if t == 3]
    m = {"HashAlgorithm": "Sha384 { ... }", "PCR0": extend(b"".join(k + r)),
         "PCR1": os.environ.get("STANDIN_DESCRIBE_PCR1") or extend(b"".join(k + r[:1])),
         "PCR2": extend(b"".join(r[1:]))}
    meta = json.loads([d for t, d in sections if t == 5][0])
    print(json.dumps({"EifVersion": struct.unpack(">H", data[4:6])[0], "Measurements": m,
                      "IsSigned": any(t == 4 for t, _ in sections), "CheckCRC": crc_ok,
                      "ImageName": meta.get("ImageName"),
                      "ImageVersion": meta.get("ImageVersion"),
                      "Metadata": meta}, indent=2))
    return 0 if crc_ok else 1


def aws():
    key = " ".join(a for a in ARGV[:2])
    log()
    responses = dict(AWS_CANNED)
    path = os.environ.get("STANDIN_AWS_RESPONSES")
    if path:
        with open(path, encoding="utf-8") as f:
            responses.update(json.load(f))
    r = responses.get(key)
    if r is None:
        sys.stderr.write("standin aws: no canned answer for '%s'\n" % key)
        return 252
    out = r.get("stdout", "")
    if isinstance(out, (dict, list)):
        out = json.dumps(out, indent=4) + "\n"
    sys.stdout.write(out)
    sys.stderr.write(r.get("stderr", ""))
    return int(r.get("rc", 0))


def vsock_proxy():
    extra = {}
    cfg = opt("--config")
    if cfg and os.path.isfile(cfg):
        extra["config"] = open(cfg, encoding="utf-8").read()
    log(**extra)
    return 1 if failing() else 0


def main():
    handlers = {"docker": docker, "nitro-cli": nitro_cli, "aws": aws,
                "vsock-proxy": vsock_proxy}
    handler = handlers.get(PROG)
    if handler is None:
        sys.stderr.write("standin: unknown program name %s\n" % PROG)
        return 99
    return handler()


if __name__ == "__main__":
    sys.exit(main())
