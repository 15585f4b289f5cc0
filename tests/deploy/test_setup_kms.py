"""scripts/setup-kms.sh against the aws stand-in: calls, policy, files."""
import fnmatch
import json
import os
import stat

import pytest

from deploykit import PCR0, PCR1, PCR2, PCR8, REPO, ROLE

SCRIPT = REPO / "scripts/setup-kms.sh"
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"
KEY_ARN = "arn:aws:kms:ap-southeast-1:111122223333:key/" + KEY_ID
ADMIN = "arn:aws:iam::111122223333:role/data-owner"
# What the parent role must never do with the key (issue 20, F28): learn or
# make a TSK, or administer the key. Written out here, not read from the
# script, so a name dropped from the script fails the test.
TSK_MATERIAL = ["kms:Encrypt", "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext",
                "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
                "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:CreateGrant"]
KEY_ADMIN = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
             "kms:DisableKey", "kms:EnableKey", "kms:DisableKeyRotation",
             "kms:EnableKeyRotation", "kms:RotateKeyOnDemand", "kms:UpdateKeyDescription",
             "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:TagResource",
             "kms:UntagResource", "kms:RetireGrant", "kms:RevokeGrant",
             "kms:ImportKeyMaterial", "kms:DeleteImportedKeyMaterial", "kms:ReplicateKey",
             "kms:UpdatePrimaryRegion", "kms:SynchronizeMultiRegionKey"]
CIPHERTEXT = "AQIDAHhTZXN0YW5kaW4tY2lwaGVydGV4dC1ibG9iLW5vdC1yZWFs"
ALIAS = "alias/confidential-enclave-tsk"
EXISTING_ALIAS = {"kms list-aliases": {"stdout": {"Aliases": [
    {"AliasName": "alias/aws/ebs", "TargetKeyId": "ffff"},
    {"AliasName": ALIAS, "AliasArn": "arn:aws:kms:ap-southeast-1:111122223333:" + ALIAS,
     "TargetKeyId": KEY_ID}]}}}


@pytest.fixture
def measured(sandbox):
    path = sandbox.tmp / "measurements.json"
    path.write_text(json.dumps({"Measurements": {
        "HashAlgorithm": "Sha384 { ... }", "PCR0": PCR0, "PCR1": "b2" * 48, "PCR2": "c3" * 48}}))
    return path


def run_setup(sandbox, measured, *extra, env=None):
    tsk = sandbox.tmp / "out/encrypted-tsk.b64"
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN,
                    "--measurements", measured, "--tsk-out", tsk, *extra, env=env)
    return r, tsk


def existing_tsk(sandbox):
    tsk = sandbox.tmp / "out/encrypted-tsk.b64"
    tsk.parent.mkdir(exist_ok=True)
    tsk.write_text("OLDBLOB==\n")
    return tsk


def applied_policy(sandbox):
    puts = [c["argv"] for c in sandbox.calls("aws") if c["argv"][:2] == ["kms", "put-key-policy"]]
    assert len(puts) == 1
    argv = puts[0]
    assert argv[argv.index("--policy-name") + 1] == "default"
    return json.loads(argv[argv.index("--policy") + 1])


def by_sid(policy):
    return {s.get("Sid"): s for s in policy["Statement"]}


ATT = "kms:RecipientAttestation:"
IMAGE = {"PCR0": PCR0, "PCR1": PCR1, "PCR2": PCR2}


def image_allows(policy):
    """The parent role's Allow statements: {(PCR0, PCR1, PCR2): statement}."""
    out = {}
    for st in policy["Statement"]:
        if st["Effect"] == "Allow" and ROLE in principals(st):
            c = st["Condition"]["StringEqualsIgnoreCase"]
            out[tuple(c.get(ATT + k) for k in ("PCR0", "PCR1", "PCR2"))] = st
    return out


