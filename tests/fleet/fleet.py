#!/usr/bin/python3
"""fleet.py - a fleet on this machine behind HAProxy, under faults.

    make fleet-test          # python3 tests/fleet/fleet.py
    make fleet-smoke         # python3 tests/fleet/fleet.py --smoke (CI)

Three parents (--parents), each an enclave-gateway in front of two enclaved
(--daemons) on loopback TCP, every daemon using build/kmstool-dev as its KMS
tool (so all of them open the same KMS blobs, as every parent's enclave
opens the same TSK), behind HAProxy run from deploy/haproxy/haproxy.cfg
(its `bind`, `server` and process lines replaced, nothing else). Client
threads put steady load on HAProxy, loopback only, bounded in count and
time, while the faults come one after another:

  kill -9 daemon      one daemon killed, started again 1 s later
  gateway restart     one gateway killed (-9), started again 1.5 s later
  image upgrade       every daemon restarted, one parent at a time, with
                      another option set standing for image B. The KMS
                      stand-in checks no measurement, so "the key policy
                      allows both images" is simulated until issue 22's
                      measured-image lifecycle lands.
  TSK rotation        v2.b64 added to every gateway's --tsk-dir, SIGHUP to
                      each; clients then send v2 records too
  HAProxy reload      SIGUSR2 to HAProxy's master (seamless reload)

The client retries exactly what README.md calls retryable: 502, 503, 504
(waiting Retry-After when given), never a 4xx, never a broken connection.
A quarter of the v1 records are sent without key_id, as README's curl and
Temporal examples do: they use the gateway's default key, v1, which must
stay the default when v2 is added (issue 24 item 1); every other request
names its key.
One record in 20 is tampered with on purpose; its documented answer is 422
decrypt_failed. A request is lost when it ends in anything else than 200
with a result that opens to its plaintext, or, for a tampered one, 422.

Exit status 0 when no request is lost; 1 otherwise (or when the fleet
cannot be set up); the table goes to stdout.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

from helpers.harness import (ENV_AWS, REGION, binary, clean_env,  # noqa: E402
                             free_tcp_port, genkey, open_sealed, seal)
from helpers.gateway import parse_metrics  # noqa: E402

HAPROXY_CFG = os.path.join(REPO, "deploy", "haproxy", "haproxy.cfg")
# Image B: another option set, standing for another build of the image.
IMAGE_A = []
IMAGE_B = ["--max-message", "33554432", "--read-timeout", "20"]
RETRYABLE = (502, 503, 504)


def log(msg):
    sys.stderr.write("fleet: %s\n" % msg)
    sys.stderr.flush()


def wait_for(cond, what, timeout=20.0):
    """Polls cond() until true; a fleet that does not recover in `timeout`
    is a failure of the run, not a slow machine to wait for forever."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise RuntimeError("timed out waiting for " + what)
        time.sleep(0.05)


