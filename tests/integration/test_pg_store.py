"""The PostgreSQL store (docs/sinks.md "postgres") against a throwaway cluster
(pgcluster.py; skipped with a message when PostgreSQL is not installed): the same results as
the SQLite store for run, status and export; secrets kept out of messages; an unreachable
server, a server restarted during a run, a run killed before its commit, two runs of one
dataset at once and workers creating the schema together."""
import json
import os
import re
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pgcluster  # noqa: E402
import pslib  # noqa: E402

PASSWORD = "pg-Secret-4711"
KILLED = -signal.SIGKILL


def csv_rows(n, amount="10.00", first=1):
    lines = ["ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
             "CUSTOMER_NAME,CUSTOMER_CATEGORY"]
    for i in range(first, first + n):
        lines.append("P%06d,2024-01-%02dT10:00:00Z,%s,NGN,FULL_PAYMENT,C%d,M%d,Name %d,Residential"
                     % (i, 1 + i % 28, amount, i % 50, i % 70, i % 50))
    return "\n".join(lines) + "\n"


class PgStoreTest(pslib.PgCase):
    def make_config(self, store, datasets=("ds1",), name="paysync.yaml", extra=""):
        body = "sinks:\n  store: %s\n  out: {plugin: jsonl, path: \"out/{dataset}.jsonl\"}\n" \
               "datasets:\n" % store
        for ds in datasets:
            body += ("  - name: %s\n    target: {level: project, id: site-%s}\n"
                     "    source: {plugin: csvfile, path: %s.csv}\n    sinks: [store, out]\n%s"
                     % (ds, ds, ds, extra))
        cfg = self.config(body, name=name)
        os.chmod(cfg, 0o600)
        return cfg

    def pg_store(self, conninfo=None):
        return "{plugin: postgres, conninfo: %s}" % pslib.yaml_str(
            conninfo or self.pg.conninfo + " password=${PS_TEST_PGPW}")

    def run_ps(self, *args, env=None):
        e = {"PS_TEST_PGPW": PASSWORD}
        e.update(env or {})
        r = pslib.run(*args, env=e)
        self.assertNotIn(PASSWORD, r.out + r.err, r)
        return r

    def test_same_results_as_sqlite(self):
        self.write("ds1.csv", csv_rows(300))
        pg = self.make_config(self.pg_store(), name="pg.yaml")
        sq = self.make_config("{plugin: sqlite, path: var/s.db}", name="sq.yaml")
        for cfg in (pg, sq):
            r = self.run_ps("run", cfg)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("changes: new 300, changed 0, unchanged 0, vanished 0", r.out, r)
        # one payment changed, one gone, the rest unchanged
        self.write("ds1.csv", csv_rows(298).replace("P000007,2024-01-08T10:00:00Z,10.00",
                                                    "P000007,2024-01-08T10:00:00Z,11.50"))
        for cfg in (pg, sq):
            r = self.run_ps("run", cfg, "--allow-vanish")
            self.assertEqual(r.rc, 0, r)
            self.assertIn("changes: new 0, changed 1, unchanged 297, vanished 2", r.out, r)
        exports = []
        for cfg in (pg, sq):
            out = self.path(os.path.basename(cfg) + ".csv")
            r = self.run_ps("export", cfg, "--dataset", "ds1", "--format", "csv",
                            "--output", out)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("wrote 298 payment(s)", r.err, r)
            with open(out) as f:
                exports.append(f.read())
        self.assertEqual(exports[0], exports[1])
        r = self.run_ps("status", pg)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("store:     %s (298 payments, 2 vanished)" % self.pg.conninfo, r.out, r)
        self.assertIn("changes:   new 0, changed 1, unchanged 297, vanished 2", r.out, r)
        doc = json.loads(self.run_ps("status", pg, "--json").out)
        self.assertEqual(doc["datasets"][0]["store"], self.pg.conninfo)
        # the amounts: text and exact numeric, never float
        self.assertEqual(self.pg.rows("SELECT payment_amount, amount::text, amount_units,"
                                      " amount_scale FROM payments WHERE id = 'P000007'"),
                         [["11.50", "11.50", "1150", "2"]])
        self.assertEqual(self.pg.rows("SELECT pg_typeof(amount) FROM payments LIMIT 1"),
                         [["numeric"]])
        self.assertEqual(self.pg.rows("SELECT sum(amount)::text FROM payments"
                                      " WHERE vanished_run IS NULL"), [["2981.50"]])
        self.assertEqual(self.pg.rows("SELECT version FROM paysync_schema"), [["2"]])

    def test_unreachable_server(self):
        self.write("ds1.csv", csv_rows(5))
        port = pgcluster.free_port()
        cfg = self.make_config(self.pg_store(
            "host=127.0.0.1 port=%d dbname=x user=u password=${PS_TEST_PGPW}" % port))
        r = self.run_ps("run", cfg)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("postgres store 'host=127.0.0.1 port=%d dbname=x user=u': cannot connect:"
                      % port, r.err, r)
        self.assertFalse(os.path.exists(self.path("out", "ds1.jsonl")))
        r = self.run_ps("status", cfg)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("cannot be read: postgres store 'host=127.0.0.1 port=%d dbname=x user=u': "
                      "cannot connect: connection to server at \"127.0.0.1\", port %d failed: "
                      "Connection refused Is the server running" % (port, port), r.out, r)
        r = self.run_ps("export", cfg, "--dataset", "ds1", "--format", "csv")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("cannot connect", r.err, r)
        # an unparsable connection string is named as such, never shown
        cfg = self.make_config(self.pg_store("host='unterminated password=${PS_TEST_PGPW}"),
                               name="bad.yaml")
        r = self.run_ps("run", cfg)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("postgres store '(unparsable conninfo)': cannot connect", r.err, r)

    def test_pg_environment_and_plugins_listing(self):
        """An empty conninfo: libpq's PG* environment names the server."""
        self.write("ds1.csv", csv_rows(3))
        cfg = self.make_config("{plugin: postgres}")
        r = self.run_ps("run", cfg, env=self.pg.env())
        self.assertEqual(r.rc, 0, r)
        self.assertIn("changes: new 3", r.out, r)
        r = self.run_ps("status", cfg, env=self.pg.env())
        self.assertIn("store:     (PG* environment) (3 payments, 0 vanished)", r.out, r)
        r = pslib.run("plugins")
        self.assertIn("postgres (sink 1.0.0) - PostgreSQL store with change tracking, run "
                      "history and cursors\n  built-in\n  conninfo", r.out, r)
        self.assertIn("conninfo", r.out, r)

    def run_paused(self, cfg, change, env=None):
        """A run paused at "eof" (pslib.run_paused): change() runs while its dataset's
        transaction is open."""
        e = {"PS_TEST_PGPW": PASSWORD}
        e.update(env or {})
        return pslib.run_paused(self, ["run", cfg], "eof", change, e)

    def test_server_restarted_during_a_run(self):
        self.write("ds1.csv", csv_rows(100))
        cfg = self.make_config(self.pg_store())
        self.assertEqual(self.run_ps("run", cfg).rc, 0)
        self.write("ds1.csv", csv_rows(9000, amount="12.00"))  # 2 batches at least
        seen = {}

        def restart():
            seen["in_progress"] = self.pg.rows(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            self.pg.restart()

        r = self.run_paused(cfg, restart)
        self.assertEqual(seen["in_progress"], [["1"]])  # the dataset's writer lock
        self.assertEqual(r.rc, 1, r)
        self.assertIn("ds1: FAILED (nothing committed)", r.out, r)
        self.assertIn("connection lost while", r.out + r.err, r)
        self.assertNotIn(PASSWORD, r.out + r.err)
        # nothing of the failed run: the 100 payments of the first, unchanged
        self.assertEqual(self.pg.rows("SELECT count(*), sum(amount)::text FROM payments"),
                         [["100", "1000.00"]])
        runs = self.pg.rows("SELECT outcome, finished IS NOT NULL,"
                            " coalesce(error LIKE '%connection%', false)"
                            " FROM runs ORDER BY started_ms")
        self.assertEqual(runs, [["ok", "t", "f"], ["failed", "t", "t"]], runs)
        r = self.run_ps("status", cfg)
        self.assertIn("FAILED", r.out.upper(), r)
        # the next run succeeds
        r = self.run_ps("run", cfg)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("changes: new 8900, changed 100, unchanged 0, vanished 0", r.out, r)
        self.assertEqual(self.pg.rows("SELECT count(*), sum(amount)::text FROM payments"),
                         [["9000", "108000.00"]])

    def test_killed_before_commit(self):
        self.write("ds1.csv", csv_rows(50))
        cfg = self.make_config(self.pg_store())
        self.assertEqual(self.run_ps("run", cfg).rc, 0)
        self.write("ds1.csv", csv_rows(60, amount="20.00"))
        r = self.run_ps("-q", "run", cfg, env={"PS_TEST_CRASH_AT": "store-before-commit"})
        self.assertEqual(r.rc, KILLED, r)
        self.assertEqual(self.pg.rows("SELECT count(*), sum(amount)::text FROM payments"),
                         [["50", "500.00"]])
        r = self.run_ps("status", cfg)
        self.assertIn("interrupted", r.out, r)
        self.assertIn("interrupted: the run ended without recording its outcome", r.out, r)
        r = self.run_ps("run", cfg)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("changes: new 10, changed 50, unchanged 0, vanished 0", r.out, r)
        r = self.run_ps("status", cfg)
        self.assertIn("60 payments", r.out, r)

    def test_a_run_in_progress_is_not_shown_and_blocks_a_second_writer(self):
        self.write("ds1.csv", csv_rows(20))
        cfg = self.make_config(self.pg_store())
        self.assertEqual(self.run_ps("run", cfg).rc, 0)
        cfg2 = self.make_config(self.pg_store() [:-1] + ", busy_timeout_ms: 300}",
                                name="second.yaml")
        seen = {}

        def during():
            seen["status"] = self.run_ps("status", cfg)
            seen["second"] = self.run_ps("run", cfg2)

        r = self.run_paused(cfg, during)
        self.assertEqual(r.rc, 0, r)
        st = seen["status"]
        self.assertEqual(st.rc, 0, st)
        self.assertNotIn("interrupted", st.out, st)  # the run in progress is left out
        self.assertIn("20 payments", st.out, st)
        sec = seen["second"]
        self.assertEqual(sec.rc, 1, sec)
        self.assertIn("dataset 'ds1' is being written by another run (waited 300 ms;", sec.err, sec)
        outcomes = self.pg.rows("SELECT outcome FROM runs ORDER BY started_ms")
        self.assertEqual(outcomes, [["ok"], ["ok"], ["failed"]], outcomes)

    def test_workers_create_the_schema_together(self):
        names = ["w%d" % i for i in range(6)]
        procs = []
        for ds in names:
            self.write("%s.csv" % ds, csv_rows(30))
            cfg = self.make_config(self.pg_store(), datasets=[ds], name="%s.yaml" % ds)
            e = dict(os.environ, PS_TEST_PGPW=PASSWORD)
            procs.append(subprocess.Popen([pslib.PAYSYNC, "-q", "run", cfg], env=e,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE))
        for p in procs:
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 0, err.decode())
        self.assertEqual(self.pg.rows("SELECT version FROM paysync_schema"), [["2"]])
        self.assertEqual(self.pg.rows("SELECT count(DISTINCT dataset), count(*) FROM payments"),
                         [["6", "180"]])

    def test_status_shows_the_lease_holder(self):
        """The leases table as the daemons write it (docs/scaling.md): held, expired, released."""
        self.write("ds1.csv", csv_rows(3))
        cfg = self.make_config(self.pg_store())
        self.assertEqual(self.run_ps("run", cfg).rc, 0)
        r = self.run_ps("status", cfg)
        self.assertNotIn("lease:", r.out, r)
        self.pg.psql("INSERT INTO leases VALUES ('ds1', 'host-b:4121',"
                     " '2026-01-02T03:04:05.678Z', clock_timestamp() - interval '2 s', 60000)")
        r = self.run_ps("status", cfg)
        self.assertEqual(r.rc, 0, r)
        # the heartbeat's age is counted when status runs: 2 s, more on a loaded machine
        m = re.search(r"^  lease:     held by worker 'host-b:4121' since 2026-01-02T03:04:05\.678Z"
                      r" \(heartbeat (\d+)s ago\)$", r.out, re.M)
        self.assertTrue(m, r)
        self.assertGreaterEqual(int(m.group(1)), 2, r)
        self.assertLess(int(m.group(1)), 60, r)
        lease = json.loads(self.run_ps("status", cfg, "--json").out)["datasets"][0]["lease"]
        self.assertEqual((lease["worker"], lease["since"], lease["timeout_ms"], lease["expired"]),
                         ("host-b:4121", "2026-01-02T03:04:05.678Z", 60000, False), lease)
        self.assertGreaterEqual(lease["heartbeat_age_ms"], 2000)
        self.pg.psql("UPDATE leases SET heartbeat = clock_timestamp() - interval '75 s'")
        r = self.run_ps("status", cfg)
        m = re.search(r"^  lease:     worker 'host-b:4121' since 2026-01-02T03:04:05\.678Z, expired: "
                      r"no heartbeat for 1m(\d+)s \(lease timeout 1m\); another worker takes it"
                      r" over$", r.out, re.M)
        self.assertTrue(m, r)
        self.assertGreaterEqual(int(m.group(1)), 15, r)
        self.pg.psql("UPDATE leases SET heartbeat = '-infinity'")  # released
        self.assertNotIn("lease:", self.run_ps("status", cfg).out)

    def test_newer_schema_is_refused(self):
        self.write("ds1.csv", csv_rows(3))
        cfg = self.make_config(self.pg_store())
        self.assertEqual(self.run_ps("run", cfg).rc, 0)
        self.pg.psql("UPDATE paysync_schema SET version = 7")
        r = self.run_ps("run", cfg)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("has schema version 7, newer than this paysync understands (2): upgrade "
                      "paysync", r.err, r)
        r = self.run_ps("status", cfg)
        self.assertIn("has schema version 7, newer than this paysync (2)", r.out, r)


if __name__ == "__main__":
    pslib.main()
