"""Kill `paysync run` with SIGKILL at many points of a large run; a re-run must produce a store
identical to an uninterrupted run (no loss, no duplicate), and a killed run must leave an
existing store and the file sinks exactly as they were. (Issue: SQLite store, run state.)"""
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

ROWS = int(os.environ.get("PS_SIGKILL_ROWS", "200000"))
KILL_POINTS = 8
SKIP_COLUMNS = {"first_seen_run", "last_seen_run", "vanished_run"}


def store_digest(db):
    """Digest of every payment's data (run ids excluded: they differ between runs)."""
    con = sqlite3.connect(db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(payments)") if r[1] not in SKIP_COLUMNS]
        if not cols:  # killed before the schema was created
            return hashlib.sha256().hexdigest(), 0, 0
        h = hashlib.sha256()
        n = 0
        for row in con.execute("SELECT %s FROM payments ORDER BY dataset, id" % ", ".join(cols)):
            h.update(repr(row).encode())
            n += 1
        ok_runs = con.execute("SELECT count(*) FROM runs WHERE outcome = 'ok'").fetchone()[0]
        return h.hexdigest(), n, ok_runs
    finally:
        con.close()


class SigKill(pslib.Case):
    def make_config(self, tag):
        return self.config(f"""
sinks:
  db: {{plugin: sqlite, path: {tag}/paysync.db}}
  out: {{plugin: jsonl, path: {tag}/payments.jsonl}}
datasets:
  - name: big
    target: {{level: project, id: site-1}}
    source: {{plugin: stub, rows: {ROWS}, seed: 7, invalid_ratio: "0.01"}}
    sinks: [db, out]
    rejects: {tag}/rejects.jsonl
""", name=f"{tag}.yaml")

    def start(self, cfg):
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        return subprocess.Popen([pslib.PAYSYNC, "-q", "run", cfg, "--no-progress"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)

    def test_kill_then_rerun_equals_clean_run(self):
        ref_cfg = self.make_config("ref")
        t0 = time.monotonic()
        r = pslib.run("-q", "run", ref_cfg)
        duration = time.monotonic() - t0
        self.assertEqual(r.rc, 0, r)
        ref = store_digest(self.path("ref", "paysync.db"))
        self.assertGreater(ref[1], ROWS * 0.95)
        with open(self.path("ref", "payments.jsonl"), "rb") as f:
            ref_jsonl = f.read()
        killed_mid_run = 0
        for i in range(1, KILL_POINTS + 1):
            tag = "k%d" % i
            cfg = self.make_config(tag)
            p = self.start(cfg)
            time.sleep(duration * i / (KILL_POINTS + 1))
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
                killed_mid_run += 1
            p.wait()
            db = self.path(tag, "paysync.db")
            if os.path.exists(db):
                # Whatever the kill interrupted, nothing of that run is visible.
                self.assertEqual(store_digest(db)[1] in (0, ref[1]), True, tag)
            r = pslib.run("-q", "run", cfg)
            self.assertEqual(r.rc, 0, (tag, r))
            got = store_digest(db)
            self.assertEqual(got[0], ref[0], tag)
            self.assertEqual(got[1], ref[1], tag)
            with open(self.path(tag, "payments.jsonl"), "rb") as f:
                self.assertEqual(f.read(), ref_jsonl, tag)
            leftovers = [f for f in os.listdir(self.path(tag)) if ".tmp" in f]
            self.assertEqual(leftovers, [], tag)  # temp files of the killed run are gone or replaced
        self.assertGreaterEqual(killed_mid_run, KILL_POINTS // 2,
                                "the run finished before most kill points; raise PS_SIGKILL_ROWS")

    def test_kill_leaves_committed_store_unchanged(self):
        cfg = self.make_config("s")
        r = pslib.run("-q", "run", cfg)
        self.assertEqual(r.rc, 0, r)
        before = store_digest(self.path("s", "paysync.db"))
        with open(self.path("s", "payments.jsonl"), "rb") as f:
            jsonl_before = f.read()
        runs = before[2]
        for frac in (0.2, 0.5, 0.8):
            p = self.start(cfg)
            time.sleep(0.3 + frac)
            p.send_signal(signal.SIGKILL)
            p.wait()
            after = store_digest(self.path("s", "paysync.db"))
            self.assertEqual(after[0], before[0])
            # This run committed (one more ok run; a fast machine may finish first) or not at all.
            self.assertIn(after[2], (runs, runs + 1))
            runs = after[2]
            with open(self.path("s", "payments.jsonl"), "rb") as f:
                self.assertEqual(f.read(), jsonl_before)


if __name__ == "__main__":
    pslib.main()