def assert_enclave_only(policy, images=(IMAGE,), pcr8=None):
    s = by_sid(policy)
    allows = image_allows(policy)
    # One Allow statement per image, each pinning all its PCRs together.
    assert sorted(allows) == sorted(tuple(im.get(k) for k in ("PCR0", "PCR1", "PCR2"))
                                    for im in images)
    for im in images:
        allow = allows[tuple(im.get(k) for k in ("PCR0", "PCR1", "PCR2"))]
        assert allow["Effect"] == "Allow"
        assert allow["Principal"] == {"AWS": ROLE}
        assert allow["Action"] == "kms:Decrypt"
        want = dict((ATT + k, v) for k, v in im.items())
        if pcr8:
            want[ATT + "PCR8"] = pcr8
        assert allow["Condition"]["StringEqualsIgnoreCase"] == want
    deny = s["DenyParentDecryptWithoutAttestation"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": ROLE}
    assert deny["Action"] == "kms:Decrypt"
    assert deny["Condition"] == {"StringNotEqualsIgnoreCase": {
        ATT + "PCR0": sorted({im["PCR0"] for im in images})}}
    for k in ("PCR1", "PCR2"):
        if all(k in im for im in images):
            d = s["DenyParentDecryptOther" + k.capitalize()]
            assert d["Effect"] == "Deny" and d["Action"] == "kms:Decrypt"
            assert d["Condition"] == {"StringNotEqualsIgnoreCase": {
                ATT + k: sorted({im[k] for im in images})}}
        else:
            assert "DenyParentDecryptOther" + k.capitalize() not in s
    assert "DenyParentReEncryptAndGrants" not in s      # the pre-issue-20 statement
    # Every action that yields or makes a TSK, and every administration
    # action, is denied to the parent role by an explicit statement naming it,
    # unconditionally: an explicit Deny beats the account root statement and
    # any IAM policy (kms:* included).
    for action in TSK_MATERIAL + KEY_ADMIN:
        assert named_deny(policy, ROLE, action), action
    # The catch-all denies everything else, an action KMS may add later too,
    # and not kms:Decrypt.
    for action in TSK_MATERIAL + KEY_ADMIN + ["kms:GenerateMac", "kms:Sign",
                                             "kms:DescribeKey", "kms:SomeFutureAction"]:
        assert denied(policy, ROLE, action), action
    assert not denied(policy, ROLE, "kms:Decrypt")
    # The administrator administers the key and makes TSKs; the parent
    # role is denied all of it.
    adm = s["KeyAdministrator"]
    assert adm["Effect"] == "Allow" and adm["Principal"] == {"AWS": ADMIN}
    assert "Condition" not in adm
    for action in KEY_ADMIN + ["kms:GenerateDataKeyWithoutPlaintext", "kms:DescribeKey"]:
        assert action in adm["Action"], action
    assert "kms:Encrypt" not in adm["Action"] and "kms:GenerateDataKey" not in adm["Action"]
    # The parent role is allowed nothing else, and nothing without the condition.
    for st in policy["Statement"]:
        if st["Effect"] == "Allow" and ROLE in json.dumps(st.get("Principal")):
            assert st in allows.values()
    # A bare kms:RecipientAttestation key is invalid and never matches.
    text = json.dumps(policy)
    assert '"kms:RecipientAttestation"' not in text
    assert policy["Version"] == "2012-10-17"


def principals(st):
    p = st.get("Principal", {})
    p = p.get("AWS", []) if isinstance(p, dict) else p
    return [p] if isinstance(p, str) else p


def actions(st, field):
    a = st.get(field, [])
    return [a] if isinstance(a, str) else a


def named_deny(policy, who, action):
    """An unconditional Deny for `who` whose Action list matches `action`."""
    return any(st["Effect"] == "Deny" and who in principals(st) and "Condition" not in st
               and any(fnmatch.fnmatchcase(action, a) for a in actions(st, "Action"))
               for st in policy["Statement"])


def denied(policy, who, action):
    """Denied unconditionally, by Action or by NotAction (as IAM evaluates)."""
    for st in policy["Statement"]:
        if st["Effect"] != "Deny" or who not in principals(st) or "Condition" in st:
            continue
        if "NotAction" in st:
            if not any(fnmatch.fnmatchcase(action, a) for a in actions(st, "NotAction")):
                return True
        elif any(fnmatch.fnmatchcase(action, a) for a in actions(st, "Action")):
            return True
    return False


def test_fresh_account_creates_key_alias_policy_and_tsk(sandbox, measured):
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 0, r.stderr
    assert sandbox.aws_ops() == [
        "sts get-caller-identity",
        "kms list-aliases", "kms create-key", "kms create-alias", "kms enable-key-rotation",
        "kms get-key-policy", "kms put-key-policy", "kms generate-data-key-without-plaintext"]
    calls = {" ".join(c["argv"][:2]): c["argv"] for c in sandbox.calls("aws")}
    for argv in calls.values():
        assert argv[argv.index("--region") + 1] == "ap-southeast-1"
    assert calls["kms create-alias"][-4:] == ["--alias-name", ALIAS, "--target-key-id", KEY_ID]
    gen = calls["kms generate-data-key-without-plaintext"]
    assert gen[gen.index("--key-id") + 1] == KEY_ID
    assert gen[gen.index("--key-spec") + 1] == "AES_256"

    policy = applied_policy(sandbox)
    assert_enclave_only(policy)
    admin = by_sid(policy)["Enable IAM User Permissions"]       # KMS's default, kept
    assert admin["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert admin["Action"] == "kms:*"
    assert "enclaved --kms-key-id " + KEY_ARN in r.stderr       # the key to pin
    # The printed policy is the applied one.
    printed = json.loads(r.stdout[r.stdout.index("{"):])
    assert printed == policy

    assert tsk.read_text() == CIPHERTEXT + "\n"
    assert stat.S_IMODE(tsk.stat().st_mode) == 0o600
    assert sorted(p.name for p in tsk.parent.iterdir()) == ["encrypted-tsk.b64"]


def test_plaintext_never_written_even_if_kms_returned_one(sandbox, measured):
    # Whatever the CLI answers, only the CiphertextBlob reaches the disk.
    sandbox.aws_responses({"kms generate-data-key-without-plaintext": {"stdout": {
        "CiphertextBlob": CIPHERTEXT, "Plaintext": "UExBSU5URVhULUtFWS1NVVNULU5PVC1MRUFL",
        "KeyId": KEY_ID}}})
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 0, r.stderr
    assert "kms generate-data-key" not in sandbox.aws_ops()
    for p in sandbox.tmp.rglob("*"):
        if p.is_file() and p.name != "calls.jsonl" and p.name != "aws-responses.json":
            assert b"UExBSU5URVhU" not in p.read_bytes(), p
    assert "UExBSU5URVhU" not in r.stdout + r.stderr


def test_existing_key_keeps_other_statements_and_replaces_ours(sandbox, measured):
    old = {"Version": "2012-10-17", "Id": "key-consolepolicy-3", "Statement": [
        {"Sid": "Allow access for Key Administrators", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:role/KeyAdmins"},
         "Action": ["kms:Create*", "kms:Describe*", "kms:Put*", "kms:ScheduleKeyDeletion"],
         "Resource": "*"},
        {"Sid": "EnclaveDecryptWithAttestation", "Effect": "Allow", "Principal": {"AWS": ROLE},
         "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEqualsIgnoreCase": {
             "kms:RecipientAttestation:ImageSha384": "0f" * 48}}}]}
    old["Statement"].append(
        {"Sid": "DenyParentReEncryptAndGrants", "Effect": "Deny", "Principal": {"AWS": ROLE},
         "Action": ["kms:ReEncrypt*", "kms:CreateGrant"], "Resource": "*"})
    responses = dict(EXISTING_ALIAS)
    responses["kms get-key-policy"] = {"stdout": {"PolicyName": "default", "Policy": json.dumps(old)}}
    sandbox.aws_responses(responses)
    existing_tsk(sandbox)
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 0, r.stderr
    assert sandbox.aws_ops() == ["sts get-caller-identity", "kms list-aliases",
                                 "kms describe-key", "kms get-key-policy", "kms put-key-policy"]
    assert tsk.read_text() == "OLDBLOB==\n"
    assert "enclaved --kms-key-id " + KEY_ARN in r.stderr
    policy = applied_policy(sandbox)
    assert_enclave_only(policy)
    assert policy["Id"] == "key-consolepolicy-3"
    assert by_sid(policy)["Allow access for Key Administrators"] == old["Statement"][0]
    assert "0f" * 48 not in json.dumps(policy)        # the old PCR0 is gone
    # An administration statement existed, so no root statement was added.
    assert "Enable IAM User Permissions" not in by_sid(policy)


def test_rerun_is_idempotent(sandbox, measured):
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 0, r.stderr
    policy = applied_policy(sandbox)
    sandbox.log.unlink()
    responses = dict(EXISTING_ALIAS)
    responses["kms get-key-policy"] = {"stdout": {"PolicyName": "default",
                                                  "Policy": json.dumps(policy)}}
    sandbox.aws_responses(responses)
    r2, _ = run_setup(sandbox, measured)
    assert r2.returncode == 0, r2.stderr
    assert sandbox.aws_ops() == ["sts get-caller-identity", "kms list-aliases",
                                 "kms describe-key", "kms get-key-policy"]
    assert "not changed" in r2.stderr
    assert "keeping the existing encrypted TSK" in r2.stderr
    assert tsk.read_text() == CIPHERTEXT + "\n"


def test_rotate_keeps_the_old_tsk(sandbox, measured):
    tsk = sandbox.tmp / "out/encrypted-tsk.b64"
    tsk.parent.mkdir()
    tsk.write_text("OLDBLOB==\n")
    sandbox.aws_responses(EXISTING_ALIAS)
    r, _ = run_setup(sandbox, measured, "--rotate-tsk")
    assert r.returncode == 0, r.stderr
    assert sandbox.aws_ops()[-1] == "kms generate-data-key-without-plaintext"
    assert tsk.read_text() == CIPHERTEXT + "\n"
    olds = [p for p in tsk.parent.iterdir() if p.name.startswith("encrypted-tsk.b64.")]
    assert len(olds) == 1 and olds[0].read_text() == "OLDBLOB==\n"


def test_pcr0_option_and_pcr8(sandbox):
    upper = PCR0.upper()
    tsk = sandbox.tmp / "tsk.b64"
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--pcr0", upper,
                    "--pcr8", PCR8,
                    "--measurements", sandbox.tmp / "absent.json", "--tsk-out", tsk,
                    "--region", "eu-west-1", "--alias", "my-tsk")
    assert r.returncode == 0, r.stderr
    policy = applied_policy(sandbox)
    # --pcr0 pins PCR0 alone (no PCR1/PCR2 to deny by), --pcr8 every image.
    assert_enclave_only(policy, images=({"PCR0": PCR0},), pcr8=PCR8)
    deny8 = by_sid(policy)["DenyParentDecryptWithoutSignedImage"]
    assert deny8["Condition"] == {"StringNotEqualsIgnoreCase": {"kms:RecipientAttestation:PCR8": PCR8}}
    create_alias = [c["argv"] for c in sandbox.calls("aws") if c["argv"][1] == "create-alias"][0]
    assert "alias/my-tsk" in create_alias
    assert all(c["argv"][c["argv"].index("--region") + 1] == "eu-west-1"
               for c in sandbox.calls("aws"))


