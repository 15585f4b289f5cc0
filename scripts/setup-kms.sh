#!/usr/bin/env bash
# setup-kms.sh - the KMS key, its enclave-only policy, and the encrypted TSK.
#
# usage: scripts/setup-kms.sh --parent-role-arn ARN --admin-arn ARN [options]
#
# Who runs it: the key's ADMINISTRATOR (--admin-arn, e.g. the data owner's
# role), with that principal's credentials, on the administrator's machine:
# never on the parent instance, never as the parent role (refused). The
# administrator administers the key and generates the TSKs; the parent role
# only ever gets kms:Decrypt from inside the measured enclave.
#
# Idempotent; run it again after every rebuild that changes PCR0:
#   1. checks the caller (sts get-caller-identity) is not the parent role;
#      finds the key by its alias (kms list-aliases); creates the key, the
#      alias and yearly key-material rotation only if the alias is missing;
#   2. applies the key policy: the key's other statements are kept, KMS's
#      default "Enable IAM User Permissions" (account root) is added when no
#      kept statement administers the key; this script's statements replace
#      their previous versions:
#        - Allow kms:Decrypt to the parent role only when the request carries
#          an attestation document of the measured image:
#          StringEqualsIgnoreCase kms:RecipientAttestation:ImageSha384 = PCR0
#          (and kms:RecipientAttestation:PCR8 with --pcr8);
#        - Deny the parent role kms:Decrypt without that attestation (an IAM
#          policy granting kms:Decrypt cannot open a way around the enclave);
#        - Deny the parent role every way to learn or make a TSK (kms:Encrypt,
#          kms:GenerateDataKey*, kms:ReEncrypt*, kms:CreateGrant), every
#          key-administration action (kms:PutKeyPolicy, kms:ScheduleKeyDeletion,
#          kms:DisableKey, aliases, tags, rotation, ...), and, as a catch-all,
#          every KMS action but kms:Decrypt: an explicit Deny beats the
#          account root statement and any IAM policy of the role (kms:*
#          included);
#        - Allow the administrator (--admin-arn) to administer the key, to
#          generate TSKs (kms:GenerateDataKeyWithoutPlaintext) and to decrypt
#          them (the data owner seals data with the TSK);
#      With --encryption-context the parent's Allow statement also requires
#      StringEquals kms:EncryptionContext:KEY = VALUE for every pair, so
#      KMS releases the TSK only to a configure that names that context
#      (enclaved's configure "encryption_context", docs/operations.md);
#   3. prints the key ARN to pin in the image (enclaved --kms-key-id ARN);
#   4. generates the TSK with generate-data-key-without-plaintext and writes
#      only its KMS ciphertext, base64, to the --tsk-out file (mode 0600). No
#      plaintext key ever reaches this machine. An existing file is kept
#      (data is sealed under it) unless --rotate-tsk. When the key already
#      existed but the --tsk-out file does not, nothing is changed and the
#      script stops (exit 1): a new TSK would silently replace the one the
#      data is sealed under. Say what you mean: --policy-only (update the
#      policy, no TSK) or --rotate-tsk (a new TSK), or name the existing
#      file with --tsk-out.
#
# Options:
#   --parent-role-arn ARN  IAM role of the parent instance (required), e.g.
#                          arn:aws:iam::111122223333:role/enclave-parent
#   --admin-arn ARN        the key's administrator and TSK maker (required):
#                          an IAM role or user ARN, or an account's root
#                          (arn:aws:iam::<account>:root), not the parent role;
#                          e.g. arn:aws:iam::111122223333:role/data-owner
#   --region R             AWS region (default ap-southeast-1)
#   --alias NAME           key alias (default alias/confidential-enclave-tsk)
#   --measurements FILE    PCRs from scripts/build-enclave.sh
#                          (default build/measurements.json)
#   --pcr0 HEX             pin this PCR0 instead of the measurements file's
#   --pcr8 HEX             also pin PCR8 (EIFs signed with a certificate)
#   --encryption-context KEY=VALUE
#                          bind the TSK to this KMS encryption context and
#                          require it in the policy; repeatable, one pair
#                          each (e.g. tenant=acme); KEY holds no "="
#   --tsk-out FILE         encrypted TSK output (default build/encrypted-tsk.b64)
#   --rotate-tsk           generate a new TSK; the old file is kept as
#                          FILE.<UTC time> (docs/operations.md, 'Rotating')
#   --policy-only          steps 1 to 3 only: no TSK is generated or written
#   --dry-run              print every AWS call and the policy; call nothing,
#                          write nothing
#   -h, --help             this help
#
# AWS credentials and profile come from the usual AWS CLI sources
# (AWS_PROFILE, ...): the administrator's. Exit status: 0 done; 1 a step
# failed or was refused; 2 bad usage.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}
die() {
	printf 'setup-kms: %s\n' "$*" >&2
	exit 1
}
usage_error() {
	printf 'setup-kms: %s\nTry scripts/setup-kms.sh --help\n' "$*" >&2
	exit 2
}
need_arg() {
	[ "$2" -ge 2 ] || usage_error "$1 needs a value"
}
# A pin given twice is a mistake, never "the last one wins": two images are
# two --allow files (the second --pcr0 once silently replaced the first).
once() {
	[ -z "$2" ] || usage_error "$1 given twice: one image is pinned by one --measurements or --pcr0; to allow several images at once, pass --allow FILE for each (their measurements.json)"
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

role_arn=
admin_arn=
region=ap-southeast-1
alias_name=alias/confidential-enclave-tsk
measurements=$repo/build/measurements.json
measurements_set=
pcr0=
pcr8=
allows=()
retires=()
check=
key_ref=
tsk_out=$repo/build/encrypted-tsk.b64
contexts=()
rotate=0
policy_only=0
dry_run=0
while [ $# -gt 0 ]; do
	case $1 in
	--parent-role-arn) need_arg "$1" $#; role_arn=$2; shift 2 ;;
	--admin-arn) need_arg "$1" $#; admin_arn=$2; shift 2 ;;
	--region) need_arg "$1" $#; region=$2; shift 2 ;;
	--alias) need_arg "$1" $#; alias_name=$2; shift 2 ;;
	--measurements) need_arg "$1" $#; once "$1" "$measurements_set"; measurements=$2; measurements_set=1; shift 2 ;;
	--pcr0) need_arg "$1" $#; once "$1" "$pcr0"; pcr0=$2; shift 2 ;;
	--pcr8) need_arg "$1" $#; once "$1" "$pcr8"; pcr8=$2; shift 2 ;;
	--allow) need_arg "$1" $#; allows+=("$2"); shift 2 ;;
	--retire) need_arg "$1" $#; retires+=("$2"); shift 2 ;;
	--check) need_arg "$1" $#; once "$1" "$check"; check=$2; shift 2 ;;
	--key-id) need_arg "$1" $#; once "$1" "$key_ref"; key_ref=$2; shift 2 ;;
	--encryption-context) need_arg "$1" $#; contexts+=("$2"); shift 2 ;;
	--tsk-out) need_arg "$1" $#; tsk_out=$2; shift 2 ;;
	--rotate-tsk) rotate=1; shift ;;
	--policy-only) policy_only=1; shift ;;
	--dry-run) dry_run=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done

