"""
Rolling a new image across parents with the key policy scripts/setup-kms.sh
writes (issue 22 item 7): allow the new image, roll the parents one at a
time, retire the old one, and at no moment does a (re)starting enclave of
either image fail to configure.

The policy is the script's own: setup-kms.sh runs against the recording
`aws` stand-in (tests/deploy/standins), the policy it puts is handed to the
KMS simulator (read again for every request, as a PutKeyPolicy takes
effect), and the next run reads it back through the stand-in's
get-key-policy, as it reads the live policy. The enclaves are real
enclaved processes with --kms native, each with its own NSM simulator
(PCR0, PCR1 and PCR2 of its image) chained to one shared Nitro root.
"""

import base64
import json
import os
import shutil
import subprocess
import tempfile

import pytest

from helpers import sims as simulators
from helpers.harness import CREDS, REGION, REPO_ROOT, assert_error

SETUP_KMS = os.path.join(REPO_ROOT, "scripts", "setup-kms.sh")
STANDINS = os.path.join(REPO_ROOT, "tests", "deploy", "standins")
ROLE = "arn:aws:iam::111122223333:role/enclave-parent"
ADMIN = "arn:aws:iam::111122223333:role/data-owner"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"      # the stand-in's key
ALIAS = "alias/confidential-enclave-tsk"
MASTER = bytes(range(7, 39))
IMAGE_A = {"PCR0": "a1" * 48, "PCR1": "b2" * 48, "PCR2": "c3" * 48}
# A new build: same kernel (PCR1), new application (PCR2), so a new PCR0.
IMAGE_B = {"PCR0": "d4" * 48, "PCR1": "b2" * 48, "PCR2": "e5" * 48}


