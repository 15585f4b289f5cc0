#!/usr/bin/env bash
# setup-kms.sh - the KMS key, its enclave-only policy, and the encrypted TSK.
#
# usage: scripts/setup-kms.sh --parent-role-arn ARN [options]
#
# Idempotent; run it again after every rebuild that changes PCR0:
#   1. finds the key by its alias (kms list-aliases); creates the key, the
#      alias and yearly key-material rotation only if the alias is missing;
#   2. applies the key policy: the key's other statements (the account's
#      administration statement included) are kept; this script's own
#      statements are replaced:
#        - Allow kms:Decrypt to the parent role only when the request carries
#          an attestation document of the measured image:
#          StringEqualsIgnoreCase kms:RecipientAttestation:ImageSha384 = PCR0
#          (and kms:RecipientAttestation:PCR8 with --pcr8);
#        - Deny the parent role kms:Decrypt without that attestation (an IAM
#          policy granting kms:Decrypt cannot open a way around the enclave),
#          and deny it kms:ReEncrypt* and kms:CreateGrant;
#      With --encryption-context the Allow statement also requires
#      StringEquals kms:EncryptionContext:KEY = VALUE for every pair, so
#      KMS releases the TSK only to a configure that names that context
#      (enclaved's configure "encryption_context", docs/operations.md);
#   3. generates the TSK with generate-data-key-without-plaintext and writes
#      only its KMS ciphertext, base64, to the --tsk-out file (mode 0600). No
#      plaintext key ever reaches this machine. An existing file is kept
#      (data is sealed under it) unless --rotate-tsk.
#
# Options:
#   --parent-role-arn ARN  IAM role of the parent instance (required), e.g.
#                          arn:aws:iam::111122223333:role/enclave-parent
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
#   --dry-run              print every AWS call and the policy; call nothing,
#                          write nothing
#   -h, --help             this help
#
# AWS credentials and profile come from the usual AWS CLI sources
# (AWS_PROFILE, instance role, ...); they must be allowed to administer the
# key. Exit status: 0 done; 1 a step failed; 2 bad usage.
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

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

role_arn=
region=ap-southeast-1
alias_name=alias/confidential-enclave-tsk
measurements=$repo/build/measurements.json
pcr0=
pcr8=
tsk_out=$repo/build/encrypted-tsk.b64
contexts=()
rotate=0
dry_run=0
while [ $# -gt 0 ]; do
	case $1 in
	--parent-role-arn) need_arg "$1" $#; role_arn=$2; shift 2 ;;
	--region) need_arg "$1" $#; region=$2; shift 2 ;;
	--alias) need_arg "$1" $#; alias_name=$2; shift 2 ;;
	--measurements) need_arg "$1" $#; measurements=$2; shift 2 ;;
	--pcr0) need_arg "$1" $#; pcr0=$2; shift 2 ;;
	--pcr8) need_arg "$1" $#; pcr8=$2; shift 2 ;;
	--encryption-context) need_arg "$1" $#; contexts+=("$2"); shift 2 ;;
	--tsk-out) need_arg "$1" $#; tsk_out=$2; shift 2 ;;
	--rotate-tsk) rotate=1; shift ;;
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
        "DenyParentReEncryptAndGrants")

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
    role, account, partition, pcr0, pcr8, context = args
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
        # administers the key. Without an administration statement nobody
        # could ever change this policy again.
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
    ours.append(
        {"Sid": "DenyParentReEncryptAndGrants", "Effect": "Deny",
         "Principal": {"AWS": role},
         "Action": ["kms:ReEncrypt*", "kms:CreateGrant"], "Resource": "*"})
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

# 1. The key, found by alias; created only when the alias does not exist.
key_id=
existing_policy=
aliases=$(aws_call kms list-aliases --region "$region" --output json)
if [ "$dry_run" = 0 ]; then
	key_id=$(printf '%s' "$aliases" | js alias-target "$alias_name")
fi
if [ "$dry_run" = 1 ]; then
	key_id='<key-id>'
	echo "setup-kms: if $alias_name does not exist yet:" >&2
	aws_call kms create-key --region "$region" --output json \
		--description "confidential-enclave TSK wrapping key" \
		--key-usage ENCRYPT_DECRYPT --key-spec SYMMETRIC_DEFAULT \
		--tags TagKey=project,TagValue=confidential-enclave
	aws_call kms create-alias --region "$region" --alias-name "$alias_name" --target-key-id "$key_id"
	aws_call kms enable-key-rotation --region "$region" --key-id "$key_id"
	echo "setup-kms: if it exists:" >&2
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
fi
if [ "$dry_run" = 0 ]; then
	current=$(aws_call kms get-key-policy --region "$region" --output json --key-id "$key_id" --policy-name default)
	existing_policy=$(printf '%s' "$current" | js existing-policy)
fi

# 2. The policy.
policy=$(EXISTING_POLICY=$existing_policy js policy "$role_arn" "$account" "$partition" "$pcr0" "$pcr8" "$context")
if [ "$dry_run" = 0 ] && js same-policy "$policy" "$existing_policy"; then
	echo "setup-kms: the key policy already pins this PCR0; not changed" >&2
else
	aws_call kms put-key-policy --region "$region" --key-id "$key_id" --policy-name default --policy "$policy" >/dev/null
	[ "$dry_run" = 1 ] || echo "setup-kms: key policy applied: Decrypt for $role_arn only from an enclave with PCR0 $pcr0" >&2
fi
echo "Key policy:"
printf '%s' "$policy" | js pretty

# 3. The TSK: KMS generates it and returns only its ciphertext.
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
