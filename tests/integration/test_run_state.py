"""Truthful status when the store cannot record a run (issue 18, leftovers of item 5;
docs/reliability.md "Health tells the truth"): the run state file beside the store
(STORE.state, store/run_state.c) makes a run the store never heard of show in `status`,
`/healthz` and `/metrics`; a pid reused by another process never hides an interrupted run."""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_serve import Server, curl, have_curl, write_config  # noqa: E402

MARKER = ("interrupted: the run ended without recording its outcome (killed, or the store "
          "could not record its failure); writer pid ")


def start_time(pid):
    """Field 22 of /proc/PID/stat (the comm in parentheses may hold spaces)."""
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    return int(text[text.rindex(")") + 2:].split()[19])


class RunState(pslib.Case):
    def setUp(self):
        super().setUp()
        self.cfg = write_config(self).replace("\n", "\n")
        text = open(self.cfg).read().replace("{plugin: sqlite, path: var/store.db}",
                                             "{plugin: sqlite, path: var/store.db, "
                                             "busy_timeout_ms: 300}")
        with open(self.cfg, "w") as f:
            f.write(text)
        self.db = self.path("var", "store.db")
        self.state = self.db + ".state"

    def status(self, *args):
        res = pslib.run("status", self.cfg, "--dataset", "ds_a", *args)
        self.assertEqual(res.rc, 0, res)  # a failed run is shown, exit 0 (operations.md)
        return res

    def test_locked_store_at_run_start_shows_as_failed(self):
        self.assertEqual(pslib.run("run", self.cfg).rc, 0)
        with open(self.state) as f:
            doc = json.load(f)
        self.assertEqual(doc["datasets"]["ds_a"]["outcome"], "ok")
        holder = sqlite3.connect(self.db, isolation_level=None, timeout=5)
        try:
            holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
            res = pslib.run("run", self.cfg, "--dataset", "ds_a")
            self.assertEqual(res.rc, 1, res)
            self.assertIn("is locked by another process", res.out, res)
            # status while the lock is still held: reads work in WAL mode
            res = self.status()
            self.assertRegex(res.out, r"last run: .*, failed in ")
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        outcomes = [r[0] for r in con.execute("SELECT outcome FROM runs WHERE dataset = 'ds_a'")]
        con.close()
        self.assertEqual(outcomes, ["ok"])  # the store has no trace of the failed run
        res = self.status()
        self.assertRegex(res.out, r"last run: .*, failed in ")
        self.assertIn("error:     ", res.out)
        self.assertIn("is locked by another process", res.out)
        self.assertIn("not recorded in the store; from the run state file '%s'" % self.state,
                      res.out)
        self.assertIn("last ok:", res.out)
        lr = json.loads(self.status("--json").out)["datasets"][0]["last_run"]
        self.assertEqual((lr["outcome"], lr["recorded"]), ("failed", False))
        if have_curl():
            srv = Server(self.cfg, self.dir)
            try:
                h = curl(srv.port, "/healthz", tmp=self.dir)
                self.assertEqual(h.status, 200, h)
                a = [d for d in h.json()["datasets"] if d["dataset"] == "ds_a"][0]
                self.assertIs(a["lastRunOk"], False)
                self.assertEqual((a["runsOk"], a["runsFailed"]), (1, 1))
                m = curl(srv.port, "/metrics", tmp=self.dir).body.decode()
                self.assertIn('paysync_runs_total{dataset="ds_a",outcome="failed"} 1\n', m)
                self.assertIn('paysync_last_run_ok{dataset="ds_a"} 0\n', m)
            finally:
                srv.stop()
        # the next good run is the truth again
        self.assertEqual(pslib.run("run", self.cfg, "--dataset", "ds_a").rc, 0)
        res = self.status()
        self.assertRegex(res.out, r"last run: .*, ok in ")
        self.assertNotIn("run state file", res.out)
        self.assertEqual(sorted(os.listdir(self.path("var"))),
                         ["store.db", "store.db-shm", "store.db-wal", "store.db.state"])

    def write_attempt(self, **kw):
        with open(self.state) as f:
            doc = json.load(f)
        doc["datasets"]["ds_a"].update(kw)
        with open(self.state, "w") as f:
            json.dump(doc, f)

    def test_run_that_cannot_set_up_its_sinks_shows_as_failed(self):
        """A run that fails before any dataset starts (a sink plugin refused: its folder is
        writable by others) writes each dataset's failed attempt to the state file: status
        shows it, not the last good run."""
        if not pslib.PLUGIN_DIR:
            self.skipTest("PS_PLUGIN_DIR is not set")
        self.assertEqual(pslib.run("run", self.cfg).rc, 0)
        evil = self.path("evil")
        os.makedirs(evil)
        with open(os.path.join(pslib.PLUGIN_DIR, "jsonl.so"), "rb") as f:
            self.write("evil/evilsink.so", f.read(), "wb")  # found only there
        os.chmod(evil, 0o777)
        body = open(self.cfg).read().split("\n", 1)[1]
        body = body.replace("sinks:\n  store:", "sinks:\n  out: {plugin: evilsink, path: out/p.jsonl}"
                            "\n  store:", 1).replace("    sinks: [store]\n",
                                                     "    sinks: [store, out]\n", 1)
        bad = self.write("bad.yaml", "plugin_path: [%s, %s]\n%s"
                         % (pslib.yaml_str(evil), pslib.yaml_str(pslib.PLUGIN_DIR), body))
        res = pslib.run("run", bad)
        self.assertEqual(res.rc, 2, res)  # a plugin error (operations.md, exit codes)
        self.assertIn("refusing to load", res.out + res.err)
        self.assertIn("is writable by group or others", res.out + res.err)
        with open(self.state) as f:
            doc = json.load(f)
        for ds in ("ds_a", "ds_b"):
            self.assertEqual(doc["datasets"][ds]["outcome"], "failed", doc)
            self.assertIn("the run could not start: ", doc["datasets"][ds]["error"])
        res = self.status()
        self.assertRegex(res.out, r"last run: .*, failed in ")
        self.assertIn("the run could not start: ", res.out)
        self.assertIn("not recorded in the store; from the run state file '%s'" % self.state,
                      res.out)
        lr = json.loads(self.status("--json").out)["datasets"][0]["last_run"]
        self.assertEqual((lr["outcome"], lr["recorded"]), ("failed", False))
        # the next good run is the truth again
        self.assertEqual(pslib.run("run", self.cfg).rc, 0)
        self.assertEqual(json.loads(self.status("--json").out)["datasets"][0]["last_run"]
                         ["outcome"], "ok")

    def immutable(self, folder):
        """Makes folder immutable (chattr +i: root ignores permission bits) until the test
        ends; skips when the file system or the user cannot."""
        res = subprocess.run(["chattr", "+i", folder], capture_output=True, text=True)
        if res.returncode != 0:
            self.skipTest("chattr +i is not available here: %s" % res.stderr.strip())
        self.addCleanup(subprocess.run, ["chattr", "-i", folder], check=True)

    def test_unwritable_store_folder(self):
        """The store's folder cannot be written (docs/reliability.md, what the state file
        cannot cover). With the store's files already there the run still commits: the store
        records it, the state warning is logged, status shows the new run. A store that does
        not exist yet cannot be created: exit 1 with the store's message naming the file, and
        nothing recorded as ok."""
        self.assertEqual(pslib.run("run", self.cfg).rc, 0)
        before = json.loads(self.status("--json").out)["datasets"][0]
        self.immutable(os.path.dirname(self.db))
        res = pslib.run("run", self.cfg, "--dataset", "ds_a")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("cannot record the run's state: cannot create a temporary file next to "
                      "'%s'" % self.state, res.err)
        after = json.loads(self.status("--json").out)["datasets"][0]
        self.assertEqual(after["last_run"]["outcome"], "ok", after)
        self.assertNotEqual(after["last_run"]["run_id"], before["last_run"]["run_id"])
        self.assertEqual(after["payments"], before["payments"])

        fresh = self.path("frozen")
        os.makedirs(fresh)
        self.immutable(fresh)
        cfg = self.write("fresh.yaml", open(self.cfg).read().replace("var/store.db",
                                                                     "frozen/store.db"))
        res = pslib.run("run", cfg, "--dataset", "ds_a")
        self.assertEqual(res.rc, 1, res)
        self.assertIn(os.path.join(fresh, "store.db"), res.out + res.err)
        self.assertNotIn("ds_a: ok", res.out)
        self.assertEqual(os.listdir(fresh), [])

    def test_killed_before_the_store_was_touched_shows_interrupted(self):
        self.assertEqual(pslib.run("run", self.cfg).rc, 0)
        started = json.load(open(self.state))["datasets"]["ds_a"]["started_ms"] + 60000
        me = os.getpid()
        # a running attempt of a live process (this one, same start time): in progress
        self.write_attempt(outcome="running", run_id="zz-live", started_ms=started, pid=me,
                           pid_start=start_time(me), finished_ms=0)
        self.assertRegex(self.status().out, r"last run: .*, ok in ")
        # the same pid with another start time is another process: the run was killed
        self.write_attempt(pid_start=start_time(me) + 1)
        res = self.status()
        self.assertRegex(res.out, r"last run: .*, interrupted in \?")
        self.assertIn("interrupted: the run ended before it could record anything in the store",
                      res.out)
        lr = json.loads(self.status("--json").out)["datasets"][0]["last_run"]
        self.assertEqual((lr["outcome"], lr["run_id"], lr["recorded"]),
                         ("interrupted", "zz-live", False))

    def test_reused_pid_does_not_hide_an_interrupted_store_marker(self):
        """A start marker whose pid now belongs to another process (here: this test's own
        pid with another start time) is an interrupted run, not one in progress."""
        self.assertEqual(pslib.run("run", self.cfg).rc, 0)
        me = os.getpid()
        con = sqlite3.connect(self.db)
        for run_id, since in (("zz-reused", start_time(me) + 7), ("zz-live", start_time(me))):
            con.execute("INSERT INTO runs (run_id, dataset, started, started_ms, outcome, error)"
                        " VALUES (?, 'ds_a', '2099-01-01T00:00:00Z', ?, 'failed', ?)",
                        (run_id, 4070908800000 if run_id == "zz-reused" else 4070908800001,
                         "%s%d start %d" % (MARKER, me, since)))
        con.commit()
        con.close()
        lr = json.loads(self.status("--json").out)["datasets"][0]["last_run"]
        self.assertEqual((lr["run_id"], lr["outcome"]), ("zz-reused", "interrupted"))
        # the run written by the real writer records its own start time
        con = sqlite3.connect(self.db)
        con.execute("DELETE FROM runs WHERE run_id LIKE 'zz-%'")
        con.commit()
        con.close()
        res = pslib.run("run", self.cfg, "--dataset", "ds_a",
                        env={"PS_TEST_CRASH_AT": "store-before-commit"})
        self.assertLess(res.rc, 0, res)
        con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True)
        err = con.execute("SELECT error FROM runs WHERE finished IS NULL").fetchone()[0]
        con.close()
        self.assertRegex(err, r"writer pid \d+ start [1-9]\d*$")
        self.assertRegex(self.status().out, r"last run: .*, interrupted in \?")


if __name__ == "__main__":
    pslib.main()
