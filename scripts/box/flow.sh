#!/usr/bin/busybox sh
# flow.sh - the box's test flow, inside the guest (docs/box.md).
#
# The box's init (src/box/init.c) runs this when the kernel command line
# says box.run=/box/flow.sh, after starting enclaved with the image's CMD;
# when it exits, the box powers off. Everything here is the host's side,
# in the same guest: enclavectl, the load generator and kmstool-dev reach
# enclaved over AF_VSOCK at CID 1 (VMADDR_CID_LOCAL, the loopback
# transport), port 5000, the same socket calls as from CID 3 on Nitro.
#
# Every result is one console line: `BOX NAME key=value ...`, or the load
# generator's own `RESULT ...` line; `BOX done` last. tests/box/test_box.py
# reads them. box.flow=probe (run.sh --accel auto) stops after one ping.
set -u
/usr/bin/busybox mkdir -p /box/bin
/usr/bin/busybox --install -s /box/bin
export PATH=/box/bin:/usr/bin
EP=vsock:1:5000

say() { echo "BOX $*"; }
fail() { say "FAIL $*"; exit 1; }

enclavectl --enclave "$EP" --retry 30 ping >/tmp/ping.out 2>&1 ||
	fail "ping: $(cat /tmp/ping.out)"
say "ready uptime_s=$(cut -d' ' -f1 /proc/uptime) answer=$(cat /tmp/ping.out)"
if grep -q 'box.flow=probe' /proc/cmdline; then
	say "probe ok"
	exit 0
fi
say done