class KeyAdmin:
    """The administrator running setup-kms.sh; the key's live policy is
    what its last put-key-policy wrote, and kms_sim reads that file."""

    def __init__(self, directory):
        self.dir = directory
        self.policy_path = os.path.join(directory, "policy.json")
        self.live = None
        self.runs = 0

    def measurements(self, name, image):
        path = os.path.join(self.dir, name + ".json")
        with open(path, "w") as f:
            json.dump({"Measurements": dict(image, HashAlgorithm="Sha384 { ... }"),
                       "Build": {"builder": "native", "blobs": "aws"}}, f)
        return path

    def _env(self):
        self.runs += 1
        env = dict(os.environ)
        env["PATH"] = "%s:/usr/bin:/bin" % STANDINS
        env["STANDIN_LOG"] = os.path.join(self.dir, "aws-%d.jsonl" % self.runs)
        env["TMPDIR"] = self.dir
        if self.live is not None:
            # The key exists, with the live policy.
            responses = {
                "kms list-aliases": {"stdout": {"Aliases": [
                    {"AliasName": ALIAS, "TargetKeyId": KEY_ID}]}},
                "kms get-key-policy": {"stdout": {"PolicyName": "default",
                                                  "Policy": json.dumps(self.live)}}}
            path = os.path.join(self.dir, "responses-%d.json" % self.runs)
            with open(path, "w") as f:
                json.dump(responses, f)
            env["STANDIN_AWS_RESPONSES"] = path
        return env

    def setup(self, *args):
        """setup-kms.sh ... --policy-only ARGS; the put policy becomes live."""
        env = self._env()
        r = subprocess.run([SETUP_KMS, "--parent-role-arn", ROLE, "--admin-arn", ADMIN,
                            "--policy-only"] + list(args), env=env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        with open(env["STANDIN_LOG"]) as f:
            calls = [json.loads(line) for line in f]
        puts = [c["argv"] for c in calls if c["argv"][:2] == ["kms", "put-key-policy"]]
        assert len(puts) == 1, r.stderr
        self.live = json.loads(puts[0][puts[0].index("--policy") + 1])
        tmp = self.policy_path + ".new"
        with open(tmp, "w") as f:
            json.dump(self.live, f)
        os.replace(tmp, self.policy_path)

    def check(self, measurements):
        """setup-kms.sh --check: the script's own verdict on the live policy."""
        r = subprocess.run([SETUP_KMS, "--parent-role-arn", ROLE, "--check", measurements],
                           env=self._env(), capture_output=True, text=True, timeout=60)
        assert r.returncode in (0, 1), r.stderr
        return r.returncode == 0


class Fleet:
    """One KMS simulator, a shared Nitro root, and enclaves (an NSM
    simulator of an image + an enclaved) started and stopped per parent."""

    def __init__(self, directory, admin, start_daemon):
        self.dir = directory
        self.admin = admin
        self.start_daemon = start_daemon
        self.procs = []
        self.root_dir = os.path.join(directory, "root")
        os.mkdir(self.root_dir)
        self.enclaves = 0
        self.configures = []

    def start_kms(self):
        creds = [{"access_key_id": CREDS["aws_access_key_id"],
                  "secret_access_key": CREDS["aws_secret_access_key"],
                  "session_token": CREDS["aws_session_token"], "arn": ROLE}]
        path = os.path.join(self.dir, "creds.json")
        with open(path, "w") as f:
            json.dump(creds, f)
        # The root must exist before KMS trusts it: the first NSM makes it.
        self._nsm(IMAGE_A, "first")
        kms, ready = simulators.start(
            "kms_sim.py", "--out-dir", self.dir, "--region", REGION,
            "--credentials", path, "--policy", self.admin.policy_path,
            "--attestation-root", os.path.join(self.root_dir, "root.pem"),
            "--key", "%s=%s" % (KEY_ID, MASTER.hex()))
        self.procs.append(kms)
        self.port = int(ready[1])

    def _nsm(self, image, name):
        sock = os.path.join(self.dir, "nsm-%s.sock" % name)
        out = os.path.join(self.dir, "nsm-" + name)
        os.mkdir(out)
        proc, _ = simulators.start(
            "nsm_sim.py", "--socket", sock, "--out-dir", out, "--root-dir", self.root_dir,
            "--pcr0", image["PCR0"], "--pcr", "1=" + image["PCR1"],
            "--pcr", "2=" + image["PCR2"])
        self.procs.append(proc)
        return proc, sock

    def boot(self, image):
        """An enclave of `image`: its NSM and its enclaved."""
        self.enclaves += 1
        nsm, sock = self._nsm(image, str(self.enclaves))
        d = self.start_daemon(
            "--kms", "native", "--nsm-device", "unix:" + sock,
            "--kms-endpoint", "tcp:127.0.0.1:%d" % self.port,
            "--kms-ca-file", os.path.join(self.dir, "ca.pem"), "--kms-timeout", "20")
        return {"daemon": d, "nsm": nsm, "image": image}

    def configure(self, enclave, tsk):
        resp = enclave["daemon"].configure(tsk, timeout=30.0)
        self.configures.append((enclave["image"]["PCR0"], resp.get("status")))
        return resp

    def shut(self, enclave):
        enclave["daemon"].terminate()
        simulators.stop(enclave["nsm"])

    def stop(self):
        for p in self.procs:
            simulators.stop(p)


@pytest.fixture
def fleet(start_daemon):
    d = tempfile.mkdtemp(prefix="roll-", dir="/tmp")     # short: socket paths
    f = Fleet(d, KeyAdmin(d), start_daemon)
    yield f
    f.stop()
    shutil.rmtree(d, ignore_errors=True)


def tsk_blob():
    import kms_sim
    return base64.b64encode(kms_sim.make_blob(MASTER, KEY_ID, os.urandom(32))).decode()


def test_rollout_a_to_b_never_refuses_a_configure(fleet):
    admin = fleet.admin
    a = admin.measurements("a", IMAGE_A)
    b = admin.measurements("b", IMAGE_B)
    tsk = tsk_blob()
    admin.setup("--allow", a)
    fleet.start_kms()
    assert admin.check(a) and not admin.check(b)

    # Two parents run image A.
    parents = [fleet.boot(IMAGE_A), fleet.boot(IMAGE_A)]
    for p in parents:
        assert fleet.configure(p, tsk).get("status") == "ok"

    # 1. Allow B; A stays allowed.
    admin.setup("--allow", b)
    assert admin.check(a) and admin.check(b)

    # 2. Roll the parents one at a time. Between steps, an enclave of the
    # old image restarts on a parent not yet rolled, and one of the new
    # image restarts on a rolled one: every configure succeeds.
    for i in range(len(parents)):
        fleet.shut(parents[i])
        parents[i] = fleet.boot(IMAGE_B)
        assert fleet.configure(parents[i], tsk).get("status") == "ok"
        for j, p in enumerate(parents):
            if j != i:
                fleet.shut(p)
                parents[j] = fleet.boot(p["image"])
                assert fleet.configure(parents[j], tsk).get("status") == "ok"

    # 3. Retire A: an A enclave is refused, B enclaves still configure.
    admin.setup("--retire", a)
    assert not admin.check(a) and admin.check(b)
    old = fleet.boot(IMAGE_A)
    assert_error(fleet.configure(old, tsk), "kms_decrypt_failed", "AccessDeniedException")
    fleet.shut(old)
    for p in parents:
        assert p["image"] is IMAGE_B
        fleet.shut(p)
        again = fleet.boot(IMAGE_B)
        assert fleet.configure(again, tsk).get("status") == "ok"
        fleet.shut(again)

    # Only the retired image's configure failed, all the others passed.
    failed = [pcr0 for pcr0, status in fleet.configures if status != "ok"]
    assert failed == [IMAGE_A["PCR0"]]
    assert len(fleet.configures) == 2 + 2 + 2 + 1 + 2
    # KMS saw each configure once, refusing only the retired image's.
    with open(os.path.join(fleet.dir, "kms-requests.jsonl")) as f:
        log = [json.loads(line) for line in f]
    assert [e["outcome"] == "ok" for e in log] == [s == "ok" for _, s in fleet.configures]


def test_two_allowed_images_do_not_mix(fleet):
    """With A and B both allowed, an image with PCR0 and PCR1 of A but
    PCR2 of B is refused: one statement per image, not lists per PCR."""
    admin = fleet.admin
    admin.setup("--allow", admin.measurements("a", IMAGE_A),
                "--allow", admin.measurements("b", IMAGE_B))
    fleet.start_kms()
    tsk = tsk_blob()
    mixed = dict(IMAGE_A, PCR2=IMAGE_B["PCR2"])
    assert not admin.check(admin.measurements("mixed", mixed))
    e = fleet.boot(mixed)
    assert_error(fleet.configure(e, tsk), "kms_decrypt_failed", "AccessDeniedException")
    for image in (IMAGE_A, IMAGE_B):
        assert fleet.configure(fleet.boot(image), tsk).get("status") == "ok"
