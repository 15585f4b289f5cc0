#!/usr/bin/env bash
# bench/run.sh BUILD_DIR - what `make bench` runs (see docs/bench.md).
#
# Everything over TCP loopback on this machine: enclaved with kmstool-dev,
# the C load generator, and the Python baseline of the original design,
# the same workloads against both, BENCH_RUNS rounds; then one table of
# medians (bench/report.py) with the issue's targets marked.
#
# Environment:
#   BENCH_RUNS=3          rounds (medians over them)
#   BENCH_DURATION=2      seconds per workload (16 MiB ones run at least
#                         two requests)
#   BENCH_THREADS=1       enclaved --threads (W1@N, W2@N run with 2, or 1)
#   BENCH_DAEMON_FLAGS=   extra enclaved flags
#   BENCH_KEEP=1          keep the work directory (raw results)
#   PYTHON=/usr/bin/python3  interpreter for the baseline and the report
set -euo pipefail

BUILD=$(cd "${1:-build}" && pwd)
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON:-/usr/bin/python3}
RUNS=${BENCH_RUNS:-3}
DUR=${BENCH_DURATION:-2}
THREADS=${BENCH_THREADS:-1}
# W1 and W2 also run on a daemon with the other thread count (1 or 2).
OTHER_THREADS=$([ "$THREADS" = 1 ] && echo 2 || echo 1)
read -r -a DFLAGS <<<"${BENCH_DAEMON_FLAGS:-}"
LG=$BUILD/bench/loadgen
TICK=$(getconf CLK_TCK)

umask 077
work=$(mktemp -d /tmp/enclave-bench.XXXXXX)
RESULTS=$work/results.txt
started_pids=""

