#!/usr/bin/env python3
"""The vanish guard (issue 12 item 1): a run that would mark more of a dataset's stored
payments vanished than its max_vanished allows fails with vanish_guard and changes nothing."""
import json
import os
import shutil
import sqlite3
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_serve import Server  # noqa: E402

SAMPLE = os.path.join(pslib.SOURCE_DIR, "config", "sample", "payments.csv")
HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY")

SAMPLE_DATASET = """
sinks:
  store: {plugin: sqlite, path: var/paysync.db}
  export: {plugin: jsonl, path: out/payments.jsonl}
datasets:
  - name: kuje
    target: {level: project, id: site-001}
    source: {plugin: csvfile, path: payments.csv, header_row: 3}
    mapping:
      columns: {"Payment ID": ID, "Amount (NGN)": PAYMENT_AMOUNT, Currency: PAYMENT_CURRENCY}
      defaults: {PAYMENT_CURRENCY: NGN}
      timestamp: {formats: ["%d/%m/%Y %H:%M"], utc_offset: "+01:00"}
      transaction_types: {PAY: FULL_PAYMENT}
      phone_country_code: "234"
    sinks: [store, export]
serve:
  keys: [{name: k, key_sha256: ZEROS, datasets: ["*"]}]
""".replace("ZEROS", "0" * 64)


def rows(ids):
    return "".join("P%04d,2024-03-0%dT10:00:00Z,%d.00,NGN,FULL_PAYMENT,C%d,M%d,Name %d,Residential\n"
                   % (i, 1 + i % 9, 100 + i, i, i, i) for i in ids)


