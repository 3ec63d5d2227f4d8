"""Sink fault matrix: a read-only output folder, a full disk (1 MiB tmpfs, root only) and an
SQLite store locked by another process. Each faulty run must exit 1 with a message naming the
cause, leave the store's payments and every output file exactly as they were (no temporary
files left behind), and a later run after the fault clears must give exactly the result of a
run that never saw the fault."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE")
RUN_COLUMNS = {"first_seen_run", "last_seen_run", "vanished_run"}
IS_ROOT = os.geteuid() == 0


def csv_text(n, amount="1500.50", start=1):
    rows = ["P%06d,2024-03-05T14:16:01.350Z,%s,NGN,FULL_PAYMENT,C%d,%05d,Amina Bello,Residential,"
            "+2348031234567" % (i, amount, i, i) for i in range(start, start + n)]
    return HEADER + "\n" + "\n".join(rows) + "\n"


def store_rows(db):
    """Payments in the store, without the run ids (they differ between runs by nature)."""
    if not os.path.exists(db):
        return None
    try:
        con = sqlite3.connect(db)
        con.execute("PRAGMA schema_version").fetchone()
    except sqlite3.OperationalError:  # in a read-only folder: no -shm can be made
        con = sqlite3.connect("file:%s?immutable=1" % db, uri=True)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(payments)") if r[1] not in RUN_COLUMNS]
        return con.execute("SELECT %s FROM payments ORDER BY dataset, id" % ", ".join(cols)).fetchall()
    finally:
        con.close()


def files_digest(d):
    """sha256 of every file in d (SQLite files excluded: compared by store_rows)."""
    out = {}
    if not os.path.isdir(d):
        return out
    for f in sorted(os.listdir(d)):
        p = os.path.join(d, f)
        if os.path.isfile(p) and ".db" not in f:
            with open(p, "rb") as fh:
                out[f] = hashlib.sha256(fh.read()).hexdigest()
    return out


def mount_tmpfs(path, opts):
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", path], check=True,
                   capture_output=True)


def can_mount():
    if not IS_ROOT:
        return False
    import tempfile
    d = tempfile.mkdtemp(prefix="ps-mnt-probe-")
    try:
        mount_tmpfs(d, "size=64k")
        subprocess.run(["umount", d], check=True)
        return True
    except (subprocess.CalledProcessError, FileNotFoundError):
        return False
    finally:
        os.rmdir(d)


MOUNT = can_mount()


class SinkFaults(pslib.Case):
    def setUp(self):
        super().setUp()
        self.mounts = []

    def tearDown(self):
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], capture_output=True)
        for root, dirs, _ in os.walk(self.dir):
            for d in dirs:
                try:
                    os.chmod(os.path.join(root, d), 0o755)
                except OSError:
                    pass
        super().tearDown()

    def mount(self, path, opts):
        os.makedirs(path, exist_ok=True)
        mount_tmpfs(path, opts)
        self.mounts.append(path)

    def remount(self, path, opts):
        subprocess.run(["mount", "-o", "remount," + opts, path], check=True, capture_output=True)

    def make_config(self, root, csv, db="db/paysync.db", files="out", busy_ms=None):
        busy = ", busy_timeout_ms: %d" % busy_ms if busy_ms is not None else ""
        return self.config(f"""
sinks:
  db: {{plugin: sqlite, path: {pslib.yaml_str(os.path.join(root, db))}{busy}}}
  jsonl: {{plugin: jsonl, path: {pslib.yaml_str(os.path.join(root, files, "payments.jsonl"))}}}
  table: {{plugin: csv, path: {pslib.yaml_str(os.path.join(root, files, "payments.csv"))}}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    profile: standard
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}
    sinks: [db, jsonl, table]
