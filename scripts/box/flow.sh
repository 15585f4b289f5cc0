#!/usr/bin/busybox sh
# flow.sh - the box's test flow, inside the guest (docs/box.md).
#
# The box's init (src/box/init.c) runs this when the kernel command line
# says box.run=/box/flow.sh, after starting enclaved with the image's CMD;
# when it exits, the box powers off. Everything here is the host's side,
# in the same guest: kmstool-dev, enclavectl and the load generator reach
# enclaved over AF_VSOCK at CID 1 (VMADDR_CID_LOCAL, the loopback
# transport), port 5000: the same socket calls as from CID 3 on Nitro.
#
# Each result is one console line, `BOX NAME key=value ...` or the load
# generator's own `RESULT ...`; `BOX done` comes last, and a failure is
# `BOX FAIL ...` and exit 1. tests/box/test_box.py reads them.
# Kernel command line: box.flow=all (default) runs everything below;
# box.flow=max only configures and sends a maximum-size message (run.sh
# --flow max, to see what a smaller --memory does); box.flow=probe
# (run.sh --accel auto) stops after the first ping. box.load_s=S sets
# each load's seconds (default 3).
set -u
/usr/bin/busybox mkdir -p /box/bin
/usr/bin/busybox --install -s /box/bin
export PATH=/box/bin:/usr/bin
EP=vsock:1:5000
T=/tmp/flow
mkdir -p "$T"

