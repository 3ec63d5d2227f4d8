#!/usr/bin/env python3
"""The store under load while it is read (issue 18 item 4, issue 16 item 2): a 300,000-row
csvfile -> sqlite first load, a changed re-run and an unchanged re-run, each while a reader
thread counts the dataset's payments continuously and samples the size of the -wal file.

Every count a reader sees is the previous committed run's or the new one's, never one in
between: a reader thread counts with SQL (the store's visibility rule: the versions valid at
the dataset's published version) and another runs `paysync status --json`. The WAL stays under
64 MB for the first load and the changed re-run (both committed in chunks that no reader sees
before the run's last commit publishes them) and for the unchanged re-run (it writes nothing).

FirstLoadCrash: a first load killed between two committed chunks leaves what readers see as it
was, and the next run removes the unpublished rows and ends as a clean run does. RerunCrash:
the same for a changed re-run of a published dataset (killed between chunks, killed after its
commit before the replaced versions were removed, failed)."""
import json
import os
import sqlite3
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

SANITIZED = os.environ.get("PS_SANITIZED") == "1"
ROWS = 100_000 if SANITIZED else 300_000  # ASan builds: a third of the rows
# 20,000 gone of 300,000 (6.7 %, under the default 10 % vanish guard) and 30,000 new; the
# same shares for the sanitizer build's smaller table
GONE, NEW = ROWS // 15, ROWS // 10
WAL_LIMIT = 64 * 1024 * 1024
HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,NOTES\n")


def write_csv(path, ids, changed=frozenset()):
    with open(path, "w", encoding="utf-8") as f:
        f.write(HEADER)
        for i in ids:
            amount = "%d.%02d" % (100 + i % 5000, (i * 7 + (1 if i in changed else 0)) % 100)
            f.write("PAY-%07d,2024-03-%02dT%02d:%02d:00Z,%s,NGN,FULL_PAYMENT,C%06d,M%07d,"
                    "Customer %d,Residential,note %d\n"
                    % (i, 1 + i % 28, i % 24, i % 60, amount, i % 250000, i, i, i % 97))


VISIBLE_COUNT = ("SELECT count(*) FROM payments p JOIN cursors c ON c.dataset = p.dataset"
                 " WHERE p.dataset = 'big' AND p.vanished_run IS NULL AND p.valid_from <= c.version"
                 " AND (p.valid_to IS NULL OR p.valid_to > c.version)")


class StatusPoller(threading.Thread):
    """Runs `paysync status --json` over and over: the store's own reader."""

    def __init__(self, cfg):
        super().__init__(daemon=True)
        self.cfg = cfg
        self.stop = threading.Event()
        self.counts = set()
        self.polls = 0
        self.errors = []

    def run(self):
        while not self.stop.is_set():
            res = pslib.run("status", self.cfg, "--dataset", "big", "--json", timeout=120)
            try:
                ds = json.loads(res.out)["datasets"][0] if res.out.strip() else {}
            except (ValueError, LookupError) as e:
                self.errors.append("%s: %r" % (e, res))
                continue
            # a store being created or migrated: exit 1, the reason in store_error
            err = ds.get("store_error") or (repr(res) if res.rc != 0 else None)
            if err is None:
                if "payments" in ds:  # else no store yet
                    self.counts.add(ds["payments"])
                    self.polls += 1
            elif not any(s in err for s in ("does not exist", "schema version", "no such")):
                self.errors.append(err)  # not the store being created and migrated
            time.sleep(0.05)


class Poller(threading.Thread):
    """Counts the dataset's present payments over and over (a reader, as status and serve
    are), and samples the WAL's size."""

    def __init__(self, db):
        super().__init__(daemon=True)
        self.db = db
        self.stop = threading.Event()
        self.counts = set()
        self.polls = 0
        self.max_wal = 0
        self.errors = []

    def run(self):
        while not self.stop.is_set():
            try:
                self.max_wal = max(self.max_wal, os.path.getsize(self.db + "-wal"))
            except OSError:
                pass
            if not os.path.exists(self.db):
                time.sleep(0.01)
                continue
            try:
                con = sqlite3.connect("file:%s?mode=ro" % self.db, uri=True, timeout=10)
                try:
                    # what status and serve count: present payments, the versions valid
                    # at the dataset's published version (none before its first success)
                    n = con.execute(VISIBLE_COUNT).fetchone()[0]
                finally:
                    con.close()
                self.counts.add(n)
                self.polls += 1
            except sqlite3.OperationalError as e:
                if "no such" not in str(e):  # the store being created and migrated
                    self.errors.append(str(e))
            time.sleep(0.005)


