"""SIGTERM/SIGINT while a source waits on HTTP (docs/operations.md, "Stopping a run"): the host's
HTTP client sees the run's stop and cancels the request in flight, the pacing wait or the retry
backoff, so the run ends within about a second instead of when the request would have ended
(here a stalled answer, a Retry-After or a pacing interval of STALL_S seconds). The dataset is
rolled back with the stop's message, exit status 1, the store and the outputs unchanged. The
same under `paysync daemon`, which forwards its SIGTERM to the run.

The bound below (END_S) is not a speed goal: it only has to be far below STALL_S, so that a run
that waited for the request to end fails the test."""
import os
import signal
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_daemon import Daemon  # noqa: E402
from test_gsheet_run import Emulator, GsheetCase  # noqa: E402

STALL_S = 90  # a stalled answer, a Retry-After and a pacing interval all last this long
END_S = 15    # a stopped run must be gone well before STALL_S
WAIT_S = 60   # for the run to reach the fault


class StopDuringHttp(GsheetCase):
    def setUp(self):
        super().setUp()
        self.emu = Emulator(self.dir, "--generate", "1000", "--stall-seconds", STALL_S)

    def cfg(self, prefetch=True, name="paysync.yaml", extra="", **kw):
        s = {"spreadsheet_id": "generated", "api_key": "k", "api_url": self.emu.url,
             "requests_per_minute": 6000, "page_rows": 200, "max_retries": 3,
             "timeout": 600, "prefetch": prefetch}
        s.update(kw)
        return self.gsheet_config(s, sinks="out, store", name=name, extra_dataset=extra)

    def snapshot(self):
        """The outputs' bytes and every stored payment, all columns (the store file itself
        changes: the stopped run's outcome is recorded)."""
        out = {}
        for f in sorted(os.listdir(self.path("out"))):
            if not f.startswith("store.db"):
                with open(self.path("out", f), "rb") as fh:
                    out[f] = fh.read()
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            out["payments"] = db.execute("SELECT * FROM payments ORDER BY 1, 2").fetchall()
        finally:
            db.close()
        self.assertEqual(len(out["payments"]), 1000)
        return out

    def first_run(self):
        """A clean run: the store and the outputs a stopped run must leave as they are."""
        res = pslib.run("run", self.cfg(name="first.yaml"))
        self.assertEqual(res.rc, 0, res)
        self.emu.reset()
        return self.snapshot()

    def wait_count(self, key, proc, log=lambda: ""):
        """Waits until the emulator counted a request `key` ("fault:stall", "metadata") while
        proc (the run or the daemon) still runs (pslib.wait_counted)."""
        pslib.wait_counted(self, lambda: self.emu.stats()["counts"].get(key, 0), proc, key,
                           WAIT_S, log)

    def stop_run(self, cfg, key, sig=signal.SIGTERM):
        """Starts `paysync run CFG`, sends sig once the emulator counted `key`, and returns
        (rc, output) of a run that ended within END_S."""
        return pslib.run_stopped(self, cfg, lambda: self.emu.stats()["counts"].get(key, 0), key,
                                 sig, END_S, WAIT_S)

    def check_stopped(self, rc, text, before, signame="SIGTERM"):
        pslib.assert_stopped(self, rc, text, signame)
        self.assertTrue(self.snapshot() == before, "a stopped run changed the store or outputs")

    def test_stalled_page(self):
        before = self.first_run()
        for prefetch in (False, True):
            # the third values request (page 2) gets no answer; with prefetch it is the
            # fetch thread's request
            self.emu.reset()
            self.emu.faults([{"when": "values", "kind": "stall", "skip": 2, "count": -1}])
            rc, text = self.stop_run(self.cfg(prefetch, name="p%d.yaml" % prefetch),
                                     "fault:stall")
            self.check_stopped(rc, text, before)

    def test_retry_backoff(self):
        # page 2 answers 503 with Retry-After: STALL_S: the client waits that long to retry
        before = self.first_run()
        for prefetch in (False, True):
            self.emu.reset()
            self.emu.faults([{"when": "values", "kind": "503wait", "skip": 2, "count": -1}])
            rc, text = self.stop_run(self.cfg(prefetch, name="b%d.yaml" % prefetch),
                                     "fault:503wait",
                                     signal.SIGINT if prefetch else signal.SIGTERM)
            self.check_stopped(rc, text, before, "SIGINT" if prefetch else "SIGTERM")
            self.assertIn("retrying in", text)  # the wait had begun
            self.assertEqual(self.emu.stats()["counts"].get("fault:503wait"), 1)

    def test_pacing_wait(self):
        # one request a minute and a pacing interval longer than the stall: the run waits
        # before its first values request; metadata went out, nothing else
        before = self.first_run()
        rc, text = self.stop_run(self.cfg(requests_per_minute=1), "metadata")
        self.check_stopped(rc, text, before)
        self.assertNotIn("values", self.emu.stats()["counts"])

    def test_daemon_forwards_the_stop(self):
        before = self.first_run()
        self.emu.faults([{"when": "values", "kind": "stall", "skip": 2, "count": -1}])
        d = Daemon(self, self.cfg(name="daemon.yaml", extra="    schedule: {every: 1s}"),
                   env={"PS_TEST_FAKE_SLEEP": ""})
        try:
            self.wait_count("fault:stall", d.proc, d.log)
            d.proc.send_signal(signal.SIGTERM)
            try:
                rc = d.proc.wait(timeout=END_S)
            except subprocess.TimeoutExpired:
                self.fail("the daemon's run was still waiting on HTTP %d s after SIGTERM\n%s"
                          % (END_S, d.log()))
        finally:
            d.kill()
        log = d.log()
        self.assertEqual(rc, 0, log)
        self.assertIn("sheet1: SIGTERM sent to the run (pid", log)
        self.assertIn("cancelled (stopped by SIGTERM)", log)
        self.assertIn("sheet1: run failed (pid", log)
        self.assertIn("daemon: stopped", log)
        self.assertTrue(self.snapshot() == before, "a stopped run changed the store or outputs")


if __name__ == "__main__":
    pslib.main()
