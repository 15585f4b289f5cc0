#!/usr/bin/env bash
# bench/profile.sh run|perf|callgrind W1..W5|W3R|W4R [BUILD_DIR] - where
# enclaved's time goes under one workload (see docs/bench.md, "What bounds
# each workload"). W3R, W4R: W3 and W4 with a connection per request.
#
#   run        no profiler: the loadgen's RESULT line, then the daemon's CPU
#              time and minor page faults during the run (/proc/PID/stat).
#   perf       perf record -e cpu-clock -g on the daemon (all threads, kernel
#              included) while the load generator runs BENCH_DURATION s;
#              prints the flat profile by DSO and by symbol.
#   callgrind  the daemon under valgrind --tool=callgrind, --threads 1, a
#              short run; prints instructions per function. Divide by the
#              request count the loadgen prints for instructions/request.
#
# Extra daemon flags: BENCH_DAEMON_FLAGS (e.g. --no-sandbox: callgrind and
# perf both need it while the seccomp filter refuses their calls).
set -euo pipefail
tool=${1:?run, perf or callgrind}
w=${2:?W1..W5}
BUILD=$(cd "${3:-build}" && pwd)
PY=${PYTHON:-/usr/bin/python3}
DUR=${BENCH_DURATION:-2}
read -r -a DFLAGS <<<"${BENCH_DAEMON_FLAGS:-}"
LG=$BUILD/bench/loadgen
work=$(mktemp -d /tmp/enclave-profile.XXXXXX)
out=${PROFILE_OUT:-$work}
dpid="" ppid=""
cleanup() {
	[ -n "$ppid" ] && kill -INT "$ppid" 2>/dev/null && wait "$ppid" 2>/dev/null
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[ "$out" = "$work" ] || rm -rf "$work"
	true
}
trap cleanup EXIT

case $w in
W1) args=(--size 1024 --conns 4 --reconnect) ;;
W2) args=(--size 1024 --conns 4) ;;
W3) args=(--size 1048576 --conns 1 --min-requests 3 --warmup-requests 1) ;;
W4) args=(--size 16777216 --conns 1 --min-requests 3 --warmup-requests 1) ;;
W3R) args=(--size 1048576 --conns 1 --min-requests 3 --warmup-requests 1 --reconnect) ;;
W4R) args=(--size 16777216 --conns 1 --min-requests 3 --warmup-requests 1 --reconnect) ;;
W5) args=(--size 4096 --conns 64) ;;
*) echo "unknown workload $w" >&2; exit 2 ;;
esac

"$BUILD/kmstool-dev" genkey --key-id bench --key-spec AES-256 \
	--region ap-southeast-1 --proxy-port 8000 --aws-access-key-id A \
	--aws-secret-access-key S --aws-session-token T \
	>"$work/genkey.out" 2>/dev/null
ct=$(sed -n 's/^CIPHERTEXT: //p' "$work/genkey.out")
sed -n 's/^PLAINTEXT: //p' "$work/genkey.out" >"$work/key"
port=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
ep=tcp:127.0.0.1:$port
threads=${BENCH_THREADS:-1}
wrap=()
if [ "$tool" = callgrind ]; then
	threads=1
	wrap=(valgrind --tool=callgrind "--callgrind-out-file=$out/callgrind.out")
fi
"${wrap[@]}" "$BUILD/enclaved" --listen "$ep" --kmstool "$BUILD/kmstool-dev" \
	--log-level warn --threads "$threads" ${DFLAGS[@]+"${DFLAGS[@]}"} \
	2>"$work/daemon.err" &
dpid=$!
for _ in $(seq 1 100); do
	"$LG" send --connect "$ep" '{"type":"ping"}' 2>/dev/null | grep -q pong && break
	sleep 0.1
done
"$LG" send --connect "$ep" "{\"type\":\"configure\",\"encrypted_tsk\":\"$ct\",\
\"aws_access_key_id\":\"A\",\"aws_secret_access_key\":\"S\",\
\"aws_session_token\":\"T\"}" | grep -q configured || {
	echo "configure failed" >&2; cat "$work/daemon.err" >&2; exit 1; }
if [ "$tool" = perf ]; then
	perf record -q -e cpu-clock -F 4999 -g -p "$dpid" -o "$out/perf.data" \
		2>/dev/null &
	ppid=$!
	sleep 0.3
fi
# utime+stime (fields 14, 15) and minor faults (field 10) of the daemon
stat_of() { awk '{ print $10, $14 + $15 }' "/proc/$dpid/stat"; }
read -r flt0 cpu0 <<<"$(stat_of)"
"$LG" run --connect "$ep" --key-file "$work/key" --duration "$DUR" "${args[@]}"
read -r flt1 cpu1 <<<"$(stat_of)"
if [ "$tool" = run ]; then
	echo "daemon: cpu_ticks=$((cpu1 - cpu0)) (of $(getconf CLK_TCK)/s)" \
	    "minor_faults=$((flt1 - flt0))"
	kill "$dpid"; wait "$dpid" || true; dpid=""
elif [ "$tool" = perf ]; then
	kill -INT "$ppid"; wait "$ppid" || true; ppid=""
	kill "$dpid"; wait "$dpid" || true; dpid=""
	perf report -i "$out/perf.data" --no-children --sort dso -g none \
		--stdio 2>/dev/null | grep '%' | head -8
	perf report -i "$out/perf.data" --no-children --sort dso,sym -g none \
		--stdio 2>/dev/null | grep '%' | head -"${TOP:-30}"
else
	kill -INT "$dpid"; wait "$dpid" || true; dpid=""
	callgrind_annotate --inclusive=no "$out/callgrind.out" 2>/dev/null |
		sed -n '/PROGRAM TOTALS/,/^-- Auto/p' | head -"${TOP:-30}"
fi
[ "$tool" = run ] || echo "profile data in $out" >&2
