"""Issue 14's done-when chain, end to end through the real binary: a CSV file and the SteamaCo
emulator (plugin steamaco) feed the store; the gsheet_writer sink keeps monthly tabs in the
Google Sheets emulator equal to the store's payments cell for cell; the s3 sink's objects in
s3rver, read back with boto3, equal `paysync export --format csv` byte for byte. A second,
unchanged run sends no write request to the sheet and uploads no new object for the CSV
dataset; the SteamaCo dataset's run is incremental (it re-reads a 3-day overlap window), and
the s3 sink uploads that window as a new object (docs/delivery.md says why). Skips with a
message when s3rver, boto3 or openssl is missing."""
import csv
import io
import json
import os
import sys
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pslib  # noqa: E402
from test_gsheet_run import Emulator as SheetsEmulator, GsheetCase  # noqa: E402
from crmemu import Emulator as CrmEmulator  # noqa: E402
from test_steamaco import PASSWORD, USER  # noqa: E402
from s3server import S3rver, skip_reason  # noqa: E402

SID = "1ChainSheet_xyz"
SA_EMAIL = "paysync-writer@demo-project.iam.gserviceaccount.com"
BUCKET = "odyssey-chain"
FIELDS = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "TRANSACTION_CHARGES", "REFERENCE_ID", "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME",
          "CUSTOMER_PHONE", "CUSTOMER_CATEGORY", "FINANCING_ID", "AGENT_ID", "LATITUDE",
          "LONGITUDE", "UTILITY_ID", "FAILED_BATTERY_CAPACITY_COUNT", "ACCOUNT_TYPE", "STATUS",
          "NOTES"]
CSV = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
       "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE\n" +
       "".join("K%04d,2024-0%d-%02dT09:%02d:00.000Z,%d.50,NGN,FULL_PAYMENT,C%d,%07d,"
               "\"Musa, Hauwa\",Residential,+2348031234567\n"
               % (i, 1 + (i - 1) // 10, 1 + (i - 1) % 10, i, 1000 + i, i, i)
               for i in range(1, 26)))


