"""paysync run with the gsheet provider against the local Google Sheets emulator: API key,
service account (JWT checked by the emulator with openssl), public CSV export, paging, tab
names that need quoting, title rows above the header, ragged and blank rows, and replays of
responses recorded from Google's servers."""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

EMULATOR = os.path.join(pslib.SOURCE_DIR, "tests", "tools", "gsheet_emulator.py")
RECORDED = os.path.join(pslib.SOURCE_DIR, "..", "shared", "fixtures", "google-sheets-recorded")
API_KEY = "AIzaSyEMULATOR-secret-key-0123456789"
SA_EMAIL = "paysync-reader@demo-project.iam.gserviceaccount.com"

HEADER = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME", "CUSTOMER_CATEGORY", "CUSTOMER_PHONE"]
TAB = "Pay #1/+&'s 2024"


def payment(i, **kw):
    v = {"ID": "P%03d" % i, "TIMESTAMP": 45356.5 + i / 24.0, "PAYMENT_AMOUNT": 1500.5,
         "PAYMENT_CURRENCY": "NGN", "TRANSACTION_TYPE": "FULL_PAYMENT", "CUSTOMER_ID": "C%03d" % i,
         "METER_ID": "000%03d" % i, "CUSTOMER_NAME": "Amina Bello",
         "CUSTOMER_CATEGORY": "Residential", "CUSTOMER_PHONE": 2348031234567}
    v.update(kw)
    row = [v[k] for k in HEADER]
    while row and row[-1] == "":
        row.pop()
    return row


def fixture_sheet(link_readable=True, shared_with=("*",), **kw):
    """Title rows above the header, a blank row inside the data, a ragged row, 9 data rows."""
    rows = [["Acme CRM export"], ["generated 2024-03-05"], [], HEADER]
    for i in range(1, 10):
        rows.append(payment(i, **kw))
    rows.insert(7, [])  # blank row in the middle: sheet row 8
    rows[9] = payment(5, CUSTOMER_PHONE="")[:6]  # ragged: only 6 cells (missing METER_ID...)
    return {"spreadsheetId": "1SheetID_abc-XYZ", "title": "Acme CRM", "timeZone": "Africa/Lagos",
            "locale": "en_GB", "link_readable": link_readable, "shared_with": list(shared_with),
            "tabs": [{"title": "Notes", "sheetId": 0, "rowCount": 10, "columnCount": 5,
                      "rows": [["nothing here"]]},
                     {"title": TAB, "sheetId": 424242, "rowCount": 40, "columnCount": 12,
                      "rows": rows}]}