# Stop only what this script started, by pid.
cleanup() {
	local p
	for p in $started_pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $started_pids; do
		wait "$p" 2>/dev/null || true
	done
	if [ "${BENCH_KEEP:-0}" = 1 ]; then
		echo "raw results kept in $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() { echo "bench: $*" >&2; exit 1; }
note() { printf '%s\n' "$*" >&2; }

for f in "$BUILD/enclaved" "$BUILD/kmstool-dev" "$LG"; do
	[ -x "$f" ] || fail "$f is missing: run make first"
done
"$PY" -c 'import cryptography' 2>/dev/null ||
	fail "$PY lacks cryptography (apt-get install python3-cryptography)"

free_port() {
	"$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# Running, and not a zombie waiting for us to reap it.
alive() {
	kill -0 "$1" 2>/dev/null &&
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != Z ]
}
kb() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
children_rss() {
	local c total=0
	for c in $(cat "/proc/$1/task/"*/children 2>/dev/null); do
		total=$((total + $(kb "$c" VmRSS 2>/dev/null || echo 0)))
	done
	echo "$total"
}

# --- the key: kmstool-dev plays KMS's GenerateDataKey ---------------------
"$BUILD/kmstool-dev" genkey --key-id bench --key-spec AES-256 \
	--region ap-southeast-1 --proxy-port 8000 --aws-access-key-id A \
	--aws-secret-access-key S --aws-session-token T \
	>"$work/genkey.out" 2>"$work/genkey.err" ||
	fail "kmstool-dev genkey failed: $(cat "$work/genkey.err")"
CIPHERTEXT=$(sed -n 's/^CIPHERTEXT: //p' "$work/genkey.out")
sed -n 's/^PLAINTEXT: //p' "$work/genkey.out" >"$work/key"
rm -f "$work/genkey.out"
[ -n "$CIPHERTEXT" ] && [ -s "$work/key" ] ||
	fail "kmstool-dev genkey printed no CIPHERTEXT/PLAINTEXT"
CONFIGURE="{\"type\":\"configure\",\"encrypted_tsk\":\"$CIPHERTEXT\",\
\"aws_access_key_id\":\"A\",\"aws_secret_access_key\":\"S\",\
\"aws_session_token\":\"T\"}"

# --- servers -------------------------------------------------------------
SPID="" EP=""

wait_ready() {
	local i
	for i in $(seq 1 100); do
		alive "$SPID" ||
			fail "$1 exited at startup: $(tail -5 "$work/server.err")"
		"$LG" send --connect "$EP" '{"type":"ping"}' 2>/dev/null |
			grep -q pong && return 0
		sleep 0.05
	done
	fail "$1 did not answer ping"
}

start_daemon() {	# threads
	local port
	port=$(free_port)
	EP=tcp:127.0.0.1:$port
	"$BUILD/enclaved" --listen "$EP" --kmstool "$BUILD/kmstool-dev" \
		--log-level warn --threads "$1" ${DFLAGS[@]+"${DFLAGS[@]}"} \
		2>>"$work/server.err" &
	SPID=$!
	started_pids="$started_pids $SPID"
	wait_ready enclaved
	"$LG" send --connect "$EP" "$CONFIGURE" >"$work/configure.out" ||
		fail "configure: no answer"
	grep -q '"configured"' "$work/configure.out" ||
		fail "configure failed: $(cat "$work/configure.out")"
	alive "$SPID" ||
		fail "enclaved died after configure: $(tail -5 "$work/server.err")"
	sleep 0.2	# let the KMS helper exit and the daemon settle
}

start_baseline() {
	local port
	port=$(free_port)
	EP=tcp:127.0.0.1:$port
	"$PY" "$HERE/original-design-baseline/server.py" --listen "127.0.0.1:$port" \
		--key-file "$work/key" >/dev/null 2>>"$work/server.err" &
	SPID=$!
	started_pids="$started_pids $SPID"
	wait_ready baseline
}

stop_server() {
	kill "$SPID" 2>/dev/null || true
	wait "$SPID" 2>/dev/null || true
	started_pids=${started_pids/ $SPID/}
	SPID=""
}

# Record a fact about the server: server=... round=... key=value ...
fact() { echo "FACT $*" >>"$RESULTS"; }

# --- workloads -----------------------------------------------------------
# name: loadgen arguments. The baseline answers one request per connection
# (the original design), so it runs every workload with --reconnect.
workload_args() {
	case $1 in
	W1) echo "--size 1024 --conns 4 --reconnect --warmup 0.25" ;;
	W2) echo "--size 1024 --conns 4 --warmup 0.25" ;;
	W3) echo "--size 1048576 --conns 1 --min-requests 3 --warmup-requests 1" ;;
	W4) echo "--size 16777216 --conns 1 --min-requests 2 --verify-every 2 --warmup-requests 1" ;;
	W5) echo "--size 4096 --conns 64 --warmup 0.25" ;;
	esac
}

