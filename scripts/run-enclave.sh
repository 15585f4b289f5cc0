#!/usr/bin/env bash
# run-enclave.sh - start, supervise or stop ONE enclave on this parent, the
# one at vsock CID --enclave-cid; enclaves at other CIDs are never touched.
#
# usage: scripts/run-enclave.sh [options]
#
# Options:
#   --eif PATH             the image (default build/enclave.eif)
#   --cpu-count N          vCPUs given to the enclave (default 2; on
#                          hyperthreaded instances a multiple of 2: whole cores)
#   --memory MIB           enclave memory in MiB (default 512; sizing in
#                          docs/operations.md, 'Memory')
#   --enclave-cid CID      the enclave's vsock CID (default 16; the gateway
#                          and enclavectl reach it at vsock:CID:5000). It names
#                          the enclave this script starts, stops or watches
#   --terminate-existing   terminate the enclave already running at this CID
#                          first (without it, one there makes this script
#                          stop); enclaves at other CIDs keep running
#   --supervise            after starting, stay in the foreground: every
#                          --poll-seconds ask `nitro-cli describe-enclaves`
#                          and exit 1 once this CID's enclave is gone or not
#                          RUNNING (systemd's Restart= then starts it again);
#                          SIGTERM or SIGINT terminate this CID's enclave and
#                          exit 0 (deploy/systemd/confidential-enclave@.service)
#   --poll-seconds N       with --supervise: seconds between checks (default 5)
#   --stop                 terminate this CID's enclave if one runs, and exit
#                          (0 also when none ran); --eif is not needed
#   --dry-run              print the nitro-cli commands this would run, run
#                          none (not even describe-enclaves): needs no
#                          nitro-cli and no image
#   --debug                debug mode: console readable, PCRs ZERO (see below)
#   --attach-console       with --debug: follow the enclave's console
#   -h, --help             this help
#
# Nothing here runs `nitro-cli terminate-enclave --all`: the enclave at a CID
# is found in describe-enclaves' JSON by EnclaveCID and terminated by its
# EnclaveID. To stop every enclave, the operator runs that command by hand.
#
# Debug mode exists for seeing the daemon's log lines on the console. A debug
# enclave's attestation documents carry PCR0, PCR1 and PCR2 as all zeros, so a
# KMS key policy pinned to the real PCR0 (scripts/setup-kms.sh) refuses it:
# configure fails with kms_decrypt_failed. That refusal is the security model
# working; never add an all-zero PCR0 to the policy to "fix" it.
#
# The parent must have reserved at least --memory MiB and --cpu-count CPUs
# (summed over every enclave it runs) for enclaves in
# /etc/nitro_enclaves/allocator.yaml (memory_mib, cpu_count), then
# `systemctl restart nitro-enclaves-allocator`.
#
# Exit status: 0 started (or, with --supervise, stopped by a signal; with
# --stop, none left at the CID); 1 it did not start, or the supervised
# enclave vanished; 2 bad usage.
set -euo pipefail

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
}
die() {
	printf 'run-enclave: %s\n' "$*" >&2
	exit 1
}
usage_error() {
	printf 'run-enclave: %s\nTry scripts/run-enclave.sh --help\n' "$*" >&2
	exit 2
}
need_arg() {
	[ "$2" -ge 2 ] || usage_error "$1 needs a value"
}
positive() {
	[[ $2 =~ ^[1-9][0-9]*$ ]] || usage_error "$1 must be a positive integer, not '$2'"
}

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

eif=$repo/build/enclave.eif
cpu_count=2
memory=512
cid=16
terminate=0
supervise=0
poll=5
stop=0
dry_run=0
debug=0
attach=0
while [ $# -gt 0 ]; do
	case $1 in
	--eif) need_arg "$1" $#; eif=$2; shift 2 ;;
	--cpu-count) need_arg "$1" $#; cpu_count=$2; shift 2 ;;
	--memory) need_arg "$1" $#; memory=$2; shift 2 ;;
	--enclave-cid) need_arg "$1" $#; cid=$2; shift 2 ;;
	--terminate-existing) terminate=1; shift ;;
	--supervise) supervise=1; shift ;;
	--poll-seconds) need_arg "$1" $#; poll=$2; shift 2 ;;
	--stop) stop=1; shift ;;
	--dry-run) dry_run=1; shift ;;
	--debug|--debug-mode) debug=1; shift ;;
	--attach-console) attach=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done
positive --cpu-count "$cpu_count"
positive --memory "$memory"
positive --enclave-cid "$cid"
positive --poll-seconds "$poll"
# CIDs 0-2 are reserved (hypervisor, local, host) and 3 is the parent.
[ "$cid" -ge 4 ] || usage_error "--enclave-cid must be 4 or more (0-3 are reserved), not $cid"
[ "$attach" = 0 ] || [ "$debug" = 1 ] || usage_error "--attach-console needs --debug (a production enclave has no console)"
[ "$stop" = 0 ] || [ "$supervise" = 0 ] || usage_error "--stop and --supervise exclude each other"
[ "$attach" = 0 ] || [ "$supervise" = 0 ] || usage_error "--attach-console and --supervise exclude each other"

# Prints nitro-cli's command line, then runs it unless this is a dry run.
nitro() {
	echo "run-enclave: nitro-cli $*" >&2
	[ "$dry_run" = 0 ] || return 0
	nitro-cli "$@"
}

