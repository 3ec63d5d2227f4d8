"""verify_meters through the real binary: a payments fixture with listed, unknown and
near-miss meters checked against a connections list (CSV with the default `external_id`
column, a mapped column, a Google Sheet through the gsheet provider and its emulator), under
the standard profile (warnings) and the strict one (rejects); the counts in the summary,
report.json, the store and /metrics; and every way the list itself can be wrong."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_gsheet_run import API_KEY, Emulator  # noqa: E402

DATA = os.path.join(pslib.SOURCE_DIR, "tests", "data", "verify_meters")
PAYMENTS = os.path.join(DATA, "payments.csv")
CONNECTIONS = os.path.join(DATA, "connections.csv")

# P03 MTR-042 (zeros), P04 7781 (zeros), P05 "sm a17" (case, space): near misses;
# P06 XYZ-9 and P09 MTR-1000 (a different meter, not a near miss) are unknown.
UNKNOWN = {"P03": "MTR-042 not in the meter list; did you mean MTR-0042?",
           "P04": "7781 not in the meter list; did you mean 0007781?",
           "P05": "sm a17 not in the meter list; did you mean SM-A17?",
           "P06": "XYZ-9 not in the meter list (Odyssey verifies",
           "P09": "MTR-1000 not in the meter list (Odyssey verifies"}


class VerifyMeters(pslib.Case):
    def cfg(self, verify, profile="standard", payments=PAYMENTS):
        return self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
  store: {{plugin: sqlite, path: out/store.db}}
datasets:
  - name: site
    target: {{id: site-1}}
    profile: {profile}
    source: {{plugin: csvfile, path: {pslib.yaml_str(payments)}}}
    verify_meters: {verify}
    sinks: [out, store]
    rejects: out/rejects.jsonl
    warnings: out/warnings.jsonl
""")

    def run_ok(self, cfg):
        res = pslib.run("run", cfg, "--report", self.path("report.json"))
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json")) as f:
            return res, json.load(f)["datasets"][0]

    def test_standard_profile_warns_and_names_near_misses(self):
        res, rep = self.run_ok(self.cfg(pslib.yaml_str(CONNECTIONS)))
        self.assertEqual((rep["read"], rep["accepted"], rep["rejected"], rep["warnings"]),
                         (9, 9, 0, 5), rep)
        self.assertEqual(rep["warnings_by_code"], {"unknown_meter": 5}, rep)
        self.assertEqual(rep["verify_meters"], {"meters": 5, "unknown": 5, "near_misses": 3})
        self.assertIn("verify_meters: 5 meters listed, 5 payments with an unknown meter "
                      "(3 near misses)", res.out, res)
        self.assertIn("warnings by code: unknown_meter=5", res.out, res)
        warns = {w["id"]: w["warnings"] for w in
                 pslib.read_jsonl(self.path("out", "warnings.jsonl"))}
        self.assertEqual(sorted(warns), sorted(UNKNOWN))
        for pid, msg in UNKNOWN.items():
            (w,) = warns[pid]
            self.assertEqual((w["field"], w["code"]), ("METER_ID", "unknown_meter"), w)
            self.assertTrue(w["message"].startswith(msg), (pid, w))
        # the rows are delivered unchanged: a warning never alters the payment
        out = {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}
        self.assertEqual(len(out), 9)
        self.assertEqual(out["P03"]["METER_ID"], "MTR-042")
        self.assertEqual(out["P08"]["METER_ID"], "MTR-0100")  # trimmed, then listed
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            self.assertEqual(db.execute("SELECT warnings FROM runs").fetchone(), (5,))
        finally:
            db.close()

    def test_counts_in_the_store_and_metrics(self):
        """Warnings by code reach the store (run_warnings) and /metrics
        (paysync_warning_rows_total); under strict the rejects reach
        paysync_rejected_rows_total."""
        import urllib.request
        from test_serve import Server
        cfg = self.config(f"""
sinks:
  store: {{plugin: sqlite, path: out/store.db}}
datasets:
  - name: site
    target: {{id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(PAYMENTS)}}}
    verify_meters: {pslib.yaml_str(CONNECTIONS)}
    sinks: [store]
  - name: strict site
    target: {{id: site-1}}
    profile: strict
    source: {{plugin: csvfile, path: {pslib.yaml_str(PAYMENTS)}}}
    verify_meters: {pslib.yaml_str(CONNECTIONS)}
    sinks: [store]
serve:
  store: store
  keys:
    - {{name: t, key_sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08,
       datasets: "*"}}
""")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            self.assertEqual(db.execute("SELECT dataset, code, count FROM run_warnings").fetchall(),
                             [("site", "unknown_meter", 5)])
        finally:
            db.close()
        srv = Server(cfg, self.dir)
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % srv.port) as r:
                text = r.read().decode()
        finally:
            srv.stop()
        self.assertIn('paysync_warning_rows_total{dataset="site",code="unknown_meter"} 5\n', text)
        self.assertIn('paysync_rejected_rows_total{dataset="strict site",code="unknown_meter"} 5\n',
                      text)
        self.assertNotIn('paysync_warning_rows_total{dataset="strict site"', text)

    def test_strict_profile_rejects(self):
        res, rep = self.run_ok(self.cfg(pslib.yaml_str(CONNECTIONS), profile="strict"))
        self.assertEqual((rep["read"], rep["accepted"], rep["rejected"], rep["warnings"]),
                         (9, 4, 5, 0), rep)
        self.assertEqual(rep["rejected_by_code"], {"unknown_meter": 5}, rep)
        self.assertEqual(rep["verify_meters"], {"meters": 5, "unknown": 5, "near_misses": 3})
        rejects = {r["cells"]["ID"]: r for r in
                   pslib.read_jsonl(self.path("out", "rejects.jsonl"))}
        self.assertEqual(sorted(rejects), sorted(UNKNOWN))
        self.assertEqual(rejects["P03"]["problems"][0]["code"], "unknown_meter")
        self.assertEqual(rejects["P03"]["problems"][0]["message"], UNKNOWN["P03"])
        self.assertEqual(rejects["P03"]["cells"]["METER_ID"], "MTR-042")
        out = sorted(r["ID"] for r in pslib.read_jsonl(self.path("out", "payments.jsonl")))
        self.assertEqual(out, ["P01", "P02", "P07", "P08"])
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            self.assertEqual(db.execute("SELECT code, count FROM run_rejects").fetchall(),
                             [("unknown_meter", 5)])
        finally:
            db.close()

    def test_mapped_column(self):
        src = os.path.join(DATA, "connections_mapped.csv")
        _, rep = self.run_ok(self.cfg("{path: %s, column: meter number}" % pslib.yaml_str(src)))
        self.assertEqual(rep["verify_meters"], {"meters": 5, "unknown": 5, "near_misses": 3})

    def test_list_without_the_column_fails_the_dataset(self):
        src = os.path.join(DATA, "connections_mapped.csv")
        res = pslib.run("run", self.cfg(pslib.yaml_str(src)))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("verify_meters: the meter list '%s' has no column 'external_id' (columns: "
                      "'Site', 'Meter Number', 'Notes'); name the column holding the meter IDs "
                      "with verify_meters.column" % src, res.out + res.err, res)
        self.assertIn("site: FAILED (nothing committed)", res.out, res)
        self.assertFalse(os.path.exists(self.path("out", "payments.jsonl")))

    def test_missing_list_fails_run_and_check(self):
        missing = self.path("nope.csv")
        cfg = self.cfg(pslib.yaml_str(missing))
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("verify_meters: the meter list '%s': cannot open '%s': No such file or "
                      "directory" % (missing, missing), res.out + res.err, res)
        self.assertFalse(os.path.exists(self.path("out", "payments.jsonl")))
        res = pslib.run("check", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("dataset 'site' verify_meters: cannot open '%s'" % missing, res.err, res)

    def test_empty_list_and_oversized_id_fail(self):
        empty = self.write("empty.csv", "name,external_id\nA,\nB, \n")
        res = pslib.run("run", self.cfg(pslib.yaml_str(empty)))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("the meter list '%s' holds no meter IDs (column 'external_id' is empty)"
                      % empty, res.out + res.err, res)
        big = self.write("big.csv", "external_id\nM1\n%s\n" % ("X" * 300))
        res = pslib.run("run", self.cfg(pslib.yaml_str(big)))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("the meter list '%s', row 3: the meter ID is 300 bytes long, the limit "
                      "is 256" % big, res.out + res.err, res)

    def test_config_errors(self):
        self.write("x.csv", "external_id\nM1\n")
        res = pslib.run("check", self.cfg("{pth: x.csv}"))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("unknown option 'pth' for plugin 'csvfile' (did you mean 'path'?)",
                      res.err, res)
        res = pslib.run("check", self.cfg("{path: x.csv, column: }"))
        self.assertEqual(res.rc, 0, res)  # an empty column means the default (external_id)
        res = pslib.run("check", self.cfg('{path: x.csv, column: ""}'))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("datasets[site].verify_meters.column: a value is required (it is empty)",
                      res.err, res)
        res = pslib.run("check", self.cfg("{plugin: jsonl, path: x.jsonl}"))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("dataset 'site' verify_meters: plugin 'jsonl' is a sink, not a provider",
                      res.err, res)
        res = pslib.run("check", self.cfg("[a, b]"))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("datasets[site].verify_meters: expected a mapping (key: value), found a "
                      "sequence", res.err, res)

    def test_google_sheet_list(self):
        sheet = {"spreadsheetId": "connSheet1", "title": "Connections", "timeZone": "UTC",
                 "locale": "en_GB", "link_readable": True, "shared_with": ["*"],
                 "tabs": [{"title": "Connections", "sheetId": 7, "rowCount": 20,
                           "columnCount": 5,
                           "rows": [["name", "external_id"], ["a", "MTR-0042"],
                                    ["b", "MTR-0043"], ["c", "0007781"], ["d", "SM-A17"],
                                    ["e", "MTR-0100"]]}]}
        emu = Emulator(self.dir, "--sheet", self.write("conn.json", json.dumps(sheet)),
                       "--api-key", API_KEY)
        try:
            verify = ("{plugin: gsheet, spreadsheet_id: connSheet1, api_key: %s, api_url: %s, "
                      "header_row: 1, column: external_id}" % (API_KEY, emu.url))
            res, rep = self.run_ok(self.cfg(verify))
            self.assertEqual(rep["verify_meters"], {"meters": 5, "unknown": 5, "near_misses": 3})
            self.assertNotIn(API_KEY, res.out + res.err)
            counts = emu.stats()["counts"]
            # read once per run: one page, and its header row read formatted
            self.assertEqual(counts.get("values"), 2, counts)
        finally:
            emu.stop()

    def test_steamaco_meter_endpoint(self):
        """A connector's meter endpoint (steamaco_meters: Steama's /meters/ references, mapped
        to METER_ID, the default key of a record-shaped meter list), logged in once."""
        from crmemu import Emulator
        emu = Emulator("steama", self.dir)
        try:
            pay = self.write("p.csv", "ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,"
                             "TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,"
                             "CUSTOMER_CATEGORY\n"
                             "A1,2024-03-01T10:00:00Z,100,NGN,FULL_PAYMENT,C1,0004201,Ann,Res\n"
                             "A2,2024-03-01T11:00:00Z,100,NGN,FULL_PAYMENT,C2,4202,Bo,Res\n"
                             "A3,2024-03-01T12:00:00Z,100,NGN,FULL_PAYMENT,C3,77,Cy,Res\n")
            verify = ("{plugin: steamaco_meters, api_url: %s, username: operator@example.com, "
                      "password: s3cret-Steama-pass}" % pslib.yaml_str(emu.url))
            res, rep = self.run_ok(self.cfg(verify, payments=pay))
            self.assertEqual(rep["verify_meters"], {"meters": 6, "unknown": 2, "near_misses": 1})
            self.assertIn("verify_meters: the meter list (steamaco_meters): 6 meters", res.err)
            warns = {w["id"]: w["warnings"][0]["message"]
                     for w in pslib.read_jsonl(self.path("out", "warnings.jsonl"))}
            self.assertEqual(warns["A2"], "4202 not in the meter list; did you mean 0004202?")
            self.assertNotIn("s3cret-Steama-pass", res.out + res.err)
            self.assertEqual(emu.stats()["counts"].get("token"), 1)
            self.assertEqual(emu.stats()["counts"].get("meters"), 1)
            kit = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/meters.jsonl}}
datasets:
  - name: meters
    target: {{id: site-1}}
    source: {verify}
    sinks: [out]
""".replace("column: external_id", ""), name="kit.yaml")
            os.chmod(kit, 0o600)
            res = pslib.run("test-plugin", "steamaco_meters", "--config", kit, "--dataset",
                            "meters", env={"PS_TEST_FAKE_SLEEP": "1"})
            self.assertEqual(res.rc, 0, res)
            self.assertIn("read contract        pass   6 rows", res.out, res)
            self.assertIn(" 0 failed", res.out, res)
        finally:
            emu.stop()


if __name__ == "__main__":
    pslib.main()
