#!/usr/bin/env bash
# make-eif.sh - build the enclave's EIF natively (no Docker, no nitro-cli).
#
# usage: scripts/make-eif.sh [BUILD_DIR]        (what `make eif` runs)
#
# Stages the root filesystem with enclave/stage-rootfs.sh (the script the
# Dockerfile runs), takes the measured command line from enclave/cmd-<backend>
# and the environment from enclave/env (the Dockerfile's CMD must equal it:
# tests/deploy/test_dockerfile.py), and has BUILD_DIR/enclave-eif lay out
# the image. Writes, in OUT_DIR (default BUILD_DIR):
#   enclave.eif         the image, bit-identical for one commit and inputs
#   measurements.json   {"Measurements": {PCR0, PCR1, PCR2}, "Build": {...}}:
#                       the commit, the EIF's SHA-256 and every input that
#                       decides the bytes (package versions, blob digests)
# and prints the PCRs.
#
# Environment:
#   NITRO_BLOBS DIR     AWS's bootstrap: bzImage (Image on aarch64), cmdline,
#                       init, nsm.ko (default /usr/share/nitro_enclaves/blobs,
#                       from the aws-nitro-enclaves-cli package)
#   NITRO_BLOBS_KIND    aws (default) or stand-in: recorded in the EIF's
#                       metadata and shown by describe-eif (tests only)
#   KMS_BACKEND         native (default: needs nothing from AWS) or kmstool
#   KMSTOOL_DIR DIR     kmstool_enclave_cli and libnsm.so (kmstool backend)
#   KMS_KEY_IDS "K ..." KMS keys to pin (key ARNs or key ids): measured into
#                       the command as enclaved --kms-key-id K, after
#                       --region (docs/operations.md, "Pin the key")
#   SOURCE_DATE_EPOCH   file times and the metadata's BuildTime (default:
#                       HEAD's commit time, else 0)
#   KMSTOOL_KIND        aws (default) or placeholder: recorded in the EIF's
#                       metadata (KmsTool=) like NITRO_BLOBS_KIND (tests and
#                       the box, whose bootstrap mounts kmstool-dev over it)
#   BOX_BOOTSTRAP DIR   build the box's EIF instead (docs/box.md): ramdisk 0
#                       is DIR's tree (scripts/box/build.sh stages it), the
#                       kernel BOX_KERNEL and its command line BOX_CMDLINE
#                       (files), no NITRO_BLOBS; writes box.eif and
#                       box-measurements.json. Ramdisk 1, the application,
#                       is staged here as for enclave.eif: the same bytes
#   OUT_DIR             where enclave.eif and measurements.json go
#   GIT_COMMIT          the commit to record, for a copy that is not a git
#                       checkout (reproducible-check.sh); default HEAD
#
# Exit status: 0 built; 1 an input is missing or a step failed.
set -euo pipefail

die() {
	printf 'make-eif: %s\n' "$*" >&2
	exit 1
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=$(cd "${1:-$repo/build}" && pwd)
out_dir=${OUT_DIR:-$build}
blobs=${NITRO_BLOBS:-/usr/share/nitro_enclaves/blobs}
blobs_kind=${NITRO_BLOBS_KIND:-aws}
backend=${KMS_BACKEND:-native}
kmstool_dir=${KMSTOOL_DIR:-}
kmstool_kind=${KMSTOOL_KIND:-aws}
box_bootstrap=${BOX_BOOTSTRAP:-}
name=enclave
[ -z "$box_bootstrap" ] || name=box
read -r -a kms_key_ids <<<"${KMS_KEY_IDS:-}"

case $backend in
native|kmstool) ;;
*) die "KMS_BACKEND must be native or kmstool, not '$backend'" ;;
esac
case $blobs_kind in
aws|stand-in) ;;
*) die "NITRO_BLOBS_KIND must be aws or stand-in, not '$blobs_kind'" ;;
esac
case $kmstool_kind in
aws|placeholder) ;;
*) die "KMSTOOL_KIND must be aws or placeholder, not '$kmstool_kind'" ;;
esac
for f in enclaved enclave-eif enclavectl; do
	[ -x "$build/$f" ] || die "$build/$f is missing (run make first)"
done

# A pin enclaved would refuse stops here (its own check: --kms-key-id is
# parsed before --version exits).
for k in ${kms_key_ids[@]+"${kms_key_ids[@]}"}; do
	"$build/enclaved" --kms-key-id "$k" --version >/dev/null ||
		die "KMS_KEY_IDS: enclaved refuses --kms-key-id '$k' (see above)"
done

arch=$(uname -m)
kernel=bzImage
aarch64=()
if [ "$arch" = aarch64 ]; then
	kernel=Image
	aarch64=(--aarch64)
