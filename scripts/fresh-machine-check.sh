#!/usr/bin/env bash
# fresh-machine-check.sh: does a clean clone pass on a fresh Debian 12?
#
# Bootstraps a minimal Debian 12 (bookworm, debootstrap --variant=minbase)
# into a folder, mounts the folder on itself (so that / is a mount point in
# the chroot, as on a machine), binds /proc, /dev, /dev/pts and /sys into
# it, copies a git clone of this repository's HEAD (committed work only, no
# build output) to /root/confidential-enclave in it, and runs there, as
# root, exactly what
# README.md's "The two commands" section tells a newcomer: its setup
# commands (apt-get lines), then `make demo` and `make test`. Each step's
# time is printed; the first failure stops the check (its log's tail is
# printed) and the exit status is non-zero. Mounts are undone on every exit.
#
# Root on Debian 12 (installs debootstrap with apt-get when missing). Takes
# half an hour or more on two cores (docs/contributing.md), so it is not
# part of .ci/run.
#
# usage: scripts/fresh-machine-check.sh [--keep] [--mirror URL] [--dir DIR]
#        scripts/fresh-machine-check.sh --print-steps
#
#   --keep         leave the bootstrapped folder (and its build) for a look
#   --mirror URL   Debian archive (default http://deb.debian.org/debian)
#   --dir DIR      where the folder is made (default /var/tmp)
#   --print-steps  print the commands the check runs in the chroot; no root
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
MIRROR=http://deb.debian.org/debian
SECURITY=http://deb.debian.org/debian-security
SUITE=bookworm
PARENT=/var/tmp
KEEP=0
PRINT=0
HOME_IN_CHROOT=/root
CLONE_IN_CHROOT=$HOME_IN_CHROOT/confidential-enclave

die() { echo "fresh-machine-check: $*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }
# Usage errors exit 2, as every command of the project's does.
usage_error() { echo "fresh-machine-check: $*" >&2; echo "Try '$0 --help'." >&2; exit 2; }

while [ $# -gt 0 ]; do
	case $1 in
	--keep) KEEP=1 ;;
	--mirror) [ $# -ge 2 ] || usage_error "--mirror needs a URL"; MIRROR=$2; shift ;;
	--dir) [ $# -ge 2 ] || usage_error "--dir needs a folder"; PARENT=$2; shift ;;
	--print-steps) PRINT=1 ;;
	-h | --help) usage; exit 0 ;;
	*) usage_error "unknown option $1" ;;
	esac
	shift
done

