"""
The enclave-gateway under test: Gateway starts one on a free port (with
the fake credentials in its environment unless told otherwise, and a TSK
file when given one), talks HTTP to it and reads its metrics and log.
conftest's `gateways` fixture starts them and stops each after the test.
"""

import http.client
import json
import os
import re
import signal
import subprocess
import time

from helpers.harness import ENV_AWS, REGION, binary, clean_env, free_tcp_port


class Gateway:
    def __init__(self, workdir, enclaves, *extra, env=None, tsk=None):
        self.port = free_tcp_port()
        self.log_path = os.path.join(str(workdir), "gateway-%d.log" % self.port)
        args = [binary("enclave-gateway"), "--listen", "127.0.0.1:%d" % self.port]
        for e in enclaves:
            args += ["--enclave", e]
        if tsk is not None:
            tsk_path = os.path.join(str(workdir), "tsk-%d.b64" % self.port)
            with open(tsk_path, "w") as f:
                f.write(tsk + "\n")
            args += ["--tsk", tsk_path, "--region", REGION]
        args += list(extra)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=self._log, env=env if env is not None
                                     else clean_env(**ENV_AWS))
        deadline = time.monotonic() + 10
        while "listening on" not in self.log():
            assert self.proc.poll() is None, "gateway exited:\n" + self.log()
            assert time.monotonic() < deadline, "gateway did not start:\n" + self.log()
            time.sleep(0.01)

    def log(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def conn(self, timeout=10):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, conn=None):
        """(status, headers dict, body bytes)."""
        c = conn or self.conn()
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            data = r.read()
            return r.status, {k.lower(): v for k, v in r.getheaders()}, data
        finally:
            if conn is None:
                c.close()

    def process(self, ciphertext, aad=None, conn=None):
        body = {"ciphertext": ciphertext}
        if aad is not None:
            body["aad"] = aad
        status, hdrs, data = self.request("POST", "/v1/process", body, conn=conn)
        return status, hdrs, json.loads(data) if data else None

    def metrics(self):
        status, _, data = self.request("GET", "/metrics")
        assert status == 200
        return parse_metrics(data.decode())

    def wait_healthy(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status, _, _ = self.request("GET", "/healthz")
            if status == 200:
                return
            time.sleep(0.02)
        raise AssertionError("gateway not healthy:\n" + self.log())

    def wait_up(self, endpoints, timeout=10):
        """Until every one of `endpoints` is up (configured) per /metrics."""
        deadline = time.monotonic() + timeout
        while True:
            m = self.metrics()
            if all(m.get('enclave_gateway_enclave_up{enclave="%s"}' % e) == 1
                   for e in endpoints):
                return m
            assert time.monotonic() < deadline, "not all up:\n" + self.log()
            time.sleep(0.02)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def parse_metrics(text):
    """{'name{labels}': float}; checks every sample line's shape."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-z_]+(?:\{[^}]*\})?) (\S+)$', line)
        assert m, "bad metrics line %r" % line
        out[m.group(1)] = float(m.group(2))
    return out