# The EnclaveID and State of the enclave at $cid as "ID STATE", or nothing:
# found by EnclaveCID in describe-enclaves' JSON, so no other CID is seen.
enclave_at_cid() {
	local running
	running=$(nitro-cli describe-enclaves) || return 1
	RUNNING=$running CID=$cid python3 - <<'PY'
import json, os
try:
    enclaves = json.loads(os.environ["RUNNING"] or "[]")
except ValueError:
    raise SystemExit("run-enclave: cannot parse nitro-cli describe-enclaves output")
for e in enclaves:
    if str(e.get("EnclaveCID")) == os.environ["CID"]:
        print("%s %s" % (e.get("EnclaveID", "?"), e.get("State", "?")))
PY
}

# Terminates the enclave at $cid by its EnclaveID, if one runs there.
terminate_cid() {
	local found id
	found=$(enclave_at_cid) || die "nitro-cli describe-enclaves failed (is nitro-enclaves-allocator running?)"
	[ -n "$found" ] || return 0
	id=${found%% *}
	echo "run-enclave: terminating enclave $id (CID $cid)" >&2
	nitro-cli terminate-enclave --enclave-id "$id" >/dev/null ||
		die "could not terminate enclave $id (CID $cid)"
}

if [ "$dry_run" = 1 ]; then
	echo "run-enclave: dry run: nothing is called" >&2
	if [ "$stop" = 1 ] || [ "$terminate" = 1 ]; then
		echo "run-enclave: nitro-cli describe-enclaves, then terminate-enclave --enclave-id <the EnclaveID at CID $cid>, if one runs there" >&2
	fi
	[ "$stop" = 0 ] || exit 0
else
	command -v nitro-cli >/dev/null 2>&1 || die "nitro-cli is not installed (docs/operations.md, 'From a fresh EC2 instance to a processed request', step 2)"
	command -v python3 >/dev/null 2>&1 || die "python3 is not installed"
fi
if [ "$stop" = 1 ]; then
	terminate_cid
	exit 0
fi
[ "$dry_run" = 1 ] || [ -s "$eif" ] || die "no enclave image at $eif: run scripts/build-enclave.sh first"

measurements=$(dirname "$eif")/measurements.json
if [ -s "$measurements" ]; then
	pcr0=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["Measurements"]["PCR0"])' "$measurements" 2>/dev/null) || pcr0=
	[ -z "$pcr0" ] || echo "run-enclave: image PCR0 $pcr0 (from $measurements)" >&2
fi

if [ "$debug" = 1 ]; then
	cat >&2 <<'WARN'
########################################################################
##  WARNING: DEBUG MODE                                               ##
##                                                                    ##
##  This enclave's attestation documents carry PCR0, PCR1 and PCR2    ##
##  as ALL ZEROS, and its console is readable from the parent.        ##
##  A KMS key policy pinned to the real PCR0 (scripts/setup-kms.sh)   ##
##  will REFUSE it: every configure fails with kms_decrypt_failed.    ##
##  Use it to read the daemon's logs, never for production data, and  ##
##  never add an all-zero PCR0 to the key policy.                     ##
########################################################################
WARN
fi

if [ "$dry_run" = 0 ]; then
	found=$(enclave_at_cid) || die "nitro-cli describe-enclaves failed (is nitro-enclaves-allocator running?)"
	if [ -n "$found" ]; then
		if [ "$terminate" = 1 ]; then
			terminate_cid
		else
			printf 'run-enclave: an enclave is already running at CID %s (ID STATE):\n  %s\n' "$cid" "$found" >&2
			die "pass --terminate-existing to replace it (enclaves at other CIDs are left alone)"
		fi
	fi
fi

# Supervision: a signal (systemctl stop) ends this CID's enclave and exits 0,
# also one that comes while the enclave starts (hence before run-enclave);
# the enclave vanishing exits 1, so systemd restarts the unit.
stopping() {
	trap - TERM INT
	kill "${sleeper:-}" 2>/dev/null || true
	echo "run-enclave: stopping: terminating the enclave at CID $cid" >&2
	terminate_cid
	exit 0
}
[ "$supervise" = 0 ] || [ "$dry_run" = 1 ] || trap stopping TERM INT

args=(run-enclave --eif-path "$eif" --cpu-count "$cpu_count" --memory "$memory" --enclave-cid "$cid")
if [ "$debug" = 1 ]; then
	args+=(--debug-mode)
	[ "$attach" = 0 ] || args+=(--attach-console)
fi
nitro "${args[@]}" || die "nitro-cli run-enclave failed (docs/operations.md, 'Troubleshooting')"
if [ "$dry_run" = 1 ]; then
	[ "$supervise" = 0 ] || echo "run-enclave: then every $poll s: nitro-cli describe-enclaves, exit 1 once CID $cid is gone" >&2
	exit 0
fi
echo "run-enclave: started; check it with: enclavectl --enclave vsock:$cid:5000 health" >&2
[ "$supervise" = 1 ] || exit 0

# The sleep runs in the background and is waited for, so that a signal is
# handled at once.
echo "run-enclave: supervising CID $cid (every $poll s)" >&2
failures=0
while :; do
	sleep "$poll" &
	sleeper=$!
	wait "$sleeper" || true
	if ! found=$(enclave_at_cid); then
		failures=$((failures + 1))
		echo "run-enclave: nitro-cli describe-enclaves failed ($failures in a row)" >&2
		[ "$failures" -lt 3 ] || die "cannot see the enclave at CID $cid: giving up"
		continue
	fi
	failures=0
	[ -n "$found" ] || die "the enclave at CID $cid is gone"
	state=${found#* }
	[ "$state" = RUNNING ] || die "the enclave at CID $cid is $state, not RUNNING"
done
