"""csvfile source stability through the real binary (issue 12 item 2): a file that changes
while it is read fails the dataset with source_changed and nothing is committed.

The moment of the change is exact: the test-only hook PS_TEST_CSVFILE_PAUSE=POINT:FIFO makes
the csvfile plugin stop at POINT ("eof": the whole file read, before the final check;
"settle": after the settle wait, before its check) and write POINT to the FIFO; the test
changes the file, then opens the FIFO for writing and closes it to let the run go on."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

HEADER = ("ID,TIMESTAMP,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,"
          "CUSTOMER_CATEGORY,PAYMENT_AMOUNT")
ROW = "%s,2024-03-05T14:16:01.350Z,NGN,FULL_PAYMENT,C1,00042,Amina Bello,Residential,%s"
FULL = HEADER + "\n" + ROW % ("P1", "50") + "\n" + ROW % ("P2", "100.50") + "\n"
CUT = FULL[:-5]  # the writer has not finished: P2's amount reads "10", no final line end
assert CUT.endswith(",10")
CHANGED = "the file changed while it was read; run again"
OLD = 1700000000  # an mtime far in the past: no settle wait


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


class SourceStability(pslib.Case):
    def setUp(self):
        super().setUp()
        self.csv = self.path("in.csv")
        self.cfg = self.config("""
sinks:
  out: {plugin: jsonl, path: out/payments.jsonl}
  table: {plugin: csv, path: out/payments.csv}
  db: {plugin: sqlite, path: var/paysync.db}
datasets:
  - name: ds1
    target: {level: project, id: site-1}
    source: {plugin: csvfile, path: in.csv}
    sinks: [out, table, db]
    rejects: out/rejects.jsonl
