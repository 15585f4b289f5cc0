#!/usr/bin/env bash
# build-enclave.sh - build the enclave image and its EIF, record the PCRs.
#
# usage: scripts/build-enclave.sh [options]
#
# Builds enclave/Dockerfile from a clean copy of the tree (the committed HEAD
# by default), turns the image into an Enclave Image File with
# `nitro-cli build-enclave`, and writes, in the output directory:
#   enclave.eif         the image to run (scripts/run-enclave.sh)
#   measurements.json   {"Measurements": {PCR0, PCR1, PCR2[, PCR8]}, "Build": {...}}
#                       what scripts/setup-kms.sh pins the KMS key policy to
# then prints PCR0. Runs on the parent instance (or any x86_64 host with
# Docker and nitro-cli).
#
# Options:
#   --builder B             native (default): make eif, no Docker (the
#                           rootfs is staged from this machine's packages,
#                           recorded in measurements.json; AWS's blobs from
#                           NITRO_BLOBS, default /usr/share/nitro_enclaves/
#                           blobs); where nitro-cli is installed, its
#                           describe-eif must report the same PCRs, or the
#                           build stops. docker: enclave/Dockerfile and
#                           nitro-cli build-enclave, as below
#   --kms-backend B         kmstool (default) or native
#   --kms-key-id KEY        pin the KMS key TSKs may come from (a key ARN or
#                           key id, not an alias; repeatable, at most 16):
#                           written into the image's CMD as enclaved
#                           --kms-key-id KEY, so it is measured (PCR0)
#   --kmstool-dir DIR       directory with kmstool_enclave_cli and libnsm.so
#                           (kmstool backend; default build/kmstool)
#   --source S              head (default): the committed HEAD, exactly;
#                           worktree: tracked and untracked, non-ignored files
#                           as they are on disk (development only: the PCRs
#                           then match no commit)
#   --tag NAME              docker image name (default confidential-enclave:<commit>)
#   --out-dir DIR           where enclave.eif and measurements.json go (default build)
#   --source-date-epoch N   file and image timestamps (default: HEAD's commit time)
#   --platform P            linux/amd64 (default) or linux/arm64 (Graviton)
#   --no-rewrite-timestamp  for Docker without BuildKit 0.13 (files keep
#                           SOURCE_DATE_EPOCH anyway, see docs/operations.md)
#   --signing-certificate F --private-key F
#                           sign the EIF; adds PCR8 (the certificate's hash)
#   -h, --help              this help
#
# Exit status: 0 built; 1 a step failed (nothing is replaced: a previous
# enclave.eif and measurements.json stay together); 2 bad usage.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}
die() {
	printf 'build-enclave: %s\n' "$*" >&2
	exit 1
}
usage_error() {
	printf 'build-enclave: %s\nTry scripts/build-enclave.sh --help\n' "$*" >&2
	exit 2
}
need_arg() {
	[ "$2" -ge 2 ] || usage_error "$1 needs a value"
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

builder=native
backend=kmstool
kmstool_dir=
source_mode="head"
tag=
out_dir=
sde=
signing_cert=
signing_key=
platform=linux/amd64
rewrite_ts=",rewrite-timestamp=true"
kms_key_ids=()
# What enclaved --kms-key-id takes (common/kms_key_ref.c), so a bad pin
# stops here rather than in an image that cannot start.
key_uuid='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}'
key_ref_re="^(arn:aws(-[a-z-]+)?:kms:[a-z0-9-]+:[0-9]{12}:key/($key_uuid)|$key_uuid)\$"
while [ $# -gt 0 ]; do
	case $1 in
	--builder) need_arg "$1" $#; builder=$2; shift 2 ;;
	--kms-backend) need_arg "$1" $#; backend=$2; shift 2 ;;
	--kms-key-id) need_arg "$1" $#; kms_key_ids+=("$2"); shift 2 ;;
	--kmstool-dir) need_arg "$1" $#; kmstool_dir=$2; shift 2 ;;
	--source) need_arg "$1" $#; source_mode=$2; shift 2 ;;
	--tag) need_arg "$1" $#; tag=$2; shift 2 ;;
	--out-dir) need_arg "$1" $#; out_dir=$2; shift 2 ;;
	--source-date-epoch) need_arg "$1" $#; sde=$2; shift 2 ;;
	--signing-certificate) need_arg "$1" $#; signing_cert=$2; shift 2 ;;
	--private-key) need_arg "$1" $#; signing_key=$2; shift 2 ;;
	--platform) need_arg "$1" $#; platform=$2; shift 2 ;;
	--no-rewrite-timestamp) rewrite_ts=; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done

