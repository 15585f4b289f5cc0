#!/usr/bin/env bash
# build.sh - the box's initramfs: the enclave image's filesystem, booted.
#
# usage: build.sh BUILD_DIR      (make box-image runs it; docs/box.md)
#
# Reads what make built in BUILD_DIR (enclaved, enclavectl,
# enclave-gateway, kmstool-dev, bench/loadgen, box/init) and
# BUILD_DIR/box/kernel (fetch-kernel.sh), and writes BUILD_DIR/box/initramfs.cpio, which QEMU boots with
# BUILD_DIR/box/kernel/vmlinuz (run.sh).
#
# The filesystem is staged by enclave/stage-rootfs.sh exactly as the
# Dockerfile's kmstool variant stages it, with kmstool-dev standing in for
# AWS's kmstool_enclave_cli at the same path (libnsm.so is a placeholder:
# kmstool-dev never loads it). What the box adds is test equipment,
# never part of an image:
#   /init                   the box's PID 1 (src/box/init.c), where Nitro
#                           has AWS's init
#   /box/enclaved.cmd       the image's CMD, one argument a line, taken from
#                           enclave/Dockerfile: what init starts
#   /box/flow.sh            the test flow (scripts/box/flow.sh)
#   /box/shell.sh           a developer's shell (scripts/box/shell.sh)
#   /usr/bin/enclavectl, /usr/bin/enclave-gateway, /usr/bin/loadgen,
#   /usr/bin/busybox
#                           the host side, in the same guest (--tool)
#   /lib/modules/...        the vsock modules of the box's kernel
# Every file gets SOURCE_DATE_EPOCH (default 0) as its time and the archive
# lists files in a fixed order as root, so the same inputs give the same
# initramfs, byte for byte.
set -euo pipefail

die() {
	printf 'box build: %s\n' "$*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: build.sh BUILD_DIR"
repo=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
box=$build/box
kernel=$box/kernel
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

for f in enclaved enclavectl enclave-gateway kmstool-dev bench/loadgen box/init; do
	[ -x "$build/$f" ] || die "$build/$f is not built (make box-image builds it)"
done
if [ ! -s "$kernel/vmlinuz" ] || [ ! -s "$kernel/release" ]; then
	die "no kernel in $kernel (scripts/box/fetch-kernel.sh)"
fi
release=$(cat "$kernel/release")
busybox=$(command -v busybox) || die "no busybox (apt-get install busybox-static)"
ldd "$busybox" >/dev/null 2>&1 && die "$busybox is not static (apt-get install busybox-static)"
command -v cpio >/dev/null || die "no cpio (apt-get install cpio)"

# The KMS tool's place: kmstool-dev under AWS's name, as tests/deploy does.
kt=$box/kmstool
rm -rf "$kt"
mkdir -p "$kt"
cp "$build/kmstool-dev" "$kt/kmstool_enclave_cli"
printf 'int box_libnsm_placeholder;\n' | cc -shared -fPIC -x c -o "$kt/libnsm.so" -

root=$box/rootfs
rm -rf "$root"
check=()
[ "$(id -u)" -eq 0 ] || check=(--no-chroot-check)
"$repo/enclave/stage-rootfs.sh" ${check[@]+"${check[@]}"} --kmstool "$kt" \
	--tool "$build/enclavectl" --tool "$build/enclave-gateway" \
	--tool "$build/bench/loadgen" --tool "$busybox" \
	"$root" "$build/enclaved"

# The image's CMD, as the Dockerfile says it (tests/deploy reads it alike).
PYTHONPATH=$repo/tests/deploy python3 -c '
import sys
from deploykit import dockerfile_cmd
cmd = dockerfile_cmd("image-kmstool")
if "vsock:5000" not in cmd or cmd[cmd.index("vsock:5000") - 1] != "--listen":
    sys.exit("the image CMD does not listen on vsock:5000: %r" % cmd)
sys.stdout.write("".join(a + "\n" for a in cmd))
' > "$root/box.cmd.tmp" || die "cannot read the image's CMD from enclave/Dockerfile"
mkdir -p "$root/box"
mv "$root/box.cmd.tmp" "$root/box/enclaved.cmd"
install -m 0755 "$build/box/init" "$root/init"
install -m 0755 "$repo/scripts/box/flow.sh" "$root/box/flow.sh"
install -m 0755 "$repo/scripts/box/shell.sh" "$root/box/shell.sh"
mkdir -p "$root/lib/modules"
cp -R "$kernel/modules/$release" "$root/lib/modules/"

find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$root" && find . -mindepth 1 -print | LC_ALL=C sort |
	cpio --quiet -o -H newc -R 0:0 --reproducible) > "$box/initramfs.cpio.tmp"
mv "$box/initramfs.cpio.tmp" "$box/initramfs.cpio"
printf 'box build: %s (%s KiB; enclaved %s KiB) for kernel %s\n' \
	"$box/initramfs.cpio" "$(( $(stat -c %s "$box/initramfs.cpio") / 1024 ))" \
	"$(( $(stat -c %s "$root/usr/bin/enclaved") / 1024 ))" "$release"
