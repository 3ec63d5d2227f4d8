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


# ---- the store under test: SQLite, or PostgreSQL when PS_TEST_PG_CONNINFO names a database
# (ctest's *.postgres tests run the file through pg_run.py, which starts a throwaway cluster).
PG_CONNINFO = os.environ.get("PS_TEST_PG_CONNINFO", "")


def postgres():
    """True when the tests' store is PostgreSQL."""
    return bool(PG_CONNINFO)


def store_sink(path="var/store.db"):
    """The YAML flow mapping of the store sink: sqlite at path, or the test database."""
    if postgres():
        return "{plugin: postgres, conninfo: %s}" % yaml_str(PG_CONNINFO)
    return "{plugin: sqlite, path: %s}" % path


def psql(sql):
    """Runs sql on the test database (PostgreSQL only); returns psql's stdout."""
    p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", PG_CONNINFO,
                        "-c", sql], capture_output=True, text=True, timeout=120)
    if p.returncode != 0:
        raise AssertionError("psql failed: %s\n%s" % (sql, p.stderr))
    return p.stdout


def store_reset():
    """Empties the test database (PostgreSQL; a SQLite store is a file of the test's own)."""
    if postgres():
        psql("SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public")


def _literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + str(v).replace("'", "''") + "'"


def store_query(sqlite_path, sql, params=()):
    """Rows of sql (with ? parameters) on the store: the SQLite file at sqlite_path, or the
    test database. Rows are tuples; PostgreSQL's text columns come back as str, NULL as None."""
    if not postgres():
        import sqlite3
        con = sqlite3.connect("file:%s?mode=ro" % sqlite_path, uri=True)
        try:
            return con.execute(sql, tuple(params)).fetchall()
        finally:
            con.close()
    parts = sql.split("?")
    if len(parts) != len(params) + 1:
        raise ValueError("parameter count")
    text = parts[0] + "".join(_literal(v) + rest for v, rest in zip(params, parts[1:]))
    out = psql("SELECT coalesce(json_agg(json_build_array(q.*)), '[]') FROM (%s) q" % text)
    rows = json.loads(out)
    return [tuple(r[0].values()) if isinstance(r[0], dict) else tuple(r) for r in rows]


def run_paused(case, args, point, change, env=None):
    """Runs `paysync ARGS` with the csvfile plugin's test hook PS_TEST_CSVFILE_PAUSE=POINT:FIFO
    (a FIFO in case's folder): the run stops at POINT ("eof": the whole file read, the
    dataset's sinks open; "settle": after the settle wait), change() runs, then the run goes
    on. Returns its Result; fails case when the run never reaches the point."""
    import select
    import time
    fifo = case.path("pause.fifo")
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    e = dict(os.environ)
    e.pop("PAYSYNC_PLUGIN_PATH", None)
    e["PS_TEST_CSVFILE_PAUSE"] = "%s:%s" % (point, fifo)
    e.update(env or {})
    proc = subprocess.Popen([PAYSYNC] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=e)
    rfd = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    got = b""
    deadline = time.monotonic() + 120
    try:
        while not got.endswith(b"\n"):
            if proc.poll() is not None:
                out, err = proc.communicate()
                case.fail("the run ended without pausing at %r (rc %d):\n%s%s"
                          % (point, proc.returncode, out.decode(), err.decode()))
            case.assertLess(time.monotonic(), deadline, "no pause within 120 s")
            if select.select([rfd], [], [], 0.1)[0]:
                got += os.read(rfd, 64)
    finally:
        os.close(rfd)
    case.assertEqual(got, point.encode() + b"\n")
    change()
    os.close(os.open(fifo, os.O_WRONLY))  # let the plugin go on
    out, err = proc.communicate(timeout=120)
    return Result(type("P", (), {"returncode": proc.returncode,
                                 "stdout": out.decode("utf-8", "replace"),
                                 "stderr": err.decode("utf-8", "replace")}))


def wait_counted(case, counted, proc, what, wait_s, log=lambda: ""):
    """Waits until counted() (a test server's count of a request, e.g. a fault served) is at
    least 1 while proc still runs, then half a second more (the answer, or its absence, has
    reached the client). Fails case when proc ends first or wait_s pass."""
    import time
    end = time.monotonic() + wait_s
    while counted() < 1:
        case.assertIsNone(proc.poll(), "ended before %s\n%s" % (what, log()))
        case.assertLess(time.monotonic(), end, "no %s within %d s\n%s" % (what, wait_s, log()))
        time.sleep(0.05)
    time.sleep(0.5)


def run_stopped(case, cfg, counted, what, sig, end_s, wait_s):
    """Starts `paysync run CFG` with real waits (PS_TEST_FAKE_SLEEP and PAYSYNC_PLUGIN_PATH
    dropped), sends it sig once counted() is at least 1 (wait_counted) and returns (rc, output)
    of a run that ended within end_s after the signal; fails case otherwise (docs/operations.md,
    "Stopping a run")."""
    env = dict(os.environ)
    env.pop("PAYSYNC_PLUGIN_PATH", None)
    env.pop("PS_TEST_FAKE_SLEEP", None)
    proc = subprocess.Popen([PAYSYNC, "run", cfg], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    try:
        wait_counted(case, counted, proc, what, wait_s)
        proc.send_signal(sig)
        try:
            out, err = proc.communicate(timeout=end_s)
        except subprocess.TimeoutExpired:
            case.fail("the run was still waiting on HTTP %d s after the signal" % end_s)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out.decode("utf-8", "replace") + err.decode("utf-8", "replace")


def assert_stopped(case, rc, text, signame):
    """A run stopped by signame while it waited on HTTP: exit 1, the request cancelled (not
    retried) and the dataset rolled back, as docs/operations.md "Stopping a run" shows it."""
    case.assertEqual(rc, 1, text)
    case.assertIn("interrupted by a signal after", text)
    case.assertIn("cancelled (stopped by %s)" % signame, text)
    case.assertIn("nothing was committed, the next run starts again from the last commit", text)
    case.assertNotIn("gave up after", text)


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


def sample_config(work):
    """The README's sample job (config/example.yaml and config/sample/) copied into work/config
    with the build's plugin folder; returns the config's path."""
    os.makedirs(os.path.join(work, "config"))
    shutil.copytree(os.path.join(SOURCE_DIR, "config", "sample"),
                    os.path.join(work, "config", "sample"))
    with open(os.path.join(SOURCE_DIR, "config", "example.yaml")) as f:
        text = f.read().replace("[../build/plugins]", "[%s]" % yaml_str(PLUGIN_DIR))
    cfg = os.path.join(work, "config", "example.yaml")
    with open(cfg, "w") as f:
        f.write(text)
    return cfg


class PgCase(Case):
    """A test case with a throwaway PostgreSQL cluster for the class (pgcluster.py; skipped
    with a message when PostgreSQL is not installed), emptied before each test."""
    pg_settings = None

    @classmethod
    def setUpClass(cls):
        require_binary()
        import pgcluster
        pgcluster.require()
        cls.pg = pgcluster.Cluster(cls.pg_settings)
        cls.pg.start_new()

    @classmethod
    def tearDownClass(cls):
        cls.pg.destroy()

    def setUp(self):
        super().setUp()
        self.pg.reset()


def main():
    require_binary()
    unittest.main(verbosity=2)