case $builder in
native|docker) ;;
*) usage_error "--builder must be native or docker, not '$builder'" ;;
esac
if [ "$builder" = native ]; then
	[ -z "$signing_cert" ] || usage_error "--signing-certificate needs --builder docker (or sign the native EIF later with nitro-cli sign-eif)"
	host_platform=linux/amd64
	[ "$(uname -m)" = aarch64 ] && host_platform=linux/arm64
	[ "$platform" = "$host_platform" ] || usage_error "--builder native builds for this machine ($host_platform) only; use --builder docker for $platform"
fi
case $backend in
kmstool|native) ;;
*) usage_error "--kms-backend must be kmstool or native, not '$backend'" ;;
esac
for k in ${kms_key_ids[@]+"${kms_key_ids[@]}"}; do
	case $k in
	alias/*|arn:*:alias/*)
		usage_error "--kms-key-id '$k' is an alias: KMS answers with the key ARN, so an alias cannot be checked; name the key ARN or key id" ;;
	esac
	[[ $k =~ $key_ref_re ]] || usage_error "--kms-key-id '$k' is not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID) or key id"
done
[ ${#kms_key_ids[@]} -le 16 ] || usage_error "--kms-key-id: at most 16 keys"
case $platform in
linux/amd64|linux/arm64) ;;
*) usage_error "--platform must be linux/amd64 or linux/arm64, not '$platform'" ;;
esac
case $source_mode in
head|worktree) ;;
*) usage_error "--source must be head or worktree, not '$source_mode'" ;;
esac
if { [ -n "$signing_cert" ] && [ -z "$signing_key" ]; } ||
   { [ -z "$signing_cert" ] && [ -n "$signing_key" ]; }; then
	usage_error "--signing-certificate and --private-key go together"
fi
if [ -n "$sde" ] && ! [[ $sde =~ ^[0-9]+$ ]]; then
	usage_error "--source-date-epoch must be a number of seconds"
fi

tools="git docker nitro-cli python3 sha256sum tar"
[ "$builder" = native ] && tools="git make cc python3 sha256sum tar"
for tool in $tools; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (docs/operations.md lists the parent's packages)"
done

out_dir=${out_dir:-$repo/build}
kmstool_dir=${kmstool_dir:-$repo/build/kmstool}
commit=$(git -C "$repo" rev-parse HEAD) || die "$repo is not a git checkout"
short=$(git -C "$repo" rev-parse --short=12 HEAD)
tag=${tag:-confidential-enclave:$short}
sde=${sde:-$(git -C "$repo" log -1 --format=%ct HEAD)}
dirty=false
if [ -n "$(git -C "$repo" status --porcelain --untracked-files=normal)" ]; then
	dirty=true
fi

if [ "$backend" = kmstool ]; then
	for f in kmstool_enclave_cli libnsm.so; do
		[ -s "$kmstool_dir/$f" ] || die "$kmstool_dir/$f is missing: build AWS's KMS tool first (docs/operations.md, 'The KMS tool'), pass --kmstool-dir, or use --kms-backend native"
	done
fi
if [ -n "$signing_cert" ]; then
	[ -r "$signing_cert" ] || die "cannot read $signing_cert"
	[ -r "$signing_key" ] || die "cannot read $signing_key"
fi

mkdir -p "$out_dir"
work=$(mktemp -d "${TMPDIR:-/tmp}/build-enclave.XXXXXX")
cleanup() {
	rm -rf "$work"
	rm -f "$out_dir/enclave.eif.tmp" "$out_dir/measurements.json.tmp"
}
trap cleanup EXIT
ctx=$work/context
mkdir -p "$ctx"

# A clean build context: the exact commit, or the work tree without ignored
# files (build/, keys, encrypted TSKs). Either way no stray file reaches docker.
if [ "$source_mode" = head ]; then
	if [ "$dirty" = true ]; then
		echo "build-enclave: note: the work tree has uncommitted changes; building HEAD ($short) without them" >&2
	fi
	git -C "$repo" archive --format=tar HEAD | tar -x -C "$ctx"
else
	echo "build-enclave: WARNING: building the work tree; the PCRs will match no commit (development only)" >&2
	(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -e "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf -) | tar -x -C "$ctx"
fi
[ -f "$ctx/enclave/Dockerfile" ] || die "enclave/Dockerfile is not in the $source_mode tree (commit it, or use --source worktree)"

# The pins go into both runtime stages' CMD, after --region: the image's
# command, measured like everything else in it.
if [ ${#kms_key_ids[@]} -gt 0 ]; then
	KMS_KEY_IDS=$(printf '%s\n' "${kms_key_ids[@]}") \
	python3 - "$ctx/enclave/Dockerfile" <<'PY' || die "cannot write --kms-key-id into enclave/Dockerfile's CMD"
import os, re, sys
path = sys.argv[1]
text = open(path).read()
pins = os.environ["KMS_KEY_IDS"].split()
lines = "".join('     "--kms-key-id", "%s", \\\n' % p for p in pins)
new, n = re.subn(r'(     "--region", "[^"]*", \\\n)',
                 lambda m: m.group(1) + lines, text)
if n != 2:
    sys.exit("build-enclave: expected two CMDs with --region, found %d" % n)
open(path, "w").write(new)
PY
	echo "build-enclave: pinned KMS keys in the image's CMD: ${kms_key_ids[*]}" >&2
fi

# The native builder: make eif in the clean copy, then (where nitro-cli is
# installed) nitro-cli describe-eif must agree on every PCR.
build_native() {
	local pins
	if [ ${#kms_key_ids[@]} -gt 0 ]; then
		pins=$(printf '%s\n' "${kms_key_ids[@]}")
		KMS_KEY_IDS=$pins python3 - "$ctx/enclave/cmd-$backend" <<'PY' || die "cannot write --kms-key-id into enclave/cmd-$backend"
import os, sys
path = sys.argv[1]
args = open(path).read().splitlines()
i = args.index("--region")
pins = [a for p in os.environ["KMS_KEY_IDS"].split() for a in ("--kms-key-id", p)]
open(path, "w").write("".join(a + "\n" for a in args[:i + 2] + pins + args[i + 2:]))
PY
		echo "build-enclave: pinned KMS keys in the image's cmd: ${kms_key_ids[*]}" >&2
	fi
	(cd "$ctx" && unset MAKEFLAGS MFLAGS MAKELEVEL SAN BUILD &&
		SOURCE_DATE_EPOCH=$sde make -j"$(nproc)" build/enclaved build/enclave-eif build/enclavectl) >&2 ||
		die "make failed (see above)"
	OUT_DIR=$work/out GIT_COMMIT=$commit SOURCE_DATE_EPOCH=$sde KMS_BACKEND=$backend \
		KMSTOOL_DIR=$([ "$backend" = kmstool ] && echo "$kmstool_dir") \
		"$ctx/scripts/make-eif.sh" "$ctx/build" >/dev/null || die "make eif failed (see above)"
	if command -v nitro-cli >/dev/null 2>&1; then
		echo "build-enclave: nitro-cli describe-eif --eif-path $work/out/enclave.eif" >&2
		nitro-cli describe-eif --eif-path "$work/out/enclave.eif" >"$work/nitro.json" ||
			die "nitro-cli describe-eif failed on the EIF just built"
		python3 - "$work/out/measurements.json" "$work/nitro.json" <<'PY' || die "nitro-cli describe-eif disagrees with our PCRs: nothing installed"
import json, sys
ours = json.load(open(sys.argv[1]))["Measurements"]
text = open(sys.argv[2]).read()
theirs = json.loads(text[text.find("{"):])["Measurements"]
bad = [k for k in ("PCR0", "PCR1", "PCR2") if ours[k].lower() != str(theirs.get(k, "")).lower()]
for k in bad:
    print("build-enclave: %s: ours %s, nitro-cli %s" % (k, ours[k], theirs.get(k)), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
	else
		echo "build-enclave: note: nitro-cli is not installed; the PCRs were not cross-checked" >&2
	fi
	KMS_KEY_IDS=$(printf '%s\n' ${kms_key_ids[@]+"${kms_key_ids[@]}"}) SOURCE_MODE=$source_mode DIRTY=$dirty \
	python3 - "$work/out/measurements.json" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
m["Build"]["source"] = os.environ["SOURCE_MODE"]
m["Build"]["git_dirty"] = os.environ["DIRTY"] == "true"
m["Build"]["kms_key_ids"] = os.environ["KMS_KEY_IDS"].split()
json.dump(m, open(sys.argv[1], "w"), indent=2)
open(sys.argv[1], "a").write("\n")
PY
	mv -f "$work/out/enclave.eif" "$out_dir/enclave.eif.tmp"
	mv -f "$work/out/measurements.json" "$out_dir/measurements.json.tmp"
	mv -f "$out_dir/enclave.eif.tmp" "$out_dir/enclave.eif"
	mv -f "$out_dir/measurements.json.tmp" "$out_dir/measurements.json"
	python3 - "$out_dir/measurements.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["Measurements"]
for k in ("PCR1", "PCR2"):
    print("%s: %s" % (k, m[k]), file=sys.stderr)
print("PCR0: %s" % m["PCR0"])
PY
	echo "build-enclave: wrote $out_dir/enclave.eif and $out_dir/measurements.json (native builder)" >&2
	echo "build-enclave: next: scripts/setup-kms.sh ... --allow $out_dir/measurements.json (the key policy allows this image: PCR0, PCR1, PCR2; docs/operations.md, 'A new image')" >&2
}
if [ "$builder" = native ]; then
	build_native
	exit 0
fi

build_args=(
	buildx build
	--file "$ctx/enclave/Dockerfile"
	--platform "$platform"
	--build-arg "KMS_BACKEND=$backend"
	--build-arg "SOURCE_DATE_EPOCH=$sde"
	--provenance=false
	--output "type=docker,name=$tag$rewrite_ts"
)
if [ "$backend" = kmstool ]; then
	build_args+=(--build-context "kmstool=$kmstool_dir")
fi
build_args+=("$ctx")

# Without the buildx plugin docker reads `buildx build`'s flags as its own
# and says only "unknown flag": say what is missing instead.
docker buildx version >/dev/null 2>&1 ||
	die "docker buildx is needed for --builder docker and this docker client has none: install the buildx plugin (Debian: docker-buildx; Docker's packages: docker-buildx-plugin), or use --builder native"
echo "build-enclave: docker ${build_args[*]}" >&2
SOURCE_DATE_EPOCH=$sde docker "${build_args[@]}" || die "docker build failed (see above)"
image_id=$(docker image inspect --format '{{.Id}}' "$tag") || die "docker does not know the image $tag it just built"

nitro_args=(build-enclave --docker-uri "$tag" --output-file "$out_dir/enclave.eif.tmp")
if [ -n "$signing_cert" ]; then
	nitro_args+=(--signing-certificate "$signing_cert" --private-key "$signing_key")
fi
echo "build-enclave: nitro-cli ${nitro_args[*]}" >&2
nitro_out=$(nitro-cli "${nitro_args[@]}") || die "nitro-cli build-enclave failed (see above)"
[ -s "$out_dir/enclave.eif.tmp" ] || die "nitro-cli reported success but wrote no EIF"
eif_sha=$(sha256sum "$out_dir/enclave.eif.tmp" | cut -d' ' -f1)
eif_bytes=$(wc -c <"$out_dir/enclave.eif.tmp")

kmstool_sha=
if [ "$backend" = kmstool ]; then
	kmstool_sha=$(cd "$kmstool_dir" && sha256sum kmstool_enclave_cli libnsm.so)
fi

# nitro-cli prints progress lines, then the measurements as a JSON object.
NITRO_OUT=$nitro_out TAG=$tag IMAGE_ID=$image_id BACKEND=$backend \
SOURCE_MODE=$source_mode COMMIT=$commit DIRTY=$dirty SDE=$sde EIF_SHA=$eif_sha EIF_BYTES=$eif_bytes \
KMSTOOL_SHA=$kmstool_sha SIGNED=${signing_cert:+true} \
KMS_KEY_IDS=$(printf '%s\n' ${kms_key_ids[@]+"${kms_key_ids[@]}"}) \
python3 - "$out_dir/measurements.json.tmp" <<'PY'
import json, os, re, sys

text = os.environ["NITRO_OUT"]
start = text.find("{")
if start < 0:
    sys.exit("build-enclave: nitro-cli printed no measurements")
try:
    doc, _ = json.JSONDecoder().raw_decode(text[start:])
    m = doc["Measurements"]
except (ValueError, KeyError, TypeError) as e:
    sys.exit("build-enclave: cannot read nitro-cli's measurements: %s" % e)
want = ["PCR0", "PCR1", "PCR2"] + (["PCR8"] if os.environ.get("SIGNED") else [])
for k in want:
    if not re.fullmatch(r"[0-9a-fA-F]{96}", str(m.get(k, ""))):
        sys.exit("build-enclave: nitro-cli gave no valid %s" % k)
kmstool = {}
for line in os.environ.get("KMSTOOL_SHA", "").splitlines():
    digest, name = line.split()
    kmstool[name] = digest
out = {
    "Measurements": m,
    "Build": {
        "image": os.environ["TAG"],
        "image_id": os.environ["IMAGE_ID"],
        "kms_backend": os.environ["BACKEND"],
        "source": os.environ["SOURCE_MODE"],
        "git_commit": os.environ["COMMIT"],
        "git_dirty": os.environ["DIRTY"] == "true",
        "source_date_epoch": int(os.environ["SDE"]),
        "eif_sha256": os.environ["EIF_SHA"],
        "eif_bytes": int(os.environ["EIF_BYTES"]),
        # enclaved --kms-key-id in the image's CMD (none: any KMS key)
        "kms_key_ids": os.environ.get("KMS_KEY_IDS", "").split(),
    },
}
if kmstool:
    out["Build"]["kmstool_sha256"] = kmstool
with open(sys.argv[1], "w", encoding="utf-8") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
PY

# Replace the pair together, so enclave.eif and measurements.json always
# describe the same image.
mv -f "$out_dir/enclave.eif.tmp" "$out_dir/enclave.eif"
mv -f "$out_dir/measurements.json.tmp" "$out_dir/measurements.json"

python3 - "$out_dir/measurements.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))["Measurements"]
for k in sorted(k for k in m if k.startswith("PCR")):
    if k != "PCR0":
        print("%s: %s" % (k, m[k]), file=sys.stderr)
print("PCR0: %s" % m["PCR0"])
PY
echo "build-enclave: wrote $out_dir/enclave.eif ($((eif_bytes / 1048576)) MiB; nitro-cli asks for roughly 4x that as --memory, see docs/operations.md, Memory) and $out_dir/measurements.json" >&2
echo "build-enclave: next: scripts/setup-kms.sh ... --allow $out_dir/measurements.json (the key policy allows this image: PCR0, PCR1, PCR2; docs/operations.md, 'A new image')" >&2