class Chain(GsheetCase):
    @classmethod
    def setUpClass(cls):
        cls.srv = S3rver(BUCKET)
        cls.s3port, cls.s3 = cls.srv.port, cls.srv.s3

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def setUp(self):
        pslib.Case.setUp(self)
        self.emu = None
        os.makedirs(self.path("sheets"))
        os.makedirs(self.path("steama"))
        fx = {"spreadsheetId": SID, "title": "Odyssey payments", "editors": [SA_EMAIL],
              "link_readable": False, "shared_with": [SA_EMAIL],
              "tabs": [{"title": "Sheet1", "sheetId": 0, "rowCount": 100, "columnCount": 26}]}
        sheet_file = self.write("sheets/sheet.json", json.dumps(fx))
        key, pub = self.make_service_account()
        self.emu = SheetsEmulator(self.path("sheets"), "--sheet", sheet_file, "--public-key", pub)
        self.steama = CrmEmulator("steama", self.path("steama"))
        kj = json.loads(self.key_json(key, self.emu.url + "/token"))
        kj["client_email"] = SA_EMAIL
        key_file = self.write("sa.json", json.dumps(kj))
        os.chmod(key_file, 0o600)
        src = self.write("kuje.csv", CSV)
        self.cfg = self.config("""
sinks:
  store: {plugin: sqlite, path: %s}
  sheet: {plugin: gsheet_writer, spreadsheet_id: %s, tab: "{month}_{dataset}",
          service_account_file: %s, api_url: %s}
  bucket: {plugin: s3, bucket: %s, endpoint: "http://127.0.0.1:%d", prefix: paysync/,
           access_key_id: S3RVER, secret_access_key: S3RVER}
datasets:
  - name: Kuje
    target: {level: project, id: site-kuje}
    source: {plugin: csvfile, path: %s}
    sinks: [store, sheet, bucket]
  - name: Steama
    target: {level: project, id: site-kaduna}
    source:
      plugin: steamaco
      api_url: %s
      username: %s
      password: ${STEAMA_PASSWORD}
      currency: NGN
      customer_category: Residential
    sinks: [store, sheet, bucket]
""" % (pslib.yaml_str(self.path("db.sqlite")), SID, pslib.yaml_str(key_file),
            pslib.yaml_str(self.emu.url), BUCKET, self.s3port, pslib.yaml_str(src),
            self.steama.url, USER))
        os.chmod(self.cfg, 0o600)
        for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            self.s3.delete_object(Bucket=BUCKET, Key=o["Key"])

    def tearDown(self):
        self.steama.stop()
        super().tearDown()

    def run_it(self):
        r = pslib.run("run", self.cfg, env={"PS_TEST_FAKE_SLEEP": "1",
                                            "STEAMA_PASSWORD": PASSWORD})
        self.assertNotIn(PASSWORD, r.out + r.err)
        return r

    def export(self, dataset):
        r = pslib.run("export", self.cfg, "--dataset", dataset, "--format", "csv",
                      env={"STEAMA_PASSWORD": PASSWORD})
        self.assertEqual(r.rc, 0, r)
        return r.out

    def sheet_tabs(self):
        with urllib.request.urlopen(self.emu.url + "/_control/sheet/" + SID) as r:
            return {t["title"]: t["rows"] for t in json.load(r)["tabs"]}

    def objects(self):
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET)
                      .get("Contents", []))

    def body(self, key):
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def check_sheet_equals_store(self):
        tabs = self.sheet_tabs()
        want = {}
        for ds in ("Kuje", "Steama"):
            rows = list(csv.reader(io.StringIO(self.export(ds))))
            self.assertEqual(rows[0], FIELDS)
            self.assertGreater(len(rows), 10, ds)
            for row in rows[1:]:
                title = "%s_%s_%s" % (row[1][5:7], row[1][0:4], ds)
                want.setdefault(title, [FIELDS]).append(row)
        for title, rows in want.items():
            got = [r + [""] * (21 - len(r)) for r in tabs.get(title, [])]
            self.assertEqual(got, rows, title)  # cell for cell
        self.assertEqual(sorted(tabs), sorted(list(want) + ["Sheet1"]))
        return want

    def test_chain(self):
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        want = self.check_sheet_equals_store()
        self.assertIn("01_2024_Kuje", want)
        self.assertIn("03_2024_Kuje", want)
        self.assertIn("03_2024_Steama", want)
        keys = self.objects()
        data = {ds: [k for k in keys if k.startswith("paysync/%s/" % ds)]
                for ds in ("Kuje", "Steama")}
        for ds, ks in data.items():
            self.assertEqual(len(ks), 1, keys)
            self.assertEqual(self.body(ks[0]), self.export(ds).encode(), ds)  # byte for byte

        # Second run, nothing changed at the sources.
        self.emu.reset()
        self.steama.reset()
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        c = self.emu.stats()["counts"]
        self.assertEqual(c.get("write", 0) + c.get("structure", 0), 0, c)  # no sheet write
        self.check_sheet_equals_store()
        self.assertIn("Kuje: 25 payments unchanged since the upload", r.err.replace(
            "dataset 'Kuje'", "Kuje"))
        after = self.objects()
        new = [k for k in after if k not in keys]
        # the CSV dataset uploads nothing; the incremental SteamaCo run re-reads its overlap
        # window and uploads those payments as a new object (docs/delivery.md)
        self.assertEqual([k for k in new if k.startswith("paysync/Kuje/")], [])
        steama_new = [k for k in new if k.startswith("paysync/Steama/")]
        self.assertEqual(len(steama_new), 1, new)
        lines = self.body(steama_new[0]).decode().splitlines()
        self.assertEqual(lines[0], ",".join(FIELDS))
        self.assertEqual(len(lines) - 1, 7)  # the overlap window's payments
        # an incremental run: vanish detection only inside the window it read
        self.assertRegex(r.err, r"windowed source: TIMESTAMP 2024-03-07T13:15:01\.001Z to \S+ "
                         r"read, 6 stored payments in it, 0 vanish")


if __name__ == "__main__":
    pslib.require_binary()
    why = skip_reason()
    if why:
        print("SKIP: " + why, file=sys.stderr)
        sys.exit(pslib.SKIP)
    unittest.main()