say() { echo "BOX $*"; }
fail() { say "FAIL $*"; exit 1; }
# The value of box.NAME= on the kernel command line, or $2.
param() {
	# shellcheck disable=SC2013 # words, not lines
	for w in $(cat /proc/cmdline); do
		case $w in "box.$1="*) echo "${w#*=}"; return ;; esac
	done
	echo "$2"
}
ctl() { enclavectl --enclave "$EP" --timeout 120 "$@"; }
# A line of the image's CMD after OPTION (what init started enclaved with:
# the EIF's /cmd, which init deletes once read, as AWS's init does; the
# flow takes it from the running daemon, written down below).
cmd_option() { awk -v o="$1" 'prev == o { print; exit } { prev = $0 }' "$T/enclaved.cmd"; }
# The daemon: the enclaved whose parent is init (its child is the broker).
daemon_pid() {
	for s in /proc/[0-9]*/status; do
		if grep -q '^Name:[[:space:]]*enclaved$' "$s" 2>/dev/null &&
		    grep -q '^PPid:[[:space:]]*1$' "$s" 2>/dev/null; then
			p=${s#/proc/}; echo "${p%/status}"; return
		fi
	done
}
# The KMS broker (src/enclave/kms/broker.c names itself enclaved-kms).
broker_pid() {
	for s in /proc/[0-9]*/status; do
		if grep -q '^Name:[[:space:]]*enclaved-kms$' "$s" 2>/dev/null &&
		    grep -q "^PPid:[[:space:]]*$1\$" "$s" 2>/dev/null; then
			p=${s#/proc/}; echo "${p%/status}"; return
		fi
	done
}
kib() { awk -v k="$1:" '$1 == k { print $2 }' "$2"; }
memory() {	# LABEL
	d=$(daemon_pid); b=$(broker_pid "$d")
	say "memory at=$1 MemTotal_kib=$(kib MemTotal /proc/meminfo)" \
	    "MemAvailable_kib=$(kib MemAvailable /proc/meminfo)" \
	    "daemon_VmRSS_kib=$(kib VmRSS "/proc/$d/status")" \
	    "daemon_VmHWM_kib=$(kib VmHWM "/proc/$d/status")" \
	    "broker_VmHWM_kib=$(kib VmHWM "/proc/$b/status")"
}
# The lowest MemAvailable while it runs, in $T/memlow (no fork per sample).
watch_memory() {
	low=999999999
	while [ ! -e "$T/memwatch.stop" ]; do
		while read -r k v _; do
			[ "$k" = MemAvailable: ] && break
		done </proc/meminfo
		if [ "$v" -lt "$low" ]; then low=$v; echo "$low" >"$T/memlow"; fi
		usleep 50000
	done
}

# --- 1. enclaved answers over vsock ------------------------------------
# Its retry notes (enclaved may not listen yet) go to stderr, apart from
# the answer.
ctl --retry 30 ping >"$T/ping" 2>"$T/ping.err" ||
	fail "ping: $(cat "$T/ping" "$T/ping.err")"
say "ready uptime_s=$(cut -d' ' -f1 /proc/uptime) answer=$(cat "$T/ping")"
flow=$(param flow all)
if [ "$flow" = probe ]; then
	say "probe ok"
	exit 0
fi
tr '\0' '\n' <"/proc/$(daemon_pid)/cmdline" >"$T/enclaved.cmd"
say "cmd $(tr '\n' ' ' <"$T/enclaved.cmd")"
memory started

# --- 2. the data owner's key: a TSK from the KMS stand-in ----------------
kmstool_enclave_cli genkey --key-id box --key-spec AES-256 \
	--region ap-southeast-1 --proxy-port 8000 --aws-access-key-id AKIDBOX \
	--aws-secret-access-key boxSecretKey0 --aws-session-token boxSessionToken0 \
	>"$T/genkey" 2>"$T/genkey.err" || fail "genkey: $(cat "$T/genkey.err")"
sed -n 's/^CIPHERTEXT: //p' "$T/genkey" >"$T/tsk.b64"
sed -n 's/^PLAINTEXT: //p' "$T/genkey" >"$T/key.b64"
if [ ! -s "$T/tsk.b64" ] || [ ! -s "$T/key.b64" ]; then
	fail "genkey printed no key"
fi

# --- 3. configure, seal, process, open (both framings) -------------------
AWS_ACCESS_KEY_ID=AKIDBOX AWS_SECRET_ACCESS_KEY=boxSecretKey0 \
AWS_SESSION_TOKEN=boxSessionToken0 ctl configure --tsk "$T/tsk.b64" \
	>"$T/configure" 2>&1 || fail "configure: $(cat "$T/configure")"
grep -q '"configured"' "$T/configure" || fail "configure: $(cat "$T/configure")"
say "configure ok answer=$(cat "$T/configure")"
memory configured
for framing in raw len; do
	[ "$flow" = max ] && break
	echo "sealed by the data owner, opened after the enclave ($framing)" >"$T/plain"
	enclavectl seal --key-file "$T/key.b64" --in "$T/plain" --out "$T/in.hex" ||
		fail "seal ($framing)"
	ctl --framing "$framing" process --in "$T/in.hex" --out "$T/out.hex" \
		>"$T/process" 2>&1 || fail "process ($framing): $(cat "$T/process")"
	enclavectl open --key-file "$T/key.b64" --in "$T/out.hex" --out "$T/opened" ||
		fail "open ($framing)"
	cmp -s "$T/plain" "$T/opened" || fail "roundtrip ($framing): the opened text differs"
	cmp -s "$T/in.hex" "$T/out.hex" && fail "roundtrip ($framing): the answer is the request"
	say "roundtrip framing=$framing ok bytes=$(wc -c <"$T/plain")"
done
ctl health >"$T/health" 2>&1 || fail "health: $(cat "$T/health")"
say "health $(cat "$T/health")"
# The same through enclave-gateway, as production's host side does: HTTP
# on the guest's loopback in, its pool of vsock connections out.
if [ "$flow" = all ]; then
	ip link set lo up
	AWS_ACCESS_KEY_ID=AKIDBOX AWS_SECRET_ACCESS_KEY=boxSecretKey0 \
	AWS_SESSION_TOKEN=boxSessionToken0 enclave-gateway --listen 127.0.0.1:8080 \
		--enclave "$EP" --tsk "$T/tsk.b64" --credentials env \
		--log-level warn 2>"$T/gateway.log" &
	gateway=$!
	GW=http://127.0.0.1:8080
	tries=0
	until wget -q -O "$T/healthz" "$GW/healthz" 2>/dev/null; do
		tries=$((tries + 1))
		[ "$tries" -lt 100 ] || fail "gateway: no healthy /healthz: $(cat "$T/gateway.log")"
		usleep 200000
	done
	echo "through the gateway" >"$T/plain"
	enclavectl seal --key-file "$T/key.b64" --in "$T/plain" --out "$T/in.hex" ||
		fail "seal (gateway)"
	wget -q -O "$T/gw.json" --header 'Content-Type: application/json' \
		--post-data "{\"ciphertext\":\"$(cat "$T/in.hex")\"}" "$GW/v1/process" ||
		fail "gateway: POST /v1/process failed: $(cat "$T/gateway.log")"
	sed -n 's/.*"result" *: *"\([0-9a-fA-F]*\)".*/\1/p' "$T/gw.json" >"$T/out.hex"
	enclavectl open --key-file "$T/key.b64" --in "$T/out.hex" --out "$T/opened" ||
		fail "open (gateway): $(cat "$T/gw.json")"
	cmp -s "$T/plain" "$T/opened" || fail "gateway: the opened text differs"
	# A malformed request is the enclave's verdict: 400, not a retry.
	wget -S -q -O /dev/null --header 'Content-Type: application/json' \
		--post-data '{"ciphertext":"zz"}' "$GW/v1/process" >"$T/gw.bad" 2>&1
	bad=$(sed -n 's/^ *HTTP\/1\.[01] \([0-9]*\).*/\1/p' "$T/gw.bad" | head -n 1)
	kill -TERM "$gateway"
	wait "$gateway"
	say "gateway roundtrip=ok bad_request_http=$bad exit=$?"
fi
# No NSM in the box: attest must say so, not fail some other way.
ctl attest >"$T/attest" 2>&1
say "attest status=$? answer=$(head -n 1 "$T/attest")"

# --- 4. a maximum-size message, and one byte more ------------------------
# Its RESULT line says whether it was processed (the test judges); the
# daemon must serve the next request either way.
max=$(cmd_option --max-message)
[ -n "$max" ] || fail "the image's CMD has no --max-message"
: >"$T/memlow"
rm -f "$T/memwatch.stop"
watch_memory &
watcher=$!
loadgen stream --connect "$EP" --key-file "$T/key.b64" --request-bytes "$max" \
	--label max-message
touch "$T/memwatch.stop"
wait "$watcher"
memory after-max-message
say "max-message bytes=$max MemAvailable_low_kib=$(cat "$T/memlow")"
ctl ping >"$T/ping" 2>&1 || fail "no ping after the maximum-size message: $(cat "$T/ping")"
say "after-max-message answer=$(cat "$T/ping")"
if [ "$flow" = max ]; then
	say "done"
	exit 0
fi
for framing in len raw; do
	loadgen stream --connect "$EP" --key-file "$T/key.b64" --framing "$framing" \
		--request-bytes $((max + 1)) --expect too_large --label "over-max-$framing" ||
		fail "a request one byte over --max-message ($framing) was not refused"
done

# --- 5. load over vsock: persistent and reconnecting, both framings -------
load_s=$(param load_s 3)
load() {	# LABEL ARGS...
	label=$1; shift
	loadgen run --connect "$EP" --key-file "$T/key.b64" --size 1024 \
		--duration "$load_s" --verify-every 1 --label "$label" "$@" ||
		fail "load $label"
}
load persistent-raw --conns 4
load persistent-len --conns 4 --framing len
load reconnect-raw --conns 2 --reconnect
load reconnect-len --conns 2 --reconnect --framing len

# --- 6. a slow client does not hold up the others --------------------------
# 4 KiB in 128-byte pieces 100 ms apart: over 3 s for one request, while
# two persistent connections keep asking.
loadgen stream --connect "$EP" --key-file "$T/key.b64" --request-bytes 4096 \
	--trickle 128:100 --label slow-client >"$T/slow" 2>&1 &
slow=$!
load beside-slow-client --conns 2
wait "$slow" || fail "slow client: $(cat "$T/slow")"
cat "$T/slow"

memory end
# What enclaved logged (to /run/enclaved.log): sandboxed, nothing wrong.
log=/run/enclaved.log
say "daemon-log seccomp=$(grep -c 'sandbox: seccomp allowlist loaded' "$log")" \
    "errors=$(grep -c ' ERROR ' "$log")" "served=$(grep -c ' -> ok ' "$log")"
say "done"
