"""The column_missing warning (issue 12 item 7, docs/data-model.md): the sample job runs, then
the Customer Phone column is deleted from its CSV and it runs again. The second run still
commits (an optional column may be removed) but says which mapped column is gone, in the
summary, report.json, the log and `status` (text and JSON)."""
import csv
import io
import json
import os
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402


class ColumnMissing(pslib.Case):
    def setUp(self):
        super().setUp()
        src = os.path.join(pslib.SOURCE_DIR, "config")
        os.makedirs(self.path("config", "sample"))
        shutil.copy(os.path.join(src, "example.yaml"), self.path("config", "example.yaml"))
        shutil.copy(os.path.join(src, "sample", "payments.csv"),
                    self.path("config", "sample", "payments.csv"))
        self.cfg = self.path("config", "example.yaml")
        self.csv = self.path("config", "sample", "payments.csv")

    def edit_header(self, fn):
        """Rewrites the sample CSV with fn(rows) applied to the table below its title rows."""
        with open(self.csv, newline="") as f:
            rows = list(csv.reader(f))
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(rows[:2] + fn(rows[2:]))
        with open(self.csv, "w", newline="") as f:
            f.write(out.getvalue())

    def drop(self, name):
        def fn(table):
            i = table[0].index(name)
            return [r[:i] + r[i + 1:] for r in table]
        self.edit_header(fn)

    def run_report(self, name):
        rep = self.path(name)
        res = pslib.run("run", self.cfg, "--report", rep)
        self.assertEqual(res.rc, 0, res)
        with open(rep) as f:
            d = json.load(f)["datasets"][0]
        self.assertEqual(d["read"], d["accepted"] + d["rejected"] + d["blank"] + d["duplicates"])
        return res, d

    def phones(self):
        con = sqlite3.connect("file:%s?mode=ro" % self.path("var", "paysync.db"), uri=True)
        try:
            return con.execute("SELECT count(customer_phone) FROM payments").fetchone()[0]
        finally:
            con.close()

    def test_deleted_phone_column_is_a_warning_and_still_commits(self):
        res, d = self.run_report("r1.json")
        self.assertEqual(d["missing_columns"], [])
        self.assertNotIn("column_missing", d["warnings_by_code"])
        self.assertNotIn("column_missing", res.out + res.err)
        self.assertGreater(self.phones(), 300)

        self.drop("Customer Phone")
        res, d = self.run_report("r2.json")
        # the changes are committed: the phones are gone from the store
        self.assertEqual(d["outcome"], "ok")
        self.assertEqual(d["changes"]["changed"], 309, d)
        self.assertEqual(self.phones(), 0)
        # ... and said so everywhere
        self.assertEqual(d["missing_columns"],
                         [{"column": "Customer Phone", "field": "CUSTOMER_PHONE"}])
        self.assertEqual(d["warnings_by_code"]["column_missing"], 1)
        self.assertIn("warnings by code: column_missing=1", res.out)
        self.assertIn("column_missing: 'Customer Phone' (CUSTOMER_PHONE) was in the last "
                      "successful run's header and is gone; committed without it", res.out)
        self.assertIn("column_missing: column 'Customer Phone' (CUSTOMER_PHONE) was in the "
                      "header of the last successful run and is gone", res.err)
        st = pslib.run("status", self.cfg)
        self.assertEqual(st.rc, 0, st)
        self.assertIn("warning:   column_missing: 'Customer Phone' was in the previous run's "
                      "header and is gone", st.out)
        st = pslib.run("status", self.cfg, "--json")
        self.assertEqual(st.rc, 0, st)
        lr = json.loads(st.out)["datasets"][0]["last_run"]
        self.assertEqual(lr["missing_columns"], ["Customer Phone"])
        self.assertEqual(lr["run_id"], d["run_id"])

        # the next run compares with this one: the column is no longer news
        res, d = self.run_report("r3.json")
        self.assertEqual(d["missing_columns"], [])
        self.assertNotIn("column_missing", res.out)
        st = pslib.run("status", self.cfg, "--json")
        self.assertEqual(json.loads(st.out)["datasets"][0]["last_run"]["missing_columns"], [])

    def test_renamed_column_that_still_maps_is_not_missing(self):
        self.run_report("r1.json")

        def rename(table):
            table[0][table[0].index("Customer Phone")] = "CUSTOMER-PHONE"
            return table
        self.edit_header(rename)
        res, d = self.run_report("r2.json")
        self.assertEqual(d["missing_columns"], [])
        self.assertEqual(d["changes"]["changed"], 0, d)
        self.assertNotIn("column_missing", res.out + res.err)

    def test_unmapped_column_gone_and_failed_run_between(self):
        """Region maps to no field: its loss is not a warning. A failed run in between keeps
        the last successful run's header as the reference."""
        self.run_report("r1.json")
        self.drop("Region")
        res, d = self.run_report("r2.json")
        self.assertEqual(d["missing_columns"], [])
        saved = open(self.csv).read()
        self.drop("Amount (NGN)")  # required: the run fails, nothing recorded as the header
        res = pslib.run("run", self.cfg)
        self.assertEqual(res.rc, 1, res)
        with open(self.csv, "w") as f:
            f.write(saved)
        self.drop("Agent ID")
        res, d = self.run_report("r3.json")
        self.assertEqual(d["missing_columns"],
                         [{"column": "Agent ID", "field": "AGENT_ID"}])


if __name__ == "__main__":
    pslib.main()
