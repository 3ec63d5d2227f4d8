"""File sinks shared by datasets (issue 12 item 8 and reproduction 10): a jsonl/csv file is
replaced at the end of every run with the payments of that run's datasets, so datasets that
write one file must always run together, or each give their file a {dataset} path."""
import hashlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

HEADER = ("ID,TIMESTAMP,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,"
          "CUSTOMER_CATEGORY,PAYMENT_AMOUNT")
DEADLINE = 90


def csv_rows(prefix, n):
    return HEADER + "\n" + "".join(
        "%s%d,2024-03-05T14:16:01.350Z,NGN,FULL_PAYMENT,C%d,%05d,Amina Bello,Residential,%d.50\n"
        % (prefix, i, i, i, 100 + i) for i in range(1, n + 1))


def digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def run_counted(case, *args, env=None):
    """pslib.run; a `run` also writes a report, whose counts must reconcile for every dataset
    that ran: read = accepted + rejected + blank + duplicates (+ filtered)."""
    if args[0] != "run":
        return pslib.run(*args, env=env)
    report = case.path("report-counted.json")
    if os.path.exists(report):
        os.unlink(report)
    res = pslib.run(*args, "--report", report, env=env)
    if os.path.exists(report):
        with open(report) as f:
            for d in json.load(f)["datasets"]:
                case.assertEqual(d["read"], d["accepted"] + d["rejected"] + d["blank"] +
                                 d["duplicates"] + d.get("filtered", 0), d)
    return res


