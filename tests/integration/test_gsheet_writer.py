"""The gsheet_writer sink against the local Google Sheets emulator (tests/tools/gsheet_emulator.py,
which now also writes): tabs equal to the store's payments cell for cell (compared with
`paysync export --format csv`), header on row 1, text cells written RAW, monthly tabs, no write
request on an unchanged re-run, in-place updates and the temporary-tab swap, the cell capacity
check, the "not shared" message, and faults (429, 500, cut connection, expired token, rate
limit), each followed by the sheet's state."""
import csv
import io
import json
import os
import sys
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pslib  # noqa: E402
from test_gsheet_run import Emulator, GsheetCase  # noqa: E402

SID = "1WriterSheet_abc"
SA_EMAIL = "paysync-writer@demo-project.iam.gserviceaccount.com"
HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE")
FIELDS = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "TRANSACTION_CHARGES", "REFERENCE_ID", "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME",
          "CUSTOMER_PHONE", "CUSTOMER_CATEGORY", "FINANCING_ID", "AGENT_ID", "LATITUDE",
          "LONGITUDE", "UTILITY_ID", "FAILED_BATTERY_CAPACITY_COUNT", "ACCOUNT_TYPE", "STATUS",
          "NOTES"]


def csv_rows(n, start=1, amount="1500.50", skip=()):
    """n payments over January and February 2024 (every third in February), meters with
    leading zeros, a comma in the name."""
    rows = []
    for i in range(start, start + n):
        if i in skip:
            continue
        month = "02" if i % 3 == 0 else "01"
        rows.append("P%05d,2024-%s-%02dT08:%02d:00.000Z,%s,NGN,FULL_PAYMENT,C%d,%06d,"
                    "\"Bello, Amina\",Residential,+2348031234567"
                    % (i, month, 1 + i % 27, i % 60, amount, i, i))
    return HEADER + "\n" + "\n".join(rows) + "\n"


def sheet_fixture(editors=("*",)):
    return {"spreadsheetId": SID, "title": "Odyssey payments", "editors": list(editors),
            "link_readable": False, "shared_with": list(editors),
            "tabs": [{"title": "README", "sheetId": 0, "rowCount": 10, "columnCount": 3,
                      "rows": [["paysync writes the other tabs"]]}]}


