"""Helpers for the deploy kit's tests (the fixtures are in conftest.py).

Every script runs with tests/deploy/standins first on PATH, so `docker`,
`nitro-cli`, `aws` and `vsock-proxy` are recording stand-ins (standin.py)
and nothing reaches a real Docker engine, enclave or AWS account.

A module of its own (not conftest) so that `import deploykit` is never
confused with tests/integration/conftest.py when pytest collects both.
"""
import json
import os
import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STANDINS = Path(__file__).resolve().parent / "standins"
ROLE = "arn:aws:iam::111122223333:role/enclave-parent"
PCR0 = "a1" * 48
PCR1 = "b2" * 48
PCR2 = "c3" * 48
PCR8 = "d4" * 48


class Sandbox:
    """A scratch directory, the stand-ins' log and the environment to run in."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.log = tmp / "calls.jsonl"
        self.env = dict(os.environ)
        # /usr/bin next: the system python3 (a version manager's shim would
        # only slow every JSON step down).
        self.env["PATH"] = "%s:/usr/bin:%s" % (STANDINS, os.environ.get("PATH", "/bin"))
        self.env["STANDIN_LOG"] = str(self.log)
        self.env["STANDIN_PCR0"] = PCR0
        self.env["STANDIN_PCR1"] = PCR1
        self.env["STANDIN_PCR2"] = PCR2
        self.env["STANDIN_PCR8"] = PCR8
        self.env["TMPDIR"] = str(tmp)
        for k in ("AWS_PROFILE", "AWS_REGION", "SOURCE_DATE_EPOCH"):
            self.env.pop(k, None)

    def run(self, script, *args, env=None, cwd=None, timeout=60):
        e = dict(self.env)
        e.update(env or {})
        return subprocess.run([str(script), *map(str, args)], env=e,
                              cwd=str(cwd or self.tmp), capture_output=True,
                              text=True, timeout=timeout)

    def calls(self, prog=None):
        if not self.log.exists():
            return []
        out = [json.loads(line) for line in self.log.read_text().splitlines()]
        return [c for c in out if prog is None or c["prog"] == prog]

    def aws_ops(self):
        return [" ".join(c["argv"][:2]) for c in self.calls("aws")]

    def aws_responses(self, responses):
        path = self.tmp / "aws-responses.json"
        path.write_text(json.dumps(responses))
        self.env["STANDIN_AWS_RESPONSES"] = str(path)


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo), *args], check=True,
                          capture_output=True, text=True).stdout


def dockerfile_cmd(stage):
    """The exec-form CMD of a stage of enclave/Dockerfile, as a list."""
    cur, name = "", None
    for line in (REPO / "enclave/Dockerfile").read_text().splitlines():
        if not cur and (not line.strip() or line.lstrip().startswith("#")):
            continue
        cur += line.rstrip()
        if cur.endswith("\\"):
            cur = cur[:-1] + " "
            continue
        word, _, rest = cur.strip().partition(" ")
        cur = ""
        if word.upper() == "FROM":
            m = re.fullmatch(r"(\S+)(?:\s+AS\s+(\S+))?", rest.strip(), re.I)
            name = m.group(2)
        elif word.upper() == "CMD" and name == stage:
            return json.loads(rest)
    raise KeyError(stage)
