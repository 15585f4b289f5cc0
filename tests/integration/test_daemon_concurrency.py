"""
enclaved: many clients at once, the connection limit (`busy`), a slow KMS
call that delays nobody else, the atomic key swap.
"""

import select
import socket
import threading
import time

from helpers.harness import (CREDS, assert_error, len_frame, open_sealed,
                             parse_any, seal, to_bytes)

PING = {"type": "ping"}


def test_256_simultaneous_connections(configured_daemon):
    key = configured_daemon.key
    n = 256
    conns = [configured_daemon.connect(timeout=15) for _ in range(n)]
    try:
        expected = []
        for i, c in enumerate(conns):           # all open before any request
            if i % 2:
                pt = b"conn-%d" % i
                msg = {"type": "process", "ciphertext": seal(key, pt)}
                expected.append(pt)
            else:
                msg = PING
                expected.append(None)
            framing = "bare" if i % 4 < 2 else "len"
            c.send_raw(to_bytes(msg) if framing == "bare" else len_frame(msg))
        for i, c in enumerate(conns):
            resp = c.recv_any(timeout=15)
            if expected[i] is None:
                assert resp["msg"] == "pong", (i, resp)
            else:
                assert resp["status"] == "ok", (i, resp)
                assert open_sealed(key, resp["result"]) == expected[i]
        # and every one of them is still usable
        for c in conns[::17]:
            assert c.request(PING)["msg"] == "pong"
    finally:
        for c in conns:
            c.close()


def test_256_concurrent_clients_threads(configured_daemon):
    key = configured_daemon.key
    errors = []
    barrier = threading.Barrier(256, timeout=20)

    def client(i):
        try:
            with configured_daemon.connect(unix=bool(i % 2), timeout=20) as c:
                barrier.wait()
                for j in range(3):
                    pt = b"%d-%d" % (i, j)
                    resp = c.request({"type": "process", "ciphertext": seal(key, pt)},
                                     "len" if j % 2 else "bare", timeout=20)
                    assert open_sealed(key, resp["result"]) == pt
        except Exception as e:                      # noqa: BLE001
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(256)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors[:5]


def _read_all(sock, timeout):
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            return data, True
        if not chunk:
            return data, True
        data += chunk


def test_busy_past_connection_limit(start_daemon):
    d = start_daemon("--max-connections", "4")
    held = [d.connect() for _ in range(4)]
    try:
        for c in held:                              # all 4 accepted and served
            assert c.request(PING)["msg"] == "pong"
        extra = socket.create_connection(("127.0.0.1", int(d.tcp.rsplit(":", 1)[1])),
                                         timeout=5)
        data, closed = _read_all(extra, 5)
        extra.close()
        assert closed
        assert_error(parse_any(data), "busy")
        # the held connections are unaffected
        for c in held:
            assert c.request(PING, "len")["msg"] == "pong"
        # a freed slot is usable again
        held.pop().close()
        deadline = time.monotonic() + 3
        while True:
            with d.connect() as c:
                try:
                    c.send_bare(PING)
                    resp = c.recv_any(timeout=3)
                except Exception:                   # noqa: BLE001
                    resp = {}
            if resp.get("msg") == "pong":
                break
            assert time.monotonic() < deadline, "slot not freed: %r" % resp
            time.sleep(0.1)
    finally:
        for c in held:
            c.close()


def test_busy_counts_unix_and_tcp_together(start_daemon):
    d = start_daemon("--max-connections", "2")
    a, b = d.connect(), d.connect(unix=True)
    try:
        assert a.request(PING)["msg"] == "pong"
        assert b.request(PING)["msg"] == "pong"
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(d.unix.split(":", 1)[1])
        data, closed = _read_all(s, 5)
        s.close()
        assert closed
        assert_error(parse_any(data), "busy")
    finally:
        a.close()
        b.close()


def test_configure_stuck_in_kms_tool_does_not_delay_others(start_daemon, fake_kms):
    d = start_daemon("--kms-timeout", "10", kmstool=fake_kms.path)
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    calls_before = fake_kms.calls()
    result = {}

    def slow():
        t0 = time.monotonic()
        result["resp"] = d.configure(fake_kms.token("slow-key2"), timeout=15)
        result["took"] = time.monotonic() - t0

    t = threading.Thread(target=slow)
    t.start()
    # wait until the tool is running
    deadline = time.monotonic() + 3
    while fake_kms.calls() == calls_before:
        assert time.monotonic() < deadline, "slow configure never ran the tool"
        time.sleep(0.02)
    try:
        for i in range(5):
            t0 = time.monotonic()
            assert d.request(PING, "len" if i % 2 else "bare")["msg"] == "pong"
            h = d.request({"type": "health"})
            assert h["configured"] is True
            pt = b"during slow configure %d" % i
            resp = d.process(seal(fake_kms.K1, pt))
            assert resp["status"] == "ok", resp
            assert open_sealed(fake_kms.K1, resp["result"]) == pt
            took = time.monotonic() - t0
            assert took < 0.75, "requests took %.2f s while configure waited on KMS" % took
        assert t.is_alive(), "the slow configure finished too early for this test"
    finally:
        t.join(15)
    assert result["resp"]["status"] == "ok", result
    assert result["took"] >= fake_kms.SLOW_SECONDS - 0.2
    # now the new key is in use
    resp = d.process(seal(fake_kms.K2, b"k2"))
    assert open_sealed(fake_kms.K2, resp["result"]) == b"k2"
    assert_error(d.process(seal(fake_kms.K1, b"k1")), "decrypt_failed")


