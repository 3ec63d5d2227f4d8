"""Many workers on one PostgreSQL store (docs/scaling.md), against a throwaway cluster
(pgcluster.py; skipped with a message when PostgreSQL is not installed).

Three daemons share one config: 30 datasets on `every: 10s`, lease_timeout 4s. One daemon is
SIGKILLed midway (its runs die with it). From the runs table: no dataset ever had two
overlapping runs, none ran twice in one window, none missed a window by more than the lease
timeout (plus a margin for a loaded machine), the killed worker's datasets were taken over,
and every payment is present exactly once. (How `status` shows a lease: test_pg_store.py.)
A second test restarts the server while runs are going: those runs fail cleanly and the next
ones succeed. About 75 s in all."""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

EVERY_MS = 10000
LEASE_MS = 4000
ROWS = 20


def sanitized():
    """True for an ASan build (runs take several times longer: fewer datasets, more margin)."""
    try:
        with open(pslib.PAYSYNC, "rb") as f:
            return b"AddressSanitizer" in f.read()
    except OSError:
        return False
HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY")


class Daemon:
    def __init__(self, case, cfg, worker):
        self.worker = worker
        self.log = case.path("daemon-%s.log" % worker)
        e = dict(os.environ)
        e.pop("PAYSYNC_PLUGIN_PATH", None)
        self.f = open(self.log, "w")
        self.p = subprocess.Popen([pslib.PAYSYNC, "daemon", cfg, "--worker-id", worker,
                                   "--retry-base", "1", "--retry-max", "2", "--jobs", "4"],
                                  stdout=self.f, stderr=subprocess.STDOUT, env=e)

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            rc = self.p.wait(timeout=60)
        finally:
            self.f.close()
        return rc


