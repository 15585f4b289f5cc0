#!/bin/bash
# stage-rootfs.sh - assemble the enclave's root filesystem in a directory.
#
# Runs in the Dockerfile's build stage (it is never part of the enclave
# image). The runtime stage is `FROM scratch` plus this directory, so what is
# staged here is exactly what the enclave holds: the daemon, the shared
# libraries it (and the KMS tool) load, a CA bundle, empty mount points for
# the enclave's init, and nothing else: no shell, no package manager.
#
# usage: stage-rootfs.sh [--kmstool DIR] [--tool FILE]... [--no-chroot-check]
#                        ROOTFS ENCLAVED
#
#   --kmstool DIR      also install DIR/kmstool_enclave_cli as
#                      /usr/bin/kmstool_enclave_cli and DIR/libnsm.so (the
#                      KMS tool backend)
#   --tool FILE        also install FILE as /usr/bin/NAME with the shared
#                      objects it loads: for development filesystems only,
#                      such as the box's (docs/box.md); the Dockerfile never
#                      passes it, so the image holds no such program
#   --no-chroot-check  skip running the staged binaries inside the rootfs
#                      (the check needs root; docker build has it)
#
# SOURCE_DATE_EPOCH, when set, becomes the modification time of every staged
# file, so the image layer does not depend on when it was built.
set -euo pipefail
# Modes are measured (the EIF's cpio carries them): what mkdir and install
# create must not depend on the caller's umask.
umask 022

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}

die() {
	printf 'stage-rootfs: %s\n' "$*" >&2
	exit 1
}

kmstool_dir=
tools=()
chroot_check=1
while [ $# -gt 0 ]; do
	case $1 in
	--kmstool) [ $# -ge 2 ] || die "--kmstool needs a directory"; kmstool_dir=$2; shift 2 ;;
	--tool) [ $# -ge 2 ] || die "--tool needs a file"; tools+=("$2"); shift 2 ;;
	--no-chroot-check) chroot_check=0; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; break ;;
	-*) die "unknown option $1 (try --help)" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || die "usage: stage-rootfs.sh [--kmstool DIR] ROOTFS ENCLAVED"
root=$1
daemon=$2
[ -x "$daemon" ] || die "$daemon is not an executable"

ca_bundle=
for f in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
	if [ -s "$f" ]; then ca_bundle=$f; break; fi
done
[ -n "$ca_bundle" ] || die "no CA bundle in the build stage (install ca-certificates)"

# The enclave's init mounts /proc, /sys, /dev, /run and /tmp on directories
# that must already exist in the image (aws-nitro-enclaves-sdk-bootstrap,
# init/init.c).
mkdir -p "$root"/dev "$root"/proc "$root"/sys "$root"/run "$root"/tmp \
	"$root"/usr/bin "$root"/etc/ssl/certs "$root"/usr/lib/ssl
chmod 0755 "$root" "$root"/dev "$root"/proc "$root"/sys "$root"/run
chmod 1777 "$root"/tmp

# Debug sections are dropped (the enclave's memory holds the image twice);
# the build id stays, so a crash can still be matched with build/enclaved.
strip --strip-unneeded -o "$root/usr/bin/enclaved" "$daemon"
chmod 0755 "$root/usr/bin/enclaved"

# One bundle where both OpenSSL (cert.pem in its OPENSSLDIR) and the KMS
# tool's s2n (the first path it tries) look for it.
install -m 0644 "$ca_bundle" "$root/etc/ssl/certs/ca-certificates.crt"
ln -sfn /etc/ssl/certs/ca-certificates.crt "$root/usr/lib/ssl/cert.pem"

# Copy every shared object a binary loads (and the loader) to the same path
# inside the rootfs. The paths ldd prints are ones the loader searches by
# default, so no ld.so.cache is needed.
copy_deps() {
	local bin=$1 line lib
	local -a libs=()
	if ! ldd "$bin" >/dev/null 2>&1; then
		return 0	# static: nothing to copy
	fi
	while IFS= read -r line; do
		case $line in
		*"not found"*) die "$bin needs a library that is missing: ${line#"${line%%[![:space:]]*}"}" ;;
		*"=> /"*) lib=${line#*=> }; lib=${lib%% (*} ;;
		[[:space:]]/*) lib=${line#"${line%%[![:space:]]*}"}; lib=${lib%% (*} ;;
		*) continue ;;	# linux-vdso.so.1 and the like
		esac
		libs+=("$lib")
	done < <(ldd "$bin")
	for lib in "${libs[@]}"; do
		case $lib in
		*/libnsm.so) continue ;;	# installed explicitly below
		esac
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"	# keeps the mode: the loader must stay executable
	done
}

copy_deps "$daemon"

if [ -n "$kmstool_dir" ]; then
	for f in kmstool_enclave_cli libnsm.so; do
		[ -s "$kmstool_dir/$f" ] || die "$kmstool_dir/$f is missing (see docs/operations.md, 'The KMS tool')"
	done
	install -m 0755 "$kmstool_dir/kmstool_enclave_cli" "$root/usr/bin/kmstool_enclave_cli"
	# Next to libc: a directory the loader searches by default, whatever
	# the architecture (x86_64-linux-gnu, aarch64-linux-gnu).
	libdir=$(ldd "$daemon" | awk '$1 == "libc.so.6" { print $3 }')
	libdir=$(dirname "${libdir:-/usr/lib/libc.so.6}")
	mkdir -p "$root$libdir"
	install -m 0644 "$kmstool_dir/libnsm.so" "$root$libdir/libnsm.so"
	LD_LIBRARY_PATH=$kmstool_dir copy_deps "$kmstool_dir/kmstool_enclave_cli"
fi

for tool in ${tools[@]+"${tools[@]}"}; do
	if [ ! -f "$tool" ] || [ ! -x "$tool" ]; then
		die "--tool $tool is not an executable"
	fi
	strip --strip-unneeded -o "$root/usr/bin/$(basename "$tool")" "$tool"
	chmod 0755 "$root/usr/bin/$(basename "$tool")"
	copy_deps "$tool"
done

# Prove the rootfs is self-sufficient: the staged binaries start with only
# what was staged (a missing library makes the loader exit 127).
if [ "$chroot_check" = 1 ]; then
	chroot "$root" /usr/bin/enclaved --version >/dev/null ||
		die "enclaved does not start inside the staged rootfs"
	if [ -n "$kmstool_dir" ]; then
		rc=0
		out=$(chroot "$root" /usr/bin/kmstool_enclave_cli 2>&1) || rc=$?
		case $out in
		*"error while loading shared libraries"*) rc=127 ;;
		esac
		case $rc in
		126|127) die "kmstool_enclave_cli does not start inside the staged rootfs: $out" ;;
		esac
	fi
fi

if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
fi