def test_dry_run_calls_nothing_and_prints_everything(sandbox, measured):
    r, tsk = run_setup(sandbox, measured, "--dry-run")
    assert r.returncode == 0, r.stderr
    assert sandbox.calls() == []
    assert not tsk.parent.exists()
    for op in ("list-aliases", "create-key", "create-alias", "describe-key", "get-key-policy",
               "put-key-policy", "generate-data-key-without-plaintext"):
        assert "+ aws kms " + op in r.stderr, op
    assert "+ aws sts get-caller-identity" in r.stderr
    policy = json.loads(r.stdout[r.stdout.index("{"):])
    assert_enclave_only(policy)
    assert "DRY RUN" in r.stderr
    # It says what a real run does when the key exists and the file does not.
    assert "a real run stops here" in r.stderr and "--rotate-tsk" in r.stderr
    assert "enclaved --kms-key-id <key-arn>" in r.stderr


def test_dry_run_policy_only(sandbox, measured):
    r, tsk = run_setup(sandbox, measured, "--dry-run", "--policy-only")
    assert r.returncode == 0, r.stderr
    assert sandbox.calls() == []
    assert "+ aws kms put-key-policy" in r.stderr
    assert "generate-data-key" not in r.stderr
    assert "a real run stops here" not in r.stderr
    assert_enclave_only(json.loads(r.stdout[r.stdout.index("{"):]))


