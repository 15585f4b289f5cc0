#!/usr/bin/env bash
# reproducible-check.sh - build the tree twice, in two directories, compare.
#
# usage: scripts/reproducible-check.sh [options] [TARGET...]
#
# Copies the tree (tracked and untracked, non-ignored files: what `git
# ls-files --cached --others --exclude-standard` lists) into two fresh
# directories with different names and path lengths, runs
# `make clean && make TARGET...` in each with the same SOURCE_DATE_EPOCH, and
# compares the SHA-256 of every TARGET. Identical hashes mean no timestamp,
# build path or other accident of the build reached the binaries.
#
# TARGET defaults to build/enclaved build/enclavectl build/kmstool-dev.
#
# Options:
#   --eif                  also run `make eif` in each copy and compare
#                          build/enclave.eif (the blobs: NITRO_BLOBS, and
#                          NITRO_BLOBS_KIND=stand-in for test files; the
#                          second build runs later, in a longer path, with
#                          another TMPDIR and umask)
#   --source-date-epoch N  (default: HEAD's commit time)
#   --keep                 keep the two build directories and print them
#   -h, --help             this help
#
# Exit status: 0 identical; 1 they differ (the differing files are listed;
# diffoscope A B shows where); 3 a build failed (its log is printed);
# 2 bad usage.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}
usage_error() {
	printf 'reproducible-check: %s\nTry scripts/reproducible-check.sh --help\n' "$*" >&2
	exit 2
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
sde=
keep=0
eif=0
targets=()
while [ $# -gt 0 ]; do
	case $1 in
	--source-date-epoch) [ $# -ge 2 ] || usage_error "$1 needs a value"; sde=$2; shift 2 ;;
	--keep) keep=1; shift ;;
	--eif) eif=1; shift ;;
	-h|--help) usage; exit 0 ;;
	-*) usage_error "unknown option '$1'" ;;
	*) targets+=("$1"); shift ;;
	esac
done
[ "${#targets[@]}" -gt 0 ] || targets=(build/enclaved build/enclavectl build/kmstool-dev)
if [ -z "$sde" ]; then
	sde=$(git -C "$repo" log -1 --format=%ct HEAD 2>/dev/null) || sde=1700000000
fi
[[ $sde =~ ^[0-9]+$ ]] || usage_error "--source-date-epoch must be a number of seconds"

commit=$(git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
top=$(mktemp -d "${TMPDIR:-/tmp}/repro.XXXXXX")
if [ "$keep" = 0 ]; then
	trap 'rm -rf "$top"' EXIT
fi
dirs=("$top/a" "$top/second-build-in-a-longer-directory-name")

copy_tree() {
	mkdir -p "$1"
	(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			[ -f "$f" ] && printf '%s\0' "$f"
		done | tar --null -T - -cf -) | tar -x -C "$1"
}

for d in "${dirs[@]}"; do
	copy_tree "$d"
	# A plain build: nothing inherited from a calling make (SAN=1, -j, ...).
	if ! (cd "$d" && unset MAKEFLAGS MFLAGS MAKELEVEL SAN BUILD &&
		make clean >/dev/null &&
		SOURCE_DATE_EPOCH=$sde make -j"$(nproc)" "${targets[@]}") >"$d.log" 2>&1; then
		echo "reproducible-check: the build in $d failed:" >&2
		tail -n 40 "$d.log" >&2
		exit 3
	fi
	# The image from the same commit, built in another folder at another
	# time: the EIF's bytes (and so its PCRs) must not change.
	if [ "$eif" = 1 ]; then
		mkdir -p "$d.tmp"
		if ! (cd "$d" && unset MAKEFLAGS MFLAGS MAKELEVEL SAN BUILD &&
			umask "$([ "$d" = "${dirs[0]}" ] && echo 022 || echo 077)" &&
			TMPDIR=$d.tmp SOURCE_DATE_EPOCH=$sde GIT_COMMIT=$commit make eif) >>"$d.log" 2>&1; then
			echo "reproducible-check: make eif in $d failed:" >&2
			tail -n 40 "$d.log" >&2
			exit 3
		fi
	fi
done
if [ "$eif" = 1 ]; then
	targets+=(build/enclave.eif)
fi

status=0
for t in "${targets[@]}"; do
	a=$(sha256sum "${dirs[0]}/$t" | cut -d' ' -f1)
	b=$(sha256sum "${dirs[1]}/$t" | cut -d' ' -f1)
	if [ "$a" = "$b" ]; then
		printf 'same     %s  %s\n' "$a" "$t"
	else
		printf 'DIFFERS  %s  %s\n         %s\n' "$a" "$t" "$b"
		for d in "${dirs[@]}"; do
			if grep -qaF "$d" "$d/$t"; then
				echo "         $t built in $d contains that directory's path" \
					"(debug info? -ffile-prefix-map=\$(CURDIR)=. maps DW_AT_comp_dir too)"
			fi
		done
		status=1
	fi
done
if [ "$keep" = 1 ]; then
	echo "reproducible-check: builds kept in ${dirs[0]} and ${dirs[1]}"
fi
exit "$status"