class StoreWal(pslib.Case):
    @classmethod
    def setUpClass(cls):
        pslib.require_binary()
        if (os.environ.get("PS_SLOW_TESTS") == "0" or os.environ.get("PS_HOSTILE_SMALL") == "1"
                or os.environ.get("PS_UNDER_VALGRIND") == "1"):
            raise unittest.SkipTest("large")
        import tempfile
        cls.tmp = tempfile.mkdtemp(prefix="paysync-wal-")
        cls.db = os.path.join(cls.tmp, "var", "store.db")
        cls.cfg = os.path.join(cls.tmp, "paysync.yaml")
        dirs = [d for d in (pslib.PLUGIN_DIR,) if d]
        with open(cls.cfg, "w") as f:
            f.write("plugin_path: [%s]\n" % ", ".join(pslib.yaml_str(d) for d in dirs))
            f.write("sinks:\n  store: {plugin: sqlite, path: var/store.db}\n"
                    "datasets:\n  - name: big\n    target: {level: project, id: site-1}\n"
                    "    source: {plugin: csvfile, path: in.csv}\n    sinks: [store]\n")
        csv = os.path.join(cls.tmp, "in.csv")
        # run 1: 300,000 new; run 2: 20,000 gone (under the 10 % vanish guard), 46,667
        # changed all over the table, 30,000 new (310,000 in all); run 3: run 2's file again
        steps = [
            ("first load", range(ROWS), frozenset()),
            ("changed re-run", range(GONE, ROWS + NEW), frozenset(range(GONE + 4, ROWS, 6))),
            ("unchanged re-run", None, None),
        ]
        cls.results = {}
        # an existing (empty) store: its first load goes through the WAL, chunk by chunk, as
        # a new dataset's in any existing store (a brand-new store is built in a side file
        # without a WAL instead: docs/sinks.md "A new store", test_sigkill.py, unit test
        # test_sqlite_build)
        os.makedirs(os.path.dirname(cls.db))
        open(cls.db, "wb").close()
        for name, ids, changed in steps:
            if ids is not None:
                write_csv(csv, ids, changed)
            if os.path.exists(cls.db):
                # each run's own WAL: what an earlier run left (a checkpoint a reader kept
                # from truncating) is copied back first
                con = sqlite3.connect(cls.db)
                con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
                con.close()
            poller, status = Poller(cls.db), StatusPoller(cls.cfg)
            poller.start()
            status.start()
            res = pslib.run("-q", "run", cls.cfg, "--no-progress", timeout=900)
            time.sleep(0.05)
            poller.stop.set()
            status.stop.set()
            poller.join()
            status.join()
            cls.results[name] = (res, poller, status)

    @classmethod
    def tearDownClass(cls):
        for name, (res, poller, status) in getattr(cls, "results", {}).items():
            sys.stderr.write("%s: %d polls, %d status polls, peak WAL %d bytes\n"
                             % (name, poller.polls, status.polls, poller.max_wal))
        import shutil
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        pass

    def tearDown(self):
        pass

    def check_run(self, name, old, new):
        res, poller, status = self.results[name]
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(poller.errors, [], name)
        self.assertEqual(status.errors, [], name)
        self.assertGreater(poller.polls, 0, name)
        self.assertGreater(status.polls, 0, name)
        # every poll saw the previous committed run or this one, never a state in between
        self.assertTrue(poller.counts <= {old, new}, (name, sorted(poller.counts)[:10]))
        self.assertTrue(status.counts <= {old, new}, (name, sorted(status.counts)[:10]))

    def test_first_load_seen_whole_or_not_at_all(self):
        self.check_run("first load", 0, ROWS)
        res = self.results["first load"][0]
        self.assertIn("changes: new %d, changed 0, unchanged 0, vanished 0" % ROWS, res.out)

    def test_changed_rerun_seen_whole_or_not_at_all(self):
        self.check_run("changed re-run", ROWS, ROWS - GONE + NEW)
        res = self.results["changed re-run"][0]
        changed = len(range(GONE + 4, ROWS, 6))
        self.assertIn("changes: new %d, changed %d, unchanged %d, vanished %d"
                      % (NEW, changed, ROWS - GONE - changed, GONE), res.out)

    def test_unchanged_rerun_writes_no_payment(self):
        total = ROWS - GONE + NEW
        self.check_run("unchanged re-run", total, total)
        res, poller, _ = self.results["unchanged re-run"]
        self.assertIn("changes: new 0, changed 0, unchanged %d, vanished 0" % total, res.out)
        self.assertLess(poller.max_wal, WAL_LIMIT)
        # nothing but the run row and the cursor: far under a MB of WAL
        self.assertLess(poller.max_wal, 1024 * 1024, poller.max_wal)

    def test_wal_bounded_first_load(self):
        """A first load is committed in chunks, invisible until its last commit."""
        self.assertLess(self.results["first load"][1].max_wal, WAL_LIMIT)

    def test_wal_bounded_changed_rerun(self):
        """A changed re-run writes new row versions in chunks, published by its last commit,
        and removes the versions it replaced after it."""
        self.assertLess(self.results["changed re-run"][1].max_wal, WAL_LIMIT)
        # only the published versions are left in the file
        con = sqlite3.connect(self.db)
        try:
            self.assertEqual(con.execute("SELECT count(*) FROM payments").fetchone()[0],
                             ROWS + NEW)
            self.assertEqual(con.execute("SELECT count(*) FROM payments WHERE valid_to IS NOT "
                                         "NULL").fetchone()[0], 0)
            self.assertEqual(con.execute("SELECT pending FROM cursors").fetchone()[0], None)
        finally:
            con.close()