""", name=os.path.basename(root) + ".yaml")

    def state(self, root, db="db/paysync.db", files="out"):
        return store_rows(os.path.join(root, db)), files_digest(os.path.join(root, files))

    def reference(self, inputs):
        """The state after running the inputs in order with no fault."""
        root = self.path("reference")
        os.makedirs(root, exist_ok=True)
        for i, text in enumerate(inputs):
            csv = self.write("reference/in%d.csv" % i, text)
            res = pslib.run("run", self.make_config(root, csv))
            self.assertEqual(res.rc, 0, res)
        return self.state(root)

    def check_fault(self, root, cfg, expect_words, before, db="db/paysync.db", files="out",
                    summary=True):
        res = pslib.run("run", cfg, timeout=120)
        self.assertEqual(res.rc, 1, res)
        if summary:
            self.assertIn("FAILED", res.out, res)
        text = res.out + res.err
        self.assertTrue(any(w in text for w in expect_words),
                        "none of %r in the output:\n%r" % (expect_words, res))
        self.assertEqual(self.state(root, db, files), before)
        d = os.path.join(root, files)
        leftovers = [f for f in os.listdir(d) if f not in before[1] and ".db" not in f] \
            if os.path.isdir(d) else []
        self.assertEqual(leftovers, [], "temporary files left behind")
        return res

    # ---- read-only output folder ----------------------------------------------------------

    def test_read_only_output_folder(self):
        self.read_only("out")

    def test_read_only_store_folder(self):
        self.read_only("db")

    def read_only(self, where):
        a, b = csv_text(20), csv_text(25, amount="99")
        ref = self.reference([a, b])
        root = self.path("ro-" + where)
        out = os.path.join(root, where)
        if MOUNT:
            self.mount(out, "size=4m")
        else:
            os.makedirs(out)
        self.assertEqual(pslib.run("run", self.make_config(root, self.write(root + "/a.csv", a))).rc, 0)
        before = self.state(root)
        cfg = self.make_config(root, self.write(root + "/b.csv", b))
        if MOUNT:
            self.remount(out, "ro")
        else:
            os.chmod(out, 0o555)
        # A store that cannot be opened for writing is found while the sinks are set up,
        # before any dataset runs: a run failure (exit 1) without a per-dataset summary.
        self.check_fault(root, cfg, ["Read-only file system", "Permission denied",
                                     "read-only filesystem"], before, summary=where != "db")
        if MOUNT:
            self.remount(out, "rw")
        else:
            os.chmod(out, 0o755)
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.state(root), ref)

    # ---- disk full ------------------------------------------------------------------------

    def disk_full(self, where):
        if not MOUNT:
            self.skipTest("needs root and tmpfs mounts to make a small file system")
        a, b = csv_text(5), csv_text(8000, amount="7.25")  # b's outputs need several MiB
        ref = self.reference([a, b])
        root = self.path("full-" + where)
        # 2 MiB: a new store's schema with 32 KiB pages and its WAL take about 1 MiB
        self.mount(os.path.join(root, where), "size=2m")
        self.assertEqual(pslib.run("run", self.make_config(root, self.write("full-%s/a.csv" % where, a))).rc, 0)
        before = self.state(root)
        cfg = self.make_config(root, self.write("full-%s/b.csv" % where, b))
        res = self.check_fault(root, cfg, ["No space left on device", "disk full",
                                           "database or disk is full"], before)
        self.remount(os.path.join(root, where), "size=64m")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.state(root), ref)

    def test_disk_full_file_sinks(self):
        self.disk_full("out")

    def test_disk_full_sqlite_store(self):
        self.disk_full("db")

    # ---- SQLite store locked --------------------------------------------------------------

    def test_sqlite_locked_by_another_process(self):
        a, b = csv_text(10), csv_text(12, amount="3")
        ref = self.reference([a, b])
        root = self.path("locked")
        self.assertEqual(pslib.run("run", self.make_config(root, self.write("locked/a.csv", a))).rc, 0)
        before = self.state(root)
        cfg = self.make_config(root, self.write("locked/b.csv", b), busy_ms=300)
        holder = sqlite3.connect(os.path.join(root, "db", "paysync.db"), isolation_level=None,
                                 timeout=5)
        try:
            holder.execute("BEGIN EXCLUSIVE")
            res = self.check_fault(root, cfg, ["locked"], before)
            self.assertIn("paysync.db", res.out + res.err, res)
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.state(root), ref)


if __name__ == "__main__":
    pslib.main()
