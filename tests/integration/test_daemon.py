"""paysync daemon: crash isolation, backoff, SIGTERM drain, SIGHUP reload. The daemon runs the
real binary; the tests wait for events (log lines, store rows) with generous deadlines and never
assert on durations."""
import os
import re
import resource
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

DEADLINE = 90  # seconds to wait for an expected event before failing


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


class Daemon:
    def __init__(self, case, cfg, *args, env=None):
        self.log_path = case.path("daemon.log")
        self.out_path = case.path("daemon.out")
        extra = env
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        env.pop("PAYSYNC_FAKE_NOW_MS", None)
        env.update(extra or {})
        self.err = open(self.log_path, "wb")
        self.out = open(self.out_path, "wb")
        self.proc = subprocess.Popen([pslib.PAYSYNC, "daemon", cfg] + list(args),
                                     stdout=self.out, stderr=self.err, env=env,
                                     preexec_fn=no_core)

    def log(self):
        with open(self.log_path, encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_for(self, what, pred):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if pred():
                return
            if self.proc.poll() is not None:
                raise AssertionError("daemon exited (rc %s) while waiting for %s\n%s" %
                                     (self.proc.returncode, what, self.log()))
            time.sleep(0.1)
        raise AssertionError("timed out waiting for %s\n%s" % (what, self.log()))

    def wait_log(self, needle, count=1):
        self.wait_for("%d x %r" % (count, needle), lambda: self.log().count(needle) >= count)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("daemon did not stop\n" + self.log())
        self.err.close()
        self.out.close()
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.err.close()
        self.out.close()


class DaemonTest(pslib.Case):
    def setUp(self):
        super().setUp()
        if not pslib.TEST_PLUGIN_DIR or not os.path.exists(
                os.path.join(pslib.TEST_PLUGIN_DIR, "crasher.so")):
            self.skipTest("test plugins are not built ($PS_TEST_PLUGIN_DIR)")
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.kill()
        super().tearDown()

    def start(self, cfg, *args):
        d = Daemon(self, cfg, *args)
        self.daemons.append(d)
        return d

    def ok_runs(self, dataset):
        db = self.path("var", "state.db")
        if not os.path.exists(db):
            return 0
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        try:
            return con.execute("SELECT count(*) FROM runs WHERE dataset = ? AND outcome = 'ok'",
                               (dataset,)).fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # schema not created yet
        finally:
            con.close()

    def dataset(self, name, source, schedule):
        return ("  - name: %s\n    target: {level: project, id: p1}\n    source: %s\n"
                "    sinks: [state]\n    schedule: %s\n" % (name, source, schedule))

    def base(self):
        return "sinks:\n  state: {plugin: sqlite, path: var/state.db}\ndatasets:\n"

    def test_crashing_dataset_does_not_stop_the_other(self):
        cfg = self.config(self.base() +
                          self.dataset("boom", "{plugin: crasher}", "{every: 1s}") +
                          self.dataset("good", "{plugin: stub, rows: 20}", "{every: 1s}"))
        d = self.start(cfg, "--retry-base", "1", "--retry-max", "2")
        d.wait_log("boom: run failed", 3)  # crashed three times ...
        self.wait_store(d, "good", 3)  # ... while the other kept running
        log = d.log()
        self.assertIn("killed by signal %d" % signal.SIGABRT, log)
        self.assertIn("failure 2 in a row, retry in 2s", log)  # doubling, capped at 2s
        self.assertIn("failure 3 in a row, retry in 2s", log)
        self.assertIn("good: run finished ok", log)
        self.assertIn("boom: run started (pid", log)
        self.assertIn("- a retry", log)
        self.assertEqual(self.ok_runs("boom"), 0)
        self.assertEqual(d.stop(), 0, d.log())
        self.assertIn("daemon: stopped", d.log())

    def wait_store(self, d, dataset, n):
        d.wait_for("%d ok runs of %s in the store" % (n, dataset),
                   lambda: self.ok_runs(dataset) >= n)

    def test_sigterm_waits_for_the_running_run(self):
        cfg = self.config(self.base() + self.dataset(
            "slow", "{plugin: slowpoke, rows: 100, sleep_ms: 100}", "{every: 1h}"))
        d = self.start(cfg)
        d.wait_log("slow: run started (pid")
        d.wait_for("the run's own start line",  # the child is inside the pipeline
                   lambda: re.search(r"slow: run [0-9]{8}T[0-9]+Z?-[0-9]+ started", d.log()))
        self.assertEqual(d.stop(), 0, d.log())
        log = d.log()
        self.assertIn("daemon: stopping: 1 run(s) to finish", log)
        self.assertIn("slow: SIGTERM sent to the run (pid", log)
        # The run either finished its batch and committed, or was ended by the signal.
        self.assertTrue("slow: run finished ok" in log or "slow: run failed (pid" in log, log)
        self.assertIn("daemon: stopped", log)
        pid = int(re.search(r"slow: run started \(pid ([0-9]+)\)", log).group(1))
        with self.assertRaises(ProcessLookupError):  # the child was waited for
            os.kill(pid, 0)

    def test_sigint_with_nothing_running_exits_zero(self):
        cfg = self.config(self.base() +
                          self.dataset("good", "{plugin: stub, rows: 5}", "{every: 1h}"))
        d = self.start(cfg)
        d.wait_log("good: run finished ok")
        d.wait_log("good: next due")
        self.assertEqual(d.stop(signal.SIGINT), 0, d.log())
        self.assertIn("daemon: stopping: 0 run(s) to finish", d.log())
        self.assertEqual(self.ok_runs("good"), 1)  # every 1h: ran once

    def test_sighup_reloads_and_keeps_old_config_on_error(self):
        body = self.base() + self.dataset("first", "{plugin: stub, rows: 5}", "{every: 1h}")
        cfg = self.config(body)
        d = self.start(cfg)
        d.wait_log("first: run finished ok")
        d.wait_log("first: next due")

        self.config(body.replace("{every: 1h}", "{every: 1x}"))  # invalid
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("reload failed, keeping the previous config")
        self.assertIn("paysync.yaml:9:16: datasets[first].schedule.every: '1x': unknown unit",
                      d.log())

        self.config(body + self.dataset("second", "{plugin: stub, rows: 5}", "{every: 1h}"))
        d.proc.send_signal(signal.SIGHUP)
        d.wait_log("daemon: reloaded: 2 dataset(s)")
        d.wait_log("second: run finished ok")
        self.wait_store(d, "second", 1)
        self.assertEqual(self.ok_runs("first"), 1)  # its state survived the reload
        self.assertEqual(d.stop(), 0, d.log())

    def test_existing_store_anchors_the_schedule(self):
        cfg = self.config(self.base() +
                          self.dataset("good", "{plugin: stub, rows: 5}", "{every: 1h}"))
        res = pslib.run("run", cfg)  # ran just now: not due for an hour
        self.assertEqual(res.rc, 0, res)
        d = self.start(cfg)
        d.wait_log("daemon: started")
        d.wait_log("good: every 1h")
        self.assertEqual(d.stop(), 0, d.log())
        self.assertNotIn("good: run started", d.log())
        self.assertEqual(self.ok_runs("good"), 1)

    def test_run_timeout_stops_hung_and_slow_runs(self):
        # "stuck" sleeps through SIGTERM (one batch of 10 minutes): SIGKILL after --kill-after;
        # "slow" stops at its next batch after SIGTERM and rolls back; "good" keeps running.
        # Each has its own store so that neither blocks the others.
        cfg = self.config(
            "sinks:\n  state: {plugin: sqlite, path: var/state.db}\n"
            "  s1: {plugin: sqlite, path: var/stuck.db}\n"
            "  s2: {plugin: sqlite, path: var/slow.db}\ndatasets:\n" +
            self.dataset("stuck", "{plugin: slowpoke, rows: 1, sleep_ms: 600000}", "{every: 1h}")
            .replace("sinks: [state]", "sinks: [s1]") +
            self.dataset("slow", "{plugin: slowpoke, rows: 100000, sleep_ms: 100}", "{every: 1h}")
            .replace("sinks: [state]", "sinks: [s2]") +
            self.dataset("good", "{plugin: stub, rows: 5}", "{every: 1s}"))
        # --kill-after leaves "slow" time to stop at its next batch even on a loaded machine
        # (1 s was too short under load: it was SIGKILLed mid-rollback)
        d = self.start(cfg, "--run-timeout", "3", "--kill-after", "5", "--retry-base", "1",
                       "--retry-max", "1")
        d.wait_log("stuck: run did not end within 5s of its SIGTERM: SIGKILL sent (pid", 2)
        d.wait_log("slow: run failed (pid", 1)
        self.wait_store(d, "good", 2)
        self.assertEqual(d.stop(), 0, d.log())
        log = d.log()
        self.assertIn("daemon: started", log)
        self.assertIn("run timeout 3s", log)
        self.assertIn("stuck: run still going after the run timeout of 3s: SIGTERM sent (pid",
                      log)
        self.assertIn("killed by signal %d" % signal.SIGKILL, log)
        self.assertRegex(log, r"stuck: run failed \(pid [0-9]+\): killed by signal 9 \(Killed\) "
                              r"\(timed out: run timeout 3s\) after [0-9.]+s; failure 1 in a row, "
                              r"retry in 1s")
        self.assertIn("slow: run still going after the run timeout of 3s: SIGTERM sent (pid", log)
        self.assertRegex(log, r"slow: run failed \(pid [0-9]+\): exit status 1 "
                              r"\(timed out: run timeout 3s\)")
        self.assertNotIn("slow: run did not end", log)  # it stopped at its next batch
        # until the daemon is told to stop (its SIGTERM may catch a run of "good" in flight)
        self.assertNotIn("good: run failed", log.split("daemon: stopping")[0])
        for pid in re.findall(r"stuck: run started \(pid ([0-9]+)\)", log):
            with self.assertRaises(ProcessLookupError):  # killed and waited for
                os.kill(int(pid), 0)
        for db, name in (("stuck.db", "stuck"), ("slow.db", "slow")):
            con = sqlite3.connect(self.path("var", db))
            try:  # the rolled-back runs left no payments and no successful run
                self.assertEqual(con.execute("SELECT count(*) FROM payments").fetchone()[0], 0)
                self.assertEqual(con.execute(
                    "SELECT count(*) FROM runs WHERE dataset = ? AND outcome = 'ok'",
                    (name,)).fetchone()[0], 0)
            except sqlite3.OperationalError as e:  # killed before creating the schema: empty
                self.assertIn("no such table", str(e))
            finally:
                con.close()

    def test_usage_errors(self):
        cfg = self.config(self.base() +
                          self.dataset("good", "{plugin: stub, rows: 5}", "{every: 1h}"))
        for args, msg in [(["--retry-base", "0"], "--retry-base '0': expected whole seconds"),
                          (["--jobs", "x"], "--jobs 'x': expected a number between 1 and 64"),
                          (["--run-timeout", "-1"],
                           "--run-timeout '-1': expected whole seconds between 0 and 604800"),
                          (["--kill-after", "0"],
                           "--kill-after '0': expected whole seconds between 1 and 3600"),
                          ([], None)]:
            if msg is None:
                res = pslib.run("daemon", self.path("missing.yaml"), timeout=30)
                self.assertEqual(res.rc, 2, res)
                self.assertIn("missing.yaml: cannot open", res.err)
                continue
            res = pslib.run("daemon", cfg, *args, timeout=30)
            self.assertEqual(res.rc, 2, res)
            self.assertIn(msg, res.err)


if __name__ == "__main__":
    pslib.main()