""")

    def put(self, text, mtime=OLD):
        with open(self.csv, "w") as f:
            f.write(text)
        if mtime is not None:
            os.utime(self.csv, (mtime, mtime))

    def append(self, text):
        with open(self.csv, "a") as f:
            f.write(text)

    def state(self):
        """Everything a run commits: file sinks' bytes, the store's payments and cursors."""
        files = {}
        for d in ("out",):
            p = self.path(d)
            for name in sorted(os.listdir(p)) if os.path.isdir(p) else []:
                with open(os.path.join(p, name), "rb") as f:
                    files[name] = f.read()
        con = sqlite3.connect(self.path("var", "paysync.db"))
        try:
            pays = con.execute("SELECT * FROM payments ORDER BY dataset, id").fetchall()
            curs = con.execute("SELECT * FROM cursors").fetchall()
            runs = con.execute("SELECT outcome FROM runs ORDER BY rowid").fetchall()
        finally:
            con.close()
        return files, pays, curs, runs

    def amounts(self):
        return {r["ID"]: r["PAYMENT_AMOUNT"] for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}

    def first_run(self):
        self.put(FULL)
        res = run_counted(self, "run", self.cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.amounts(), {"P1": 50, "P2": 100.5})
        return self.state()

    def run_paused(self, point, change, env=None, report=None):
        """Runs with the hook at point; change() runs while the plugin waits there. Returns
        the result; fails when the run never reaches the point (today's code had no hook)."""
        args = ["run", self.cfg] + (["--report", report] if report else [])
        return pslib.run_paused(self, args, point, change, env)

    def assert_refused(self, res, before, how):
        self.assertEqual(res.rc, 1, res)
        self.assertIn("ds1: FAILED (nothing committed)", res.out)
        self.assertIn("source_changed: %s: %s (%s)" % (self.csv, CHANGED, how), res.out, res)
        after = self.state()
        self.assertEqual(after[:3], before[:3], "a refused run changed committed data")
        self.assertEqual(after[3][-1], ("failed",))

    # --- the reproduction: the last amount 100.50 read as 10 -------------------------------

    def test_writer_finishing_during_read(self):
        """Reproduction: the file is read while its writer is at `...,10`; it writes `0.50\\n`
        before the read ends. Today: exit 0, 'changed 1', P2 = 10."""
        before = self.first_run()
        self.put(CUT)
        report = self.path("report.json")
        res = self.run_paused("eof", lambda: self.append("0.50\n"),
                              report=report)
        self.assert_refused(res, before, "size %d -> %d bytes" % (len(CUT), len(FULL)))
        with open(report) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual(rep["outcome"], "failed")
        self.assertIn("source_changed: ", rep["error"])
        self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                         rep["duplicates"] + rep.get("filtered", 0), rep)
        # run again: the complete file now, P2 keeps 100.50
        res = run_counted(self, "run", self.cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("unchanged 2", res.out)
        self.assertEqual(self.amounts(), {"P1": 50, "P2": 100.5})

    def test_truncated_during_read(self):
        before = self.first_run()
        self.put(FULL)
        res = self.run_paused("eof", lambda: os.truncate(self.csv, len(CUT)))
        self.assert_refused(res, before, "size %d -> %d bytes" % (len(FULL), len(CUT)))

    def test_replaced_by_rename_during_read(self):
        before = self.first_run()
        self.put(FULL)

        def replace():
            with open(self.path("in.tmp"), "w") as f:
                f.write(FULL.replace("100.50", "200.00"))
            os.rename(self.path("in.tmp"), self.csv)
        res = self.run_paused("eof", replace)
        self.assert_refused(res, before,
                            "the path now names another file (replaced, e.g. by a rename)")

    def test_removed_during_read(self):
        before = self.first_run()
        self.put(FULL)
        res = self.run_paused("eof", lambda: os.unlink(self.csv))
        self.assert_refused(res, before,
                            "the path no longer names a file: No such file or directory")

    # --- the settle wait: no final line end and modified just now ------------------------

    def settle_env(self):
        st = os.stat(self.csv)
        return {"PAYSYNC_FAKE_NOW_MS": str(st.st_mtime_ns // 1000000 + 500),
                "PS_TEST_FAKE_SLEEP": "1"}

    def test_settle_wait_catches_a_writer(self):
        before = self.first_run()
        self.put(CUT, mtime=OLD + 100)
        res = self.run_paused("settle", lambda: self.append("0.50\n"),
                              env=self.settle_env())
        self.assertIn("ends without a line end and was modified 500 ms ago: waiting 1500 ms",
                      res.err, res)
        self.assert_refused(res, before, "it changed in the 1500 ms after the read: size "
                            "%d -> %d bytes" % (len(CUT), len(FULL)))

    def test_settle_wait_then_reads_a_stable_file(self):
        """A file without a final line end (Google's CSV export) written just now: after the
        wait it has not changed, so it is read as it is."""
        self.put(FULL[:-1], mtime=OLD + 100)
        res = run_counted(self, "run", self.cfg, env=self.settle_env())
        self.assertEqual(res.rc, 0, res)
        self.assertIn("waiting 1500 ms in case a writer is still writing it", res.err)
        self.assertEqual(self.amounts(), {"P1": 50, "P2": 100.5})

    # --- what stays as it was -------------------------------------------------------------

    def test_no_final_line_end_old_file_is_valid(self):
        self.put(FULL[:-1])
        res = run_counted(self, "run", self.cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertNotIn("waiting", res.err)
        self.assertIn("read 2, accepted 2", res.out)
        self.assertEqual(self.amounts(), {"P1": 50, "P2": 100.5})

    def test_quote_cut_at_end_is_an_error(self):
        before = self.first_run()
        self.put(FULL + ROW.replace("Amina Bello", '"Amina') % ("P3", "7"))
        res = run_counted(self, "run", self.cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("line 4: unterminated quoted field: the quote opened on line 4 is never "
                      "closed", res.out)
        self.assertNotIn("source_changed", res.out)
        self.assertEqual(self.state()[:3], before[:3])

    def test_cut_and_stable_is_not_detectable(self):
        """The limit, documented: a file cut mid-row that no longer changes and is older than
        settle_time looks like a complete file to any check of the file alone."""
        self.first_run()
        self.put(CUT)
        res = run_counted(self, "run", self.cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("changed 1", res.out)
        self.assertEqual(self.amounts(), {"P1": 50, "P2": 10})

    def test_bad_settle_time(self):
        cfg = self.config("""
sinks:
  out: {plugin: jsonl, path: out/p.jsonl}
datasets:
  - name: ds1
    target: {level: project, id: site-1}
    source: {plugin: csvfile, path: in.csv, settle_time: 2m}
    sinks: [out]
""", name="bad.yaml")
        self.put(FULL)
        res = run_counted(self, "run", cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("option 'settle_time' must be a duration from 0", res.err)
        self.assertIn("got '2m'", res.err)


if __name__ == "__main__":
    pslib.main()