class Emulator:
    def __init__(self, workdir, *args):
        self.port_file = os.path.join(workdir, "emulator.port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(os.path.join(workdir, "emulator.log"), "w")
        self.proc = subprocess.Popen([sys.executable, EMULATOR, "--port-file", self.port_file]
                                     + [str(a) for a in args],
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

    def stats(self):
        with urllib.request.urlopen(self.url + "/_control/stats") as r:
            return json.load(r)

    def faults(self, faults):
        req = urllib.request.Request(self.url + "/_control/faults",
                                     data=json.dumps(faults).encode(), method="POST")
        with urllib.request.urlopen(req) as r:
            r.read()

    def reset(self):
        req = urllib.request.Request(self.url + "/_control/reset", data=b"", method="POST")
        with urllib.request.urlopen(req) as r:
            r.read()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


class GsheetCase(pslib.Case):
    """Starts an emulator per test; writes configs for the gsheet provider."""

    emulator_args = ()

    def setUp(self):
        super().setUp()
        self.sheet_file = self.write("sheet.json", json.dumps(fixture_sheet()))
        self.emu = None

    def tearDown(self):
        if self.emu:
            self.emu.stop()
        super().tearDown()

    def start(self, *args):
        self.emu = Emulator(self.dir, "--sheet", self.sheet_file, "--api-key", API_KEY, *args)
        return self.emu

    def make_service_account(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl command not found")
        key = self.path("sa.pem")
        pub = self.path("sa.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True,
                       capture_output=True)
        return key, pub

    def key_json(self, pem_path, token_uri):
        with open(pem_path) as f:
            pem = f.read()
        return json.dumps({"type": "service_account", "project_id": "demo-project",
                           "private_key_id": "0123abcd", "private_key": pem,
                           "client_email": SA_EMAIL, "client_id": "1",
                           "token_uri": token_uri})

    def gsheet_config(self, source, sinks="out", extra_dataset="", name="paysync.yaml"):
        src = ", ".join("%s: %s" % (k, json.dumps(v, ensure_ascii=False))
                        for k, v in source.items())
        return self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
  store: {{plugin: sqlite, path: out/store.db}}
datasets:
  - name: sheet1
    target: {{level: project, id: site-1}}
    source: {{plugin: gsheet, {src}}}
{extra_dataset}
    sinks: [{sinks}]
    rejects: out/rejects.jsonl
""", name=name)

    def api_source(self, **kw):
        s = {"spreadsheet_id": "https://docs.google.com/spreadsheets/d/1SheetID_abc-XYZ/edit#gid=424242",
             "api_key": API_KEY, "api_url": self.emu.url, "requests_per_minute": 6000,
             "max_retries": 1, "timeout": 5, "page_rows": 4}
        s.update(kw)
        return s

    # Backoff, Retry-After and pacing sleep on a virtual clock (test-only PS_TEST_FAKE_SLEEP,
    # docs/plugin-abi.md "Clock"): the runs go through them without waiting them out. Real
    # timeouts (stalls) still take real time.
    fake_sleep = True

    def run_paysync(self, cfg, *extra):
        env = {"PS_TEST_FAKE_SLEEP": "1"} if self.fake_sleep else None
        res = pslib.run("run", cfg, "--report", self.path("report.json"), *extra, env=env)
        self.assertNotIn(API_KEY, res.out + res.err)
        if os.path.exists(self.path("report.json")):
            with open(self.path("report.json")) as f:
                self.assertNotIn(API_KEY, f.read())
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


class RunGsheet(GsheetCase):
    def check_fixture_output(self):
        rep = self.report()
        self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                         rep["duplicates"] + rep["filtered"], rep)
        recs = {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}
        self.assertEqual(sorted(recs), ["P%03d" % i for i in (1, 2, 3, 4, 6, 7, 8, 9)])
        r1 = recs["P001"]
        self.assertEqual(r1["METER_ID"], "000001")          # text with leading zeros kept
        self.assertEqual(r1["CUSTOMER_PHONE"], "+2348031234567")  # a number cell, no 2.3E+12
        # serial 45356.5 + 1/24 = 2024-03-05 13:00 in Africa/Lagos (UTC+1) = 12:00Z
        self.assertEqual(r1["TIMESTAMP"], "2024-03-05T12:00:00.000Z")
        self.assertEqual(str(r1["PAYMENT_AMOUNT"]), "1500.5")
        rejects = pslib.read_jsonl(self.path("out", "rejects.jsonl"))
        self.assertEqual(len(rejects), 1, rejects)
        self.assertEqual(json.dumps(rejects[0]).count("METER_ID") >= 1, True, rejects)
        # sheet rows: 1-3 title/blank, 4 header, 5.. data; the blank row 8; ragged row 10
        self.assertIn('10', json.dumps(rejects[0].get("row", rejects[0].get("source_row", ""))),
                      rejects[0])
        self.assertEqual(rep["blank"], 1, rep)

    def test_api_key_paging_quoting_ragged_blank(self):
        self.start()
        res = self.run_paysync(self.gsheet_config(self.api_source()))
        self.assertEqual(res.rc, 0, res)
        self.check_fixture_output()
        st = self.emu.stats()
        values = [p for k, p in st["log"] if k == "values"]
        # 40 rows by pages of 20 (the first page covers the header scan) then 4: 1-20, 21-24..
        self.assertTrue(values[0].startswith(
            "/v4/spreadsheets/1SheetID_abc-XYZ/values/%27Pay%20%231%2F%2B%26%27%27s%202024%27%21A1%3AL20?"),
            values[0])
        self.assertTrue(any("%21A37%3AL40?" in v for v in values), values)  # clamped to rowCount
        self.assertFalse(any("A41" in v for v in values), values)
        self.assertEqual(st["counts"].get("metadata"), 1)
        self.assertIn("valueRenderOption=UNFORMATTED_VALUE", values[0])
        self.assertIn("dateTimeRenderOption=SERIAL_NUMBER", values[0])

    def test_full_read_keeps_full_vanish_detection(self):
        """gsheet saves a cursor but reads the whole tab every run (no window, ABI 2.2): a
        row removed from the sheet is marked vanished by the next run."""
        self.start()
        cfg = self.gsheet_config(self.api_source(), sinks="out, store",
                                 extra_dataset="    max_vanished: 1")
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 0, res)
        self.emu.stop()
        sheet = fixture_sheet()
        rows = sheet["tabs"][1]["rows"]
        del rows[[i for i, r in enumerate(rows) if r and r[0] == "P003"][0]]
        self.sheet_file = self.write("sheet.json", json.dumps(sheet))
        self.start()
        cfg = self.gsheet_config(self.api_source(), sinks="out, store",
                                 extra_dataset="    max_vanished: 1")
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.assertEqual((rep["changes"]["vanished"], rep["changes"]["unchanged"]), (1, 7), rep)
        self.assertEqual((rep["vanish_guard"]["stored"], rep["vanish_guard"]["vanishing"]), (8, 1))
        self.assertNotIn("window", rep["vanish_guard"])
        self.assertNotIn("windowed source", res.err)

    def test_service_account(self):
        key, pub = self.make_service_account()
        self.start("--public-key", pub)
        token_uri = self.emu.url + "/token"
        kf = self.write("key.json", self.key_json(key, token_uri))
        os.chmod(kf, 0o600)
        src = self.api_source(service_account_file=kf)
        del src["api_key"]
        res = self.run_paysync(self.gsheet_config(src))
        self.assertEqual(res.rc, 0, res)
        self.check_fixture_output()
        st = self.emu.stats()
        self.assertEqual(st["counts"].get("token"), 1, st["counts"])  # cached across pages
        self.assertFalse(any("key=" in p for _, p in st["log"]))
        with open(key) as f:
            pem_line = f.read().splitlines()[1]
        self.assertNotIn(pem_line, res.out + res.err)

    def test_service_account_inline_json_and_renewal_on_401(self):
        key, pub = self.make_service_account()
        self.start("--public-key", pub, "--fault", "values:401:1:1")
        src = self.api_source(service_account_json=self.key_json(key, self.emu.url + "/token"))
        del src["api_key"]
        res = self.run_paysync(self.gsheet_config(src))
        self.assertEqual(res.rc, 0, res)
        self.check_fixture_output()
        st = self.emu.stats()
        self.assertEqual(st["counts"].get("token"), 2, st["counts"])  # renewed once
        self.assertEqual(st["counts"].get("fault:401"), 1)

    def test_service_account_short_token_renewed_before_expiry(self):
        key, pub = self.make_service_account()
        self.start("--public-key", pub, "--token-ttl", "4")
        src = self.api_source(service_account_json=self.key_json(key, self.emu.url + "/token"),
                              requests_per_minute=60)  # 1 s between requests: tokens age
        del src["api_key"]
        res = self.run_paysync(self.gsheet_config(src))
        self.assertEqual(res.rc, 0, res)
        st = self.emu.stats()
        self.assertGreaterEqual(st["counts"].get("token"), 2, st["counts"])
        self.assertNotIn("fault:401", st["counts"])

    def test_public_csv_export(self):
        # the export holds display text: dates as the sheet shows them
        self.write("sheet.json", json.dumps(fixture_sheet(TIMESTAMP="05/03/2024 13:00")))
        self.start()
        src = {"spreadsheet_id": "1SheetID_abc-XYZ", "sheet": "424242", "public": True,
               "export_url": self.emu.url, "requests_per_minute": 6000, "max_retries": 0}
        res = self.run_paysync(self.gsheet_config(src, extra_dataset="""    mapping:
      timestamp: {formats: ["%d/%m/%Y %H:%M"], time_zone: Africa/Lagos}"""))
        self.assertEqual(res.rc, 0, res)
        st = self.emu.stats()
        self.assertEqual(st["counts"].get("export"), 1)
        self.assertEqual(st["counts"].get("download"), 1)  # the redirect was followed
        rep = self.report()
        self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                         rep["duplicates"] + rep["filtered"], rep)
        self.assertEqual(rep["blank"], 1, rep)
        recs = {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}
        self.assertEqual(sorted(recs), ["P%03d" % i for i in (1, 2, 3, 4, 6, 7, 8, 9)])
        self.assertEqual(recs["P002"]["METER_ID"], "000002")
        self.assertEqual(recs["P002"]["TIMESTAMP"], "2024-03-05T12:00:00.000Z")

    def test_public_title_is_a_config_error(self):
        self.start()
        src = {"spreadsheet_id": "1SheetID_abc-XYZ", "sheet": TAB, "public": True,
               "export_url": self.emu.url}
        res = self.run_paysync(self.gsheet_config(src))
        self.assertNotEqual(res.rc, 0, res)
        self.assertIn("sheet must be the tab's gid", res.err)
        self.assertIsNone(self.output())

    def test_header_row_option_and_generated_sheet(self):
        self.emu = Emulator(self.dir, "--generate", "2500")
        src = {"spreadsheet_id": "generated", "api_key": "k", "api_url": self.emu.url,
               "requests_per_minute": 6000, "page_rows": 1000, "header_row": 1}
        res = self.run_paysync(self.gsheet_config(src, sinks="out, store"))
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.assertEqual(rep["accepted"], 2500, rep)
        st = self.emu.stats()
        # 1-1000, the header row formatted, 1001-2000, 2001-2501
        self.assertEqual(st["counts"].get("values"), 4, st)

    def test_generated_pages_are_the_row_by_row_rendering(self):
        """The emulator serves a generated sheet's raw values as slices of one encoding made at
        start-up: every page must be byte for byte what rendering its rows one by one gives
        (the header page, pages across the end, a single row, a range past the last row)."""
        sys.path.insert(0, os.path.dirname(EMULATOR))
        import gsheet_emulator as emu  # noqa: E402
        tab = emu.Tab("Payments", 0, 0, generator=2500, col_count=21)
        tab.encode_generated()
        h = emu.Handler.__new__(emu.Handler)
        for r1, r2 in [(1, 1), (1, 1000), (2, 3), (1001, 2000), (2400, 2501), (2501, 2501),
                       (2502, 2502), (7, 7)]:
            spec = (tab, r1, 21, r2, "Payments!A%d:U%d" % (r1, r2), "UNFORMATTED_VALUE")
            fast = h.render_values(spec)
            enc, tab.encoded = tab.encoded, None
            slow = h.render_values(spec)
            tab.encoded = enc
            self.assertEqual(fast, slow, (r1, r2))
            self.assertEqual(json.loads(fast)["range"], "Payments!A%d:U%d" % (r1, r2))
        self.assertEqual(len(json.loads(h.render_values(
            (tab, 1, 21, 2501, "Payments!A1:U2501", "UNFORMATTED_VALUE")))["values"]), 2501)

    def test_config_needs_exactly_one_auth(self):
        self.start()
        src = self.api_source(public=True)
        res = self.run_paysync(self.gsheet_config(src))
        self.assertNotEqual(res.rc, 0, res)
        self.assertIn("set exactly one of api_key, service_account_file, service_account_json "
                      "or public: true (found: api_key public)", res.err)


class ReplayRecorded(GsheetCase):
    """Responses recorded from Google (gspread's cassettes), served again."""

    def replay(self, name):
        path = os.path.join(RECORDED, name)
        if not os.path.exists(path):
            self.skipTest("recorded fixtures absent: %s" % RECORDED)
        self.emu = Emulator(self.dir, "--replay", path)

    def src(self, sid, **kw):
        s = {"spreadsheet_id": sid, "api_key": "k", "api_url": self.emu.url,
             "requests_per_minute": 6000, "max_retries": 0}
        s.update(kw)
        return s

    def test_ragged_and_blank_rows_recorded(self):
        self.replay("WorksheetTest.test_get_all_records_different_header.json")
        mapping = """    mapping:
      columns: {A1: CUSTOMER_ID, B1: METER_ID, D1: PAYMENT_AMOUNT}
      defaults: {TIMESTAMP: "2024-03-05T00:00:00Z", PAYMENT_CURRENCY: NGN,
                 TRANSACTION_TYPE: FULL_PAYMENT, CUSTOMER_NAME: x, CUSTOMER_CATEGORY: y}"""
        res = self.run_paysync(self.gsheet_config(
            self.src("1Lego-kcxvbnP-fvfUwb0_8npW23ZUYQsfGCPQJypr-E", header_row=3),
            extra_dataset=mapping))
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        # rows 4 ["1","b2","1.45"] (no D1: rejected), 5 [] blank, 6 ["A4","0.4","","4"]
        self.assertEqual((rep["read"], rep["accepted"], rep["rejected"], rep["blank"]),
                         (3, 1, 1, 1), rep)
        recs = pslib.read_jsonl(self.path("out", "payments.jsonl"))
        self.assertEqual(recs[0]["CUSTOMER_ID"], "A4")
        self.assertEqual(recs[0]["METER_ID"], "0.4")  # text stays text

    def test_emoji_tab_recorded(self):
        self.replay("SpreadsheetTest.test_values_get.json")
        mapping = """    mapping:
      columns: {"\U0001F347": CUSTOMER_ID, "\U0001F349": METER_ID, "\U0001F34B": CUSTOMER_NAME}
      defaults: {TIMESTAMP: "2024-03-05T00:00:00Z", PAYMENT_CURRENCY: NGN, PAYMENT_AMOUNT: "1",
                 TRANSACTION_TYPE: FULL_PAYMENT, CUSTOMER_CATEGORY: y}"""
        res = self.run_paysync(self.gsheet_config(
            self.src("1HVDGFSRVMTRJbo2n8Vh7TZt7EGFBLOdyNGk1Zb8H_SY", header_row=1,
                     sheet="\U0001F335 test_values_get 1"),
            extra_dataset=mapping))
        self.assertEqual(res.rc, 0, res)
        recs = pslib.read_jsonl(self.path("out", "payments.jsonl"))
        self.assertEqual(recs[0]["CUSTOMER_ID"], "\U0001F350")
        values = [p for k, p in self.emu.stats()["log"] if k == "values"]
        self.assertTrue(values[0].startswith("/v4/spreadsheets/1HVDGFSRVMTRJbo2n8Vh7TZt7EGFBLOdyNGk1Zb8H_SY"
                                             "/values/%27%F0%9F%8C%B5%20test_values_get%201%27%21A1%3A"),
                        values)

    def test_recorded_404(self):
        self.replay("ClientTest.test_access_non_existing_spreadsheet.json")
        res = self.run_paysync(self.gsheet_config(self.src("test")))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("no spreadsheet with ID test", res.err)
        self.assertEqual(self.emu.stats()["counts"].get("metadata"), 1)  # never retried
        self.assertIsNone(self.output())

    def test_recorded_403(self):
        self.replay("ClientTest.test_access_private_spreadsheet.json")
        res = self.run_paysync(self.gsheet_config(
            self.src("1jIKzPs8LsiZZdLdeMEP-5ZIHw6RkjiOmj1LrJN706Yc")))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("make it link-readable", res.err)
        self.assertEqual(self.emu.stats()["counts"].get("metadata"), 1)
        self.assertIsNone(self.output())


if __name__ == "__main__":
    pslib.main()
