"""A throwaway PostgreSQL cluster for tests (stdlib only).

    with pgcluster.Cluster() as pg:      # initdb in a temp folder, started on 127.0.0.1
        pg.conninfo                      # "host=127.0.0.1 port=N dbname=paysync user=paysync"
        pg.psql("SELECT 1")              # runs SQL through psql, returns its stdout
        pg.restart()                     # stop -m immediate + start: cuts every connection

The cluster belongs to an unprivileged user when the tests run as root (postgres refuses to
run as root): `nobody`, through runuser. It listens on loopback only, on a free port, with
its socket in the temp folder, and is stopped and removed at the end (atexit as well, so a
test that dies on an assertion leaves nothing running). `require()` exits the test with code
77 (skipped) and a message when the PostgreSQL server binaries are not installed
(scripts/install-test-deps.sh installs Debian's `postgresql`)."""
import atexit
import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

SKIP = 77
USER = "paysync"
DBNAME = "paysync"


def bindir():
    """The folder holding initdb, pg_ctl and postgres, or None."""
    cands = []
    if shutil.which("pg_ctl") and shutil.which("initdb"):
        cands.append(os.path.dirname(os.path.realpath(shutil.which("pg_ctl"))))
    cands += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for d in cands:
        if all(os.access(os.path.join(d, b), os.X_OK) for b in ("initdb", "pg_ctl", "postgres")):
            return d
    return None


def require():
    if not bindir():
        print("SKIP: PostgreSQL server binaries (initdb, pg_ctl) not found; "
              "install Debian's postgresql (scripts/install-test-deps.sh)", file=sys.stderr)
        sys.exit(SKIP)
    if not shutil.which("psql"):
        print("SKIP: psql not found; install Debian's postgresql-client", file=sys.stderr)
        sys.exit(SKIP)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Cluster:
    def __init__(self, settings=None):
        self.bin = bindir()
        if not self.bin:
            raise RuntimeError("PostgreSQL server binaries not found")
        self.settings = dict(settings or {})
        self.dir = None
        self.port = None
        self.running = False

    # -- running commands as the cluster's owner --------------------------------------------
    def _as_owner(self, argv):
        if os.geteuid() == 0:
            return ["runuser", "-u", "nobody", "--"] + argv
        return argv

    def _run(self, argv, check=True, timeout=120):
        p = subprocess.run(self._as_owner(argv), capture_output=True, text=True, timeout=timeout,
                           cwd=self.dir)
        if check and p.returncode != 0:
            raise RuntimeError("%s failed (%d):\n%s%s" % (argv[0], p.returncode, p.stdout, p.stderr))
        return p

    @property
    def data(self):
        return os.path.join(self.dir, "data")

    @property
    def conninfo(self):
        return "host=127.0.0.1 port=%d dbname=%s user=%s" % (self.port, DBNAME, USER)

    def env(self):
        """Environment for libpq clients (psql, paysync) that should reach this cluster."""
        return {"PGHOST": "127.0.0.1", "PGPORT": str(self.port), "PGUSER": USER,
                "PGDATABASE": DBNAME}

    # -- life cycle ---------------------------------------------------------------------------
    def __enter__(self):
        self.start_new()
        return self

    def __exit__(self, *exc):
        self.destroy()
        return False

    def start_new(self):
        self.dir = tempfile.mkdtemp(prefix="paysync-pg-")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            os.chown(self.dir, *_nobody())
        atexit.register(self.destroy)
        self._run([os.path.join(self.bin, "initdb"), "-D", self.data, "-U", USER, "-A", "trust",
                   "-E", "UTF8", "--locale=C", "--no-sync"])
        conf = {"listen_addresses": "'127.0.0.1'", "unix_socket_directories": "'%s'" % self.dir,
                "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off",
                "max_connections": "100", "shared_buffers": "64MB", "log_min_messages": "warning",
                "logging_collector": "off"}
        conf.update(self.settings)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as f:
            for k, v in conf.items():
                f.write("%s = %s\n" % (k, v))
        for attempt in range(5):
            self.port = free_port()
            if self.start(check=False):
                break
        else:
            raise RuntimeError("postgres did not start:\n" + self.log())
        self.psql("CREATE DATABASE %s" % DBNAME, db="postgres")

    def start(self, check=True):
        p = self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-l",
                       os.path.join(self.dir, "log"), "-w", "-t", "60", "-o",
                       "-p %d" % self.port, "start"], check=False)
        self.running = p.returncode == 0
        if check and not self.running:
            raise RuntimeError("postgres did not start:\n" + self.log())
        return self.running

    def stop(self, mode="fast"):
        if self.running:
            self._run([os.path.join(self.bin, "pg_ctl"), "-D", self.data, "-m", mode, "-w",
                       "stop"], check=False)
            self.running = False

    def restart(self):
        """Stops immediately (every connection is cut) and starts again on the same port."""
        self.stop("immediate")
        self.start()

    def destroy(self):
        if self.dir:
            self.stop("immediate")
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-4000:]
        except OSError:
            return ""

    # -- SQL ----------------------------------------------------------------------------------
    def psql(self, sql, db=DBNAME, check=True):
        """Runs sql through psql (unaligned, tuples only, ON_ERROR_STOP); returns stdout."""
        p = subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h",
                            "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=300)
        if check and p.returncode != 0:
            raise RuntimeError("psql failed: %s\n%s" % (sql, p.stderr))
        return p.stdout

    def rows(self, sql):
        """Rows of a query as lists of strings (fields split on '|')."""
        out = self.psql(sql)
        return [line.split("|") for line in out.splitlines() if line != ""]

    def reset(self):
        """Drops every paysync table (a fresh store for the next test)."""
        self.psql("SET client_min_messages = warning; DROP SCHEMA public CASCADE;"
                  " CREATE SCHEMA public")


def _nobody():
    import pwd
    pw = pwd.getpwnam("nobody")
    return pw.pw_uid, pw.pw_gid