def test_existing_key_without_tsk_file_refused(sandbox, measured):
    # The key exists, the file with its TSK is not where --tsk-out says: a
    # new TSK would silently orphan the data sealed under the old one.
    sandbox.aws_responses(EXISTING_ALIAS)
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 1, r.stderr
    assert "exists (key %s) but %s does not" % (KEY_ID, tsk) in r.stderr
    assert "--policy-only" in r.stderr and "--rotate-tsk" in r.stderr
    assert sandbox.aws_ops() == ["sts get-caller-identity", "kms list-aliases"]
    assert not tsk.exists() and not tsk.parent.exists()


def test_policy_only_updates_policy_and_makes_no_tsk(sandbox, measured):
    sandbox.aws_responses(EXISTING_ALIAS)
    r, tsk = run_setup(sandbox, measured, "--policy-only")
    assert r.returncode == 0, r.stderr
    assert sandbox.aws_ops() == ["sts get-caller-identity", "kms list-aliases",
                                 "kms describe-key", "kms get-key-policy", "kms put-key-policy"]
    assert_enclave_only(applied_policy(sandbox))
    assert "enclaved --kms-key-id " + KEY_ARN in r.stderr
    assert not tsk.exists()


def test_rotate_with_missing_file_on_existing_key(sandbox, measured):
    # --rotate-tsk says "a new TSK" on purpose: allowed without an old file.
    sandbox.aws_responses(EXISTING_ALIAS)
    r, tsk = run_setup(sandbox, measured, "--rotate-tsk")
    assert r.returncode == 0, r.stderr
    assert sandbox.aws_ops()[-1] == "kms generate-data-key-without-plaintext"
    assert tsk.read_text() == CIPHERTEXT + "\n"


