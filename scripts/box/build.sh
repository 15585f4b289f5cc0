#!/usr/bin/env bash
# build.sh - build/box.eif: the enclave's application ramdisk, booted.
#
# usage: build.sh BUILD_DIR      (make box-eif runs it; docs/box.md)
#
# Reads what make built in BUILD_DIR (enclaved, enclavectl,
# enclave-gateway, enclave-eif, bench/loadgen, box/init, box/kmstool-dev)
# and BUILD_DIR/box/kernel (fetch-kernel.sh), and writes BUILD_DIR/box.eif
# and BUILD_DIR/box-measurements.json with scripts/make-eif.sh, the script
# that writes enclave.eif:
#   ramdisk 1  the application, staged by make-eif.sh exactly as for
#              enclave.eif: the kmstool flavour (KMS_BACKEND=kmstool), with
#              placeholder files for AWS's kmstool_enclave_cli and
#              libnsm.so (KMSTOOL_KIND=placeholder, in the metadata)
#              unless KMSTOOL_DIR names AWS's own; no development program
#   ramdisk 0  the box's bootstrap, staged here (test equipment, never
#              part of an enclave's EIF):
#     /init                 the box's PID 1 (src/box/init.c), where Nitro
#                           has AWS's init
#     /lib/modules/...      the vsock modules, where Nitro has nsm.ko
#     /box/kmstool-dev      static; init mounts it over the command's
#                           --kmstool path inside /rootfs
#     /box/flow.sh, /box/shell.sh
#                           the test flow and a developer's shell
#     /usr/bin/enclavectl, enclave-gateway, loadgen, busybox,
#     kmstool_enclave_cli (kmstool-dev, for the flow's genkey), their
#     libraries and the CA bundle: the host side, in the same guest,
#     staged by enclave/stage-rootfs.sh --tool
#   kernel     Debian's vmlinuz, command line "console=ttyS0 quiet panic=-1"
# The same inputs give the same box.eif, byte for byte (make-eif.sh's
# SOURCE_DATE_EPOCH: HEAD's commit time by default).
set -euo pipefail
umask 022

die() {
	printf 'box build: %s\n' "$*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: build.sh BUILD_DIR"
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
box=$build/box
kernel=$box/kernel

for f in enclaved enclavectl enclave-gateway enclave-eif bench/loadgen box/init box/kmstool-dev; do
	[ -x "$build/$f" ] || die "$build/$f is not built (make box-eif builds it)"
done
if [ ! -s "$kernel/vmlinuz" ] || [ ! -s "$kernel/release" ]; then
	die "no kernel in $kernel (scripts/box/fetch-kernel.sh)"
fi
release=$(cat "$kernel/release")
busybox=$(command -v busybox) || die "no busybox (apt-get install busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static (apt-get install busybox-static)"

# AWS's KMS tool's place in the application ramdisk: their files when
# KMSTOOL_DIR names them, else placeholders that say what they are.
kmstool_kind=aws
if [ -z "${KMSTOOL_DIR:-}" ]; then
	kmstool_kind=placeholder
	KMSTOOL_DIR=$box/kmstool-placeholder
	rm -rf "$KMSTOOL_DIR"
	mkdir -p "$KMSTOOL_DIR"
	printf '%s\n' '#include <stdio.h>' 'int main(void) { fputs("kmstool_enclave_cli: a placeholder, not AWS'"'"'s tool (docs/box.md)\\n", stderr); return 1; }' |
		cc -static -s -O2 -x c -o "$KMSTOOL_DIR/kmstool_enclave_cli" -
	printf 'int box_libnsm_placeholder;\n' |
		cc -shared -fPIC -s -x c -o "$KMSTOOL_DIR/libnsm.so" -
fi

# The bootstrap: the host side staged as a filesystem of its own.
boot=$box/bootstrap
rm -rf "$boot"
"$repo/enclave/stage-rootfs.sh" --no-chroot-check \
	--tool "$build/enclavectl" --tool "$build/enclave-gateway" \
	--tool "$build/bench/loadgen" --tool "$busybox" \
	"$boot" "$build/enclaved"
rm -f "$boot/usr/bin/enclaved"	# the enclave's runs from /rootfs
ln -s ../../box/kmstool-dev "$boot/usr/bin/kmstool_enclave_cli"
install -m 0755 "$build/box/init" "$boot/init"
mkdir -p "$boot/box" "$boot/rootfs" "$boot/lib/modules"
install -m 0755 "$build/box/kmstool-dev" "$boot/box/kmstool-dev"
install -m 0755 "$repo/scripts/box/flow.sh" "$boot/box/flow.sh"
install -m 0755 "$repo/scripts/box/shell.sh" "$boot/box/shell.sh"
cp -R "$kernel/modules/$release" "$boot/lib/modules/"
printf 'console=ttyS0 quiet panic=-1\n' >"$box/cmdline"

KMS_BACKEND=kmstool KMSTOOL_DIR=$KMSTOOL_DIR KMSTOOL_KIND=$kmstool_kind \
BOX_BOOTSTRAP=$boot BOX_KERNEL=$kernel/vmlinuz BOX_CMDLINE=$box/cmdline \
OUT_DIR=$build "$repo/scripts/make-eif.sh" "$build"
printf 'box build: %s (%s KiB) for kernel %s\n' "$build/box.eif" \
	"$(( $(stat -c %s "$build/box.eif") / 1024 ))" "$release"