class WriterCase(GsheetCase):
    tab = "{month}_{dataset}"
    emu_extra = ()
    editors = ("*",)

    def setUp(self):
        pslib.Case.setUp(self)
        self.emu = None
        self.sheet_file = self.write("sheet.json", json.dumps(sheet_fixture(self.editors)))
        key, pub = self.make_service_account()
        self.emu = Emulator(self.dir, "--sheet", self.sheet_file, "--public-key", pub,
                            *self.emu_extra)
        kj = json.loads(self.key_json(key, self.emu.url + "/token"))
        kj["client_email"] = SA_EMAIL
        self.key_file = self.write("sa.json", json.dumps(kj))
        os.chmod(self.key_file, 0o600)

    def setup_run(self, csv_text, extra="", sinks="[store, sheet]"):
        src = self.write("in.csv", csv_text)
        self.cfg = self.config("""
sinks:
  store: {plugin: sqlite, path: %s}
  sheet: {plugin: gsheet_writer, spreadsheet_id: %s, tab: %s, service_account_file: %s,
          api_url: %s, max_retries: 3, timeout: 10%s}
datasets:
  - name: Kuje
    target: {level: project, id: site-1}
    source: {plugin: csvfile, path: %s}
    sinks: %s
""" % (pslib.yaml_str(self.path("db.sqlite")), SID, pslib.yaml_str(self.tab),
            pslib.yaml_str(self.key_file), pslib.yaml_str(self.emu.url), extra,
            pslib.yaml_str(src), sinks))

    def run_it(self, fake_sleep=True, *args):
        env = {"PS_TEST_FAKE_SLEEP": "1"} if fake_sleep else None
        return pslib.run("run", self.cfg, *args, env=env)

    def sheet(self):
        with urllib.request.urlopen(self.emu.url + "/_control/sheet/" + SID) as r:
            return json.load(r)

    def tabs(self):
        return {t["title"]: t for t in self.sheet()["tabs"]}

    def writes(self):
        c = self.emu.stats()["counts"]
        return c.get("write", 0) + c.get("structure", 0)

    def export_by_tab(self):
        """The store's payments (paysync export --format csv) grouped as the tabs hold them."""
        r = pslib.run("export", self.cfg, "--dataset", "Kuje", "--format", "csv")
        self.assertEqual(r.rc, 0, r)
        rows = list(csv.reader(io.StringIO(r.out)))
        self.assertEqual(rows[0], FIELDS)
        out = {}
        for row in rows[1:]:
            ts = row[1]
            title = self.tab.replace("{dataset}", "Kuje").replace(
                "{month}", ts[5:7] + "_" + ts[0:4])
            out.setdefault(title, [FIELDS]).append(row)
        return out

    def assert_sheet_equals_store(self):
        want = self.export_by_tab()
        tabs = self.tabs()
        self.assertNotIn(True, [t.startswith("~paysync-tmp-") for t in tabs], tabs.keys())
        for title, rows in want.items():
            self.assertIn(title, tabs)
            got = [r + [""] * (21 - len(r)) for r in tabs[title]["rows"]]
            self.assertEqual(got, rows, title)  # cell for cell, header on row 1
            self.assertEqual(tabs[title]["gridProperties"]["columnCount"], 21)
        for title, t in tabs.items():
            if title not in want and title != "README":
                self.assertEqual(t["rows"], [FIELDS], title)  # a tab left with its header only
        self.assertEqual(tabs["README"]["rows"], [["paysync writes the other tabs"]])
        return want


