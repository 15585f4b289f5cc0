#!/usr/bin/env bash
# gateway-bench.sh - requests/s through enclave-gateway (docs/bench.md,
# "enclave-gateway"). Not a test: it prints a table and exits.
#
#   bench/gateway-bench.sh [BUILD_DIR]      (default: build)
#   make bench-gateway
#
# Starts, on loopback, ENCLAVES enclaved (kmstool-dev, echo step) and one
# gateway in front of them configured from the environment, seals one
# PAYLOAD-byte record as the data owner, then runs wrk (POST /v1/process,
# keep-alive) for DURATION seconds at each client count in CLIENTS.
# Everything it starts is stopped on exit.
set -euo pipefail

BUILD=${1:-build}
ENCLAVES=${ENCLAVES:-2}
CONNS=${CONNS:-4}                 # --connections-per-enclave
CLIENTS=${CLIENTS:-"1 4 16 64"}
DURATION=${DURATION:-5}
PAYLOAD=${PAYLOAD:-1024}
THREADS=${THREADS:-2}             # wrk threads
PORT_BASE=${PORT_BASE:-17400}

command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
work=$(mktemp -d /tmp/gwbench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

export AWS_ACCESS_KEY_ID=AKIABENCH AWS_SECRET_ACCESS_KEY=benchSecret0 AWS_SESSION_TOKEN=benchToken0
"$BUILD/kmstool-dev" genkey --key-id bench --key-spec AES-256 --region r --proxy-port 8000 \
	--aws-access-key-id A --aws-secret-access-key S --aws-session-token T >"$work/key.txt" 2>/dev/null
sed -n 's/^CIPHERTEXT: *//p' "$work/key.txt" >"$work/tsk.b64"
sed -n 's/^PLAINTEXT: *//p' "$work/key.txt" >"$work/key.b64"
head -c "$PAYLOAD" /dev/urandom | "$BUILD/enclavectl" seal --key-file "$work/key.b64" >"$work/ct.hex"

enclaves=()
for i in $(seq 1 "$ENCLAVES"); do
	port=$((PORT_BASE + i))
	"$BUILD/enclaved" --listen "tcp:127.0.0.1:$port" --kmstool "$BUILD/kmstool-dev" \
		--log-level warn 2>"$work/enclaved-$i.log" &
	pids+=($!)
	enclaves+=(--enclave "tcp:127.0.0.1:$port")
done
gw_port=$PORT_BASE
sleep 0.3
"$BUILD/enclave-gateway" --listen "127.0.0.1:$gw_port" "${enclaves[@]}" --tsk "$work/tsk.b64" \
	--region r --connections-per-enclave "$CONNS" --queue 1024 --log-level warn \
	2>"$work/gateway.log" &
pids+=($!)
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$gw_port/healthz" >/dev/null && break
	sleep 0.05
done

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"ciphertext":"$(cat "$work/ct.hex")"}'
local bad = 0
response = function(status, headers, body)
	if status ~= 200 then bad = bad + 1 end
end
done = function(summary, latency, requests)
	io.write(string.format("RESULT %.0f %.2f %.2f %.2f %d %d\n",
		summary.requests / (summary.duration / 1e6),
		latency:percentile(50) / 1000, latency:percentile(99) / 1000,
		latency.max / 1000, summary.errors.status + summary.errors.connect +
		summary.errors.read + summary.errors.write + summary.errors.timeout,
		summary.requests))
end
LUA

echo "enclave-gateway: $ENCLAVES enclaved (echo, kmstool-dev), --connections-per-enclave $CONNS,"
echo "$PAYLOAD-byte records, wrk -t$THREADS, ${DURATION}s per row, $(nproc) CPUs, load average $(cut -d" " -f1-3 /proc/loadavg)"
printf '%8s %10s %9s %9s %9s %7s\n' clients req/s p50_ms p99_ms max_ms errors
for c in $CLIENTS; do
	t=$THREADS
	[ "$c" -lt "$t" ] && t=$c
	line=$(wrk -t"$t" -c"$c" -d"${DURATION}s" --latency -s "$work/post.lua" \
		"http://127.0.0.1:$gw_port/v1/process" | grep '^RESULT')
	read -r _ rps p50 p99 max errs total <<<"$line"
	printf '%8s %10s %9s %9s %9s %7s\n' "$c" "$rps" "$p50" "$p99" "$max" "$errs"
done
curl -s "http://127.0.0.1:$gw_port/metrics" | grep -E '^enclave_gateway_(requests_total|errors_total)' || true