def test_key_swap_is_atomic_under_load(start_daemon, fake_kms):
    """Every process request decrypts and re-encrypts with one key: a result
    opens under the key its ciphertext was sealed with, never another."""
    d = start_daemon("--kms-timeout", "5", kmstool=fake_kms.path)
    assert d.configure(fake_kms.token("key1"))["status"] == "ok"
    keys = {"K1": fake_kms.K1, "K2": fake_kms.K2}
    stop = threading.Event()
    bad = []
    counts = {"ok": 0, "decrypt_failed": 0}
    lock = threading.Lock()

    def worker(w):
        with d.connect(timeout=10) as c:
            i = 0
            while not stop.is_set():
                name = "K1" if (i + w) % 2 else "K2"
                pt = b"w%d-%d" % (w, i)
                resp = c.request({"type": "process",
                                  "ciphertext": seal(keys[name], pt)},
                                 "bare" if i % 2 else "len")
                i += 1
                if resp.get("status") == "ok":
                    try:
                        assert open_sealed(keys[name], resp["result"]) == pt
                    except Exception as e:          # noqa: BLE001
                        bad.append((name, repr(e)))
                    with lock:
                        counts["ok"] += 1
                elif resp.get("msg") == "decrypt_failed":
                    with lock:
                        counts["decrypt_failed"] += 1
                else:
                    bad.append(resp)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    try:
        for j in range(10):
            mode = "key2" if j % 2 == 0 else "key1"
            assert d.configure(fake_kms.token(mode))["status"] == "ok"
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(10)
    assert not bad, bad[:5]
    assert counts["ok"] > 20 and counts["decrypt_failed"] > 0, counts


def test_slow_configure_pipelined_answers_stay_in_order(start_daemon, fake_kms):
    # "every request gets exactly one response, in order": a ping sent right
    # behind a configure that waits on KMS is answered after it
    d = start_daemon("--kms-timeout", "10", kmstool=fake_kms.path)
    cfg = {"type": "configure", "encrypted_tsk": fake_kms.token("slow-key2")}
    cfg.update(CREDS)
    pt = b"after the swap"
    with d.connect(timeout=10) as c:
        c.send_raw(to_bytes(cfg) + len_frame(PING) + to_bytes(
            {"type": "process", "ciphertext": seal(fake_kms.K2, pt)}))
        first = c.recv_bare(timeout=10)
        assert first.get("msg") == "configured", first
        assert c.recv_len()["msg"] == "pong"
        resp = c.recv_bare()
        assert resp["status"] == "ok", resp        # ran after the key swap
        assert open_sealed(fake_kms.K2, resp["result"]) == pt


def test_timeouts_do_not_cut_a_request_in_progress(start_daemon, fake_kms):
    # read and idle timeouts of 1 s; the configure takes 1.5 s inside the
    # daemon: the connection is neither reading a message nor idle
    d = start_daemon("--kms-timeout", "10", "--read-timeout", "1",
                     "--idle-timeout", "1", kmstool=fake_kms.path)
    with d.connect(timeout=10) as c:
        cfg = {"type": "configure", "encrypted_tsk": fake_kms.token("slow-key2")}
        cfg.update(CREDS)
        resp = c.request(cfg, "len", timeout=10)
        assert resp.get("msg") == "configured", resp
        assert c.request(PING)["msg"] == "pong"


def test_connection_limit_under_a_burst(start_daemon):
    limit, extra = 8, 12
    d = start_daemon("--max-connections", str(limit))
    conns = [d.connect(unix=bool(i % 3 == 0)) for i in range(limit + extra)]
    try:
        time.sleep(0.3)
        served, busy = 0, 0
        for c in conns:
            # a refused connection has its answer waiting without asking;
            # an accepted one says nothing until asked
            if _readable(c):
                assert_error(parse_any(c.read_until_closed(3)), "busy")
                busy += 1
            else:
                resp = c.request(PING)
                assert resp["msg"] == "pong", resp
                served += 1
        assert (served, busy) == (limit, extra)
    finally:
        for c in conns:
            c.close()


def _readable(c):
    r, _, _ = select.select([c.sock], [], [], 0)
    return bool(r)
