"""Helpers for integration tests that drive the real paysync binary (stdlib only)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

PAYSYNC = os.path.abspath(os.environ["PAYSYNC"]) if os.environ.get("PAYSYNC") else ""
SOURCE_DIR = os.environ.get("PS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
PLUGIN_DIR = os.environ.get("PS_PLUGIN_DIR", "")
TEST_PLUGIN_DIR = os.environ.get("PS_TEST_PLUGIN_DIR", "")
SKIP = 77


def require_binary():
    if not PAYSYNC or not os.access(PAYSYNC, os.X_OK):
        print("SKIP: $PAYSYNC is not set to the paysync binary", file=sys.stderr)
        sys.exit(SKIP)


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "rc=%d\nstdout:\n%s\nstderr:\n%s" % (self.rc, self.out, self.err)


def run(*args, stdin=None, env=None, cwd=None, timeout=300):
    e = dict(os.environ)
    e.pop("PAYSYNC_PLUGIN_PATH", None)
    if env:
        e.update(env)
    p = subprocess.run([PAYSYNC] + [str(a) for a in args], input=stdin, capture_output=True,
                       env=e, cwd=cwd, timeout=timeout)
    return Result(type("P", (), {"returncode": p.returncode,
                                 "stdout": p.stdout.decode("utf-8", "replace"),
                                 "stderr": p.stderr.decode("utf-8", "replace")}))


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def yaml_str(s):
    return json.dumps(s)  # JSON strings are valid YAML double-quoted scalars


class Case(unittest.TestCase):
    """A test case with a fresh temp dir and a config writer."""

    def setUp(self):
        require_binary()
        self.dir = tempfile.mkdtemp(prefix="paysync-it-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def write(self, name, data, mode="w"):
        p = self.path(name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, mode if isinstance(data, str) else "wb") as f:
            f.write(data)
        return p

    def config(self, body, name="paysync.yaml"):
        dirs = [d for d in (PLUGIN_DIR, TEST_PLUGIN_DIR) if d]
        head = "plugin_path: [%s]\n" % ", ".join(yaml_str(d) for d in dirs)
        return self.write(name, head + body)

    def assertIn_(self, needle, hay, res=None):
        self.assertIn(needle, hay, msg=repr(res) if res is not None else None)


def main():
    require_binary()
    unittest.main(verbosity=2)