@pytest.mark.parametrize("caller", [
    "arn:aws:sts::111122223333:assumed-role/enclave-parent/i-0abc123def4567890",
    ROLE])
def test_running_as_the_parent_role_refused(sandbox, measured, caller):
    sandbox.aws_responses({"sts get-caller-identity": {"stdout": {
        "UserId": "AROAEXAMPLE:i-0abc", "Account": "111122223333", "Arn": caller}}})
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 1, r.stderr
    assert "running as the parent role" in r.stderr and ADMIN in r.stderr
    assert sandbox.aws_ops() == ["sts get-caller-identity"]
    assert not tsk.exists()


def test_another_role_of_the_same_name_prefix_is_not_the_parent(sandbox, measured):
    sandbox.aws_responses({"sts get-caller-identity": {"stdout": {
        "UserId": "AROAEXAMPLE:s", "Account": "111122223333",
        "Arn": "arn:aws:sts::111122223333:assumed-role/enclave-parent-admin/alice"}}})
    r, _ = run_setup(sandbox, measured)
    assert r.returncode == 0, r.stderr


def test_missing_measurements_stop_before_aws(sandbox):
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--measurements",
                    sandbox.tmp / "build/measurements.json", "--tsk-out", sandbox.tmp / "t.b64")
    assert r.returncode == 1
    assert "measurements.json" in r.stderr and "build-enclave.sh" in r.stderr
    assert sandbox.calls() == []
    assert not (sandbox.tmp / "t.b64").exists()


@pytest.mark.parametrize("pcr0,msg", [("00" * 48, "all zeros"), ("ab" * 47, "96 hex digits"),
                                      ("zz" * 48, "96 hex digits")])
def test_bad_pcr0_refused(sandbox, pcr0, msg):
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--pcr0", pcr0,
                    "--tsk-out", sandbox.tmp / "t.b64")
    assert r.returncode == 1
    assert msg in r.stderr
    assert sandbox.calls() == []


def test_measurements_with_debug_pcrs_refused(sandbox):
    path = sandbox.tmp / "m.json"
    path.write_text(json.dumps({"Measurements": {"PCR0": "0" * 96}}))
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--measurements", path)
    assert r.returncode == 1 and "debug-mode" in r.stderr
    assert sandbox.calls() == []


AWS_ERR = ("\nAn error occurred (AccessDeniedException) when calling the {op} operation: "
           "User: arn:aws:iam::111122223333:user/op is not authorized\n")


@pytest.mark.parametrize("failing,ops_before", [
    ("sts get-caller-identity", ["sts get-caller-identity"]),
    ("kms list-aliases", ["sts get-caller-identity", "kms list-aliases"]),
    ("kms create-key", ["sts get-caller-identity", "kms list-aliases", "kms create-key"]),
    ("kms put-key-policy", ["sts get-caller-identity", "kms list-aliases", "kms create-key",
                            "kms create-alias", "kms enable-key-rotation", "kms get-key-policy",
                            "kms put-key-policy"]),
    ("kms generate-data-key-without-plaintext", None),
])
def test_aws_failure_stops_and_writes_nothing(sandbox, measured, failing, ops_before):
    sandbox.aws_responses({failing: {"stdout": "", "rc": 254,
                                     "stderr": AWS_ERR.format(op=failing.split()[1])}})
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 1
    assert "AccessDeniedException" in r.stderr
    assert "failed (exit 254)" in r.stderr
    if ops_before is not None:
        assert sandbox.aws_ops() == ops_before
    assert sandbox.aws_ops()[-1] == failing
    assert not tsk.exists()
    assert not tsk.parent.exists() or list(tsk.parent.iterdir()) == []


def test_key_pending_deletion(sandbox, measured):
    responses = dict(EXISTING_ALIAS)
    responses["kms describe-key"] = {"stdout": {"KeyMetadata": {"KeyId": KEY_ID,
                                                                "KeyState": "PendingDeletion"}}}
    sandbox.aws_responses(responses)
    existing_tsk(sandbox)
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 1
    assert "cancel-key-deletion" in r.stderr
    assert "kms put-key-policy" not in sandbox.aws_ops()
    assert tsk.read_text() == "OLDBLOB==\n"


