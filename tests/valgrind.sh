#!/usr/bin/env bash
# tests/valgrind.sh - a short integration scenario against enclaved running
# under valgrind memcheck; fails on any memcheck error or definite leak.
#
#   tests/valgrind.sh                 # uses BUILD_DIR or ./build
#   BUILD_DIR=/path/to/build tests/valgrind.sh
#   KEEP=1 tests/valgrind.sh          # keep the logs (printed at the end)
#
# What runs: enclaved (the plain -O2 -g build, not the ASan one: the two
# tools do not mix) under
#   valgrind --leak-check=full --error-exitcode=99 --track-fds=no
# with --no-sandbox: valgrind makes system calls of its own (it opens and
# maps files, reads /proc) that the seccomp allowlist refuses, so the
# filter is off here and covered by the other suites instead. The KMS broker
# is a fork of the daemon and is checked too (valgrind follows forks; each
# process writes its own log); the KMS tool it spawns runs natively.
#
# Scenario (tests/integration/helpers/harness.py does the protocol): ping,
# health, configure with a `kmstool-dev genkey` key, process in both
# framings with and without aad, a failed configure, bad requests of every
# kind (malformed JSON, wrong types, bad hex, tampered tag, wrong aad, NUL,
# too large, truncated, a length prefix that lies, a reset mid-message),
# 20 concurrent clients, then SIGTERM. Pass: the daemon exits 0 (not 99),
# the daemon's and the broker's logs say "ERROR SUMMARY: 0 errors" and
# show no "definitely lost" bytes (0, or "no leaks are possible").
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$(cd "${BUILD_DIR:-$root/build}" && pwd)"
python="${PYTHON:-/usr/bin/python3}"

for b in enclaved kmstool-dev; do
	if [ ! -x "$build/$b" ]; then
		echo "valgrind.sh: $build/$b is not built (make)" >&2
		exit 2
	fi
done
if ! command -v valgrind >/dev/null; then
	echo "valgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2
	exit 2
fi
if grep -q __asan_init "$build/enclaved"; then
	echo "valgrind.sh: $build/enclaved is an ASan build; use the plain one" >&2
	exit 2
fi

out="$(mktemp -d /tmp/enclaved-valgrind.XXXXXX)"
cleanup() {
	if [ -n "${vpid:-}" ] && kill -0 "$vpid" 2>/dev/null; then
		kill -KILL "$vpid" 2>/dev/null || true
	fi
	if [ "${KEEP:-0}" = 1 ] || [ "${failed:-1}" = 1 ]; then
		echo "valgrind.sh: logs kept in $out"
	else
		rm -rf "$out"
	fi
}
trap cleanup EXIT

port="$("$python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
start=$(date +%s)

valgrind --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite --error-exitcode=99 \
    --child-silent-after-fork=no --log-file="$out/valgrind.%p.log" \
    "$build/enclaved" --listen "tcp:127.0.0.1:$port" --no-sandbox \
    --kmstool "$build/kmstool-dev" --read-timeout 3 --idle-timeout 10 \
    --kms-timeout 20 --max-message 65536 --threads 2 \
    >"$out/enclaved.log" 2>&1 &
vpid=$!

# Valgrind starts slowly: up to 60 s for the listener.
for _ in $(seq 600); do
	grep -q "listening on tcp:127.0.0.1:$port" "$out/enclaved.log" && break
	if ! kill -0 "$vpid" 2>/dev/null; then
		echo "valgrind.sh: enclaved exited before listening:" >&2
		tail -30 "$out/enclaved.log" >&2
		exit 1
	fi
	sleep 0.1
done
grep -q "listening on tcp:127.0.0.1:$port" "$out/enclaved.log" || {
	echo "valgrind.sh: no listener after 60 s" >&2; exit 1; }

BUILD_DIR="$build" PYTHONPATH="$root/tests/integration" \
    "$python" - "tcp:127.0.0.1:$port" <<'EOF'
import socket, struct, sys, threading, time
from helpers.harness import Conn, genkey, seal, open_sealed, CREDS

ep = sys.argv[1]
T = 30.0    # everything is ~20x slower under memcheck

def req(msg, framing="bare"):
    with Conn(ep, timeout=T) as c:
        return c.request(msg, framing, timeout=T)

def raw(data, framing="bare"):
    with Conn(ep, timeout=T) as c:
        c.send_raw(data)
        return c.recv_reply(framing, timeout=T)

assert req({"type": "ping"})["msg"] == "pong"
assert req({"type": "health"}, "len")["status"] == "healthy"
tsk, key = genkey()
r = req(dict({"type": "configure", "encrypted_tsk": tsk}, **CREDS))
assert r["status"] == "ok", r
for aad in (None, "wf-1"):
    for framing in ("bare", "len"):
        ct = seal(key, b"hello valgrind " * 40, aad)
        m = {"type": "process", "ciphertext": ct}
        if aad:
            m["aad"] = aad
        r = req(m, framing)
        assert open_sealed(key, r["result"], aad) == b"hello valgrind " * 40
