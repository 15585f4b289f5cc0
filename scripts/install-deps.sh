#!/usr/bin/env bash
# Install the Debian packages this project builds and tests with, if any
# are missing. Safe to run again: it does nothing when all are present.
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
)
if [ "${1:-}" = --box ]; then
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
