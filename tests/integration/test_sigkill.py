"""Kill `paysync run` with SIGKILL at every point where it makes something durable; a killed run
must leave the store and every output file exactly as before the run or (for what it had
already committed) exactly as after it, and a re-run must end exactly where an uninterrupted run
ends (no loss, no duplicate, no temp file left). (Issue: SQLite store, run state.)

The kills are deterministic: PS_TEST_CRASH_AT=POINT[:N] (test-only, docs/reliability.md) makes
the process SIGKILL itself the Nth time it reaches POINT. One more case kills from outside, with
a real `kill -9` as soon as the run has written output, at no chosen point.

PS_SIGKILL_ROWS sets the size of the large dataset (smaller under valgrind)."""
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

ROWS = max(int(os.environ.get("PS_SIGKILL_ROWS", "5000")), 100)
BATCH = -(-ROWS // 10)  # the large dataset comes in about ten batches
NBATCH = -(-ROWS // BATCH)
SMALL_ROWS = max(ROWS // 4, 10)
SKIP_COLUMNS = {"first_seen_run", "last_seen_run", "vanished_run", "valid_from", "valid_to"}
DATASETS = ("big", "small")
FILES = ("payments.jsonl", "payments.csv", "rejects-big.jsonl", "rejects-small.jsonl")
KILLED = -signal.SIGKILL


def store_state(db):
    """Per dataset: (digest of every payment's data, count, ok runs), as readers see them: the
    row versions valid at the dataset's published version (docs/sinks.md; a run killed after
    its commit leaves the versions it replaced in the file until the next run removes them).
    Run ids and version numbers are left out: they differ between runs."""
    empty = (hashlib.sha256().hexdigest(), 0, 0)
    if not os.path.exists(db):
        return {ds: empty for ds in DATASETS}
    con = sqlite3.connect(db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(payments)") if r[1] not in SKIP_COLUMNS]
        if not cols:  # killed before the schema was created
            return {ds: empty for ds in DATASETS}
        out = {}
        for ds in DATASETS:
            h = hashlib.sha256()
            n = 0
            versioned = any(r[1] == "valid_to" for r in con.execute("PRAGMA table_info(payments)"))
            visible = (" AND EXISTS (SELECT 1 FROM cursors c WHERE c.dataset = p.dataset AND"
                       " p.valid_from <= c.version AND (p.valid_to IS NULL OR"
                       " p.valid_to > c.version))") if versioned else ""
            for row in con.execute("SELECT %s FROM payments p WHERE dataset = ?%s ORDER BY id"
                                   % (", ".join(cols), visible), (ds,)):
                h.update(repr(row).encode())
                n += 1
            ok = con.execute("SELECT count(*) FROM runs WHERE dataset = ? AND outcome = 'ok'",
                             (ds,)).fetchone()[0]
            out[ds] = (h.hexdigest(), n, ok)
        return out
    finally:
        con.close()


def files_state(folder):
    """Bytes of every output file (None when absent)."""
    out = {}
    for name in FILES:
        p = os.path.join(folder, name)
        out[name] = None
        if os.path.exists(p):
            with open(p, "rb") as f:
                out[name] = f.read()
    return out


# (PS_TEST_CRASH_AT value, datasets whose store commit happened before the kill, output files
# published before the kill). Order of a run: big's batches go to every sink, the store commits
# big, big's rejects file is published; the same for small; then the jsonl and csv files are
# published (renamed over the old ones), in the order of the config's sinks.
POINTS = [
    ("batch-written", (), ()),
    ("batch-written:%d" % (NBATCH // 2), (), ()),
    ("batch-written:%d" % NBATCH, (), ()),  # big's last batch
    ("store-before-commit", (), ()),
    ("store-after-commit", ("big",), ()),
    ("rowlog-before-rename", ("big",), ()),
    ("batch-written:%d" % (NBATCH + 1), ("big",), ("rejects-big.jsonl",)),  # small's batch
    ("store-before-commit:2", ("big",), ("rejects-big.jsonl",)),
    ("store-after-commit:2", DATASETS, ("rejects-big.jsonl",)),
    ("rowlog-before-rename:2", DATASETS, ("rejects-big.jsonl",)),
    ("outfile-before-rename", DATASETS, ("rejects-big.jsonl", "rejects-small.jsonl")),
    ("outfile-after-rename", DATASETS,
     ("rejects-big.jsonl", "rejects-small.jsonl", "payments.jsonl")),
]


class SigKill(pslib.Case):
    def make_config(self, tag, seed):
        return self.config(f"""
sinks:
  db: {{plugin: sqlite, path: {tag}/paysync.db}}
  out: {{plugin: jsonl, path: {tag}/payments.jsonl}}
  table: {{plugin: csv, path: {tag}/payments.csv}}
datasets:
  - name: big
    target: {{level: project, id: site-1}}
    source: {{plugin: stub, rows: {ROWS}, seed: {seed}, invalid_ratio: "0.01", batch: {BATCH}}}
    sinks: [db, out, table]
    rejects: {tag}/rejects-big.jsonl
    max_vanished: unlimited   # a second run with another seed replaces every ID
  - name: small
    target: {{level: project, id: site-2}}
    source: {{plugin: stub, rows: {SMALL_ROWS}, seed: {seed + 1}, invalid_ratio: "0.05"}}
    sinks: [db, out, table]
    rejects: {tag}/rejects-small.jsonl
    max_vanished: unlimited
""", name=f"{tag}-{seed}.yaml")

    def run_clean(self, tag, seed):
        r = pslib.run("-q", "run", self.make_config(tag, seed))
        self.assertEqual(r.rc, 0, (tag, r))

    def run_killed(self, tag, seed, point):
        r = pslib.run("-q", "run", self.make_config(tag, seed), env={"PS_TEST_CRASH_AT": point})
        self.assertEqual(r.rc, KILLED, (tag, point, "the crash point was not reached", r))

    def state(self, tag):
        return store_state(self.path(tag, "paysync.db")), files_state(self.path(tag))

    def assert_no_temp_files(self, tag):
        leftovers = [f for f in os.listdir(self.path(tag)) if ".tmp" in f]
        self.assertEqual(leftovers, [], tag)  # a killed run's temp files are gone or replaced

    def assert_between(self, tag, point, before, after, committed, published):
        """The state after a kill: each dataset's store rows and each file exactly as before the
        run or, when the run had committed or published it, exactly as after."""
        store, files = self.state(tag)
        for ds in DATASETS:
            want = after[0][ds] if ds in committed else before[0][ds]
            self.assertEqual(store[ds], want, (tag, point, ds))
        for name in FILES:
            want = after[1][name] if name in published else before[1][name]
            self.assertTrue(files[name] == want, (tag, point, name, "differs"))

    def check_points(self, first_seed, seed):
        """For every crash point: [a clean run with first_seed,] a run with seed killed at the
        point, checked against the states before and after; then the re-run, checked against an
        uninterrupted run."""
        if first_seed is not None:
            self.run_clean("ref", first_seed)
        before = self.state("ref")
        self.run_clean("ref", seed)
        after = self.state("ref")
        for ds in DATASETS:
            self.assertGreater(after[0][ds][1], 0, ds)
            self.assertNotEqual(after[0][ds][0], before[0][ds][0], ds)
        for name in FILES:
            self.assertIsNotNone(after[1][name], name)
            self.assertNotEqual(after[1][name], before[1][name], name)
        for i, (point, committed, published) in enumerate(POINTS):
            tag = "k%d" % i
            if first_seed is not None:
                self.run_clean(tag, first_seed)
            self.run_killed(tag, seed, point)
            self.assert_between(tag, point, before, after, committed, published)
            self.run_clean(tag, seed)
            got = self.state(tag)
            for ds in DATASETS:
                # one more ok run than the clean sequence when the killed run had committed
                extra = 1 if ds in committed else 0
                want = after[0][ds][:2] + (after[0][ds][2] + extra,)
                self.assertEqual(got[0][ds], want, (tag, point, ds))
            self.assertEqual(got[1] == after[1], True, (tag, point, "files differ after re-run"))
            self.assert_no_temp_files(tag)

    def test_first_run_killed_at_each_point_then_rerun(self):
        """Empty store (the bulk first-load path)."""
        self.check_points(None, 7)

    def test_later_run_killed_at_each_point_then_rerun(self):
        """A store and outputs from an earlier run, then a run over changed data killed."""
        self.check_points(7, 9)

    def test_first_run_killed_while_building_aside(self):
        """A new store is built in a side file, STORE-build, and renamed into place at its first
        commit (docs/sinks.md "A new store"). Killed mid-build, or with the build complete and
        fsynced but not yet renamed: no store exists, `status` reads none, only the side file
        is left; the re-run replaces the side file and ends exactly where an uninterrupted
        run ends."""
        self.run_clean("ref", 7)
        after = self.state("ref")
        for i, point in enumerate(("batch-written:3", "store-build-before-publish")):
            tag = "b%d" % i
            self.run_killed(tag, 7, point)
            db = self.path(tag, "paysync.db")
            self.assertFalse(os.path.exists(db), point)
            self.assertTrue(os.path.exists(db + "-build"), point)
            st = pslib.run("status", self.make_config(tag, 7), "--json")
            self.assertEqual(st.rc, 0, (point, st))
            self.assertFalse(os.path.exists(db), (point, "status created the store"))
            self.run_clean(tag, 7)
            got = self.state(tag)
            for ds in DATASETS:
                self.assertEqual(got[0][ds], after[0][ds], (tag, point, ds))
            self.assertEqual(got[1] == after[1], True, (tag, point, "files differ after re-run"))
            self.assertEqual(sorted(f for f in os.listdir(self.path(tag))
                                    if f.startswith("paysync.db")),
                             ["paysync.db", "paysync.db.state"], point)
            self.assert_no_temp_files(tag)

    def test_external_kill_while_writing(self):
        """A real SIGKILL from outside, as soon as the run's first output bytes reach the jsonl
        temp file (mid-run, at no point chosen by the code): nothing is visible, the re-run
        equals an uninterrupted run."""
        self.run_clean("ref", 7)
        after = self.state("ref")
        os.makedirs(self.path("x"))
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        env.pop("PS_TEST_CRASH_AT", None)
        p = subprocess.Popen([pslib.PAYSYNC, "-q", "run", self.make_config("x", 7),
                              "--no-progress"], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, env=env)
        deadline = time.monotonic() + 300
        while p.poll() is None and time.monotonic() < deadline:
            tmp = [f for f in os.listdir(self.path("x")) if f.startswith(".payments.jsonl.tmp")]
            if tmp and os.path.getsize(self.path("x", tmp[0])) > 0:
                break
            time.sleep(0.002)
        p.send_signal(signal.SIGKILL)
        self.assertEqual(p.wait(), KILLED, "the run ended before it was killed")
        store, files = self.state("x")
        for ds in DATASETS:
            self.assertIn(store[ds][1], (0, after[0][ds][1]), ds)
        self.assertIsNone(files["payments.jsonl"])
        self.assertIsNone(files["payments.csv"])
        self.run_clean("x", 7)
        got = self.state("x")
        for ds in DATASETS:
            self.assertEqual(got[0][ds][:2], after[0][ds][:2], ds)
        self.assertEqual(got[1] == after[1], True, "files differ after re-run")
        self.assert_no_temp_files("x")


if __name__ == "__main__":
    pslib.main()