class Proc:
    """A program started with its output in a log file, ready once the log
    says `ready`. Every one started is in Proc.all, so that a run that
    fails half-way still stops them all."""

    all = []

    def __init__(self, workdir, name, argv, ready, env=None):
        self.name, self.argv, self.ready, self.env = name, argv, ready, env
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None
        Proc.all.append(self)
        self.start()

    def start(self):
        self.offset = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        with open(self.log_path, "ab") as f:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=f,
                                         stderr=f, env=self.env or clean_env(),
                                         start_new_session=True)
        wait_for(lambda: self.ready in self.log() or self.died(), self.name + " to start")
        if self.proc.poll() is not None:
            raise RuntimeError("%s exited:\n%s" % (self.name, self.log()[-2000:]))

    def died(self):
        return self.proc.poll() is not None

    def log(self):
        with open(self.log_path, "rb") as f:
            f.seek(self.offset)
            return f.read().decode("utf-8", "replace")

    def send(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        self.send(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Daemon(Proc):
    def __init__(self, workdir, name, image):
        self.port = free_tcp_port()
        self.endpoint = "tcp:127.0.0.1:%d" % self.port
        super().__init__(workdir, name, self.command(image), "listening on")

    def command(self, image):
        return [binary("enclaved"), "--listen", self.endpoint, "--kmstool",
                binary("kmstool-dev"), "--region", REGION, "--threads", "1"] + image

    def restart(self, image, sig=signal.SIGTERM):
        self.stop(sig)
        self.argv = self.command(image)
        self.start()


class Parent:
    """One parent instance: a gateway, its daemons, its key directory."""

    def __init__(self, workdir, index, daemons, tsk1):
        self.name = "parent%d" % index
        self.keys = os.path.join(workdir, self.name + "-keys")
        os.mkdir(self.keys)
        write(os.path.join(self.keys, "v1.b64"), tsk1 + "\n")
        self.daemons = [Daemon(workdir, "%s-enclaved%d" % (self.name, i), IMAGE_A)
                        for i in range(daemons)]
        self.port = free_tcp_port()
        argv = [binary("enclave-gateway"), "--listen", "127.0.0.1:%d" % self.port,
                "--tsk-dir", self.keys, "--region", REGION, "--timeout", "30"]
        for d in self.daemons:
            argv += ["--enclave", d.endpoint]
        self.gateway = Proc(workdir, self.name + "-gateway", argv, "listening on",
                            env=clean_env(**ENV_AWS))

    def metrics(self):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            c.request("GET", "/metrics")
            return parse_metrics(c.getresponse().read().decode())
        finally:
            c.close()

    def all_up(self, keys=1):
        """Every daemon up at this gateway, holding the latest `keys`."""
        try:
            m = self.metrics()
        except OSError:
            return False
        return all(m.get('enclave_gateway_enclave_up{enclave="%s"}' % d.endpoint) == 1
                   and m.get('enclave_gateway_enclave_keys_current{enclave="%s"}'
                             % d.endpoint, 1) == 1
                   for d in self.daemons) and \
            sum(1 for k in m if k.startswith("enclave_gateway_key_loaded{")
                and m[k] == 1) >= keys


class HAProxy:
    """HAProxy in master-worker mode from deploy/haproxy/haproxy.cfg."""

    def __init__(self, workdir, parents, lb_retry=True):
        self.port = free_tcp_port()
        self.lb_retry = lb_retry
        self.sock = os.path.join(workdir, "haproxy.sock")
        self.cfg = os.path.join(workdir, "haproxy.cfg")
        write(self.cfg, self.config(parents))
        subprocess.run(["haproxy", "-c", "-q", "-f", self.cfg], check=True)
        self.proc = Proc(workdir, "haproxy", ["haproxy", "-W", "-f", self.cfg],
                         "Loading success")

    def config(self, parents):
        out = []
        for line in open(HAPROXY_CFG, encoding="utf-8").read().splitlines():
            word = line.split()
            if "# not in the fleet test" in line:
                continue
            if not self.lb_retry and word[:1] == ["retry-on"]:
                continue
            if "# the fleet test's own" in line:
                line = "    stats socket %s mode 600 level admin expose-fd listeners" % self.sock
            elif word[:1] == ["bind"]:
                line = "    bind 127.0.0.1:%d" % self.port
            elif word[:1] == ["server"]:
                if word[1] != "parent1":
                    continue
                line = "\n".join("    server %s 127.0.0.1:%d" % (p.name, p.port)
                                 for p in parents)
            out.append(line)
        return "\n".join(out) + "\n"

    def stat(self):
        """The backend's retries and redispatches, from the stats socket."""
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(5)
            s.connect(self.sock)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        finally:
            s.close()
        lines = data.decode().splitlines()
        head = lines[0].lstrip("# ").split(",")
        for line in lines[1:]:
            row = dict(zip(head, line.split(",")))
            if row.get("pxname") == "parents" and row.get("svname") == "BACKEND":
                return int(row["wretr"] or 0) + int(row["wredis"] or 0)
        return 0

    def servers_up(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.settimeout(5)
            s.connect(self.sock)
            s.sendall(b"show stat\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            return -1
        finally:
            s.close()
        lines = data.decode().splitlines()
        head = lines[0].lstrip("# ").split(",")
        rows = [dict(zip(head, line.split(","))) for line in lines[1:] if line]
        return sum(1 for r in rows if r.get("pxname") == "parents"
                   and r.get("svname") not in ("BACKEND", "FRONTEND")
                   and r.get("status", "").startswith("UP"))

    def reload(self):
        before = self.proc.log().count("Loading success")
        self.proc.send(signal.SIGUSR2)
        wait_for(lambda: self.proc.log().count("Loading success") > before,
                 "HAProxy to reload")


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


class Stats:
    def __init__(self):
        self.requests = self.retries = self.errors = self.expected_4xx = 0
        self.longest = 0.0
        self.lb_retries = 0
        self.problems = []


class Load:
    """Client threads sending records through HAProxy; each request is
    counted in the phase it started in."""

    def __init__(self, port, keys, threads, max_requests, pause):
        self.port, self.keys, self.threads = port, keys, threads
        self.max_requests, self.pause = max_requests, pause
        self.key_ids = ["v1"]
        self.phase = None
        self.stats = {}
        self.lock = threading.Lock()
        self.stop_flag = threading.Event()
        self.sent = 0
        self.per_key = dict({kid: 0 for kid in keys}, **{"no key_id (v1)": 0})
        self.records = {kid: [self.record(kid, i) for i in range(40)] for kid in keys}

    def record(self, kid, i):
        plaintext = os.urandom(64 + 16 * i)
        aad = "record-%s-%d" % (kid, i)
        ct = seal(self.keys[kid], plaintext, aad)
        tampered = i % 20 == 7
        if tampered:
            b = bytearray(bytes.fromhex(ct))
            b[20] ^= 1
            ct = bytes(b).hex()
        named = not (kid == "v1" and i % 4 == 1)
        return kid, plaintext, aad, ct, tampered, named

    def set_phase(self, name):
        with self.lock:
            self.stats.setdefault(name, Stats())
            self.phase = name

    def attempt(self, body):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        try:
            c.request("POST", "/v1/process", body=body,
                      headers={"Content-Type": "application/json", "Connection": "close"})
            r = c.getresponse()
            return r.status, r.getheader("Retry-After"), r.read()
        finally:
            c.close()

    def one(self, rng):
        with self.lock:
            phase, kid = self.phase, rng.choice(self.key_ids)
            if self.sent >= self.max_requests:
                self.stop_flag.set()
                return
            self.sent += 1
        kid, plaintext, aad, ct, tampered, named = rng.choice(self.records[kid])
        req = {"ciphertext": ct, "aad": aad}
        if named:
            req["key_id"] = kid
        body = json.dumps(req)
        t0 = time.monotonic()
        retries, problem = 0, None
        while True:
            try:
                status, retry_after, data = self.attempt(body)
            except (OSError, http.client.HTTPException) as e:
                problem = "transport error %r" % e
                break
            if status in RETRYABLE and time.monotonic() - t0 < 60:
                retries += 1
                wait = 0.1
                if retry_after and retry_after.isdigit():
                    wait = min(int(retry_after), 2)
                time.sleep(wait)
                continue
            if tampered:
                if status != 422 or json.loads(data).get("error") != "decrypt_failed":
                    problem = "tampered record answered %d %s" % (status, data[:200])
            elif status != 200:
                problem = "answered %d %s" % (status, data[:200])
            else:
                result = json.loads(data)["result"]
                if open_sealed(self.keys[kid], result, aad) != plaintext:
                    problem = "a result that does not open to its plaintext"
            break
        took = time.monotonic() - t0
        with self.lock:
            s = self.stats[phase]
            s.requests += 1
            s.retries += retries
            s.longest = max(s.longest, took)
            self.per_key[kid if named else "no key_id (v1)"] += 1
            if problem:
                s.errors += 1
                if len(s.problems) < 5:
                    s.problems.append(problem)
            elif tampered:
                s.expected_4xx += 1

    def worker(self, seed):
        rng = random.Random(seed)
        while not self.stop_flag.is_set():
            self.one(rng)
            time.sleep(self.pause)

    def start(self):
        self.workers = [threading.Thread(target=self.worker, args=(i,), daemon=True)
                        for i in range(self.threads)]
        for w in self.workers:
            w.start()

    def finish(self, timeout):
        self.stop_flag.set()
        for w in self.workers:
            w.join(timeout)
        return not any(w.is_alive() for w in self.workers)


def run(args, workdir):
    t_start = time.monotonic()
    for name in ("enclaved", "enclave-gateway", "kmstool-dev"):
        if not os.access(binary(name), os.X_OK):
            raise RuntimeError("%s is not built: run make first" % binary(name))
    if not shutil.which("haproxy"):
        raise RuntimeError("haproxy is not installed: scripts/install-deps.sh")
    tsk1, k1 = genkey()
    tsk2, k2 = genkey()
    parents = []
    try:
        for i in range(1, args.parents + 1):
            parents.append(Parent(workdir, i, args.daemons, tsk1))
        for p in parents:
            wait_for(p.all_up, p.name + "'s enclaves to be up")
        lb = HAProxy(workdir, parents, lb_retry=not args.no_lb_retry)
        wait_for(lambda: lb.servers_up() == len(parents), "HAProxy to see every parent")
        log("%d parents x %d daemons behind HAProxy on 127.0.0.1:%d (setup %.1f s)"
            % (len(parents), args.daemons, lb.port, time.monotonic() - t_start))

        load = Load(lb.port, {"v1": k1, "v2": k2}, args.clients, args.max_requests,
                    args.pause)
        order = []

        def phase(name):
            if order:
                load.stats[order[-1]].lb_retries = lb.stat() - phase.lb_before
            phase.lb_before = lb.stat()
            order.append(name)
            load.set_phase(name)
            log("phase: " + name)
        phase.lb_before = 0

        def settle():
            time.sleep(args.settle)

        phase("steady load")
        load.start()
        settle()

        phase("kill -9 daemon")
        victim = parents[0].daemons[0]
        victim.stop(signal.SIGKILL)
        time.sleep(1)
        victim.restart(IMAGE_A)
        wait_for(parents[0].all_up, "the killed daemon to be up again")
        settle()

        phase("gateway kill -9 + restart")
        g = parents[1].gateway
        g.stop(signal.SIGKILL)
        time.sleep(1.5)
        g.start()
        wait_for(parents[1].all_up, "the restarted gateway's enclaves")
        wait_for(lambda: lb.servers_up() == len(parents), "HAProxy to take it back")
        settle()

        phase("rolling image upgrade A->B")
        for p in parents:
            for d in p.daemons:
                d.restart(IMAGE_B)
                wait_for(p.all_up, p.name + " to be up on image B")
        wait_for(lambda: lb.servers_up() == len(parents), "HAProxy to see every parent")
        settle()

        phase("TSK rotation v2 (SIGHUP)")
        for p in parents:
            write(os.path.join(p.keys, "v2.b64"), tsk2 + "\n")
            p.gateway.send(signal.SIGHUP)
        for p in parents:
            wait_for(lambda: p.all_up(keys=2), p.name + " to hold v2")
        with load.lock:
            load.key_ids = ["v1", "v2"]
        settle()

        phase("HAProxy reload (SIGUSR2)")
        lb.reload()
        wait_for(lambda: lb.servers_up() == len(parents), "HAProxy to see every parent")
        settle()

        load.stats[order[-1]].lb_retries = max(0, lb.stat() - phase.lb_before)
        if not load.finish(90):
            raise RuntimeError("client threads did not finish")
        for name in order:
            if load.stats[name].lb_retries < 0:     # the reload's fresh counters
                load.stats[name].lb_retries = 0
        for p in Proc.all:
            if p.died():
                raise RuntimeError("%s died:\n%s" % (p.name, p.log()[-2000:]))
        return load, order, time.monotonic() - t_start
    finally:
        for p in reversed(Proc.all):
            if p.proc is not None:
                p.stop(signal.SIGTERM, timeout=10)


def table(load, order, elapsed):
    lines = ["%-28s %8s %8s %8s %7s %6s %9s" % ("fault", "requests", "retries", "lb-retry",
                                                "errors", "422", "longest")]
    total = Stats()
    for name in order:
        s = load.stats[name]
        lines.append("%-28s %8d %8d %8d %7d %6d %7.3f s" % (
            name, s.requests, s.retries, s.lb_retries, s.errors, s.expected_4xx, s.longest))
        total.requests += s.requests
        total.retries += s.retries
        total.lb_retries += s.lb_retries
        total.errors += s.errors
        total.expected_4xx += s.expected_4xx
        total.longest = max(total.longest, s.longest)
    lines.append("%-28s %8d %8d %8d %7d %6d %7.3f s" % (
        "all (%.0f s)" % elapsed, total.requests, total.retries, total.lb_retries,
        total.errors, total.expected_4xx, total.longest))
    return "\n".join(lines), total


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true",
                    help="shorter phases and fewer clients (CI)")
    ap.add_argument("--parents", type=int, default=3)
    ap.add_argument("--daemons", type=int, default=2, help="daemons per parent")
    ap.add_argument("--keep", action="store_true", help="keep the work folder and logs")
    ap.add_argument("--no-lb-retry", action="store_true",
                    help="drop haproxy.cfg's retry-on line: the client's retries alone")
    args = ap.parse_args()
    if args.parents < 3 or args.daemons < 1:
        ap.error("at least 3 parents and 1 daemon each")
    args.clients, args.settle, args.pause, args.max_requests = \
        (3, 1.5, 0.01, 20000) if args.smoke else (6, 5.0, 0.005, 100000)
    workdir = tempfile.mkdtemp(prefix="fleet-")
    ok = False
    try:
        load, order, elapsed = run(args, workdir)
        text, total = table(load, order, elapsed)
        print(text)
        for name in order:
            for p in load.stats[name].problems:
                print("  %s: %s" % (name, p))
        ok = total.errors == 0 and all(load.stats[n].requests > 0 for n in order)
        ok = ok and load.per_key["v2"] > 0
        print("by key: " + ", ".join("%s %d" % kv for kv in sorted(load.per_key.items())))
        print("fleet: %s: %d requests, %d lost" % ("PASSED" if ok else "FAILED",
                                                  total.requests, total.errors))
    except RuntimeError as e:
        print("fleet: FAILED: %s (logs in %s)" % (e, workdir))
        args.keep = True
    finally:
        if args.keep:
            log("logs kept in " + workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
