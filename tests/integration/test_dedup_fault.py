"""A failed rebuild of the in-run duplicate filter (core/src/engine/dedup.c) fails the dataset
and commits nothing (docs/reliability.md, "Fail points"). The fault is injected with the
test-only fail point PS_TEST_FAIL_AT=dedup-filter-build: the filter is built at the first spill
of the ID table (about 91,750 IDs), the same function that rebuilds it as it grows, and the
failure takes the real error path (the allocation or read failure of a rebuild). The unit test
tests/unit/engine/test_dedup.c `test_filter_rebuild_fails` makes the growth rebuild fail with a
real short read (spill runs truncated)."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

ROWS = 100000  # more than the ID table holds before its first spill


class DedupFault(pslib.Case):
    def cfg(self, rows, seed):
        return self.config(f"""
sinks:
  db: {{plugin: sqlite, path: out/store.db}}
  out: {{plugin: jsonl, path: out/payments.jsonl}}
datasets:
  - name: big
    target: {{level: project, id: site-1}}
    source: {{plugin: stub, rows: {rows}, seed: {seed}}}
    sinks: [db, out]
    rejects: out/rejects.jsonl
    max_vanished: unlimited   # another seed replaces every ID
""", name="r%d-s%d.yaml" % (rows, seed))

    def state(self):
        files = {}
        for f in ("payments.jsonl", "rejects.jsonl"):
            p = self.path("out", f)
            with open(p, "rb") as fh:
                files[f] = fh.read()
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            pay = db.execute("SELECT * FROM payments ORDER BY 1, 2").fetchall()
            runs = db.execute("SELECT count(*) FROM runs WHERE outcome = 'ok'").fetchone()[0]
        finally:
            db.close()
        return files, pay, runs

    def test_filter_build_failure_fails_the_dataset(self):
        res = pslib.run("run", self.cfg(1000, 1))
        self.assertEqual(res.rc, 0, res)
        before = self.state()
        self.assertEqual(len(before[1]), 1000)
        big = self.cfg(ROWS, 2)
        res = pslib.run("run", big, "--report", self.path("report.json"),
                        env={"PS_TEST_FAIL_AT": "dedup-filter-build"})
        self.assertEqual(res.rc, 1, res)
        self.assertIn("cannot track IDs for duplicate detection at row ", res.err)
        self.assertIn("(out of memory, or no space for temporary files in $TMPDIR)", res.err)
        self.assertIn("run failed, nothing was committed", res.err)
        self.assertEqual(self.state(), before, "a failed run changed the store or outputs")
        self.assertEqual([f for f in os.listdir(self.path("out")) if ".tmp" in f], [])
        # without the fault the same run commits: the failure came from the filter build
        res = pslib.run("run", big)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.state()[2], 2)
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            present = db.execute("SELECT count(*) FROM payments WHERE vanished_run IS NULL")
            self.assertEqual(present.fetchone()[0], ROWS)
        finally:
            db.close()


if __name__ == "__main__":
    pslib.main()