# The newcomer's commands, read from README.md so the check cannot drift
# from it: in the "## The two commands" section, every line of a ```sh
# block that starts with apt-get (the setup), then `make demo` and `make
# test` (comments dropped). The README's `git clone` line is what this
# script does from outside (there is no public URL to fetch here).
readme_steps() {
	awk '
		/^## / { in_section = ($0 == "## The two commands"); next }
		!in_section { next }
		/^```/ { in_block = !in_block && ($0 == "```sh"); next }
		!in_block { next }
		{ sub(/[ \t]+#.*$/, "") }
		/^(sudo )?apt-get / { setup[++n] = $0; next }
		/^make (demo|test)$/ { make[$0] = 1 }
		END {
			for (i = 1; i <= n; i++) print setup[i]
			if ("make demo" in make) print "make demo"
			if ("make test" in make) print "make test"
		}' "$REPO/README.md"
}

mapfile -t STEPS < <(readme_steps)
if ! printf '%s\n' "${STEPS[@]}" | grep -q '^make demo$' ||
	! printf '%s\n' "${STEPS[@]}" | grep -q '^make test$'; then
	die "README.md's \"The two commands\" section no longer shows make demo and make test"
fi
[ "${STEPS[0]}" != "make demo" ] || die "README.md's \"The two commands\" section names no apt-get setup line"
if [ "$PRINT" -eq 1 ]; then
	printf '%s\n' "${STEPS[@]}"
	exit 0
fi

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, mount, chroot)"
[ -r /etc/debian_version ] || die "needs a Debian host (debootstrap from its archive)"
git -C "$REPO" rev-parse --verify -q HEAD >/dev/null || die "$REPO is not a git checkout with a commit"

elapsed() { echo $(($(date +%s) - $1)); }
START=$(date +%s)
ROOT=""
LOGS=$(mktemp -d "${TMPDIR:-/tmp}/fresh-machine-logs.XXXXXX")

# Mount points under the folder, innermost first: ours, and any that a
# failed debootstrap left behind.
mounts_under_root() {
	awk -v root="$ROOT" '$2 == root || index($2, root "/") == 1 { print $2 }' /proc/self/mounts |
		sort -r
}

# Ends what is still running in the chroot (only processes whose root is
# our folder: the check started them), then undoes the mounts innermost
# first, then removes the folder without crossing into any file system
# that is still mounted there (a bound /dev must never be emptied).
cleanup() {
	local rc=$? pid m
	set +e
	trap - EXIT INT TERM
	if [ -n "$ROOT" ]; then
		for pid in /proc/[0-9]*; do
			[ "$(readlink "$pid/root" 2>/dev/null)" = "$ROOT" ] && kill -9 "${pid#/proc/}" 2>/dev/null
		done
		for m in $(mounts_under_root); do
			umount "$m" 2>/dev/null || umount -l "$m" ||
				echo "fresh-machine-check: could not unmount $m" >&2
		done
		if [ -n "$(mounts_under_root)" ]; then
			echo "fresh-machine-check: still mounted under $ROOT; left in place" >&2
		elif [ "$KEEP" -eq 1 ]; then
			echo "fresh-machine-check: kept $ROOT"
		else
			rm -rf --one-file-system "$ROOT"
		fi
	fi
	echo "fresh-machine-check: logs in $LOGS"
	[ "$rc" -eq 0 ] && echo "fresh-machine-check: PASSED in $(elapsed "$START") s" ||
		echo "fresh-machine-check: FAILED (exit $rc) after $(elapsed "$START") s" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One step: its output to a log of its own, its time on one line; on
# failure the log's tail and a non-zero exit.
step_no=0
step() {
	local what=$1 log t0 rc
	shift
	step_no=$((step_no + 1))
	log="$LOGS/$(printf '%02d' "$step_no")-$(echo "$what" | tr -c 'a-zA-Z0-9\n' '-' | cut -c1-40).log"
	printf 'step %2d: %-58s ' "$step_no" "$what"
	t0=$(date +%s)
	rc=0
	"$@" >"$log" 2>&1 </dev/null || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "FAILED (exit $rc) after $(elapsed "$t0") s"
		tail -n 60 "$log"
		echo "(whole log: $log)"
		exit 1
	fi
	echo "ok $(printf '%5d' "$(elapsed "$t0")") s"
}

bind() {
	mkdir -p "$ROOT$1"
	mount --bind "$1" "$ROOT$1"
	# Nothing mounted below it (dev/pts) may reach back to the host.
	mount --make-rslave "$ROOT$1"
}

# As a newcomer would: a login shell's environment, nothing of ours.
in_chroot() {
	chroot "$ROOT" /usr/bin/env -i HOME="$HOME_IN_CHROOT" TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEBIAN_FRONTEND=noninteractive \
		/bin/bash -c "cd $CLONE_IN_CHROOT && $1"
}

need_debootstrap() {
	command -v debootstrap >/dev/null && return 0
	DEBIAN_FRONTEND=noninteractive apt-get update -q &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap
}

sources() {
	cat >"$ROOT/etc/apt/sources.list" <<EOF
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY $SUITE-security main
EOF
	cp /etc/resolv.conf "$ROOT/etc/resolv.conf"
	[ -s "$ROOT/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$ROOT/etc/hosts"
}

# The folder itself first: on a real machine / is a mount point, and
# tools such as `unshare -m` (the deploy tests) need it to be one.
mounts() {
	mount --bind "$ROOT" "$ROOT"
	mount --make-private "$ROOT"
	bind /proc
	bind /sys
	bind /dev
	bind /dev/pts
}

copy_clone() {
	local head
	head=$(git -C "$REPO" rev-parse HEAD)
	git clone -q --no-hardlinks "$REPO" "$ROOT$CLONE_IN_CHROOT"
	git -C "$ROOT$CLONE_IN_CHROOT" checkout -q --detach "$head"
	echo "HEAD $head"
}

echo "fresh-machine-check: Debian $SUITE from $MIRROR; $(git -C "$REPO" log -1 --format='%h %s' | cut -c1-60)"
step "debootstrap available on the host" need_debootstrap
ROOT=$(mktemp -d "$PARENT/fresh-machine.XXXXXX")
chmod 755 "$ROOT"
step "debootstrap --variant=minbase $SUITE" debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR"
step "apt sources, resolv.conf, hosts" sources
step "mount the folder on itself, bind /proc /sys /dev /dev/pts" mounts
step "git clone of HEAD to $CLONE_IN_CHROOT" copy_clone
for cmd in "${STEPS[@]}"; do
	step "$cmd" in_chroot "$cmd"
done
