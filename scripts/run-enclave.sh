#!/usr/bin/env bash
# run-enclave.sh - start the enclave from build/enclave.eif on this parent.
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
#                          and enclavectl reach it at vsock:CID:5000)
#   --terminate-existing   terminate every running enclave first (without it,
#                          an enclave already running makes this script stop)
#   --debug                debug mode: console readable, PCRs ZERO (see below)
#   --attach-console       with --debug: follow the enclave's console
#   -h, --help             this help
#
# Debug mode exists for seeing the daemon's log lines on the console. A debug
# enclave's attestation documents carry PCR0, PCR1 and PCR2 as all zeros, so a
# KMS key policy pinned to the real PCR0 (scripts/setup-kms.sh) refuses it:
# configure fails with kms_decrypt_failed. That refusal is the security model
# working; never add an all-zero PCR0 to the policy to "fix" it.
#
# The parent must have reserved at least --memory MiB and --cpu-count CPUs
# for enclaves in /etc/nitro_enclaves/allocator.yaml (memory_mib, cpu_count),
# then `systemctl restart nitro-enclaves-allocator`.
#
# Exit status: 0 started; 1 it did not; 2 bad usage.
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
debug=0
attach=0
while [ $# -gt 0 ]; do
	case $1 in
	--eif) need_arg "$1" $#; eif=$2; shift 2 ;;
	--cpu-count) need_arg "$1" $#; cpu_count=$2; shift 2 ;;
	--memory) need_arg "$1" $#; memory=$2; shift 2 ;;
	--enclave-cid) need_arg "$1" $#; cid=$2; shift 2 ;;
	--terminate-existing) terminate=1; shift ;;
	--debug|--debug-mode) debug=1; shift ;;
	--attach-console) attach=1; shift ;;
	-h|--help) usage; exit 0 ;;
	*) usage_error "unknown argument '$1'" ;;
	esac
done
positive --cpu-count "$cpu_count"
positive --memory "$memory"
positive --enclave-cid "$cid"
# CIDs 0-2 are reserved (hypervisor, local, host) and 3 is the parent.
[ "$cid" -ge 4 ] || usage_error "--enclave-cid must be 4 or more (0-3 are reserved), not $cid"
[ "$attach" = 0 ] || [ "$debug" = 1 ] || usage_error "--attach-console needs --debug (a production enclave has no console)"

command -v nitro-cli >/dev/null 2>&1 || die "nitro-cli is not installed (docs/operations.md, 'Fresh instance')"
command -v python3 >/dev/null 2>&1 || die "python3 is not installed"
[ -s "$eif" ] || die "no enclave image at $eif: run scripts/build-enclave.sh first"

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

running=$(nitro-cli describe-enclaves) || die "nitro-cli describe-enclaves failed (is nitro-enclaves-allocator running?)"
listing=$(RUNNING=$running python3 - <<'PY'
import json, os
try:
    enclaves = json.loads(os.environ["RUNNING"] or "[]")
except ValueError:
    raise SystemExit("run-enclave: cannot parse nitro-cli describe-enclaves output")
for e in enclaves:
    print("%s %s %s" % (e.get("EnclaveID", "?"), e.get("EnclaveCID", "?"), e.get("State", "?")))
PY
) || exit 1
existing=()
[ -z "$listing" ] || mapfile -t existing <<<"$listing"
if [ "${#existing[@]}" -gt 0 ]; then
	if [ "$terminate" = 1 ]; then
		for line in "${existing[@]}"; do
			id=${line%% *}
			echo "run-enclave: terminating enclave $id" >&2
			nitro-cli terminate-enclave --enclave-id "$id" >/dev/null ||
				die "could not terminate enclave $id"
		done
	else
		printf 'run-enclave: an enclave is already running (ID CID STATE):\n' >&2
		printf '  %s\n' "${existing[@]}" >&2
		die "pass --terminate-existing to replace it"
	fi
fi

args=(run-enclave --eif-path "$eif" --cpu-count "$cpu_count" --memory "$memory" --enclave-cid "$cid")
if [ "$debug" = 1 ]; then
	args+=(--debug-mode)
	[ "$attach" = 0 ] || args+=(--attach-console)
fi
echo "run-enclave: nitro-cli ${args[*]}" >&2
nitro-cli "${args[@]}" || die "nitro-cli run-enclave failed (docs/operations.md, 'Troubleshooting')"
echo "run-enclave: started; check it with: enclavectl --enclave vsock:$cid:5000 health" >&2