def test_unparseable_aws_output(sandbox, measured):
    sandbox.aws_responses({"kms list-aliases": {"stdout": "<html>proxy error</html>"}})
    r, _ = run_setup(sandbox, measured)
    assert r.returncode == 1
    assert "not JSON" in r.stderr
    assert sandbox.aws_ops() == ["sts get-caller-identity", "kms list-aliases"]


def test_bad_ciphertext_blob_not_written(sandbox, measured):
    sandbox.aws_responses({"kms generate-data-key-without-plaintext": {
        "stdout": {"CiphertextBlob": "not base64!", "KeyId": KEY_ID}}})
    r, tsk = run_setup(sandbox, measured)
    assert r.returncode == 1
    assert not tsk.exists()


@pytest.mark.parametrize("args", [
    [], ["--parent-role-arn", "arn:aws:iam::111122223333:user/bob"],
    ["--parent-role-arn", "enclave-parent"], ["--parent-role-arn", ROLE, "--region", "Mars"],
    ["--parent-role-arn", ROLE, "--alias", "alias/aws/kms"], ["--parent-role-arn", ROLE, "--x"],
    ["--parent-role-arn", ROLE, "--admin-arn", ROLE],
    ["--parent-role-arn", ROLE, "--admin-arn", "data-owner"],
    ["--parent-role-arn", ROLE, "--admin-arn", "arn:aws-cn:iam::111122223333:role/owner"],
    ["--parent-role-arn", ROLE, "--admin-arn", "arn:aws:iam::111122223333:group/admins"],
    ["--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--rotate-tsk", "--policy-only"]])
def test_bad_usage_exits_2(sandbox, args):
    if "--admin-arn" not in args and args[:1] == ["--parent-role-arn"] and len(args) > 2:
        args = args + ["--admin-arn", ADMIN]
    r = sandbox.run(SCRIPT, *args)
    assert r.returncode == 2, r.stderr
    assert sandbox.calls() == []


def test_admin_arn_is_required(sandbox, measured):
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--measurements", measured)
    assert r.returncode == 2
    assert "--admin-arn is required" in r.stderr
    assert sandbox.calls() == []


@pytest.mark.parametrize("admin", ["arn:aws:iam::111122223333:root",
                                   "arn:aws:iam::444455556666:user/owner"])
def test_admin_may_be_an_account_or_a_user(sandbox, measured, admin):
    tsk = sandbox.tmp / "t.b64"
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", admin,
                    "--measurements", measured, "--tsk-out", tsk)
    assert r.returncode == 0, r.stderr
    assert by_sid(applied_policy(sandbox))["KeyAdministrator"]["Principal"] == {"AWS": admin}


def test_no_aws_cli(sandbox, measured, tmp_path):
    # PATH without the stand-ins (and without any aws): a clear message.
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("bash", "python3", "dirname", "mktemp", "cat", "rm", "mkdir", "mv", "date"):
        src = next((os.path.join(d, tool) for d in ("/usr/bin", "/bin")
                    if os.path.exists(os.path.join(d, tool))), None)
        if src:
            os.symlink(src, bindir / tool)
    r, _ = run_setup(sandbox, measured, env={"PATH": str(bindir)})
    assert r.returncode == 1
    assert "AWS CLI" in r.stderr


def test_encryption_context_binds_tsk_and_policy(sandbox, measured):
    r, tsk = run_setup(sandbox, measured, "--encryption-context", "tenant=acme",
                       "--encryption-context", "app=agent=v2")
    assert r.returncode == 0, r.stderr
    allow, = image_allows(applied_policy(sandbox)).values()
    assert allow["Condition"]["StringEquals"] == {
        "kms:EncryptionContext:tenant": "acme",
        "kms:EncryptionContext:app": "agent=v2"}
    assert allow["Condition"]["StringEqualsIgnoreCase"] == dict(
        (ATT + k, v) for k, v in IMAGE.items())
    gen = [c["argv"] for c in sandbox.calls("aws")
           if c["argv"][:2] == ["kms", "generate-data-key-without-plaintext"]]
    assert len(gen) == 1
    argv = gen[0]
    assert json.loads(argv[argv.index("--encryption-context") + 1]) == {
        "tenant": "acme", "app": "agent=v2"}


@pytest.mark.parametrize("bad", ["novalue", "=v", "k=", "a=1 --x"])
def test_bad_encryption_context_refused(sandbox, measured, bad):
    args = ["--encryption-context", bad]
    if bad == "a=1 --x":
        args += ["--encryption-context", "a=2"]
    r, tsk = run_setup(sandbox, measured, *args)
    assert r.returncode == 1, r
    assert "--encryption-context" in r.stderr
    assert not [c for c in sandbox.calls("aws")
                if c["argv"][:2] == ["kms", "put-key-policy"]]
    assert not tsk.exists()


