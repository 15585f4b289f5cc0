#!/usr/bin/env bash
# Install the Debian packages this project builds and tests with, if any
# are missing. Safe to run again: it does nothing when all are present.
#
#   usage: scripts/install-deps.sh [--box]
#
#   --box   also what the enclave box needs (docs/box.md): QEMU, cpio and a
#           static busybox (its kernel is downloaded, never installed:
#           scripts/box/fetch-kernel.sh)
set -euo pipefail

PACKAGES=(
	build-essential pkg-config
	libssl-dev libcjson-dev libcbor-dev libcmocka-dev libseccomp-dev
	libmicrohttpd-dev libcurl4-openssl-dev
	openssl ca-certificates git
	python3 python3-pytest python3-cryptography python3-cbor2 python3-yaml
	clang libclang-rt-14-dev valgrind shellcheck
	haproxy
)
box=0
for arg in "$@"; do
	case $arg in
	--box) box=1 ;;
	-h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*) printf 'install-deps: unknown option %s (try --help)\n' "$arg" >&2; exit 2 ;;
	esac
done
if [ "$box" = 1 ]; then
	PACKAGES+=(qemu-system-x86 cpio busybox-static)
fi

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null || {
		echo "install-deps: not root and no sudo: run this as root, or install sudo" >&2
		exit 1
	}
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