class Writes(WriterCase):
    def test_monthly_tabs_equal_store_rerun_writes_nothing_then_in_place(self):
        self.setup_run(csv_rows(30))
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        want = self.assert_sheet_equals_store()
        self.assertEqual(sorted(want), ["01_2024_Kuje", "02_2024_Kuje"])
        tabs = self.tabs()
        self.assertEqual(tabs["01_2024_Kuje"]["rows"][1][8], "000001")  # leading zeros kept
        self.assertEqual(tabs["01_2024_Kuje"]["rows"][1][2], "1500.50")  # exact amount text
        self.assertEqual(tabs["01_2024_Kuje"]["rows"][1][1], "2024-01-02T08:01:00.000Z")
        log = self.emu.stats()["log"]
        self.assertTrue(any(k == "write" and "values:batchUpdate" in p for k, p in log), log)
        self.assertIn("payments in 2 tab(s) of spreadsheet " + SID, r.err)
        gids = {t: v["sheetId"] for t, v in tabs.items()}

        # Unchanged: metadata and values reads only, no write request.
        self.emu.reset()
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.writes(), 0, self.emu.stats())
        self.assertIn("already hold its 30 payments; nothing written", r.err)

        # One amount changed, one payment gone, two new: rows updated in place in one
        # values:batchUpdate (plus one batchUpdate growing the grid), tab IDs unchanged.
        text = csv_rows(32, skip=(4,)).replace("P00007,2024-01-08T08:07:00.000Z,1500.50",
                                                "P00007,2024-01-08T08:07:00.000Z,1500.75")
        self.setup_run(text)
        self.emu.reset()
        r = self.run_it(True, "--allow-vanish")
        self.assertEqual(r.rc, 0, r)
        self.assert_sheet_equals_store()
        c = self.emu.stats()["counts"]
        self.assertEqual(c.get("write"), 1, c)
        self.assertLessEqual(c.get("structure", 0), 1, c)
        self.assertIn("updated in place", r.err)
        self.assertEqual({t: v["sheetId"] for t, v in self.tabs().items()}, gids)
        rows = self.tabs()["01_2024_Kuje"]["rows"]
        self.assertIn("1500.75", [row[2] for row in rows if row[0] == "P00007"])
        self.assertNotIn("P00004", [row[0] for row in rows])

    def test_big_change_goes_through_a_temporary_tab(self):
        self.setup_run(csv_rows(60), extra=", max_request_bytes: 4096")
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assert_sheet_equals_store()
        self.assertIn("through a temporary tab", r.err)
        c = self.emu.stats()["counts"]
        self.assertGreater(c.get("write", 0), 2, c)  # rows in several requests under 4 KB
        # the README tab keeps its place; the new tabs follow it
        self.assertEqual([t["title"] for t in self.sheet()["tabs"]],
                         ["README", "01_2024_Kuje", "02_2024_Kuje"])

    def test_default_template_one_tab_and_values_are_raw(self):
        self.tab = "{dataset}"
        self.setup_run(csv_rows(5))
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assert_sheet_equals_store()
        self.assertIn("Kuje", self.tabs())
        # every cell is a JSON string (RAW), none turned into a number
        for row in self.tabs()["Kuje"]["rows"]:
            self.assertTrue(all(isinstance(v, str) for v in row), row)

    def test_capacity_check_fails_before_any_write(self):
        # with a file sink and a rejected row: both are kept, since the store committed first
        text = csv_rows(60) + "BAD1,not a date,1,NGN,FULL_PAYMENT,C1,1,X,Residential,+1\n"
        self.setup_run(text, extra=", max_cells: 1000", sinks="[store, out, sheet]")
        with open(self.cfg) as f:
            cfg = f.read()
        cfg = cfg.replace("sinks:\n", "sinks:\n  out: {plugin: jsonl, path: %s}\n"
                          % pslib.yaml_str(self.path("out.jsonl")), 1)
        cfg = cfg.replace("    sinks: [store, out, sheet]", "    sinks: [store, out, sheet]\n"
                          "    rejects: %s" % pslib.yaml_str(self.path("rejects.jsonl")))
        with open(self.cfg, "w") as f:
            f.write(cfg)
        r = self.run_it()
        self.assertEqual(r.rc, 1, r)
        self.assertIn("over the limit of 1,000 cells per spreadsheet (about 47 rows of 21 "
                      "columns); nothing was written: use monthly tabs (tab: "
                      "\"{month}_{dataset}\") or a second spreadsheet", r.err)
        self.assertIn("FAILED (the store committed; a sink after it did not)", r.out + r.err)
        self.assertEqual(self.writes(), 0)
        self.assertEqual(list(self.tabs()), ["README"])
        # the store kept the run (it committed first): export shows the 60 payments, the file
        # sink published them and the rejects file holds the bad row
        self.assertEqual(sum(len(v) - 1 for v in self.export_by_tab().values()), 60)
        self.assertEqual(len(pslib.read_jsonl(self.path("out.jsonl"))), 60)
        rejects = pslib.read_jsonl(self.path("rejects.jsonl"))
        self.assertEqual(len(rejects), 1, rejects)
        self.assertIn("BAD1", json.dumps(rejects[0]))
        self.assertIn("run failed after the store committed", r.err)

    def test_emulator_refuses_over_10m_cells_like_google(self):
        # the spreadsheet already holds a big tab: the sink counts it, fails before writing
        with open(self.sheet_file) as f:
            fx = json.load(f)
        fx["tabs"].append({"title": "Big", "sheetId": 7, "rowCount": 9999000,
                           "columnCount": 1, "rows": []})
        with open(self.sheet_file, "w") as f:
            json.dump(fx, f)
        self.emu.stop()
        key, pub = self.path("sa.pem"), self.path("sa.pub.pem")
        self.emu = Emulator(self.dir, "--sheet", self.sheet_file, "--public-key", pub)
        kj = json.loads(self.key_json(key, self.emu.url + "/token"))
        self.key_file = self.write("sa.json", json.dumps(kj))
        os.chmod(self.key_file, 0o600)
        self.setup_run(csv_rows(60))
        r = self.run_it()
        self.assertEqual(r.rc, 1, r)
        self.assertIn("would need 10,000,", r.err)
        self.assertIn("over the limit of 10,000,000 cells", r.err)
        self.assertEqual(self.writes(), 0)
        # and the emulator itself refuses a write past the limit, as Google does
        body = json.dumps({"requests": [{"addSheet": {"properties": {
            "title": "x", "gridProperties": {"rowCount": 1000, "columnCount": 21}}}}]}).encode()
        tok = self.token()
        req = urllib.request.Request(self.emu.url + "/v4/spreadsheets/%s:batchUpdate" % SID,
                                     data=body, headers={"Authorization": "Bearer " + tok})
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(req)
        self.assertEqual(cm.exception.code, 400)
        self.assertIn(b"above the limit of 10000000 cells", cm.exception.read())

    def token(self):
        """An access token from the emulator (the plugin's JWT path is tested by the runs)."""
        import subprocess
        import base64
        now = int(time.time())
        b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
        head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        claims = b64(json.dumps({"iss": SA_EMAIL, "scope": "https://www.googleapis.com/auth/"
                                 "spreadsheets", "aud": self.emu.url + "/token", "iat": now,
                                 "exp": now + 600}).encode())
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.path("sa.pem")],
                             input=(head + "." + claims).encode(), capture_output=True,
                             check=True).stdout
        form = ("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" +
                head + "." + claims + "." + b64(sig)).encode()
        with urllib.request.urlopen(self.emu.url + "/token", data=form) as r:
            return json.load(r)["access_token"]

    def test_needs_a_store(self):
        self.setup_run(csv_rows(3), sinks="[sheet]")
        r = self.run_it()
        self.assertEqual(r.rc, 2, r)
        self.assertIn("dataset 'Kuje' writes to no store: gsheet_writer keeps the sheet equal to "
                      "the store's payments, so list a store sink before it (sinks: [store, "
                      "sheet])", r.err)
        self.assertEqual(self.writes(), 0)

    def test_passes_the_conformance_kit(self):
        # paysync test-plugin with the key given inline (service_account_json): the kit leaves
        # the unset service_account_file path unset (before, it pointed every path option of a
        # sink into its folder, so create refused "both are set") and gives the sink a
        # temporary store of the kit's 25 payments to read (docs/plugin-abi.md)
        with open(self.key_file) as f:
            key = f.read()
        cfg = self.config("""
sinks:
  sheet: {plugin: gsheet_writer, spreadsheet_id: %s, tab: kit, service_account_json: %s,
          api_url: %s, max_retries: 3, timeout: 10}
datasets: []
""" % (SID, pslib.yaml_str(key), pslib.yaml_str(self.emu.url)))
        so = os.path.join(pslib.PLUGIN_DIR, "gsheet_writer.so")
        r = pslib.run("test-plugin", so if os.path.exists(so) else "gsheet_writer",
                      "--config", cfg, "--sink", "sheet")
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"(?m)^  commit repeatable\s+pass\s", r)
        self.assertRegex(r.out, r"(?m)^  abort leaves nothing\s+pass\s", r)
        self.assertRegex(r.out, r"(?m)^\d+ passed, 0 failed, \d+ skipped$", r)
        self.assertNotIn("BEGIN PRIVATE KEY", r.out + r.err)
        # the tab holds the kit's payments: a header and kit-001 .. kit-025
        rows = self.tabs()["kit"]["rows"]
        self.assertEqual(rows[0][:3], FIELDS[:3], rows[:2])
        self.assertEqual([row[0] for row in rows[1:]],
                         ["kit-%03d" % i for i in range(1, 26)])

    def test_bad_template_and_no_key_are_config_errors(self):
        self.tab = "{month}_{site}"
        self.setup_run(csv_rows(3))
        r = self.run_it()
        self.assertEqual(r.rc, 2, r)
        self.assertIn("option 'tab' has an unknown placeholder '{site}' (known: {dataset}, "
                      "{month})", r.err)
        self.tab = "{dataset}"
        self.setup_run(csv_rows(3), extra=", service_account_json: \"{}\"")
        r = self.run_it()
        self.assertEqual(r.rc, 2, r)
        self.assertIn("set exactly one of service_account_file and service_account_json "
                      "(both are set)", r.err)


