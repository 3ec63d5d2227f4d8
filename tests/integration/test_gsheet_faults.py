"""gsheet provider under every fault the emulator can inject: the exit code, the message, the
number of requests (never retried: 400/403/404; retried: 429/5xx/transport), that a failed
run leaves the previous output and store exactly as they were (no partial data), and that the
next run once the fault has cleared gives exactly the output and store of a clean run."""
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_gsheet_run import API_KEY, SA_EMAIL, GsheetCase  # noqa: E402

VERSION_COLUMNS = {"run_id", "valid_from", "valid_to", "version", "pending"}


class Faults(GsheetCase):
    def setUp(self):
        super().setUp()
        self.start("--stall-seconds", "4")
        self.cfg = self.gsheet_config(self.api_source(), sinks="out, store")
        res = self.run_paysync(self.cfg)  # a good run first: the output to protect
        self.assertEqual(res.rc, 0, res)
        self.before = self.output()
        self.store_before = self.store_rows()
        self.clean_store = self.store_without_run_ids()
        self.assertTrue(self.before)
        self.emu.reset()

    def store_rows(self):
        """The store's payments and cursors (the runs table records failures: it may grow)."""
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            return (db.execute("SELECT * FROM payments ORDER BY 1, 2").fetchall(),
                    db.execute("SELECT * FROM cursors ORDER BY 1").fetchall())
        finally:
            db.close()

    def run_fault(self, faults, rc, message, cfg=None, recover=True):
        self.emu.faults(faults)
        res = self.run_paysync(cfg or self.cfg)
        self.assertEqual(res.rc, rc, res)
        if message:
            self.assertIn(message, res.out + res.err, res)
        counts = self.emu.stats()["counts"]
        if rc != 0:
            self.assertEqual(self.output(), self.before, "output changed by a failed run")
            self.assertEqual(self.store_rows(), self.store_before, "store changed by a failed run")
            if recover:
                self.recover()
        else:  # retried through the fault: exactly a clean run's result
            self.assertEqual(self.output(), self.before)
            self.assertEqual(self.store_without_run_ids(), self.clean_store)
        return res, counts

    # run IDs and the store's version bookkeeping (docs/sinks.md, "Row versions") differ
    # between runs by nature: a re-run publishes version 1 where a first run published 0
    def store_without_run_ids(self):
        """store_rows() without the run-id columns, which differ between runs by nature."""
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

    def recover(self):
        """The fault clears (the emulator answers normally again; a config fault is fixed by
        going back to the good config): the next run equals the clean run of setUp."""
        self.emu.faults([])
        res = self.run_paysync(self.cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.output(), self.before, "run after the fault differs from a clean run")
        self.assertEqual(self.store_without_run_ids(), self.clean_store,
                         "store after the fault differs from a clean run")

    # ---- retried, then the run succeeds
    def test_429_with_retry_after_then_ok(self):
        _, c = self.run_fault([{"when": "values", "kind": "429"}], 0, "retrying in 1.000 s")
        self.assertEqual(c.get("fault:429"), 1)
        self.assertEqual(self.output(), self.before)

    def test_429_without_retry_after_then_ok(self):
        _, c = self.run_fault([{"when": "metadata", "kind": "429bare"}], 0, "HTTP 429")
        self.assertEqual(c.get("metadata"), 2)

    def test_500_then_ok(self):
        res, c = self.run_fault([{"when": "values", "kind": "500"}], 0, "HTTP 500 INTERNAL")
        self.assertEqual(self.output(), self.before)

    def test_503_shrinks_the_page(self):
        self.emu.stop()
        from test_gsheet_run import Emulator
        # skip the first page and the header row read (FORMATTED_VALUE)
        self.emu = Emulator(self.dir, "--generate", "300", "--fault", "values:503:1:2")
        src = {"spreadsheet_id": "generated", "api_key": "k", "api_url": self.emu.url,
               "requests_per_minute": 6000, "page_rows": 200, "max_retries": 2}
        res = self.run_paysync(self.gsheet_config(src, name="g.yaml"))
        self.assertEqual(res.rc, 0, res)
        self.assertIn("shrinking the page to 50 rows", res.err)
        self.assertEqual(self.report()["accepted"], 300)
        values = [p for k, p in self.emu.stats()["log"] if k == "values"]
        # 1-200, header row 1 formatted, 201-301 (503), 201-250, 251-301
        self.assertEqual(len(values), 5, values)
        self.assertIn("%21A1%3AU1?", values[1])
        self.assertIn("%21A201%3AU250?", values[3])
        self.assertIn("%21A251%3AU301?", values[4])

    def test_503_then_ok(self):
        _, c = self.run_fault([{"when": "values", "kind": "503", "skip": 2}], 0, "HTTP 503")
        self.assertEqual(c.get("fault:503"), 1)
        self.assertEqual(self.output(), self.before)

    def test_stall_times_out_then_ok(self):
        cfg = self.gsheet_config(self.api_source(timeout=1), sinks="out, store", name="t.yaml")
        _, c = self.run_fault([{"when": "values", "kind": "stall"}], 0, "Timeout", cfg)
        self.assertEqual(c.get("fault:stall"), 1)
        self.assertEqual(self.output(), self.before)

    def test_truncated_json_then_ok(self):
        _, c = self.run_fault([{"when": "values", "kind": "truncate"}], 0, "not valid JSON")
        self.assertEqual(self.output(), self.before)

    # ---- retries run out: the run fails and nothing changes
    def test_429_forever_fails(self):
        _, c = self.run_fault([{"when": "values", "kind": "429", "count": -1}], 1,
                              "kept refusing with HTTP 429")
        self.assertEqual(c.get("values"), 2)  # max_retries 1

    def test_503_forever_mid_run_fails_without_partial_data(self):
        _, c = self.run_fault([{"when": "values", "kind": "503", "count": -1, "skip": 2}], 1,
                              "kept failing with HTTP 503")
        self.assertEqual(c.get("values"), 4)

    def test_stall_forever_fails(self):
        cfg = self.gsheet_config(self.api_source(timeout=1, max_retries=0), sinks="out, store",
                                 name="t.yaml")
        self.run_fault([{"when": "metadata", "kind": "stall", "count": -1}], 1,
                       "transport error: Timeout was reached", cfg)

    def test_truncated_json_forever_fails(self):
        self.run_fault([{"when": "values", "kind": "truncate", "count": -1}], 1,
                       "not valid JSON")

    def test_reset_connection_then_ok(self):
        # libcurl itself resends a request whose reused connection was reset before any answer;
        # otherwise our retry does: either way the run completes like a clean one
        _, c = self.run_fault([{"when": "values", "kind": "reset"}], 0, None)
        self.assertEqual(c.get("fault:reset"), 1)

    def test_reset_connection_forever_fails(self):
        _, c = self.run_fault([{"when": "values", "kind": "reset", "count": -1}], 1,
                              "transport error: Failure when receiving data from the peer "
                              "[gave up after 2 attempts]")
        self.assertGreaterEqual(c.get("fault:reset"), 2)

    def test_cut_connection_fails(self):
        self.run_fault([{"when": "values", "kind": "cut", "count": -1}], 1, "transport error")

    def test_html_502_retried_then_fails(self):
        _, c = self.run_fault([{"when": "metadata", "kind": "html502", "count": -1}], 1,
                              "got an HTML page (HTTP 502)")
        self.assertEqual(c.get("metadata"), 2)

    # ---- never retried
    def test_html_page_200(self):
        _, c = self.run_fault([{"when": "metadata", "kind": "html"}], 1,
                              "got an HTML page (HTTP 200) where Google's JSON was expected")
        self.assertEqual(c.get("metadata"), 1)

    def test_403_api_key(self):
        _, c = self.run_fault([{"when": "metadata", "kind": "403"}], 1,
                              "no access to spreadsheet 1SheetID_abc-XYZ: make it link-readable")
        self.assertEqual(c.get("metadata"), 1)

    def test_403_api_disabled(self):
        _, c = self.run_fault([{"when": "values", "kind": "403api"}], 1,
                              "enable the Google Sheets API in project 123456789012")
        self.assertEqual(c.get("values"), 1)

    def test_404(self):
        _, c = self.run_fault([{"when": "metadata", "kind": "404"}], 1,
                              "no spreadsheet with ID 1SheetID_abc-XYZ")
        self.assertEqual(c.get("metadata"), 1)

    def test_401_with_api_key(self):
        _, c = self.run_fault([{"when": "values", "kind": "401"}], 1,
                              "Google rejected the credentials (HTTP 401 UNAUTHENTICATED")
        self.assertEqual(c.get("values"), 1)

    def test_wrong_api_key(self):
        cfg = self.gsheet_config(self.api_source(api_key="AIzaWRONG-key-000"), sinks="out, store",
                                 name="t.yaml")
        res, c = self.run_fault([], 1, "Google rejected the API key", cfg)
        self.assertNotIn("AIzaWRONG-key-000", res.out + res.err)
        self.assertEqual(c.get("metadata"), 1)

    def test_unknown_tab_lists_tabs(self):
        cfg = self.gsheet_config(self.api_source(sheet="Payments"), sinks="out, store",
                                 name="t.yaml")
        self.run_fault([], 1, "no tab 'Payments' in spreadsheet 'Acme CRM' (sheet: takes a tab "
                              "title or a gid); the tabs are: 'Notes' (gid 0), "
                              "'Pay #1/+&'s 2024' (gid 424242)", cfg)

    def test_no_header_found(self):
        cfg = self.gsheet_config(self.api_source(sheet="Notes"), sinks="out, store",
                                 name="t.yaml")
        self.run_fault([], 1, "no header row in the first 20 rows of tab 'Notes'", cfg)

    def test_public_export_not_shared(self):
        self.write("private.json", self.sheet_json_private())
        self.emu.stop()
        self.emu = None
        from test_gsheet_run import Emulator
        self.emu = Emulator(self.dir, "--sheet", self.path("private.json"))
        src = {"spreadsheet_id": "1SheetID_abc-XYZ", "public": True, "sheet": "gid=424242",
               "export_url": self.emu.url, "max_retries": 0}
        cfg = self.gsheet_config(src, sinks="out, store", name="t.yaml")
        # the good config reads another emulator, stopped above: no recovery run here
        self.run_fault([], 1, "HTML page (probably a sign-in page) instead of CSV: the sheet is "
                              "not link-readable", cfg, recover=False)

    def sheet_json_private(self):
        import json
        from test_gsheet_run import fixture_sheet
        return json.dumps(fixture_sheet(link_readable=False))