class FirstLoadCrash(pslib.Case):
    def make(self, db, chunk=500):
        self.write("small.csv", HEADER)
        with open(self.path("small.csv"), "a") as f:
            f.write("".join("S-%d,2024-03-01T10:00:00Z,5.00,NGN,FULL_PAYMENT,C1,M1,N,R,x\n" % i
                            for i in range(50)))
        write_csv(self.path("big.csv"), range(3000))
        return self.config("""
sinks:
  store: {plugin: sqlite, path: %s, chunk_rows: %d}
datasets:
  - name: small
    target: {level: project, id: site-1}
    source: {plugin: csvfile, path: small.csv}
    sinks: [store]
  - name: big
    target: {level: project, id: site-2}
    source: {plugin: csvfile, path: big.csv}
    sinks: [store]
""" % (db, chunk), name="%s.yaml" % os.path.basename(db))

    def export(self, cfg, ds):
        res = pslib.run("export", cfg, "--dataset", ds, "--format", "jsonl", "--include-vanished")
        self.assertEqual(res.rc, 0, res)
        return res.out

    def raw_count(self, db, ds):
        con = sqlite3.connect(self.path(db))
        try:
            return con.execute("SELECT count(*) FROM payments WHERE dataset = ?",
                               (ds,)).fetchone()[0]
        finally:
            con.close()

    def test_killed_between_chunks_then_rerun(self):
        cfg = self.make("a.db")
        self.assertEqual(pslib.run("run", cfg, "--dataset", "small").rc, 0)
        small = self.export(cfg, "small")
        self.assertEqual(len(small.splitlines()), 50)
        res = pslib.run("-q", "run", cfg, "--dataset", "big",
                        env={"PS_TEST_CRASH_AT": "store-chunk-committed:3"})
        self.assertEqual(res.rc, -9, res)  # SIGKILL at the third chunk's commit
        self.assertEqual(self.raw_count("a.db", "big"), 1500)  # three chunks in the file
        # ... that no reader shows: export, status, the other dataset as it was
        self.assertEqual(self.export(cfg, "big"), "")
        self.assertEqual(self.export(cfg, "small"), small)
        st = pslib.run("status", cfg, "--dataset", "big", "--json")
        self.assertEqual(st.rc, 0, st)
        import json
        self.assertEqual(json.loads(st.out)["datasets"][0]["payments"], 0, st.out)
        # the next run removes them and ends where a clean run ends
        res = pslib.run("run", cfg, "--dataset", "big")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("changes: new 3000, changed 0, unchanged 0, vanished 0", res.out)
        self.assertEqual(self.raw_count("a.db", "big"), 3000)
        clean = self.make("b.db")
        self.assertEqual(pslib.run("run", clean).rc, 0)
        self.assertEqual(self.export(cfg, "big"), self.export(clean, "big"))
        self.assertEqual(self.export(cfg, "small"), self.export(clean, "small"))

    def test_failed_first_load_removes_its_chunks(self):
        cfg = self.make("a.db", chunk=100)
        with open(self.path("big.csv"), "a") as f:
            f.write('PAY-X,"unterminated\n')  # the source fails after its rows
        res = pslib.run("run", cfg, "--dataset", "big")
        self.assertEqual(res.rc, 1, res)
        self.assertEqual(self.raw_count("a.db", "big"), 0)  # removed at the abort
        self.assertEqual(self.export(cfg, "big"), "")

    def test_bad_chunk_rows(self):
        cfg = self.make("a.db", chunk=0)
        res = pslib.run("check", cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("chunk_rows", res.err)


class RerunCrash(pslib.Case):
    """A changed re-run of a published dataset (200 gone, every sixth changed, 200 new of
    3,000) written in chunks of 100 payments: killed, or failed, it leaves what readers see as
    it was; the next run ends exactly as a clean run does."""

    def make(self, db):
        write_csv(self.path("big.csv"), range(3000))
        return self.config("""
sinks:
  store: {plugin: sqlite, path: %s, chunk_rows: 100}
datasets:
  - name: big
    target: {level: project, id: site-2}
    source: {plugin: csvfile, path: big.csv}
    sinks: [store]
""" % db, name="%s.yaml" % os.path.basename(db))

    def change(self):
        write_csv(self.path("big.csv"), range(200, 3200), frozenset(range(204, 3000, 6)))

    CHANGES = ("changes: new 200, changed %d, unchanged %d, vanished 200"
               % (len(range(204, 3000, 6)), 2800 - len(range(204, 3000, 6))))

    def export(self, cfg):
        res = pslib.run("export", cfg, "--dataset", "big", "--format", "jsonl",
                        "--include-vanished")
        self.assertEqual(res.rc, 0, res)
        return res.out

    def status_payments(self, cfg):
        st = pslib.run("status", cfg, "--dataset", "big", "--json")
        self.assertEqual(st.rc, 0, st)
        ds = json.loads(st.out)["datasets"][0]
        return ds["payments"], ds["vanished_payments"]

    def raw(self, db, sql):
        con = sqlite3.connect(self.path(db))
        try:
            return con.execute(sql).fetchone()[0]
        finally:
            con.close()

    def published(self):
        """The export of a clean store after the first file and then the changed one."""
        cfg = self.make("clean.db")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        self.change()
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn(self.CHANGES, res.out)
        return self.export(cfg)

    def test_killed_between_chunks_then_rerun(self):
        clean = self.published()
        cfg = self.make("a.db")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        before = self.export(cfg)
        self.assertEqual(self.status_payments(cfg)[0], 3000)
        self.change()
        res = pslib.run("-q", "run", cfg, env={"PS_TEST_CRASH_AT": "store-chunk-committed:3"})
        self.assertEqual(res.rc, -9, res)  # SIGKILL at the third chunk's commit
        # the file holds new versions (and closed old ones) that no reader shows
        self.assertGreater(self.raw("a.db", "SELECT count(*) FROM payments"), 3000)
        self.assertEqual(self.raw("a.db", "SELECT pending FROM cursors"), 1)
        self.assertEqual(self.export(cfg), before)
        self.assertEqual(self.status_payments(cfg)[0], 3000)
        # the next run discards them and ends where a clean run ends
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn(self.CHANGES, res.out)
        self.assertIn("removing the unpublished changes of dataset 'big'", res.err)
        self.assertEqual(self.export(cfg), clean)
        self.assertEqual(self.status_payments(cfg), (3000, 200))
        self.assertEqual(self.raw("a.db", "SELECT count(*) FROM payments"), 3200)
        self.assertEqual(self.raw("a.db", "SELECT pending FROM cursors"), None)

    def test_killed_after_commit_before_cleanup(self):
        clean = self.published()
        cfg = self.make("a.db")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        self.change()
        res = pslib.run("-q", "run", cfg, env={"PS_TEST_CRASH_AT": "store-after-commit"})
        self.assertEqual(res.rc, -9, res)
        # published: readers show the new run; the replaced versions are still in the file
        self.assertEqual(self.export(cfg), clean)
        self.assertEqual(self.raw("a.db", "SELECT count(*) FROM payments WHERE valid_to IS NOT "
                                          "NULL"), 200 + len(range(204, 3000, 6)))
        # the next run (nothing changed) removes them first
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("changes: new 0, changed 0, unchanged 3000, vanished 0", res.out)
        self.assertEqual(self.raw("a.db", "SELECT count(*) FROM payments"), 3200)
        self.assertEqual(self.export(cfg), clean)

    def test_failed_rerun_discards_its_chunks(self):
        cfg = self.make("a.db")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        before = self.export(cfg)
        self.change()
        with open(self.path("big.csv"), "a") as f:
            f.write('PAY-X,"unterminated\n')  # the source fails after its rows
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 1, res)
        # removed at the abort: only the published versions are left
        self.assertEqual(self.raw("a.db", "SELECT count(*) FROM payments"), 3000)
        self.assertEqual(self.raw("a.db", "SELECT count(*) FROM payments WHERE valid_from > 0"),
                         0)
        self.assertEqual(self.raw("a.db", "SELECT pending FROM cursors"), None)
        self.assertEqual(self.export(cfg), before)


if __name__ == "__main__":
    pslib.main()