class SharedSinks(pslib.Case):
    def setUp(self):
        super().setUp()
        self.write("a.csv", csv_rows("A", 3))
        self.write("b.csv", csv_rows("B", 2))
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        super().tearDown()

    def cfg(self, out='out/payments.jsonl', table='out/payments.csv', sched_a="daily",
            sched_b="daily", store="var/paysync.db", name_b="b", name="paysync.yaml"):
        def ds(n, src, sched):
            s = "    schedule: %s\n" % sched if sched else ""
            return ("  - name: %s\n    target: {level: project, id: site-1}\n"
                    "    source: {plugin: csvfile, path: %s}\n    sinks: [out, table, db]\n%s"
                    % (pslib.yaml_str(n), src, s))
        return self.config("sinks:\n  out: {plugin: jsonl, path: %s}\n"
                           "  table: {plugin: csv, path: %s}\n"
                           "  db: {plugin: sqlite, path: %s}\ndatasets:\n"
                           % (pslib.yaml_str(out), pslib.yaml_str(table), pslib.yaml_str(store))
                           + ds("a", "a.csv", sched_a) + ds(name_b, "b.csv", sched_b), name=name)

    def ids(self, rel):
        return sorted(r["ID"] for r in pslib.read_jsonl(self.path(rel)))

    def ok_runs(self, dataset):
        db = self.path("var", "paysync.db")
        if not os.path.exists(db):
            return 0
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=10)
        try:
            return con.execute("SELECT count(*) FROM runs WHERE dataset = ? AND outcome = 'ok'",
                               (dataset,)).fetchone()[0]
        except sqlite3.OperationalError:
            return 0
        finally:
            con.close()

    def daemon(self, cfg):
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        env.pop("PAYSYNC_FAKE_NOW_MS", None)
        log = open(self.path("daemon.log"), "wb")
        p = subprocess.Popen([pslib.PAYSYNC, "daemon", cfg], stdout=log, stderr=log, env=env)
        log.close()
        self.procs.append(p)
        return p

    def daemon_log(self):
        with open(self.path("daemon.log"), encoding="utf-8", errors="replace") as f:
            return f.read()

    def wait_both_ran(self, p):
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if self.ok_runs("a") >= 1 and self.ok_runs("b") >= 1:
                return
            if p.poll() is not None:
                return
            time.sleep(0.1)
        self.fail("the daemon did not run both datasets\n" + self.daemon_log())

    # --- reproduction 10: the daemon and one JSONL file ---------------------------------

    def test_daemon_with_one_jsonl_for_two_datasets(self):
        """Reproduction: under the daemon each dataset runs alone and replaced the shared JSONL
        with its own rows: after both ran, half the payments were gone from the file (exit 0,
        no word). Now the daemon refuses the config at start."""
        cfg = self.cfg(sched_a="{every: 1h}", sched_b="{every: 1h}")
        p = self.daemon(cfg)
        self.wait_both_ran(p)
        if p.poll() is None:  # it ran them: the file must still hold every payment
            time.sleep(0.5)
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=DEADLINE)
            self.assertEqual(self.ids("out/payments.jsonl"), ["A1", "A2", "A3", "B1", "B2"],
                             "payments disappeared from the shared file\n" + self.daemon_log())
        self.assertEqual(p.wait(timeout=DEADLINE), 2, self.daemon_log())
        log = self.daemon_log()
        self.assertIn("paysync.yaml:3:8: sinks.out: sink 'out' (out/payments.jsonl) is written by "
                      "datasets 'a', 'b', which the daemon runs one at a time: each run would "
                      "replace the file with its own dataset's payments only. Give each dataset "
                      "its own file with {dataset} in the path (path: out/payments-{dataset}.jsonl)",
                      log)
        self.assertFalse(os.path.exists(self.path("out")), "the refused daemon wrote output")
        self.assertFalse(os.path.exists(self.path("var")), "the refused daemon ran a dataset")

    def test_daemon_with_dataset_paths(self):
        cfg = self.cfg(out="out/{dataset}.jsonl", table="out/{dataset}/payments.csv",
                       sched_a="{every: 1h}", sched_b="{every: 1h}")
        p = self.daemon(cfg)
        self.wait_both_ran(p)
        self.assertIsNone(p.poll(), self.daemon_log())
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=DEADLINE), 0, self.daemon_log())
        self.assertEqual(self.ids("out/a.jsonl"), ["A1", "A2", "A3"])
        self.assertEqual(self.ids("out/b.jsonl"), ["B1", "B2"])
        with open(self.path("out", "b", "payments.csv")) as f:
            self.assertEqual([l.split(",")[0] for l in f.read().splitlines()], ["ID", "B1", "B2"])

    def test_daemon_reload_keeps_config_on_shared_sink(self):
        cfg = self.cfg(out="out/{dataset}.jsonl", table="out/{dataset}.csv",
                       sched_a="{every: 1h}", sched_b="{every: 1h}")
        p = self.daemon(cfg)
        self.wait_both_ran(p)
        self.cfg(sched_a="{every: 1h}", sched_b="{every: 1h}")  # now one shared file
        p.send_signal(signal.SIGHUP)
        end = time.monotonic() + DEADLINE
        while "reload failed" not in self.daemon_log() and time.monotonic() < end:
            time.sleep(0.1)
        log = self.daemon_log()
        self.assertIn("reload failed, keeping the previous config: ", log)
        self.assertIn("which the daemon runs one at a time", log)
        p.send_signal(signal.SIGTERM)
        self.assertEqual(p.wait(timeout=DEADLINE), 0, log)

    # --- run ----------------------------------------------------------------------------

    def test_run_dataset_leaving_out_a_writer(self):
        cfg = self.cfg()
        res = run_counted(self, "run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.ids("out/payments.jsonl"), ["A1", "A2", "A3", "B1", "B2"])
        before = (digest(self.path("out", "payments.jsonl")),
                  digest(self.path("out", "payments.csv")))
        for args, left, inside in ((["--dataset", "a"], "dataset 'b'", "'a'"),
                                   (["--dataset", "b"], "dataset 'a'", "'b'")):
            res = run_counted(self, "run", cfg, *args)
            self.assertEqual(res.rc, 2, res)
            self.assertIn("paysync: %s:3:8: sinks.out: sink 'out' (out/payments.jsonl) is also "
                          "written by %s, which this run leaves out: the file would be replaced "
                          "with the payments of %s only. Run all its datasets together (add "
                          "--dataset for each, or no --dataset), or give each dataset its own "
                          "file with {dataset} in the path (path: out/payments-{dataset}.jsonl)"
                          % (cfg, left, inside), res.err)
        self.assertEqual(before, (digest(self.path("out", "payments.jsonl")),
                                  digest(self.path("out", "payments.csv"))))
        self.assertEqual(self.ok_runs("a"), 1)  # nothing ran
        # every writer named: fine; a dry run writes nothing: fine
        res = run_counted(self, "run", cfg, "--dataset", "b", "--dataset", "a")
        self.assertEqual(res.rc, 0, res)
        res = run_counted(self, "run", cfg, "--dataset", "a", "--dry-run")
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.ids("out/payments.jsonl"), ["A1", "A2", "A3", "B1", "B2"])

    def test_run_dataset_with_dataset_paths(self):
        cfg = self.cfg(out="out/{dataset}.jsonl", table="out/{dataset}/payments.csv")
        res = run_counted(self, "run", cfg, "--dataset", "a")
        self.assertEqual(res.rc, 0, res)
        a = digest(self.path("out", "a.jsonl"))
        res = run_counted(self, "run", cfg, "--dataset", "b")
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(digest(self.path("out", "a.jsonl")), a)  # b's run left a's file alone
        self.assertEqual(self.ids("out/a.jsonl"), ["A1", "A2", "A3"])
        self.assertEqual(self.ids("out/b.jsonl"), ["B1", "B2"])
        self.assertTrue(os.path.exists(self.path("out", "a", "payments.csv")))
        # a dataset name with a space stays one file name
        cfg = self.cfg(out="out/{dataset}.jsonl", table="out/{dataset}.csv", name_b="Site B 01")
        res = run_counted(self, "run", cfg, "--dataset", "Site B 01")
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.ids("out/Site B 01.jsonl"), ["B1", "B2"])

    def test_different_schedules(self):
        cfg = self.cfg(sched_a="daily", sched_b="{every: 6h}")
        for cmd in (["run", cfg], ["check", cfg], ["run", cfg, "--due"]):
            res = run_counted(self, *cmd)
            self.assertEqual(res.rc, 2, res)
            self.assertIn("%s:3:8: sinks.out: sink 'out' (out/payments.jsonl) is written by "
                          "datasets 'a' (daily), 'b' (every (every 6h)), which do not always run "
                          "together (`run --due` and the daemon run each on its own schedule): "
                          "every run replaces the file with the payments of its own datasets "
                          "only. Give each dataset its own file with {dataset} in the path "
                          "(path: out/payments-{dataset}.jsonl), or give them one schedule"
                          % cfg, res.err)
        self.assertFalse(os.path.exists(self.path("out")))
        cfg = self.cfg(sched_a="daily", sched_b=None)
        res = run_counted(self, "run", cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("datasets 'a' (daily), 'b' (no schedule), which do not always run", res.err)

    def test_due_runs_datasets_sharing_a_file_together(self):
        # a ran alone (with its own config) just now: not due; b never ran: due
        alone = self.config("sinks:\n  db: {plugin: sqlite, path: var/paysync.db}\ndatasets:\n"
                            "  - name: a\n    target: {level: project, id: site-1}\n"
                            "    source: {plugin: csvfile, path: a.csv}\n    sinks: [db]\n",
                            name="alone.yaml")
        res = run_counted(self, "run", alone)
        self.assertEqual(res.rc, 0, res)
        cfg = self.cfg()
        res = run_counted(self, "run", cfg, "--due")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("b: due (daily", res.err)
        self.assertIn("a: not due, but run with the due datasets it shares a file sink with",
                      res.err)
        self.assertEqual(self.ids("out/payments.jsonl"), ["A1", "A2", "A3", "B1", "B2"])
        self.assertEqual(self.ok_runs("a"), 2)

    # --- bad configurations ---------------------------------------------------------------

    def test_bad_paths(self):
        cases = [
            (dict(out="out/{datset}.jsonl"),
             ":3:24: sinks.out.path: unknown placeholder '{datset}' in 'out/{datset}.jsonl': the "
             "only one is {dataset} (the dataset's name)"),
            (dict(out="out/{dataset}.jsonl", store="var/{dataset}.db"),
             ":5:24: sinks.db.path: {dataset} is for file sinks (jsonl, csv); a store keeps every "
             "dataset's payments apart by itself, so its path names one database"),
            (dict(out="out/{dataset}.jsonl", table="out/{dataset}.csv", name_b=".."),
             ":12:5: datasets[..]: the dataset name '..' can not stand for {dataset} in sink "
             "'out''s path 'out/{dataset}.jsonl' (it names a folder); rename the dataset"),
            (dict(out="out/{dataset}.jsonl", table="out/a.jsonl"),
             ":4:10: sinks.table: sinks 'out' (for dataset 'a') and 'table' both write '%s': one "
             "would replace the other's file; give them different paths"
             % self.path("out", "a.jsonl")),
            (dict(out="out/p.jsonl", table="./out/p.jsonl"),
             "sinks 'out' and 'table' both write '%s'" % self.path("out", "p.jsonl")),
            (dict(out="out/{dataset}.jsonl", table="out/{dataset}.csv", store="out/b.jsonl"),
             ":5:7: sinks.db: sinks 'out' (for dataset 'b') and 'db' both write '%s'"
             % self.path("out", "b.jsonl")),
        ]
        for kw, msg in cases:
            cfg = self.cfg(**kw)
            for cmd in ("run", "check"):
                res = run_counted(self, cmd, cfg)
                self.assertEqual(res.rc, 2, (kw, res))
                self.assertIn(msg, res.err, kw)
            self.assertFalse(os.path.exists(self.path("out")), kw)
            self.assertFalse(os.path.exists(self.path("var")), kw)


if __name__ == "__main__":
    pslib.main()