[ -n "$role_arn" ] || usage_error "--parent-role-arn is required"
if [[ $role_arn =~ ^arn:(aws|aws-cn|aws-us-gov):iam::([0-9]{12}):role/[A-Za-z0-9+=,.@_/-]+$ ]]; then
	partition=${BASH_REMATCH[1]}
	account=${BASH_REMATCH[2]}
else
	usage_error "--parent-role-arn must be an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>), not '$role_arn'"
fi
role_name=${role_arn##*/}
[ -n "$admin_arn" ] || usage_error "--admin-arn is required: the principal that administers the key and generates TSKs (e.g. the data owner's role), never the parent role"
if ! [[ $admin_arn =~ ^arn:$partition:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/-]+)$ ]]; then
	usage_error "--admin-arn must be an IAM role or user ARN, or arn:$partition:iam::<12 digits>:root, in the parent role's partition, not '$admin_arn'"
fi
[ "$admin_arn" != "$role_arn" ] || usage_error "--admin-arn must not be the parent role: the parent role may only decrypt from the enclave"
[ "$rotate" = 0 ] || [ "$policy_only" = 0 ] || usage_error "--rotate-tsk and --policy-only exclude each other"
[[ $region =~ ^[a-z]{2}(-[a-z]+)+-[0-9]+$ ]] || usage_error "--region '$region' is not an AWS region name"
[[ $alias_name == alias/* ]] || alias_name=alias/$alias_name
if ! [[ $alias_name =~ ^alias/[A-Za-z0-9/_-]+$ ]] || [[ $alias_name == alias/aws/* ]]; then
	usage_error "--alias '$alias_name' is not a valid customer alias"
fi

command -v python3 >/dev/null 2>&1 || die "python3 is not installed"

# JSON work, in one place: python3 -c "$PY" COMMAND ARGS.
PY=$(cat <<'PY'
import fnmatch, json, os, re, sys

HEX96 = re.compile(r"[0-9a-fA-F]{96}")
OURS = ("EnclaveDecryptWithAttestation",
        "DenyParentDecryptWithoutAttestation",
        "DenyParentDecryptWithoutSignedImage",
        "DenyParentReEncryptAndGrants",        # before issue 20; replaced
        "DenyParentTskMaterial",
        "DenyParentKeyAdministration",
        "DenyParentAllButDecrypt",
        "KeyAdministrator")

# Every way for the parent role to obtain a TSK it knows under this key, or
# to let another principal do it: a data key in plaintext (GenerateDataKey),
# its own key wrapped by this KMS key (Encrypt), a ciphertext moved to or
# from another key (ReEncryptFrom/To), a grant (CreateGrant).
TSK_MATERIAL = ["kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*",
                "kms:CreateGrant"]
# The key-administration actions on a KMS key: the Write, Permissions
# management and Tagging actions on the "key" resource in the Service
# Authorization Reference for AWS KMS (docs.aws.amazon.com/service-
# authorization/latest/reference/list_kms.html), less the cryptographic ones
# (Decrypt, Encrypt, GenerateDataKey*, ReEncrypt*, Sign, Verify, *Mac,
# DeriveSharedSecret) and CreateGrant above; the same set AWS's default key
# policy gives "key administrators" (KMS Developer Guide, "Default key
# policy": kms:Create*, Put*, Update*, Delete*, Enable*, Disable*, Revoke*,
# TagResource, UntagResource, ScheduleKeyDeletion, CancelKeyDeletion,
# RotateKeyOnDemand), spelled out action by action.
KEY_ADMIN = ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion",
             "kms:CancelKeyDeletion", "kms:DisableKey", "kms:EnableKey",
             "kms:DisableKeyRotation", "kms:EnableKeyRotation",
             "kms:RotateKeyOnDemand", "kms:UpdateKeyDescription",
             "kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias",
             "kms:TagResource", "kms:UntagResource", "kms:RetireGrant",
             "kms:RevokeGrant", "kms:ImportKeyMaterial",
             "kms:DeleteImportedKeyMaterial", "kms:ReplicateKey",
             "kms:UpdatePrimaryRegion", "kms:SynchronizeMultiRegionKey"]
# What the administrator reads the key with.
KEY_READ = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus",
            "kms:ListResourceTags", "kms:ListGrants", "kms:ListKeyPolicies",
            "kms:ListKeyRotations"]

def fail(msg):
    sys.stderr.write("setup-kms: %s\n" % msg)
    sys.exit(1)

def check_pcr(name, value):
    if not HEX96.fullmatch(value or ""):
        fail("%s must be 96 hex digits (SHA-384), got '%s'" % (name, value))
    if set(value) == {"0"}:
        fail("%s is all zeros: that is what a debug-mode enclave reports; "
             "pinning it would let any debug enclave decrypt. Use the PCRs "
             "of a production build (scripts/build-enclave.sh)." % name)
    return value.lower()

def load_stdin():
    try:
        return json.load(sys.stdin)
    except ValueError as e:
        fail("unexpected AWS CLI output (not JSON): %s" % e)

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "check-pcr":
    print(check_pcr(args[0], args[1]))
elif cmd == "pcr-from-measurements":
    path, key = args
    try:
        doc = json.load(open(path, encoding="utf-8"))
    except OSError as e:
        fail("cannot read %s: %s; run scripts/build-enclave.sh first, or pass --pcr0" % (path, e.strerror))
    except ValueError as e:
        fail("%s is not JSON: %s" % (path, e))
    m = doc.get("Measurements", doc) if isinstance(doc, dict) else {}
    if key not in m:
        fail("%s has no %s" % (path, key))
    print(check_pcr(key + " in " + path, m[key]))
elif cmd == "alias-target":
    doc = load_stdin()
    for a in doc.get("Aliases", []):
        if a.get("AliasName") == args[0]:
            print(a.get("TargetKeyId", ""))
            break
elif cmd == "field":
    doc = load_stdin()
    for part in args[0].split("."):
        doc = doc.get(part) if isinstance(doc, dict) else None
    if not isinstance(doc, str) or not doc:
        fail("AWS CLI output has no %s" % args[0])
    print(doc)
elif cmd == "existing-policy":
    doc = load_stdin()
    try:
        policy = json.loads(doc["Policy"])
    except (KeyError, TypeError, ValueError) as e:
        fail("cannot read the key's current policy: %s" % e)
    print(json.dumps(policy, separators=(",", ":"), sort_keys=True))
elif cmd == "context":
    # KEY=VALUE arguments as the JSON object KMS takes, checked.
    ec = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep or not key or not value or len(key) > 128:
            fail("--encryption-context '%s' is not KEY=VALUE (a KEY of 1 to "
                 "128 characters without '=', a VALUE not empty)" % arg)
        if key in ec:
            fail("--encryption-context names %s twice" % key)
        ec[key] = value
    print(json.dumps(ec, separators=(",", ":"), sort_keys=True) if ec else "")
elif cmd == "policy":
    role, admin, account, partition, pcr0, pcr8, context = args
    existing = os.environ.get("EXISTING_POLICY") or ""
    root = "arn:%s:iam::%s:root" % (partition, account)
    if existing:
        base = json.loads(existing)
        kept = [s for s in base.get("Statement", []) if s.get("Sid") not in OURS]
        version = base.get("Version", "2012-10-17")
        pid = base.get("Id", "confidential-enclave-tsk")
    else:
        kept, version, pid = [], "2012-10-17", "confidential-enclave-tsk"
    def administers(s):
        acts = s.get("Action", [])
        acts = [acts] if isinstance(acts, str) else acts
        return s.get("Effect") == "Allow" and any(
            fnmatch.fnmatchcase("kms:putkeypolicy", a.lower()) for a in acts)
    if not any(administers(s) for s in kept):
        # KMS's own default statement: the account (through IAM policies)
        # may administer the key. Kept on purpose (docs/operations.md, Key
        # custody): were the administrator's role deleted, nobody could
        # ever change this policy again, and the data sealed under the
        # TSKs would be lost. It cannot help the parent role: the explicit
        # Deny statements below beat this Allow and any IAM policy.
        kept.insert(0, {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                        "Principal": {"AWS": root}, "Action": "kms:*",
                        "Resource": "*"})
    allow_cond = {"kms:RecipientAttestation:ImageSha384": pcr0}
    if pcr8:
        allow_cond["kms:RecipientAttestation:PCR8"] = pcr8
    allow = {"StringEqualsIgnoreCase": allow_cond}
    if context:
        allow["StringEquals"] = dict(
            ("kms:EncryptionContext:" + k, v)
            for k, v in json.loads(context).items())
    ours = [
        {"Sid": "EnclaveDecryptWithAttestation", "Effect": "Allow",
         "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": allow},
        # String*Not*Equals is true when the key is absent: a Decrypt without
        # a Recipient attestation, or from another image, is denied even if
        # an IAM policy of the role allows kms:Decrypt.
        {"Sid": "DenyParentDecryptWithoutAttestation", "Effect": "Deny",
         "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringNotEqualsIgnoreCase":
                       {"kms:RecipientAttestation:ImageSha384": pcr0}}},
    ]
    if pcr8:
        ours.append(
            {"Sid": "DenyParentDecryptWithoutSignedImage", "Effect": "Deny",
             "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*",
             "Condition": {"StringNotEqualsIgnoreCase":
                           {"kms:RecipientAttestation:PCR8": pcr8}}})
    ours += [
        {"Sid": "DenyParentTskMaterial", "Effect": "Deny",
         "Principal": {"AWS": role}, "Action": TSK_MATERIAL, "Resource": "*"},
        {"Sid": "DenyParentKeyAdministration", "Effect": "Deny",
         "Principal": {"AWS": role}, "Action": KEY_ADMIN, "Resource": "*"},
        # The catch-all: an action KMS adds later is denied too.
        {"Sid": "DenyParentAllButDecrypt", "Effect": "Deny",
         "Principal": {"AWS": role}, "NotAction": "kms:Decrypt",
         "Resource": "*"},
        {"Sid": "KeyAdministrator", "Effect": "Allow",
         "Principal": {"AWS": admin},
         "Action": KEY_ADMIN + KEY_READ + [
             "kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt"],
         "Resource": "*"},
    ]
    print(json.dumps({"Version": version, "Id": pid, "Statement": kept + ours},
                     separators=(",", ":")))
elif cmd == "same-policy":
    a, b = json.loads(args[0]), json.loads(args[1])
    sys.exit(0 if a == b else 1)
elif cmd == "pretty":
    print(json.dumps(json.loads(sys.stdin.read()), indent=2))
elif cmd == "ciphertext":
    import base64, binascii
    blob = args[0]
    try:
        if not base64.b64decode(blob, validate=True):
            raise ValueError("empty")
    except (ValueError, binascii.Error) as e:
        fail("KMS returned a CiphertextBlob that is not base64: %s" % e)
    print(blob)
else:
    fail("internal: unknown helper command %s" % cmd)
PY
)
js() {
	python3 -c "$PY" "$@"
}

# The PCRs come first: a missing measurements file stops everything before
# any AWS call.
if [ -n "$pcr0" ]; then
	pcr0=$(js check-pcr --pcr0 "$pcr0")
else
	pcr0=$(js pcr-from-measurements "$measurements" PCR0)
fi
if [ -n "$pcr8" ]; then
	pcr8=$(js check-pcr --pcr8 "$pcr8")
fi
context=$(js context ${contexts[@]+"${contexts[@]}"})

if [ "$dry_run" = 0 ]; then
	command -v aws >/dev/null 2>&1 || die "the AWS CLI (aws) is not installed"
fi

# Every AWS call goes through here: printed, then run (not in --dry-run).
# The call's stdout is the function's; a failure stops the script with the
# CLI's own message.
aws_call() {
	local out err arg rc=0
	printf '+ aws' >&2
	for arg in "$@"; do
		if [[ $arg =~ ^[A-Za-z0-9_./:=,@+-]+$ ]]; then
			printf ' %s' "$arg" >&2
		else
			printf " '%s'" "${arg//\'/\'\\\'\'}" >&2
		fi
	done
	printf '\n' >&2
	if [ "$dry_run" = 1 ]; then
		return 0
	fi
	err=$(mktemp)
	out=$(aws "$@" 2>"$err") || rc=$?
	if [ "$rc" != 0 ]; then
		printf 'setup-kms: aws %s %s failed (exit %s): %s\n' "$1" "$2" "$rc" "$(cat "$err")" >&2
		rm -f "$err"
		exit 1
	fi
	rm -f "$err"
	printf '%s' "$out"
}

if [ "$dry_run" = 1 ]; then
	echo "setup-kms: DRY RUN: these are the AWS calls a real run makes; none is made, no file is written." >&2
fi

# 1. The caller: the administrator, never the parent role (on the parent
# instance the CLI finds the role's credentials by itself). The policy
# denies the role all of this anyway; this says so before anything changes.
caller=$(aws_call sts get-caller-identity --region "$region" --output json)
if [ "$dry_run" = 0 ]; then
	caller=$(printf '%s' "$caller" | js field Arn)
	if [[ $caller == "arn:$partition:sts::$account:assumed-role/$role_name/"* ]] || [ "$caller" = "$role_arn" ]; then
		die "running as the parent role ($caller): run this as the key's administrator ($admin_arn), with its credentials and not on the parent instance; the parent role may only decrypt from the enclave"
	fi
fi

# The key, found by alias; created only when the alias does not exist.
key_id=
key_arn=
existing_policy=
aliases=$(aws_call kms list-aliases --region "$region" --output json)
if [ "$dry_run" = 0 ]; then
	key_id=$(printf '%s' "$aliases" | js alias-target "$alias_name")
fi
# A key that exists protects data under the TSK it was used for: without
# that file, say what to do rather than silently making another TSK.
if [ "$dry_run" = 0 ] && [ -n "$key_id" ] && [ ! -e "$tsk_out" ] && [ "$rotate" = 0 ] && [ "$policy_only" = 0 ]; then
	die "$alias_name exists (key $key_id) but $tsk_out does not; nothing changed. A new TSK would not open the data sealed under the existing one. Name the existing encrypted TSK with --tsk-out FILE, update only the policy with --policy-only, or generate a new TSK on purpose with --rotate-tsk"
fi
if [ "$dry_run" = 1 ]; then
	key_id='<key-id>'
	key_arn='<key-arn>'
	echo "setup-kms: if $alias_name does not exist yet:" >&2
	aws_call kms create-key --region "$region" --output json \
		--description "confidential-enclave TSK wrapping key" \
		--key-usage ENCRYPT_DECRYPT --key-spec SYMMETRIC_DEFAULT \
		--tags TagKey=project,TagValue=confidential-enclave
	aws_call kms create-alias --region "$region" --alias-name "$alias_name" --target-key-id "$key_id"
	aws_call kms enable-key-rotation --region "$region" --key-id "$key_id"
	echo "setup-kms: if it exists:" >&2
	if [ "$rotate" = 0 ] && [ "$policy_only" = 0 ] && [ ! -e "$tsk_out" ]; then
		echo "setup-kms:   $tsk_out does not exist: a real run stops here (exit 1), nothing changed; name the existing TSK with --tsk-out, or pass --policy-only or --rotate-tsk" >&2
	fi
	aws_call kms describe-key --region "$region" --output json --key-id "$key_id"
	aws_call kms get-key-policy --region "$region" --output json --key-id "$key_id" --policy-name default
	echo "setup-kms: then (the policy keeps the key's other statements; a new key's is KMS's default):" >&2
elif [ -z "$key_id" ]; then
	echo "setup-kms: $alias_name does not exist in $region: creating the key" >&2
	created=$(aws_call kms create-key --region "$region" --output json \
		--description "confidential-enclave TSK wrapping key" \
		--key-usage ENCRYPT_DECRYPT --key-spec SYMMETRIC_DEFAULT \
		--tags TagKey=project,TagValue=confidential-enclave)
	key_id=$(printf '%s' "$created" | js field KeyMetadata.KeyId)
	key_arn=$(printf '%s' "$created" | js field KeyMetadata.Arn)
	aws_call kms create-alias --region "$region" --alias-name "$alias_name" --target-key-id "$key_id" >/dev/null
	aws_call kms enable-key-rotation --region "$region" --key-id "$key_id" >/dev/null
	echo "setup-kms: created key $key_id as $alias_name" >&2
else
	echo "setup-kms: $alias_name is key $key_id" >&2
	described=$(aws_call kms describe-key --region "$region" --output json --key-id "$key_id")
	state=$(printf '%s' "$described" | js field KeyMetadata.KeyState)
	case $state in
	Enabled) ;;
	PendingDeletion) die "key $key_id is pending deletion: aws kms cancel-key-deletion --key-id $key_id && aws kms enable-key --key-id $key_id (region $region)" ;;
	Disabled) die "key $key_id is disabled: aws kms enable-key --key-id $key_id --region $region" ;;
	*) die "key $key_id is in state $state, not Enabled" ;;
	esac
	key_arn=$(printf '%s' "$described" | js field KeyMetadata.Arn)
fi
if [ "$dry_run" = 0 ]; then
	current=$(aws_call kms get-key-policy --region "$region" --output json --key-id "$key_id" --policy-name default)
	existing_policy=$(printf '%s' "$current" | js existing-policy)
fi

# 2. The policy.
policy=$(EXISTING_POLICY=$existing_policy js policy "$role_arn" "$admin_arn" "$account" "$partition" "$pcr0" "$pcr8" "$context")
if [ "$dry_run" = 0 ] && js same-policy "$policy" "$existing_policy"; then
	echo "setup-kms: the key policy already pins this PCR0; not changed" >&2
else
	aws_call kms put-key-policy --region "$region" --key-id "$key_id" --policy-name default --policy "$policy" >/dev/null
	[ "$dry_run" = 1 ] || echo "setup-kms: key policy applied: Decrypt for $role_arn only from an enclave with PCR0 $pcr0" >&2
fi
echo "Key policy:"
printf '%s' "$policy" | js pretty

# 3. The key to pin: a TSK from any other KMS key is then refused.
echo "setup-kms: the TSK's KMS key is $key_arn: pin it in the image's command with enclaved --kms-key-id $key_arn (a measured option: docs/operations.md)" >&2

# 4. The TSK: KMS generates it and returns only its ciphertext.
if [ "$policy_only" = 1 ]; then
	echo "setup-kms: --policy-only: no TSK generated or written" >&2
	exit 0
fi
if [ -e "$tsk_out" ] && [ "$rotate" = 0 ]; then
	echo "setup-kms: keeping the existing encrypted TSK $tsk_out (--rotate-tsk replaces it)" >&2
	[ -z "$context" ] || echo "setup-kms: note: a TSK made without this encryption context no longer decrypts under the new policy; --rotate-tsk makes one bound to it" >&2
	exit 0
fi
context_args=()
[ -z "$context" ] || context_args=(--encryption-context "$context")
generated=$(aws_call kms generate-data-key-without-plaintext --region "$region" --output json \
	--key-id "$key_id" --key-spec AES_256 ${context_args[@]+"${context_args[@]}"})
if [ "$dry_run" = 1 ]; then
	echo "setup-kms: would write the CiphertextBlob, base64, to $tsk_out (mode 0600)" >&2
	exit 0
fi
blob=$(printf '%s' "$generated" | js field CiphertextBlob)
blob=$(js ciphertext "$blob")
tsk_dir=$(dirname "$tsk_out")
mkdir -p "$tsk_dir"
tmp=$(umask 077 && mktemp "$tsk_dir/.encrypted-tsk.XXXXXX")
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$blob" >"$tmp"
if [ -e "$tsk_out" ]; then
	old=$tsk_out.$(date -u +%Y%m%dT%H%M%SZ)
	mv "$tsk_out" "$old"
	echo "setup-kms: the previous encrypted TSK is kept as $old (data sealed under it needs it)" >&2
fi
mv "$tmp" "$tsk_out"
trap - EXIT
echo "setup-kms: wrote the encrypted TSK to $tsk_out (KMS ciphertext only; the enclave decrypts it)" >&2