# --- several images (issue 22 item 7) -----------------------------------------

@pytest.mark.parametrize("opt,value", [("--pcr0", PCR0), ("--pcr8", PCR8)])
def test_repeated_pin_option_is_a_usage_error(sandbox, opt, value):
    # `--pcr0 A --pcr0 C` once kept only C, silently: two images need --allow.
    other = "c4" * 48
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN,
                    "--pcr0", PCR0, opt, value, opt, other, "--dry-run")
    assert r.returncode == 2, r.stderr
    assert "%s given twice" % opt in r.stderr and "--allow" in r.stderr
    assert sandbox.calls() == [] and r.stdout == ""


IMAGE_B = {"PCR0": "e5" * 48, "PCR1": PCR1, "PCR2": "f6" * 48}


def measurements_file(sandbox, name, image, blobs="aws"):
    path = sandbox.tmp / name
    path.write_text(json.dumps({"Measurements": dict(image, HashAlgorithm="Sha384 { ... }"),
                                "Build": {"builder": "native", "blobs": blobs}}))
    return path


def live_policy(sandbox, policy):
    """The stand-in's key exists, with `policy` as its live key policy."""
    responses = dict(EXISTING_ALIAS)
    responses["kms get-key-policy"] = {"stdout": {"PolicyName": "default",
                                                  "Policy": json.dumps(policy)}}
    sandbox.aws_responses(responses)
    if sandbox.log.exists():
        sandbox.log.unlink()


def test_allow_two_images_one_statement_each(sandbox):
    a = measurements_file(sandbox, "a.json", IMAGE)
    b = measurements_file(sandbox, "b.json", IMAGE_B)
    r, _ = run_setup(sandbox, a, "--policy-only")   # a fresh key: --measurements is a
    assert r.returncode == 0, r.stderr              # file that is allowed alone
    sandbox.log.unlink()
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--allow", a,
                    "--allow", b, "--policy-only")
    assert r.returncode == 0, r.stderr
    policy = applied_policy(sandbox)
    assert_enclave_only(policy, images=(IMAGE, IMAGE_B))
    # A mix of the two (PCR0 of one, PCR2 of the other) matches no Allow.
    mixes = [(IMAGE["PCR0"], PCR1, IMAGE_B["PCR2"]), (IMAGE_B["PCR0"], PCR1, IMAGE["PCR2"])]
    assert not set(mixes) & set(image_allows(policy))


def test_allow_then_retire_against_the_live_policy(sandbox):
    a = measurements_file(sandbox, "a.json", IMAGE)
    b = measurements_file(sandbox, "b.json", IMAGE_B)
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--allow", a,
                    "--policy-only")
    assert r.returncode == 0, r.stderr
    only_a = applied_policy(sandbox)
    assert_enclave_only(only_a, images=(IMAGE,))
    # --allow B keeps A: the live policy's images stay.
    live_policy(sandbox, only_a)
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--allow", b,
                    "--policy-only")
    assert r.returncode == 0, r.stderr
    both = applied_policy(sandbox)
    assert_enclave_only(both, images=(IMAGE, IMAGE_B))
    # Run again: nothing to change.
    live_policy(sandbox, both)
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--allow", b,
                    "--policy-only")
    assert r.returncode == 0, r.stderr
    assert "kms put-key-policy" not in sandbox.aws_ops() and "not changed" in r.stderr
    # --retire A leaves B alone.
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--retire", a,
                    "--policy-only")
    assert r.returncode == 0, r.stderr
    only_b = applied_policy(sandbox)
    assert_enclave_only(only_b, images=(IMAGE_B,))
    assert IMAGE["PCR0"] not in json.dumps(only_b) and IMAGE["PCR2"] not in json.dumps(only_b)
    # Retiring what is already gone changes nothing and says so.
    live_policy(sandbox, only_b)
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--retire", a,
                    "--policy-only")
    assert r.returncode == 0, r.stderr
    assert "nothing to retire" in r.stderr and "kms put-key-policy" not in sandbox.aws_ops()
    # The last image cannot be retired: every enclave would stop configuring.
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--retire", b,
                    "--policy-only")
    assert r.returncode == 1
    assert "no image would be allowed" in r.stderr
    assert "kms put-key-policy" not in sandbox.aws_ops()