class VanishGuard(pslib.Case):
    def small_config(self, extra=""):
        return self.config("""
sinks:
  store: {plugin: sqlite, path: var/paysync.db}
datasets:
  - name: site
    target: {level: project, id: site-1}
    source: {plugin: csvfile, path: in.csv}
    sinks: [store]
""" + extra)

    def write_rows(self, ids):
        self.write("in.csv", HEADER + "\n" + rows(ids))

    def report(self, cfg, *args):
        rep = self.path("report-%d.json" % len(os.listdir(self.dir)))
        res = pslib.run("run", cfg, "--report", rep, *args)
        with open(rep, encoding="utf-8") as f:
            return res, json.load(f)["datasets"][0]

    def store_rows(self, sql, *params):
        con = sqlite3.connect("file:%s?mode=ro" % self.path("var", "paysync.db"), uri=True)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def export(self, cfg):
        res = pslib.run("export", cfg, "--dataset", "kuje", "--format", "jsonl",
                        "--include-vanished")
        self.assertEqual(res.rc, 0, res)
        return res.out

    def test_sample_emptied_to_its_header(self):
        """The reproduction: today 'ok, vanished 310'; now exit 1 and nothing changes."""
        if not os.path.exists(SAMPLE):
            self.skipTest("no sample CSV at " + SAMPLE)
        shutil.copy(SAMPLE, self.path("payments.csv"))
        cfg = self.config(SAMPLE_DATASET)
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(rep["changes"]["new"], 310)
        self.assertEqual(rep["vanish_guard"], {"outcome": "passed", "stored": 0, "vanishing": 0,
                                               "limit": 0, "empty_source": False})
        with open(SAMPLE, encoding="utf-8") as f:
            header_only = "".join(f.readlines()[:3])
        self.write("payments.csv", header_only)
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            jsonl_before = f.read()
        export_before = self.export(cfg)
        cursor_before = self.store_rows("SELECT * FROM cursors")

        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 1, res)
        msg = ("vanish_guard: the source has a header but no data row: this run would vanish 310 "
               "of 310 stored payments, limit 31 (max_vanished 10%; an emptied source passes "
               "only with unlimited); nothing was committed. If the source really is empty now, "
               "run again with --allow-vanish, or set the dataset's max_vanished: unlimited")
        self.assertEqual(rep["outcome"], "failed")
        self.assertEqual(rep["error_code"], "vanish_guard")
        self.assertEqual(rep["error"], msg)
        self.assertEqual(rep["vanish_guard"], {"outcome": "tripped", "stored": 310,
                                               "vanishing": 310, "limit": 31,
                                               "empty_source": True})
        self.assertNotIn("changes", rep)
        self.assertIn("kuje: FAILED (nothing committed)", res.out)
        self.assertIn(msg, res.out)
        # nothing changed: the JSONL export, the stored payments, the cursor
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            self.assertEqual(f.read(), jsonl_before)
        self.assertEqual(self.export(cfg), export_before)
        self.assertEqual(self.store_rows("SELECT * FROM cursors"), cursor_before)
        self.assertEqual(self.store_rows("SELECT count(*) FROM payments WHERE vanished_run IS "
                                         "NOT NULL"), [(0,)])
        # the failed run is recorded with its message
        last = self.store_rows("SELECT outcome, error FROM runs ORDER BY started_ms DESC, "
                               "run_id DESC LIMIT 1")
        self.assertEqual(last, [("failed", msg)])
        st = pslib.run("status", cfg)
        self.assertIn("error:     " + msg, st.out)

        # metrics count the trip
        srv = Server(cfg, self.dir)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % srv.port,
                                        timeout=10) as r:
                metrics = r.read().decode()
        finally:
            srv.stop()
        self.assertIn('paysync_vanish_guard_trips_total{dataset="kuje"} 1\n', metrics)
        self.assertIn('paysync_rows_total{dataset="kuje",outcome="vanished"} 0\n', metrics)

        # --allow-vanish lets it through
        res, rep = self.report(cfg, "--allow-vanish")
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(rep["changes"]["vanished"], 310)
        self.assertEqual(rep["vanish_guard"]["outcome"], "allowed")
        self.assertIn("vanish guard: allowed 310 of 310 stored payments to vanish", res.out)
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            self.assertEqual(f.read(), b"")

    def test_percentage_default_and_configured(self):
        self.write_rows(range(100))
        cfg = self.small_config()
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        self.write_rows(range(10, 100))  # 10 of 100: the limit itself
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(rep["vanish_guard"], {"outcome": "passed", "stored": 100,
                                               "vanishing": 10, "limit": 10,
                                               "empty_source": False})
        self.assertEqual(rep["changes"]["vanished"], 10)
        self.write_rows(range(20, 100))  # 10 of the 90 present: limit 9
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertEqual(rep["error_code"], "vanish_guard")
        self.assertTrue(rep["error"].startswith(
            "vanish_guard: this run would vanish 10 of 90 stored payments, limit 9 "
            "(max_vanished 10%); nothing was committed. If they really were removed from the "
            "source, run again with --allow-vanish, or raise the dataset's max_vanished"),
            rep["error"])
        self.assertEqual(self.store_rows("SELECT count(*) FROM payments WHERE vanished_run IS "
                                         "NULL"), [(90,)])
        cfg = self.small_config("    max_vanished: 12.5%\n")
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(rep["vanish_guard"]["limit"], 11)  # floor(90 * 12.5 %)
        self.assertEqual(rep["changes"]["vanished"], 10)

    def test_count_and_unlimited(self):
        self.write_rows(range(50))
        cfg = self.small_config("    max_vanished: 3\n")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        self.write_rows(range(4, 50))
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("would vanish 4 of 50 stored payments, limit 3 (max_vanished 3)",
                      rep["error"])
        self.write("in.csv", HEADER + "\n")  # emptied, but unlimited
        cfg = self.small_config("    max_vanished: unlimited\n")
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(rep["vanish_guard"], {"outcome": "allowed", "stored": 50,
                                               "vanishing": 50, "limit": None,
                                               "empty_source": True})
        self.assertEqual(rep["changes"]["vanished"], 50)
        # nothing stored any more: an empty source passes quietly
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(rep["vanish_guard"]["outcome"], "passed")

    def test_emptied_source_trips_even_at_100_percent(self):
        self.write_rows(range(5))
        cfg = self.small_config("    max_vanished: 100%\n")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        self.write("in.csv", HEADER + "\n\n")  # a header and a blank line
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertTrue(rep["error"].startswith(
            "vanish_guard: the source has a header but no data row: this run would vanish 5 of "
            "5 stored payments, limit 5 (max_vanished 100%"), rep["error"])
        self.write_rows(range(1))  # 4 of 5 vanish: within 100 %
        res, rep = self.report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(rep["changes"]["vanished"], 4)

    def test_bad_values(self):
        self.write_rows(range(3))
        cases = [
            ("abc", "'abc' is not valid: expected a percentage such as 25% (0-100, at most 2 "
                    "decimals), a count of payments such as 500, or unlimited"),
            ("150%", "'150%' is not valid: a percentage is at most 100%"),
            ("-1", "'-1' is not valid: expected a percentage"),
            ("1.234%", "'1.234%' is not valid: a percentage has at most 2 decimals"),
            ("\"\"", "a value is required"),
            ("[10%]", "expected"),
        ]
        for value, want in cases:
            cfg = self.small_config("    max_vanished: %s\n" % value)
            for cmd in ("check", "run"):
                res = pslib.run(cmd, cfg)
                self.assertEqual(res.rc, 2, (value, res))
                self.assertIn("datasets[site].max_vanished: ", res.err, (value, res))
                self.assertIn(want, res.err, (value, res))
        self.assertFalse(os.path.exists(self.path("var", "paysync.db")))


if __name__ == "__main__":
    pslib.main()