class PgWorkersTest(pslib.PgCase):
    pg_settings = {"max_connections": "200"}

    def setUp(self):
        super().setUp()
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            if d.p.poll() is None:
                d.p.kill()
                d.p.wait()
        super().tearDown()

    def make_config(self, n, every):
        body = ("sinks:\n  store: {plugin: postgres, conninfo: %s, lease_timeout: %dms}\n"
                "datasets:\n" % (pslib.yaml_str(self.pg.conninfo), LEASE_MS))
        for i in range(n):
            ds = "ds%02d" % i
            lines = [HEADER] + ["%s-P%03d,2024-02-%02dT08:00:00Z,%d.25,NGN,FULL_PAYMENT,C%d,M%d,"
                                "Name,Residential" % (ds, k, 1 + k % 28, 100 + k, k, k)
                                for k in range(ROWS)]
            self.write("%s.csv" % ds, "\n".join(lines) + "\n")
            body += ("  - name: %s\n    target: {level: project, id: site-%s}\n"
                     "    source: {plugin: csvfile, path: %s.csv}\n    sinks: [store]\n"
                     "    schedule: {every: %s}\n" % (ds, ds, ds, every))
        cfg = self.config(body)
        os.chmod(cfg, 0o600)
        return cfg

    def runs(self):
        return [dict(zip(("dataset", "run_id", "started", "finished", "outcome", "worker",
                          "error"), r))
                for r in json.loads(self.pg.psql(
                    "SELECT coalesce(json_agg(json_build_array(dataset, run_id, started_ms,"
                    " finished_ms, outcome, worker, error) ORDER BY dataset, started_ms), '[]')"
                    " FROM runs"))]

    def test_three_workers_one_killed(self):
        slow = sanitized()
        ndatasets = 12 if slow else 30
        margin = 10000 if slow else 5000  # process start-up on a loaded machine
        cfg = self.make_config(ndatasets, "10s")
        t0 = time.time() * 1000
        self.daemons = [Daemon(self, cfg, "w%d" % i) for i in (1, 2, 3)]
        time.sleep(max(0, 25 - (time.time() * 1000 - t0) / 1000))
        self.assertEqual(self.daemons[1].stop(signal.SIGKILL), -signal.SIGKILL)
        # read once the process is reaped: a run w2 began between a clock read before the
        # kill and the kill itself is not "after" it (seen at load 12)
        killed_at = time.time() * 1000
        time.sleep(35)
        stop_at = time.time() * 1000
        for d in (self.daemons[0], self.daemons[2]):
            self.assertEqual(d.stop(), 0, d.text()[-3000:])
        runs = self.runs()
        logs = "\n".join(d.text()[-2000:] for d in self.daemons)
        by_ds = {}
        for r in runs:
            by_ds.setdefault(r["dataset"], []).append(r)
        self.assertEqual(len(by_ds), ndatasets, runs)
        workers = {r["worker"] for r in runs}
        self.assertEqual(workers, {"w1", "w2", "w3"}, runs)
        # nothing of w2 started after it was killed
        self.assertFalse([r for r in runs if r["worker"] == "w2" and r["started"] > killed_at],
                         runs)
        took_over = 0
        for ds, rs in by_ds.items():
            oks = [r for r in rs if r["outcome"] == "ok" and r["finished"] is not None]
            # no two overlapping runs: each starts after the previous one ended (a killed one
            # ended at the kill at the latest)
            for a, b in zip(rs, rs[1:]):
                end = a["finished"] if a["finished"] is not None else killed_at
                self.assertLessEqual(end, b["started"], (ds, a, b, logs))
            # never twice in one window; no window missed by more than the lease timeout (and
            # a margin for process start-up on a loaded machine)
            for a, b in zip(oks, oks[1:]):
                gap = b["started"] - a["started"]
                self.assertGreaterEqual(gap, EVERY_MS, (ds, a, b))
                self.assertLessEqual(gap, EVERY_MS + LEASE_MS + margin, (ds, a, b, logs))
            self.assertGreaterEqual(len(oks), 4, (ds, rs, logs))
            self.assertLessEqual(stop_at - oks[-1]["started"], EVERY_MS + LEASE_MS + margin,
                                 (ds, rs))
            if any(r["worker"] == "w2" for r in rs) and oks[-1]["worker"] != "w2":
                took_over += 1
        self.assertGreater(took_over, 0, runs)
        # a run the kill interrupted shows as such, and its dataset went on
        interrupted = [r for r in runs if r["finished"] is None]
        for r in interrupted:
            self.assertEqual(r["worker"], "w2", r)
            self.assertTrue(r["error"].startswith("interrupted:"), r)
        # every payment exactly once, all present
        self.assertEqual(self.pg.rows("SELECT count(*), count(DISTINCT (dataset, id)),"
                                      " count(*) FILTER (WHERE vanished_run IS NULL)"
                                      " FROM payments"), [[str(ndatasets * ROWS)] * 3])
        # every lease released (a stopped worker releases; the killed one's were taken over
        # or expire)
        r = pslib.run("status", cfg)
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("held by worker 'w1'", r.out, r)
        self.assertNotIn("held by worker 'w3'", r.out, r)

    def test_server_restarted_while_workers_run(self):
        cfg = self.make_config(4, "2s")
        self.daemons = [Daemon(self, cfg, "w%d" % i) for i in (1, 2)]
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            out = self.pg.psql("SELECT count(*) FROM runs WHERE outcome = 'ok'", check=False)
            if out.strip().isdigit() and int(out) >= 4:  # no table before the first run
                break
            time.sleep(0.2)
        restart_at = time.time() * 1000
        self.pg.restart()
        time.sleep(10)
        stop_at = time.time() * 1000
        for d in self.daemons:
            self.assertEqual(d.stop(), 0, d.text()[-3000:])
        runs = self.runs()
        for i in range(4):
            ds = "ds%02d" % i
            later = [r for r in runs if r["dataset"] == ds and r["started"] > restart_at + 1000
                     and r["outcome"] == "ok"]
            self.assertTrue(later, (ds, runs))
        failed = [r for r in runs if r["outcome"] == "failed" and r["finished"] is not None]
        for r in failed:
            if r["error"].startswith("interrupted by a signal"):
                # the stop's SIGTERM caught a run in flight: it rolled back and said so
                self.assertGreaterEqual(r["finished"], stop_at, r)
                self.assertIn("nothing was committed", r["error"], r)
                continue
            self.assertTrue("connection" in r["error"] or "terminat" in r["error"]
                            or "server closed" in r["error"], r)
        self.assertEqual(self.pg.rows("SELECT count(*), count(DISTINCT (dataset, id))"
                                      " FROM payments"), [["80", "80"]])
        self.assertNotIn("password", "".join(d.text() for d in self.daemons))


if __name__ == "__main__":
    pslib.main()
