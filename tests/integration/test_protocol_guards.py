"""The host's guards on broken providers (tests/plugins/zero_rows_provider,
null_cell_provider): a provider returning PS_OK with no rows, a NULL cell text, a cell len that
disagrees with its text, or rows NULL with a count fails the dataset with exit code 1 and a
message naming the plugin (and the row), never a hang or a crash, and nothing is written to the
store or the outputs."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402


class ProtocolGuards(pslib.Case):
    def setUp(self):
        super().setUp()
        if not pslib.TEST_PLUGIN_DIR:
            self.skipTest("PS_TEST_PLUGIN_DIR is not set")

    def run_source(self, source):
        cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
  table: {{plugin: csv, path: out/payments.csv}}
  db: {{plugin: sqlite, path: out/store.db}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    source: {source}
    sinks: [out, table, db]
    rejects: out/rejects.jsonl
""")
        res = pslib.run("run", cfg, timeout=60)  # a host spinning on PS_OK/0 rows times out
        self.assertEqual(res.rc, 1, res)
        for bad in ("AddressSanitizer", "runtime error:", "Segmentation fault"):
            self.assertNotIn(bad, res.err, res)
        self.assertIn("ds1: FAILED (nothing committed)", res.out, res)
        # nothing written: no output file, no rejects, no payment in the store
        for name in ("payments.jsonl", "payments.csv", "rejects.jsonl"):
            self.assertFalse(os.path.exists(self.path("out", name)), name)
        db = self.path("out", "store.db")
        if os.path.exists(db):
            con = sqlite3.connect(db)
            try:
                n = con.execute("SELECT count(*) FROM payments").fetchone()[0]
            finally:
                con.close()
            self.assertEqual(n, 0)
        return res

    def test_zero_rows_with_ok(self):
        res = self.run_source("{plugin: zero_rows_provider}")
        self.assertIn("protocol error: provider 'zero_rows_provider' returned PS_OK with no rows",
                      res.out + res.err, res)

    def test_null_cell_text(self):
        res = self.run_source("{plugin: null_cell_provider}")
        self.assertIn("protocol error: provider 'null_cell_provider' row 2, cell 3: text is NULL",
                      res.out + res.err, res)

    def test_cell_len_disagrees(self):
        res = self.run_source("{plugin: null_cell_provider, break: len}")
        self.assertIn("protocol error: provider 'null_cell_provider' row 2, cell 3: len disagrees "
                      "with the text", res.out + res.err, res)

    def test_rows_null_with_count(self):
        res = self.run_source("{plugin: null_cell_provider, break: rows}")
        self.assertIn("protocol error: provider 'null_cell_provider' returned 1 rows but rows is "
                      "NULL", res.out + res.err, res)

    def test_retry_status_fails_dataset_as_temporary(self):
        # stub's test aid: PS_RETRY (HTTP 429, retry after 30 s) once 10 rows were yielded
        res = self.run_source("{plugin: stub, rows: 100, batch: 4, retry_after_rows: 10}")
        self.assertIn("reading the source failed after 10 rows: temporary failure, a later run "
                      "may succeed (retry after 30000 ms): stub: rate limited after 10 rows "
                      "(HTTP 429)", res.out + res.err, res)

    def test_abi_1_plugin_refused(self):
        cfg = self.config("""
sinks:
  out: {plugin: jsonl, path: out/payments.jsonl}
datasets:
  - name: ds1
    target: {level: project, id: site-1}
    source: {plugin: bad_abi_major}
    sinks: [out]
""")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 2, res)
        so = os.path.join(pslib.TEST_PLUGIN_DIR, "bad_abi_major.so")
        self.assertIn(so + ": built for plugin ABI 1.0; this paysync loads ABI 2.x plugins: "
                      "rebuild it against the paysync 2 headers", res.err, res)
        self.assertFalse(os.path.exists(self.path("out", "payments.jsonl")))

    def test_discover_does_not_hang(self):
        cfg = self.config("""
datasets:
  - name: ds1
    target: {level: project, id: site-1}
    source: {plugin: zero_rows_provider}
    sinks: []
""")
        res = pslib.run("discover", cfg, "--dataset", "ds1", timeout=60)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("protocol error: provider 'zero_rows_provider' returned PS_OK with no rows",
                      res.out + res.err, res)


if __name__ == "__main__":
    pslib.unittest.main(verbosity=2)
