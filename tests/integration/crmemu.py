"""Starts a CRM API emulator of tests/tools (steama_, sparkmeter_, angaza_ or keyset_emulator.py) for a
test, as test_gsheet_run.Emulator does for Google Sheets: a random port read from the port
file, the control endpoints for faults, counters and data edits, stopped at the end."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pslib

TOOLS = os.path.join(pslib.SOURCE_DIR, "tests", "tools")

VERSION_COLUMNS = {"run_id", "valid_from", "valid_to", "version", "pending"}


class Emulator:
    def __init__(self, name, workdir, *args):
        self.port_file = os.path.join(workdir, name + ".port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen([sys.executable, os.path.join(TOOLS, name + "_emulator.py"),
                                      "--port-file", self.port_file] + [str(a) for a in args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(self.port_file):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("emulator exited with %s" % self.proc.returncode)
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port

    def _post(self, path, obj):
        req = urllib.request.Request(self.url + path, data=json.dumps(obj).encode(),
                                     method="POST")
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def stats(self):
        with urllib.request.urlopen(self.url + "/_control/stats") as r:
            return json.load(r)

    def counts(self):
        return self.stats()["counts"]

    def faults(self, faults):
        self._post("/_control/faults", faults)

    def reset(self):
        self._post("/_control/reset", {})

    def data(self, add=(), update=(), delete=()):
        req = {"add": list(add), "update": list(update)}
        if delete:  # the SteamaCo emulator's: transaction IDs to remove
            req["delete"] = list(delete)
        self._post("/_control/data", req)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class ConnectorCase(pslib.Case):
    """A connector (a manifest of the rest provider) against its emulator, through the real
    binary. Subclasses set emulator, plugin, secrets (texts that must never be printed) and
    source() (the source options besides plugin and api_url)."""

    emulator = None
    plugin = None
    secrets = ()
    api_path = ""  # appended to the emulator's URL for api_url
    emulator_args = ()

    def setUp(self):
        super().setUp()
        self.emu = Emulator(self.emulator, self.dir, *self.emulator_args)
        self.cfg = self.config_with()

    def tearDown(self):
        self.emu.stop()
        super().tearDown()

    def source(self):
        raise NotImplementedError

    def config_with(self, name="paysync.yaml", extra_dataset="", **over):
        src = dict(self.source())
        src.update(over)
        src = {k: v for k, v in src.items() if v is not None}
        text = ", ".join("%s: %s" % (k, pslib.yaml_str(str(v))) for k, v in src.items())
        p = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
  store: {{plugin: sqlite, path: out/store.db}}
datasets:
  - name: crm
    target: {{level: project, id: site-1}}
    source: {{plugin: {self.plugin}, api_url: {pslib.yaml_str(self.emu.url + self.api_path)}, {text}}}
{extra_dataset}
    sinks: [out, store]
    rejects: out/rejects.jsonl
""", name=name)
        os.chmod(p, 0o600)
        return p

    def run_paysync(self, cfg=None, *extra):
        rep = self.path("report.json")
        if os.path.exists(rep):
            os.unlink(rep)
        res = pslib.run("run", cfg or self.cfg, "--report", rep, *extra,
                        env={"PS_TEST_FAKE_SLEEP": "1"})
        for s in self.secrets:
            self.assertNotIn(s, res.out + res.err)
        if os.path.exists(rep):
            with open(rep) as f:
                text = f.read()
            for s in self.secrets:
                self.assertNotIn(s, text)
        return res

    def report(self):
        with open(self.path("report.json")) as f:
            return json.load(f)["datasets"][0]

    def output(self):
        p = self.path("out", "payments.jsonl")
        if not os.path.exists(p):
            return None
        with open(p, "rb") as f:
            return f.read()

    def records(self):
        return {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}

    def store_rows(self):
        """Payments and cursors (the runs table records failures too: it may grow)."""
        import sqlite3
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            return (db.execute("SELECT * FROM payments ORDER BY 1, 2").fetchall(),
                    db.execute("SELECT * FROM cursors ORDER BY 1").fetchall())
        finally:
            db.close()

    # run IDs and the store's version bookkeeping (docs/sinks.md, "Row versions") differ
    # between runs by nature: a re-run publishes version 1 where a first run published 0
    def store_without_run_ids(self):
        import sqlite3
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            out = []
            for table in ("payments", "cursors"):
                cols = [r[1] for r in db.execute("PRAGMA table_info(%s)" % table)
                        if not r[1].endswith("run") and r[1] not in VERSION_COLUMNS]
                out.append(db.execute("SELECT %s FROM %s ORDER BY 1, 2"
                                      % (", ".join(cols), table)).fetchall())
            return tuple(out)
        finally:
            db.close()

    # ---- faults, in the manner of test_gsheet_faults.py
    def good_first_run(self):
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        self.before = self.output()
        self.store_before = self.store_rows()
        self.clean_store = self.store_without_run_ids()
        self.emu.reset()

    def run_fault(self, faults, rc, message, requests=None):
        """Runs with faults set; checks rc, message and the requests counted (a dict of the
        emulator's counts to equal); a failed run must leave output and store as they were,
        and the next clean run must equal a clean run. Returns (result, counts)."""
        self.emu.faults(faults)
        res = self.run_paysync()
        self.assertEqual(res.rc, rc, res)
        if message:
            self.assertIn(message, res.out + res.err, res)
        counts = self.emu.counts()
        for k, v in (requests or {}).items():
            self.assertEqual(counts.get(k, 0), v, (k, counts))
        if rc != 0:
            self.assertEqual(self.output(), self.before, "output changed by a failed run")
            self.assertEqual(self.store_rows(), self.store_before, "store changed by a failed run")
            self.emu.reset()
            ok = self.run_paysync()
            self.assertEqual(ok.rc, 0, ok)
        self.assertEqual(self.output(), self.before, "differs from a clean run")
        self.assertEqual(self.store_without_run_ids(), self.clean_store,
                         "store differs from a clean run")
        return res, counts