run_workload() {	# server round label workload [threads]
	local server=$1 round=$2 label=$3 w=$4 threads=${5:-} args c0 c1 out
	read -r -a args <<<"$(workload_args "$w")"
	[ "$server" = baseline ] && args+=(--reconnect)
	c0=$(cpu_ticks "$SPID")
	if ! out=$("$LG" run --connect "$EP" --key-file "$work/key" \
	    --duration "$DUR" --label "$label" "${args[@]}" 2>"$work/lg.err"); then
		note "bench: $server $label failed verification or had errors:"
		note "  $out"
		sed 's/^/  /' "$work/lg.err" >&2
		if alive "$SPID"; then
			echo "FAILED server=$server round=$round label=$label" \
			    "why=errors" >>"$RESULTS"
			return 0
		fi
		# The server died: say how, and start a fresh one for the rest.
		local st=0
		wait "$SPID" 2>/dev/null || st=$?
		started_pids=${started_pids/ $SPID/}
		note "bench: $server died during $label (exit status $st)" \
		    "$( [ "$st" -gt 128 ] && echo "= signal $((st - 128))")"
		tail -3 "$work/server.err" | sed 's/^/  /' >&2
		echo "FAILED server=$server round=$round label=$label" \
		    "why=server-died-status-$st" >>"$RESULTS"
		if [ "$server" = baseline ]; then start_baseline
		else start_daemon "${threads:-$THREADS}"; fi
		return 0
	fi
	c1=$(cpu_ticks "$SPID" 2>/dev/null || echo nan)
	# A server that answered everything but died after (e.g. as the
	# connections closed) fails the workload too.
	sleep 0.2
	alive "$SPID" || c1=nan
	echo "$out server=$server round=$round threads=$threads" \
	    "server_cpu=$(awk -v a="$c0" -v b="$c1" -v t="$TICK" \
	    'BEGIN { if (b == "nan") print "nan"; else printf "%.3f", (b - a) / t }')" >>"$RESULTS"
	note "  $server $label: $(echo "$out" | grep -o 'rps=[^ ]* mbps=[^ ]* p50_us=[^ ]* p99_us=[^ ]*')"
	if ! alive "$SPID"; then
		local st=0
		wait "$SPID" 2>/dev/null || st=$?
		started_pids=${started_pids/ $SPID/}
		note "bench: $server died after $label (exit status $st)" \
		    "$( [ "$st" -gt 128 ] && echo "= signal $((st - 128))")"
		echo "FAILED server=$server round=$round label=$label" \
		    "why=server-died-after-status-$st" >>"$RESULTS"
		if [ "$server" = baseline ]; then start_baseline
		else start_daemon "${threads:-$THREADS}"; fi
	fi
}

echo "FACT server=machine loadavg_start=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" >>"$RESULTS"
note "bench: $RUNS round(s), ${DUR}s per workload, enclaved --threads $THREADS${DFLAGS[*]+ ${DFLAGS[*]}}"
for round in $(seq 1 "$RUNS"); do
	note "round $round/$RUNS"

	# A fresh daemon: idle RSS, then W4 alone, so VmHWM is the 16 MiB peak.
	start_daemon "$THREADS"
	fact server=enclaved round="$round" idle_rss_kb="$(kb "$SPID" VmRSS)" \
	    idle_children_rss_kb="$(children_rss "$SPID")"
	run_workload enclaved "$round" W4 W4 "$THREADS"
	fact server=enclaved round="$round" peak_rss_kb="$(kb "$SPID" VmHWM)" \
	    after_rss_kb="$(kb "$SPID" VmRSS)"
	stop_server

	start_daemon "$THREADS"
	for w in W1 W2 W3 W5; do
		run_workload enclaved "$round" "$w" "$w" "$THREADS"
	done
	fact server=enclaved round="$round" \
	    after_load_rss_kb="$(kb "$SPID" VmRSS)"
	stop_server

	start_daemon "$OTHER_THREADS"
	run_workload enclaved "$round" "W1@$OTHER_THREADS" W1 "$OTHER_THREADS"
	run_workload enclaved "$round" "W2@$OTHER_THREADS" W2 "$OTHER_THREADS"
	stop_server

	start_baseline
	fact server=baseline round="$round" idle_rss_kb="$(kb "$SPID" VmRSS)"
	run_workload baseline "$round" W4 W4
	fact server=baseline round="$round" peak_rss_kb="$(kb "$SPID" VmHWM)"
	for w in W1 W2 W3 W5; do
		run_workload baseline "$round" "$w" "$w"
	done
	stop_server
done

# The machine's limit: one core of AES-256-GCM on 16 KiB blocks.
openssl speed -evp aes-256-gcm -bytes 16384 -seconds 1 2>/dev/null |
	awk '/^AES-256-GCM/ { sub(/k$/, "", $2); print "FACT server=openssl aes_gcm_kbps=" $2 }' \
	>>"$RESULTS" || true

echo "FACT server=machine loadavg_end=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" >>"$RESULTS"
echo "FACT server=machine nproc=$(nproc) cpu=\"$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)\" duration=$DUR runs=$RUNS threads=$THREADS" >>"$RESULTS"
"$PY" "$HERE/report.py" "$RESULTS"
