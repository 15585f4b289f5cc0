#!/usr/bin/env bash
# run.sh - boot the box: build/box.eif in QEMU, under a hard timeout.
#
# usage: run.sh [--run flow|shell|none] [--flow all|max|probe]
#               [--accel tcg|kvm|auto] [--timeout SECONDS] [--cpus N]
#               [--memory MIB] BOX_EIF
#
# Boots what BOX_EIF (build/box.eif, make box-eif) holds: its kernel, its
# command line (then the box's options below) and its ramdisks, bootstrap
# then application, concatenated in that order as one -initrd (the kernel
# unpacks concatenated newc archives one after the other), which is what
# the EIF measures. The sections are found with `enclavectl describe-eif
# --json` (BOX_ENCLAVECTL, default the enclavectl beside BOX_EIF), the
# project's one EIF reader, which also checks the file's CRC.
#
#   --run flow     (default) the test flow (scripts/box/flow.sh), then off
#   --flow NAME    which of it: all (default), max (configure, a
#                  maximum-size message, a ping) or probe (one ping)
#   --run shell    a busybox shell on the console for a developer; the box
#                  powers off when it exits (Ctrl-D, `exit`); Ctrl-C goes
#                  to the guest
#   --run none     enclaved alone; Ctrl-C ends QEMU
#   --accel tcg    (default) software emulation: slow, works everywhere
#   --accel kvm    hardware virtualisation; on a nested machine like the
#                  project's guests hang, so only the timeout ends them
#   --accel auto   a probe boot under KVM (at most BOX_PROBE_TIMEOUT, 15 s)
#                  that must answer a ping over vsock; TCG if it does not
#   --timeout S    the whole boot, flow and power off (default 600; 3600
#                  with --run shell or none); past it QEMU is killed and
#                  run.sh exits 124
#   --cpus N       vCPUs (default 2, as run-enclave.sh)
#   --memory MIB   guest memory (default 320: the documented smallest
#                  enclave for the image's CMD, docs/operations.md)
#
# The guest's console (serial port) is this script's standard output:
# kernel messages (quiet), `box: ...` from init, `BOX ...` and `RESULT ...`
# from the flow. BOX_APPEND adds to the kernel command line.
set -euo pipefail

die() {
	printf 'box run: %s\n' "$*" >&2
	exit 2
}

run=flow flow=all accel=tcg timeout_s='' cpus=2 memory=320
while [ $# -gt 0 ]; do
	case $1 in
	--run) run=${2:?}; shift 2 ;;
	--flow) flow=${2:?}; shift 2 ;;
	--accel) accel=${2:?}; shift 2 ;;
	--timeout) timeout_s=${2:?}; shift 2 ;;
	--cpus) cpus=${2:?}; shift 2 ;;
	--memory) memory=${2:?}; shift 2 ;;
	-h|--help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	-*) die "unknown option $1 (try --help)" ;;
	*) break ;;
	esac
done
case $accel in tcg|kvm|auto) ;; *) die "--accel wants tcg, kvm or auto" ;; esac
[ $# -eq 1 ] || die "usage: run.sh [options] BOX_EIF (try --help)"
eif=$1
[ -s "$eif" ] || die "no $eif (make box-eif)"
enclavectl=${BOX_ENCLAVECTL:-$(dirname "$eif")/enclavectl}
[ -x "$enclavectl" ] || die "no $enclavectl to read $eif with (make)"
command -v qemu-system-x86_64 >/dev/null || die "no qemu-system-x86_64 (make box-deps)"

# The EIF's sections, each after its 12-byte header (type, flags, size).
parts=$(mktemp -d "${TMPDIR:-/tmp}/box-run.XXXXXX")
trap 'rm -rf "$parts"' EXIT
"$enclavectl" describe-eif --json "$eif" >"$parts/describe.json" ||
	die "$eif does not read as an EIF (see above)"
python3 - "$eif" "$parts" <<'PY' || die "cannot take the sections out of $eif"
import json, sys
eif, out = sys.argv[1], sys.argv[2]
sections = json.load(open(out + "/describe.json"))["Sections"]
names = {"kernel": "kernel", "cmdline": "cmdline", "ramdisk": "initrd"}
with open(eif, "rb") as f:
    for s in sections:
        if s["Type"] not in names:
            continue
        f.seek(s["Offset"] + 12)
        data = f.read(s["Size"])
        if len(data) != s["Size"]:
            sys.exit("short section")
        with open(out + "/" + names[s["Type"]], "ab") as o:
            o.write(data)
PY
kernel=$parts/kernel
initrd=$parts/initrd
cmdline=$(tr '\n' ' ' <"$parts/cmdline")

case $run in
flow) append="box.run=/box/flow.sh box.flow=$flow box.log=/run/enclaved.log" ;;
shell) append="box.run=/box/shell.sh box.tty=1 box.log=/run/enclaved.log" ;;
none) append="" ;;
*) die "--run wants flow, shell or none" ;;
esac
[ -n "$timeout_s" ] || case $run in flow) timeout_s=600 ;; *) timeout_s=3600 ;; esac
# A shell gets Ctrl-C; otherwise it stops QEMU.
serial=(-serial stdio)
[ "$run" != shell ] || serial=(-chardev "stdio,id=console,signal=off" -serial chardev:console)

# One boot; QEMU exits when the guest resets (-no-reboot), which is how the
# box's init ends it. No ACPI: with it, Debian's kernel stalls calibrating
# its clock under TCG. TCG emulates -cpu max, AES-NI included, as Nitro's
# CPUs have it; KVM keeps the default model (here -cpu max aborts on MSR
# 0x10a).
boot() {	# ACCEL TIMEOUT APPEND
	local cpu=(-cpu max)
	[ "$1" = tcg ] || cpu=()
	timeout --foreground -k 5 "$2" qemu-system-x86_64 \
		-M microvm,acpi=off -accel "$1" ${cpu[@]+"${cpu[@]}"} -smp "$cpus" -m "${memory}M" \
		-nodefaults -no-user-config -display none "${serial[@]}" \
		-no-reboot -kernel "$kernel" -initrd "$initrd" \
		-append "$cmdline $3 ${BOX_APPEND:-}"
}

if [ "$accel" = auto ]; then
	probe_s=${BOX_PROBE_TIMEOUT:-15}
	if boot kvm "$probe_s" \
	    "box.run=/box/flow.sh box.flow=probe box.log=/run/enclaved.log" \
	    </dev/null 2>&1 | grep -q '^BOX probe ok'; then
		accel=kvm
	else
		accel=tcg
	fi
	echo "box run: KVM probe (at most ${probe_s} s): using $accel"
fi
case $accel in
tcg|kvm) ;;
*) die "--accel wants tcg, kvm or auto" ;;
esac

echo "box run: qemu-system-x86_64 -M microvm,acpi=off -accel $accel -smp $cpus -m ${memory}M, timeout ${timeout_s} s"
rc=0
boot "$accel" "$timeout_s" "$append" || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
	echo "box run: TIMED OUT after ${timeout_s} s: QEMU killed"
	exit 124
fi
exit "$rc"