class NotShared(WriterCase):
    editors = ("someone-else@example.com",)

    def test_message_names_the_service_account(self):
        self.setup_run(csv_rows(3))
        r = self.run_it()
        self.assertEqual(r.rc, 1, r)
        msg = ("spreadsheet %s is not shared with %s: share it with that address as an Editor"
               % (SID, SA_EMAIL))
        self.assertIn(msg, r.err)
        self.assertEqual(list(self.tabs()), ["README"])
        c = pslib.run("check", self.cfg)
        self.assertNotEqual(c.rc, 0, c)
        self.assertIn(msg, c.out + c.err)


class Faults(WriterCase):
    """Each fault, then the sheet's state: complete (retried) or exactly as before."""

    def first_run(self, n=30, extra=""):
        self.setup_run(csv_rows(n), extra=extra)
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.before = self.assert_sheet_equals_store()
        self.before_tabs = self.tabs()

    def change_and_run(self, faults, extra="", n=33):
        self.setup_run(csv_rows(n, amount="1600.00"), extra=extra)
        self.emu.reset()
        self.emu.faults(faults)
        return self.run_it()

    def test_429_and_500_are_retried(self):
        self.first_run()
        r = self.change_and_run([{"when": "write", "kind": "429", "count": 2},
                                 {"when": "structure", "kind": "500", "count": 1}])
        self.assertEqual(r.rc, 0, r)
        after = self.assert_sheet_equals_store()
        self.assertEqual(after["01_2024_Kuje"][1][2], "1600.00")
        c = self.emu.stats()["counts"]
        self.assertEqual(c.get("fault:429"), 2, c)
        self.assertEqual(c.get("fault:500"), 1, c)

    def test_cut_connection_after_the_write_is_retried(self):
        self.first_run()
        r = self.change_and_run([{"when": "write", "kind": "cut", "count": 1}])
        self.assertEqual(r.rc, 0, r)
        self.assert_sheet_equals_store()
        self.assertEqual(self.emu.stats()["counts"].get("fault:cut"), 1)

    def test_lost_answer_of_add_sheet_in_place_carries_on(self):
        """The batchUpdate adding both monthly tabs is applied but its answer is lost (cut):
        the retry is refused ("already exists"), the sink reads the metadata, finds both tabs
        and writes the rows."""
        self.setup_run(csv_rows(30))
        self.emu.faults([{"when": "structure", "kind": "cut", "count": 1}])
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("adding or growing tabs: the answer was lost and the retry found the tabs "
                      "already added; carrying on", r.err)
        self.assert_sheet_equals_store()
        c = self.emu.stats()["counts"]
        self.assertEqual(c.get("fault:cut"), 1, c)
        self.assertEqual(c.get("applied:structure"), 1, c)  # the retry added nothing
        self.assertEqual(c.get("structure"), 2, c)

    def test_lost_answer_of_temporary_tab_carries_on(self):
        """The same through the temporary tab: its sheetId comes from the metadata instead of
        the lost answer, and no temporary tab is left."""
        self.first_run(extra=", max_request_bytes: 4096")
        r = self.change_and_run([{"when": "structure", "kind": "cut", "count": 1}],
                                extra=", max_request_bytes: 4096")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("adding the temporary tab for '01_2024_Kuje': the answer was lost and the "
                      "retry found the tab already added; carrying on", r.err)
        after = self.assert_sheet_equals_store()  # no ~paysync-tmp- tab either
        self.assertEqual(after["01_2024_Kuje"][1][2], "1600.00")
        self.assertEqual(self.emu.stats()["counts"].get("fault:cut"), 1)

    def test_already_exists_unexplained_keeps_the_refusal(self):
        """When the metadata cannot show the lost change (its read fails), the refusal
        stands: the run fails with Google's "already exists" and writes no row."""
        self.setup_run(csv_rows(30))
        self.emu.faults([{"when": "structure", "kind": "cut", "count": 1},
                         {"when": "metadata", "kind": "404", "count": -1, "skip": 1}])
        r = self.run_it()
        self.assertEqual(r.rc, 1, r)
        self.assertIn('A sheet with the name "01_2024_Kuje" already exists', r.err)
        self.assertNotIn("carrying on", r.err)
        self.assertEqual(self.emu.stats()["counts"].get("write", 0), 0)

    def test_expired_token_is_renewed(self):
        self.first_run()
        r = self.change_and_run([{"when": "write", "kind": "401", "count": 1}])
        self.assertEqual(r.rc, 0, r)
        self.assert_sheet_equals_store()
        c = self.emu.stats()["counts"]
        self.assertEqual(c.get("fault:401"), 1, c)
        self.assertGreaterEqual(c.get("token", 0), 2, c)  # a new token after the 401

    def test_failure_midway_leaves_the_sheet_as_before(self):
        self.first_run(extra=", max_request_bytes: 4096")
        # the second rows request of the temporary tab fails for good
        r = self.change_and_run([{"when": "write", "kind": "500", "count": -1, "skip": 1}],
                                extra=", max_request_bytes: 4096")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("Google kept failing with HTTP 500", r.err)
        tabs = self.tabs()
        for title in ("01_2024_Kuje", "02_2024_Kuje"):
            self.assertEqual(tabs[title]["rows"], self.before_tabs[title]["rows"])
            self.assertEqual(tabs[title]["sheetId"], self.before_tabs[title]["sheetId"])
            self.assertNotIn("hidden", tabs[title])
        left = [t for t in tabs if t.startswith("~paysync-tmp-")]
        self.assertEqual(len(left), 1, tabs.keys())
        self.assertTrue(tabs[left[0]]["hidden"])
        # the next run removes the leftover and completes
        self.emu.reset()
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assertIn("left behind by a run that failed while writing", r.err)
        after = self.assert_sheet_equals_store()
        self.assertEqual(after["01_2024_Kuje"][1][2], "1600.00")

    def test_in_place_failure_leaves_the_sheet_as_before(self):
        self.first_run()
        r = self.change_and_run([{"when": "write", "kind": "500", "count": -1}])
        self.assertEqual(r.rc, 1, r)
        tabs = self.tabs()
        for title in ("01_2024_Kuje", "02_2024_Kuje"):
            self.assertEqual(tabs[title]["rows"], self.before_tabs[title]["rows"])


class RateLimit(WriterCase):
    """Real time (no fake sleep): the emulator allows 3 writes per second."""
    emu_extra = ("--write-limit", "3", "--write-window", "1")

    def test_429_from_the_write_limit_is_waited_out(self):
        self.setup_run(csv_rows(60), extra=", max_request_bytes: 4096, requests_per_minute: 6000")
        r = self.run_it(False)
        self.assertEqual(r.rc, 0, r)
        self.assert_sheet_equals_store()
        self.assertGreater(self.emu.stats()["counts"].get("limited:429", 0), 0)

    def test_pacing_keeps_under_the_limit(self):
        self.setup_run(csv_rows(60), extra=", max_request_bytes: 4096, requests_per_minute: 150")
        r = self.run_it(False)
        self.assertEqual(r.rc, 0, r)
        self.assert_sheet_equals_store()
        self.assertEqual(self.emu.stats()["counts"].get("limited:429", 0), 0)


if __name__ == "__main__":
    unittest.main()