r = req(dict({"type": "configure", "encrypted_tsk": "bm90IGEgYmxvYg=="}, **CREDS))
assert r["msg"] == "kms_decrypt_failed", r

good = seal(key, b"x" * 64, "wf")
tampered = bytearray(bytes.fromhex(good)); tampered[-1] ^= 1
bad = [
    b'{"type":"ping",}', b'{"type":5}', b'{"type":"nope"}', b"{}",
    b'{"type":"process"}', b'{"type":"process","ciphertext":"abc"}',
    b'{"type":"process","ciphertext":"' + b"zz" * 40 + b'"}',
    b'{"type":"process","ciphertext":"' + good.encode() + b'","aad":"other"}',
    b'{"type":"process","ciphertext":"' + tampered.hex().encode() + b'","aad":"wf"}',
    b'{"type":"process","ciphertext":"' + b"00" * 27 + b'"}',
    rb'{"type":"ping\u0000"}',
    b'{"type":"configure","encrypted_tsk":1}',
    b'{"type":"ping","x":' + b"[" * 3000 + b"]" * 3000 + b"}",
]
with Conn(ep, timeout=T) as c:
    for b in bad:
        c.send_raw(b)
        assert c.recv_bare(timeout=T)["status"] == "error"
    c.send_len(b"[1]")
    assert c.recv_len(timeout=T)["msg"] == "invalid_json"
# too large (refused, closed), a lying prefix, truncated, reset
r = raw(struct.pack(">I", 0xFFFFFFFF) + b"{}", "len")
assert r["msg"] == "too_large", r
with Conn(ep, timeout=T) as c:
    c.send_raw(struct.pack(">I", 1000) + b'{"type":')
    c.shutdown_write()
    assert c.wait_closed(timeout=T)
with Conn(ep, timeout=T) as c:
    c.send_raw(b'{"type":"pi')
    c.shutdown_write()
    assert c.wait_closed(timeout=T)
host, port = ep[4:].rsplit(":", 1)
s = socket.create_connection((host, int(port)))
s.sendall(b'{"type":"process","ciphertext":"00')
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
with Conn(ep, timeout=T) as c:   # cut off by --read-timeout
    c.send_raw(b'{"type":')
    assert c.wait_closed(timeout=T)

errors = []
def client(i):
    try:
        for j in range(5):
            ct = seal(key, b"client %d msg %d" % (i, j))
            r = req({"type": "process", "ciphertext": ct}, "len" if i % 2 else "bare")
            assert open_sealed(key, r["result"]) == b"client %d msg %d" % (i, j)
    except Exception as e:
        errors.append(repr(e))
ts = [threading.Thread(target=client, args=(i,)) for i in range(20)]
for t in ts: t.start()
for t in ts: t.join()
assert not errors, errors
# configure again: the old key is freed
assert req(dict({"type": "configure", "encrypted_tsk": tsk}, **CREDS))["status"] == "ok"
assert req({"type": "ping"})["msg"] == "pong"
print("scenario passed")
EOF

kill -TERM "$vpid"
set +e
wait "$vpid"
status=$?
set -e
vpid=""
elapsed=$(( $(date +%s) - start ))

failed=0
if [ "$status" -ne 0 ]; then
	echo "valgrind.sh: enclaved exited $status under valgrind (99: memcheck errors)"
	failed=1
fi
# The broker exits after the daemon closes its channel: give it a moment.
sleep 1
# One log per process: the daemon, the KMS broker (a fork), and the
# fork-then-exec of each KMS tool (which valgrind stops following at the
# exec: no summary in those).
checked=0
for log in "$out"/valgrind.*.log; do
	[ -e "$log" ] || continue
	grep -q "ERROR SUMMARY:" "$log" || continue
	checked=$((checked + 1))
	if ! grep -q "ERROR SUMMARY: 0 errors" "$log" ||
	    grep -qE "definitely lost: [1-9]" "$log"; then
		echo "valgrind.sh: memcheck complaints in $log:"
		cat "$log"
		failed=1
	else
		echo "valgrind.sh: $(basename "$log"): $(grep -E "definitely lost|no leaks are possible" "$log" | sed 's/^==[0-9]*== *//' | head -1); $(grep "ERROR SUMMARY" "$log" | sed 's/^==[0-9]*== *//')"
	fi
done
if [ "$checked" -lt 2 ]; then
	echo "valgrind.sh: expected summaries of the daemon and its broker, got $checked"
	failed=1
fi
echo "valgrind.sh: $checked process summaries, daemon exit $status, ${elapsed}s in all"
if [ "$failed" -ne 0 ]; then
	echo "valgrind.sh: FAILED"
	exit 1
fi
echo "valgrind.sh: no memcheck errors, nothing definitely lost"