fi
missing=()
bootstrap_args=()
if [ -n "$box_bootstrap" ]; then
	# The box: Debian's kernel and the box's own bootstrap (its init).
	[ -d "$box_bootstrap" ] && [ -s "$box_bootstrap/init" ] ||
		die "BOX_BOOTSTRAP=$box_bootstrap holds no init (scripts/box/build.sh stages it)"
	for f in "${BOX_KERNEL:-}" "${BOX_CMDLINE:-}"; do
		[ -s "$f" ] || die "BOX_BOOTSTRAP needs BOX_KERNEL and BOX_CMDLINE files, not '$f'"
	done
	kernel_file=$BOX_KERNEL cmdline_file=$BOX_CMDLINE
	bootstrap_args=(--bootstrap "$box_bootstrap")
	blobs_kind=box
else
	for f in "$kernel" cmdline init nsm.ko; do
		[ -s "$blobs/$f" ] || missing+=("$f")
	done
	kernel_file=$blobs/$kernel cmdline_file=$blobs/cmdline
	bootstrap_args=(--init "$blobs/init" --nsm "$blobs/nsm.ko")
fi
if [ ${#missing[@]} -gt 0 ]; then
	{
		echo "make-eif: AWS's enclave bootstrap files are missing from $blobs:"
		for f in "${missing[@]}"; do echo "  $blobs/$f"; done
		echo "They come with nitro-cli: install the aws-nitro-enclaves-cli package"
		echo "(Amazon Linux: dnf install aws-nitro-enclaves-cli), which puts them in"
		echo "/usr/share/nitro_enclaves/blobs/, or take the blobs/$arch/ folder of"
		echo "https://github.com/aws/aws-nitro-enclaves-cli at the release you run;"
		echo "then: make eif NITRO_BLOBS=DIR (docs/operations.md, 'Building the EIF')."
	} >&2
	exit 1
fi
kmstool_args=()
if [ "$backend" = kmstool ]; then
	[ -n "$kmstool_dir" ] || die "KMS_BACKEND=kmstool needs KMSTOOL_DIR=DIR holding AWS's kmstool_enclave_cli and libnsm.so (docs/operations.md, 'The KMS tool'); or build KMS_BACKEND=native, which needs neither"
	for f in kmstool_enclave_cli libnsm.so; do
		[ -s "$kmstool_dir/$f" ] || die "$kmstool_dir/$f is missing (docs/operations.md, 'The KMS tool')"
	done
	kmstool_args=(--kmstool "$kmstool_dir")
fi

commit=${GIT_COMMIT:-$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)}
dirty=false
if [ "$commit" != unknown ] && [ -n "$(git -C "$repo" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
	dirty=true
fi
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
	SOURCE_DATE_EPOCH=$(git -C "$repo" log -1 --format=%ct HEAD 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH

work=$(mktemp -d "${TMPDIR:-/tmp}/make-eif.XXXXXX")
trap 'rm -rf "$work"' EXIT
chroot_args=()
[ "$(id -u)" = 0 ] || chroot_args=(--no-chroot-check)
# The chroot check starts enclaved in the staged tree, which has no /proc:
# an ASan build's (SAN=1, tests only) runtime cannot even read its options
# there, and LeakSanitizer stops it; such a daemon is not checked there.
if ldd "$build/enclaved" 2>/dev/null | grep -q libasan; then
	chroot_args=(--no-chroot-check)
fi
"$repo/enclave/stage-rootfs.sh" ${chroot_args[@]+"${chroot_args[@]}"} \
	${kmstool_args[@]+"${kmstool_args[@]}"} "$work/rootfs" "$build/enclaved" ||
	die "staging the root filesystem failed (see above)"

# The measured command: enclave/cmd-<backend>, with the pins after --region.
cmd_file=$repo/enclave/cmd-$backend
if [ ${#kms_key_ids[@]} -gt 0 ]; then
	cmd_file=$work/cmd
	while IFS= read -r arg; do
		printf '%s\n' "$arg"
		if [ "${prev:-}" = --region ]; then
			for k in "${kms_key_ids[@]}"; do printf -- '--kms-key-id\n%s\n' "$k"; done
		fi
		prev=$arg
	done <"$repo/enclave/cmd-$backend" >"$cmd_file"
	grep -qx -- --kms-key-id "$cmd_file" || die "enclave/cmd-$backend has no --region to put the pins after"
fi

mkdir -p "$out_dir"
kmstool_meta=()
[ "$backend" != kmstool ] || kmstool_meta=(--meta "KmsTool=$kmstool_kind")
"$build/enclave-eif" --kernel "$kernel_file" --cmdline "$cmdline_file" \
	"${bootstrap_args[@]}" --rootfs "$work/rootfs" \
	--cmd "$cmd_file" --env "$repo/enclave/env" \
	--source-date-epoch "$SOURCE_DATE_EPOCH" ${aarch64[@]+"${aarch64[@]}"} \
	--image-version "$commit" \
	--meta "Blobs=$blobs_kind" --meta "KmsBackend=$backend" \
	${kmstool_meta[@]+"${kmstool_meta[@]}"} --meta "GitCommit=$commit" \
	--output "$work/enclave.eif" >/dev/null || die "enclave-eif failed (see above)"
"$build/enclavectl" describe-eif --json "$work/enclave.eif" >"$work/describe.json" ||
	die "the EIF just built does not read back (see above)"

# Every input that decides the bytes: the blobs, the KMS tool, the Debian
# packages of the compiler and of each library staged into the rootfs.
pkgs=$( { echo gcc; echo binutils; echo libc6-dev
	find "$work/rootfs" -type f -name '*.so*' | sed "s|^$work/rootfs||" |
	while read -r lib; do dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null || true; done |
	cut -d: -f1; } | sort -u)
versions=$(for p in $pkgs; do dpkg-query -W -f '${Package}=${Version}\n' "$p" 2>/dev/null || true; done)
if [ -n "$box_bootstrap" ]; then
	blob_sums="$(sha256sum <"$kernel_file" | cut -d' ' -f1) box-kernel
$(sha256sum <"$cmdline_file" | cut -d' ' -f1) box-cmdline"
else
	blob_sums=$(cd "$blobs" && sha256sum "$kernel" cmdline init nsm.ko)
fi
kmstool_sums=
[ "$backend" = kmstool ] && kmstool_sums=$(cd "$kmstool_dir" && sha256sum kmstool_enclave_cli libnsm.so)

COMMIT=$commit DIRTY=$dirty SDE=$SOURCE_DATE_EPOCH BACKEND=$backend \
KMS_KEY_IDS=${kms_key_ids[*]+"${kms_key_ids[*]}"} \
BLOBS_KIND=$blobs_kind VERSIONS=$versions BLOB_SUMS=$blob_sums \
KMSTOOL_SUMS=$kmstool_sums KMSTOOL_KIND=$kmstool_kind ENCLAVED_SHA=$(sha256sum "$work/rootfs/usr/bin/enclaved" | cut -d' ' -f1) \
EIF_SHA=$(sha256sum "$work/enclave.eif" | cut -d' ' -f1) EIF_BYTES=$(wc -c <"$work/enclave.eif") \
python3 - "$work/describe.json" "$work/measurements.json" <<'PY'
import json, os, sys

d = json.load(open(sys.argv[1]))
def sums(text):
    out = {}
    for line in text.splitlines():
        digest, name = line.split()
        out[name] = digest
    return out
build = {
    "builder": "native",
    "kms_backend": os.environ["BACKEND"],
    "kms_key_ids": os.environ.get("KMS_KEY_IDS", "").split(),
    "blobs": os.environ["BLOBS_KIND"],
    "git_commit": os.environ["COMMIT"],
    "git_dirty": os.environ["DIRTY"] == "true",
    "source_date_epoch": int(os.environ["SDE"]),
    "eif_sha256": os.environ["EIF_SHA"],
    "eif_bytes": int(os.environ["EIF_BYTES"]),
    "enclaved_sha256": os.environ["ENCLAVED_SHA"],
    "blobs_sha256": sums(os.environ["BLOB_SUMS"]),
    "packages": dict(l.split("=", 1) for l in os.environ["VERSIONS"].splitlines() if l),
}
if os.environ.get("KMSTOOL_SUMS"):
    build["kmstool_sha256"] = sums(os.environ["KMSTOOL_SUMS"])
    build["kmstool"] = os.environ["KMSTOOL_KIND"]
m = {k: d["Measurements"][k] for k in ("HashAlgorithm", "PCR0", "PCR1", "PCR2")}
with open(sys.argv[2], "w", encoding="utf-8") as f:
    json.dump({"Measurements": m, "Build": build}, f, indent=2)
    f.write("\n")
for k in ("PCR0", "PCR1", "PCR2"):
    print("%s: %s" % (k, m[k]))
PY
mv -f "$work/enclave.eif" "$out_dir/$name.eif"
if [ -n "$box_bootstrap" ]; then
	mv -f "$work/measurements.json" "$out_dir/box-measurements.json"
	echo "make-eif: wrote $out_dir/box.eif and $out_dir/box-measurements.json (the box: docs/box.md)" >&2
	exit 0
fi
mv -f "$work/measurements.json" "$out_dir/measurements.json"
if [ "$kmstool_kind" != aws ]; then
	echo "make-eif: WARNING: built with a placeholder kmstool_enclave_cli and libnsm.so: this EIF cannot reach KMS (tests only)" >&2
fi
if [ "$blobs_kind" != aws ]; then
	echo "make-eif: WARNING: built with stand-in blobs: this EIF does not boot (tests only)" >&2
fi
echo "make-eif: wrote $out_dir/enclave.eif and $out_dir/measurements.json" >&2
