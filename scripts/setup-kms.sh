#!/usr/bin/env bash
# setup-kms.sh - the KMS key, its enclave-only policy, and the encrypted TSK.
#
# usage: scripts/setup-kms.sh --parent-role-arn ARN --admin-arn ARN [options]
#        scripts/setup-kms.sh --parent-role-arn ARN --check FILE [--key-id K]
#
# Who runs it: the key's ADMINISTRATOR (--admin-arn, e.g. the data owner's
# role), with that principal's credentials, on the administrator's machine:
# never on the parent instance, never as the parent role (refused). The
# administrator administers the key and generates the TSKs; the parent role
# only ever gets kms:Decrypt from inside the measured enclave.
#
# Idempotent; run it again for every new image (docs/operations.md, "A new
# image": --allow the new one, roll the parents, --retire the old one):
#   1. checks the caller (sts get-caller-identity) is not the parent role;
#      finds the key by its alias (kms list-aliases); creates the key, the
#      alias and yearly key-material rotation only if the alias is missing;
#   2. applies the key policy: the key's other statements are kept, KMS's
#      default "Enable IAM User Permissions" (account root) is added when no
#      kept statement administers the key; this script's statements replace
#      their previous versions:
#        - for each allowed image, one statement allowing kms:Decrypt to the
#          parent role only when the request carries an attestation document
#          of that image: StringEqualsIgnoreCase kms:RecipientAttestation:
#          PCR0, PCR1 and PCR2 = the image's (and PCR8 with --pcr8). One
#          statement per image: KMS reads conditions key by key, so one
#          statement listing several values of each would also let PCR0 of
#          one image go with PCR2 of another;
#        - Deny the parent role kms:Decrypt without an attestation whose
#          PCR0, PCR1 and PCR2 are each one of the allowed images' (an IAM
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
#   --measurements FILE    allow exactly this image, replacing the images the
#                          policy allowed: measurements.json from make eif or
#                          scripts/build-enclave.sh (default
#                          build/measurements.json)
#   --allow FILE           allow this image too (its measurements.json: PCR0,
#                          PCR1 and PCR2 together), keeping the images the
#                          live policy allows; repeatable
#   --retire FILE          stop allowing this image; repeatable. The last
#                          allowed image cannot be retired (exit 1)
#                          (--allow and --retire exclude --measurements and
#                          --pcr0; a measurements file of an EIF built with
#                          stand-in or placeholder files is refused)
#   --pcr0 HEX             allow exactly the image with this PCR0 (PCR0 alone)
#   --pcr8 HEX             also pin PCR8 (EIFs signed with a certificate)
#   --check FILE           change nothing: say whether the live policy lets
#                          the parent role decrypt from an enclave of the
#                          image FILE measures (exit 0 allowed, 1 not); reads
#                          the policy (kms get-key-policy), so run it as the
#                          administrator, before deploying the image
#   --key-id K             with --check: the key (default: by --alias)
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
# (AWS_PROFILE, ...): the administrator's. Exit status: 0 done (--check:
# allowed); 1 a step failed or was refused (--check: not allowed); 2 bad
# usage (an option given twice, --allow with --pcr0, ...).
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
if [ -n "$check" ]; then
	# The check reads the policy; it changes nothing and pins nothing.
	if [ ${#allows[@]} != 0 ] || [ ${#retires[@]} != 0 ] || [ -n "$pcr0$pcr8$measurements_set$admin_arn" ] ||
		[ ${#contexts[@]} != 0 ] || [ "$rotate$policy_only$dry_run" != 000 ]; then
		usage_error "--check FILE takes only --parent-role-arn, --key-id or --alias, and --region"
	fi
else
	[ -z "$key_ref" ] || usage_error "--key-id goes with --check (setup finds the key by --alias)"
	[ -n "$admin_arn" ] || usage_error "--admin-arn is required: the principal that administers the key and generates TSKs (e.g. the data owner's role), never the parent role"
	if ! [[ $admin_arn =~ ^arn:$partition:iam::[0-9]{12}:(root|(role|user)/[A-Za-z0-9+=,.@_/-]+)$ ]]; then
		usage_error "--admin-arn must be an IAM role or user ARN, or arn:$partition:iam::<12 digits>:root, in the parent role's partition, not '$admin_arn'"
	fi
	[ "$admin_arn" != "$role_arn" ] || usage_error "--admin-arn must not be the parent role: the parent role may only decrypt from the enclave"
fi
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
        "DenyParentDecryptOtherPcr1",
        "DenyParentDecryptOtherPcr2",
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

IMAGE_SID = "EnclaveDecryptImage"
ATT = "kms:RecipientAttestation:"

def usage_fail(msg):
    sys.stderr.write("setup-kms: %s\nTry scripts/setup-kms.sh --help\n" % msg)
    sys.exit(2)

def image_from_file(path, to_allow):
    """PCR0, PCR1 and PCR2 of one measurements.json, checked; an image
    built from stand-in or placeholder files is refused for a policy: it
    does not boot on Nitro, and pinning it would be a test build's key."""
    try:
        doc = json.load(open(path, encoding="utf-8"))
    except OSError as e:
        fail("cannot read %s: %s; run scripts/build-enclave.sh (or make eif) "
             "first, or pass --pcr0" % (path, e.strerror))
    except ValueError as e:
        fail("%s is not JSON: %s" % (path, e))
    if not isinstance(doc, dict):
        fail("%s is not a measurements file" % path)
    m = doc.get("Measurements", doc)
    m = m if isinstance(m, dict) else {}
    image = {}
    for k in ("PCR0", "PCR1", "PCR2"):
        if k not in m:
            fail("%s has no %s" % (path, k))
        image[k] = check_pcr(k + " in " + path, m[k])
    if to_allow:
        build = doc.get("Build") if isinstance(doc.get("Build"), dict) else {}
        meta = doc.get("CustomMetadata") if isinstance(doc.get("CustomMetadata"), dict) else {}
        for where, value in (("Build.blobs", build.get("blobs")),
                             ("CustomMetadata.Blobs", meta.get("Blobs")),
                             ("Build.kmstool", build.get("kmstool")),
                             ("CustomMetadata.Kmstool", meta.get("Kmstool"))):
            if value is not None and str(value).lower() in ("stand-in", "placeholder"):
                fail("%s was built with %s files (%s = %s): such an EIF is for "
                     "tests and does not run on Nitro; no key policy may allow it. "
                     "Build with AWS's files (NITRO_BLOBS=DIR, KMSTOOL_DIR=DIR: "
                     "docs/operations.md, 'Building the EIF without Docker')"
                     % (path, value, where, value))
    return image

def image_key(image):
    return tuple(image.get(k) or "" for k in ("PCR0", "PCR1", "PCR2"))

def image_sid(image):
    import hashlib
    h = hashlib.sha256(":".join(image_key(image)).encode()).hexdigest()
    return IMAGE_SID + h[:16]

def as_list(v):
    return v if isinstance(v, list) else [v]

def image_of_statement(st):
    """The image an Allow statement of ours pins, or None."""
    sid = st.get("Sid") or ""
    if st.get("Effect") != "Allow" or not (sid.startswith(IMAGE_SID) or
                                           sid == "EnclaveDecryptWithAttestation"):
        return None
    cond = (st.get("Condition") or {}).get("StringEqualsIgnoreCase") or {}
    image = {}
    for key, value in cond.items():
        name = key[len(ATT):].upper() if key.startswith(ATT) else ""
        name = "PCR0" if name == "IMAGESHA384" else name
        if name in ("PCR0", "PCR1", "PCR2") and isinstance(value, str):
            image[name] = value.lower()
    return image if "PCR0" in image else None

def describe(image):
    return "PCR0 %s%s" % (image["PCR0"][:16] + "...",
                          "" if "PCR2" in image else " (PCR0 only)")

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "check-pcr":
    print(check_pcr(args[0], args[1]))
elif cmd == "image":
    # One image's measurements: what `make eif` (or build-enclave.sh) wrote.
    path, purpose = args
    print(json.dumps(image_from_file(path, purpose == "allow")))
elif cmd == "named":
    # The --allow and --retire images agree with each other.
    named = [json.loads(a) for a in args]
    plus = set(image_key(im) for sign, im in named if sign == "+")
    if any(image_key(im) in plus for sign, im in named if sign == "-"):
        usage_fail("one image is both in --allow and in --retire")
elif cmd == "image-pcr0":
    print(json.dumps({"PCR0": check_pcr("--pcr0", args[0])}))
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
    role, admin, account, partition, pcr8, context, mode = args[:7]
    named = [json.loads(a) for a in args[7:]]   # "+" or "-" then the image
    existing = os.environ.get("EXISTING_POLICY") or ""
    root = "arn:%s:iam::%s:root" % (partition, account)
    if existing:
        base = json.loads(existing)
        kept = [s for s in base.get("Statement", []) if s.get("Sid") not in OURS
                and not (s.get("Sid") or "").startswith(IMAGE_SID)]
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
    # The images allowed. "pin": exactly the one named (a rerun after a
    # rebuild replaces the image, as before issue 22). "lifecycle": the
    # images the live policy allows, plus --allow, less --retire.
    images = {}
    if mode == "lifecycle" and existing:
        for st in base.get("Statement", []):
            im = image_of_statement(st)
            if im:
                images[image_key(im)] = im
    for sign, im in named:
        if sign == "+":
            images[image_key(im)] = im
            sys.stderr.write("setup-kms: allowing the image with %s\n" % describe(im))
            continue
        gone = [k for k, v in images.items()
                if k == image_key(im) or ("PCR2" not in v and v["PCR0"] == im["PCR0"])]
        for k in gone:
            del images[k]
        sys.stderr.write("setup-kms: %s the image with %s\n" % (
            "retiring" if gone else "nothing to retire: the policy does not allow",
            describe(im)))
    if not images:
        fail("no image would be allowed to decrypt: every enclave would fail "
             "to configure. Allow the new image (--allow FILE) before retiring "
             "the last one")
    images = [images[k] for k in sorted(images)]
    for im in images:
        sys.stderr.write("setup-kms: the policy allows the image with %s\n" % describe(im))
    # One Allow statement per image, each with all of its PCRs: KMS reads a
    # condition key by key, so one statement listing the PCR0s, PCR1s and
    # PCR2s would also allow PCR0 of one image with PCR2 of another.
    ours = []
    for im in images:
        cond = dict((ATT + k, v) for k, v in sorted(im.items()))
        if pcr8:
            cond[ATT + "PCR8"] = pcr8
        allow = {"StringEqualsIgnoreCase": cond}
        if context:
            allow["StringEquals"] = dict(
                ("kms:EncryptionContext:" + k, v)
                for k, v in json.loads(context).items())
        ours.append({"Sid": image_sid(im), "Effect": "Allow",
                     "Principal": {"AWS": role}, "Action": "kms:Decrypt",
                     "Resource": "*", "Condition": allow})
    # String*Not*Equals is true when the key is absent: a Decrypt without a
    # Recipient attestation, or from an image none of whose PCRs is
    # allowed, is denied even if an IAM policy of the role allows
    # kms:Decrypt. One statement per PCR (a Deny's keys are ANDed). The
    # exact tuples are the Allow statements' business.
    ours.append(
        {"Sid": "DenyParentDecryptWithoutAttestation", "Effect": "Deny",
         "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringNotEqualsIgnoreCase":
                       {ATT + "PCR0": sorted({im["PCR0"] for im in images})}}})
    if all("PCR2" in im for im in images):
        for k in ("PCR1", "PCR2"):
            ours.append(
                {"Sid": "DenyParentDecryptOther" + k.capitalize(), "Effect": "Deny",
                 "Principal": {"AWS": role}, "Action": "kms:Decrypt", "Resource": "*",
                 "Condition": {"StringNotEqualsIgnoreCase":
                               {ATT + k: sorted({im[k] for im in images})}}})
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
elif cmd == "check":
    # Would KMS let `role` decrypt from an enclave of this image? Deny
    # before Allow, as KMS evaluates; the account root's statement is left
    # out (it defers to IAM policies, which this check cannot see, and the
    # parent role's Deny statements are written to win over them anyway).
    role, path = args
    image = image_from_file(path, False)
    doc = json.load(open(path, encoding="utf-8"))
    m = doc.get("Measurements", doc) if isinstance(doc, dict) else {}
    if isinstance(m, dict) and m.get("PCR8"):
        image["PCR8"] = check_pcr("PCR8 in " + path, m["PCR8"])
    policy = load_stdin()
    try:
        policy = json.loads(policy["Policy"])
    except (KeyError, TypeError, ValueError) as e:
        fail("cannot read the key's policy: %s" % e)
    assumed = []

    def value(key):
        k = key.lower()
        if not k.startswith(ATT.lower()):
            return None
        name = k[len(ATT):].upper()
        return image.get("PCR0" if name == "IMAGESHA384" else name)

    def holds(st, deny):
        for op, pairs in (st.get("Condition") or {}).items():
            for key, want in (pairs or {}).items():
                if not key.lower().startswith(ATT.lower()):
                    # An encryption context: assume the configure sends the
                    # one the policy asks for.
                    assumed.append(key)
                    if deny:
                        return False
                    continue
                have = value(key)
                wants = [str(w).lower() for w in as_list(want)]
                if op in ("StringEqualsIgnoreCase", "StringEquals"):
                    ok = have is not None and have in wants
                elif op in ("StringNotEqualsIgnoreCase", "StringNotEquals"):
                    ok = have is None or have not in wants
                else:
                    ok = deny       # an operator this check does not know: the safe answer
                if not ok:
                    return False
        return True

    def applies(st):
        p = st.get("Principal")
        aws = p.get("AWS") if isinstance(p, dict) else p
        if "*" not in as_list(aws) and role not in as_list(aws):
            return False
        if "NotAction" in st:
            return not any(fnmatch.fnmatchcase("kms:decrypt", a.lower())
                           for a in as_list(st["NotAction"]))
        return any(fnmatch.fnmatchcase("kms:decrypt", a.lower())
                   for a in as_list(st.get("Action", [])))

    sts = [st for st in as_list(policy.get("Statement", [])) if applies(st)]
    what = "the image with PCR0 %s, PCR1 %s, PCR2 %s (%s)" % (
        image["PCR0"], image["PCR1"], image["PCR2"], path)
    deny = [st.get("Sid", "?") for st in sts
            if st.get("Effect") == "Deny" and holds(st, True)]
    allow = [st.get("Sid", "?") for st in sts
             if st.get("Effect") == "Allow" and holds(st, False)]
    if assumed:
        sys.stderr.write("setup-kms: assumed the configure sends what the policy "
                         "requires of %s\n" % ", ".join(sorted(set(assumed))))
    if deny:
        print("NOT ALLOWED: %s is denied kms:Decrypt for %s by %s"
              % (what, role, ", ".join(deny)))
        sys.exit(1)
    if not allow:
        print("NOT ALLOWED: no statement allows %s kms:Decrypt from %s"
              % (role, what))
        sys.exit(1)
    print("ALLOWED: %s may decrypt from %s (statement %s)"
          % (role, what, ", ".join(allow)))
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

# The images come first: a missing or refused measurements file stops
# everything before any AWS call. Each is a JSON argument of the policy
# helper: ["+", image] to allow, ["-", image] to retire.
named=()
if [ -n "$check" ]; then
	js image "$check" check >/dev/null
	mode=check
elif [ ${#allows[@]} != 0 ] || [ ${#retires[@]} != 0 ]; then
	[ -z "$pcr0$measurements_set" ] || usage_error "--allow and --retire name images by their measurements files; --pcr0 and --measurements pin exactly one image instead: use one way or the other"
	mode=lifecycle
	for f in ${allows[@]+"${allows[@]}"}; do
		im=$(js image "$f" allow)
		named+=("[\"+\",$im]")
	done
	for f in ${retires[@]+"${retires[@]}"}; do
		im=$(js image "$f" retire)
		named+=("[\"-\",$im]")
	done
	js named "${named[@]}"
elif [ -n "$pcr0" ]; then
	mode=pin
	im=$(js image-pcr0 "$pcr0")
	named=("[\"+\",$im]")
else
	mode=pin
	im=$(js image "$measurements" allow)
	named=("[\"+\",$im]")
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

# --check: would the live policy let the parent role decrypt from an
# enclave of this image? 0 yes, 1 no (or a failed call), 2 bad usage.
if [ -n "$check" ]; then
	if [ -z "$key_ref" ]; then
		aliases=$(aws_call kms list-aliases --region "$region" --output json)
		key_ref=$(printf '%s' "$aliases" | js alias-target "$alias_name")
		[ -n "$key_ref" ] || die "$alias_name does not exist in $region: no key, so no image is allowed (name the key with --key-id)"
	fi
	current=$(aws_call kms get-key-policy --region "$region" --output json --key-id "$key_ref" --policy-name default)
	rc=0
	printf '%s' "$current" | js check "$role_arn" "$check" || rc=$?
	exit "$rc"
fi

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
if [ "$dry_run" = 1 ] && [ "$mode" = lifecycle ]; then
	echo "setup-kms: a real run also keeps the images the live policy allows (this dry run cannot read it)" >&2
fi
policy=$(EXISTING_POLICY=$existing_policy js policy "$role_arn" "$admin_arn" "$account" "$partition" "$pcr8" "$context" "$mode" "${named[@]}")
if [ "$dry_run" = 0 ] && js same-policy "$policy" "$existing_policy"; then
	echo "setup-kms: the key policy already allows exactly these images; not changed" >&2
else
	aws_call kms put-key-policy --region "$region" --key-id "$key_id" --policy-name default --policy "$policy" >/dev/null
	[ "$dry_run" = 1 ] || echo "setup-kms: key policy applied: Decrypt for $role_arn only from an enclave of the images above" >&2
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