def test_allow_keeps_a_pre_issue_22_statement_until_retired(sandbox):
    # A policy written before issue 22 pins PCR0 alone (ImageSha384).
    old = {"Version": "2012-10-17", "Id": "x", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
         "Resource": "*"},
        {"Sid": "EnclaveDecryptWithAttestation", "Effect": "Allow", "Principal": {"AWS": ROLE},
         "Action": "kms:Decrypt", "Resource": "*", "Condition": {"StringEqualsIgnoreCase": {
             "kms:RecipientAttestation:ImageSha384": PCR0.upper()}}}]}
    live_policy(sandbox, old)
    b = measurements_file(sandbox, "b.json", IMAGE_B)
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--allow", b,
                    "--policy-only")
    assert r.returncode == 0, r.stderr
    both = applied_policy(sandbox)
    assert_enclave_only(both, images=({"PCR0": PCR0}, IMAGE_B))
    assert "EnclaveDecryptWithAttestation" not in by_sid(both)
    live_policy(sandbox, both)
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--retire",
                    measurements_file(sandbox, "a.json", IMAGE), "--policy-only")
    assert r.returncode == 0, r.stderr
    assert_enclave_only(applied_policy(sandbox), images=(IMAGE_B,))


@pytest.mark.parametrize("where", ["Build", "CustomMetadata"])
@pytest.mark.parametrize("how", ["--allow", "--measurements"])
def test_stand_in_measurements_refused(sandbox, where, how):
    path = sandbox.tmp / "m.json"
    doc = {"Measurements": IMAGE}
    doc[where] = {"blobs": "stand-in"} if where == "Build" else {"Blobs": "stand-in"}
    path.write_text(json.dumps(doc))
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, how, path,
                    "--policy-only")
    assert r.returncode == 1
    assert "built with stand-in files" in r.stderr and "NITRO_BLOBS" in r.stderr
    assert sandbox.calls() == []


@pytest.mark.parametrize("args", [
    ["--allow", "A", "--pcr0", PCR0], ["--allow", "A", "--measurements", "A"],
    ["--retire", "A", "--pcr0", PCR0], ["--allow", "A", "--retire", "A"],
    ["--key-id", KEY_ID], ["--check", "A", "--allow", "A"], ["--check", "A", "--pcr0", PCR0],
    ["--check", "A", "--check", "A"], ["--check", "A", "--dry-run"]])
def test_lifecycle_bad_usage_exits_2(sandbox, args):
    a = measurements_file(sandbox, "a.json", IMAGE)
    args = [str(a) if x == "A" else x for x in args]
    if "--check" not in args:
        args += ["--admin-arn", ADMIN]
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, *args)
    assert r.returncode == 2, r.stderr
    assert sandbox.calls() == []


def test_check_says_whether_an_image_is_allowed(sandbox):
    a = measurements_file(sandbox, "a.json", IMAGE)
    b = measurements_file(sandbox, "b.json", IMAGE_B)
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--admin-arn", ADMIN, "--allow", a,
                    "--policy-only", "--encryption-context", "tenant=acme")
    assert r.returncode == 0, r.stderr
    live_policy(sandbox, applied_policy(sandbox))

    def check(path, *extra):
        return sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--check", path, *extra)
    r = check(a, "--key-id", KEY_ID)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ALLOWED")
    # It only reads: no alias lookup with --key-id, and no change.
    assert sandbox.aws_ops() == ["kms get-key-policy"]
    calls = sandbox.calls("aws")
    assert calls[0]["argv"][calls[0]["argv"].index("--key-id") + 1] == KEY_ID
    r = check(b)            # found by the alias
    assert r.returncode == 1, r.stderr
    assert r.stdout.startswith("NOT ALLOWED") and "DenyParentDecryptWithoutAttestation" in r.stdout
    # PCR0 of the allowed image with another PCR2: the Deny on PCR2.
    mixed = measurements_file(sandbox, "mixed.json", dict(IMAGE, PCR2=IMAGE_B["PCR2"]))
    r = check(mixed)
    assert r.returncode == 1 and "DenyParentDecryptOtherPcr2" in r.stdout
    # A stand-in build is not refused by the check: it is just not allowed.
    standin = measurements_file(sandbox, "s.json", IMAGE_B, blobs="stand-in")
    assert check(standin).returncode == 1


def test_check_reports_a_missing_allow(sandbox):
    # No Deny fires (no statement of ours), and nothing allows the role.
    live_policy(sandbox, {"Version": "2012-10-17", "Statement": [
        {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
         "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
         "Resource": "*"}]})
    r = sandbox.run(SCRIPT, "--parent-role-arn", ROLE, "--check",
                    measurements_file(sandbox, "a.json", IMAGE))
    assert r.returncode == 1 and "no statement allows" in r.stdout
    assert sandbox.aws_ops() == ["kms list-aliases", "kms get-key-policy"]