class ServiceAccountFaults(GsheetCase):
    def setUp(self):
        super().setUp()
        self.write("sheet.json", self.private_sheet())
        self.key, pub = self.make_service_account()
        self.start("--public-key", pub)

    def private_sheet(self):
        import json
        from test_gsheet_run import fixture_sheet
        return json.dumps(fixture_sheet(link_readable=False, shared_with=["someone@else.com"]))

    def cfg(self, token_uri=None):
        src = self.api_source(service_account_json=self.key_json(
            self.key, token_uri or self.emu.url + "/token"))
        del src["api_key"]
        return self.gsheet_config(src)

    def test_403_names_the_client_email(self):
        res = self.run_paysync(self.cfg())
        self.assertEqual(res.rc, 1, res)
        self.assertIn("share the sheet with %s (read access) or make it link-readable" % SA_EMAIL,
                      res.err)
        self.assertIsNone(self.output())

    def test_token_refused(self):
        self.emu.faults([{"when": "token", "kind": "badgrant"}])
        res = self.run_paysync(self.cfg())
        self.assertEqual(res.rc, 1, res)
        self.assertIn("getting an access token for %s: refused (HTTP 400 invalid_grant: "
                      "Invalid JWT Signature.)" % SA_EMAIL, res.err)
        self.assertEqual(self.emu.stats()["counts"].get("token"), 1)
        self.assertIsNone(self.output())

    def test_wrong_audience_refused(self):
        # a key whose token_uri differs from where the token is asked for: aud mismatch
        src = self.api_source(service_account_json=self.key_json(
            self.key, "https://oauth2.googleapis.com/token"), token_url=self.emu.url + "/token")
        del src["api_key"]
        res = self.run_paysync(self.gsheet_config(src))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("invalid_grant", res.err)
        with open(self.key) as f:
            body = f.read().splitlines()[1]
        self.assertNotIn(body, res.out + res.err)


if __name__ == "__main__":
    pslib.main()
