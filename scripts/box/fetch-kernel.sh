#!/usr/bin/env bash
# fetch-kernel.sh - the box's kernel: Debian 12's own, from its .deb.
#
# usage: fetch-kernel.sh DIR
#
# Downloads linux-image-6.1.0-N-amd64 with `apt-get download` into DIR
# (once: a .deb already there is used again, so a repeated `make box` does
# not download 70 MB), and takes out of it only what the box boots:
# DIR/vmlinuz and the three vsock modules under DIR/modules/RELEASE/. The
# package is never installed on this machine. The version is the one apt
# offers today (what linux-image-amd64 depends on); BOX_KERNEL_PKG=NAME
# asks for another.
#
# Only those files are extracted (dpkg-deb --fsys-tarfile, then tar on a
# list of names) rather than the whole package with dpkg-deb -x: the same
# bytes, 12 MB written instead of 400 MB of modules nothing here loads.
set -euo pipefail

die() {
	printf 'fetch-kernel: %s\n' "$*" >&2
	exit 1
}

[ $# -eq 1 ] || die "usage: fetch-kernel.sh DIR"
dir=$1
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The kernel apt offers: what linux-image-amd64 depends on, else the newest.
offered() {
	local p
	p=$(apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-6\.1\.0-[0-9]+-amd64$/ { print $2; exit }')
	[ -n "$p" ] || p=$(apt-cache pkgnames linux-image-6.1.0- 2>/dev/null |
		grep -E '^linux-image-6\.1\.0-[0-9]+-amd64$' | sort -V | tail -n 1) || true
	echo "$p"
}

deb=$(find "$dir" -maxdepth 1 -name 'linux-image-6.1.0-*-amd64_*.deb' | sort -V | tail -n 1)
if [ -z "$deb" ]; then
	pkg=${BOX_KERNEL_PKG:-}
	[ -n "$pkg" ] || pkg=$(offered)
	if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
		apt-get update -q >/dev/null	# a machine with no package lists yet
		pkg=$(offered)
	fi
	[ -n "$pkg" ] || die "apt offers no linux-image-6.1.0-*-amd64 (run apt-get update)"
	echo "fetch-kernel: downloading $pkg (apt-get download, not installed)"
	# apt's sandbox user cannot write to a directory root owns here.
	(cd "$dir" && apt-get -q -o APT::Sandbox::User=root download "$pkg") ||
		die "apt-get download $pkg failed"
	deb=$(find "$dir" -maxdepth 1 -name "${pkg}_*.deb" | sort -V | tail -n 1)
	[ -n "$deb" ] || die "apt-get download left no ${pkg}_*.deb in $dir"
fi

release=$(basename "$deb" | sed -E 's/^linux-image-(6\.1\.0-[0-9]+-amd64)_.*/\1/')
vsock=lib/modules/$release/kernel/net/vmw_vsock
tmp=$(mktemp -d "$dir/extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" \
	"./boot/vmlinuz-$release" \
	"./$vsock/vsock.ko" \
	"./$vsock/vmw_vsock_virtio_transport_common.ko" \
	"./$vsock/vsock_loopback.ko"
rm -rf "$dir/modules"
mkdir -p "$dir/modules/$release/kernel/net"
mv "$tmp/$vsock" "$dir/modules/$release/kernel/net/"
mv "$tmp/boot/vmlinuz-$release" "$dir/vmlinuz"
echo "$release" > "$dir/release"
echo "fetch-kernel: $(basename "$deb"): vmlinuz and the vsock modules of $release in $dir"
