"""Record-shaped providers (tests/plugins/stub_records: stub's payments as keyed records with
typed values and nested paths): keys map to model fields through mapping.columns paths
("/customer/phone": CUSTOMER_PHONE) and top-level key names, then take the same validation as
rows, so the output equals the tabular stub's; unmapped keys are reported, rejects show the
record's values by path."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

NESTED = {
    "/payment/amount": "PAYMENT_AMOUNT",
    "/payment/currency": "PAYMENT_CURRENCY",
    "/payment/type": "TRANSACTION_TYPE",
    "/payment/charges": "TRANSACTION_CHARGES",
    "/customer/id": "CUSTOMER_ID",
    "/meter/id": "METER_ID",
    "/customer/name": "CUSTOMER_NAME",
    "/customer/phone": "CUSTOMER_PHONE",
    "/customer/category": "CUSTOMER_CATEGORY",
    "/location/lat": "LATITUDE",
    "/location/lon": "LONGITUDE",
}


class RecordShape(pslib.Case):
    def setUp(self):
        super().setUp()
        if not pslib.TEST_PLUGIN_DIR:
            self.skipTest("PS_TEST_PLUGIN_DIR is not set")

    def config_for(self, columns):
        mapping = ""
        if columns:
            mapping = "    mapping:\n      columns:\n" + "".join(
                "        %s: %s\n" % (json.dumps(k), v) for k, v in columns.items())
        return self.config(f"""
sinks:
  rows: {{plugin: jsonl, path: out/rows.jsonl}}
  recs: {{plugin: jsonl, path: out/records.jsonl}}
  table: {{plugin: csv, path: out/records.csv}}
datasets:
  - name: ds
    target: {{level: project, id: site-1}}
    source: {{plugin: stub, rows: 400, invalid_ratio: "0.05", batch: 64}}
    sinks: [rows]
    rejects: out/rows-rejects.jsonl
  - name: ds
    target: {{level: project, id: site-1}}
    source: {{plugin: stub_records, rows: 400, invalid_ratio: "0.05", batch: 64}}
{mapping}    sinks: [recs, table]
    rejects: out/records-rejects.jsonl
""".replace("  - name: ds\n    target: {level: project, id: site-1}\n    source: {plugin: stub_records",
            "  - name: ds_records\n    target: {level: project, id: site-1}\n    source: {plugin: stub_records"))

    def test_records_map_like_rows(self):
        cfg = self.config_for(NESTED)
        res = pslib.run("run", cfg, "--report", self.path("report.json"))
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json")) as f:
            rep = {d["dataset"]: d for d in json.load(f)["datasets"]}
        for k in ("read", "accepted", "rejected", "blank", "duplicates", "warnings"):
            self.assertEqual(rep["ds"][k], rep["ds_records"][k], k)
        self.assertEqual(rep["ds_records"]["accepted"], 380)
        rows = open(self.path("out", "rows.jsonl")).read()
        recs = open(self.path("out", "records.jsonl")).read()
        self.assertEqual(rows.replace('"DATASET":"ds"}', '"DATASET":"ds_records"}'), recs)
        # rejects show the record's values under their paths, with the record number
        rej = pslib.read_jsonl(self.path("out", "records-rejects.jsonl"))
        self.assertEqual(len(rej), 20)
        self.assertIn("/payment/amount", rej[0]["cells"])
        self.assertIn("/customer/phone", rej[0]["cells"])
        codes = sorted(p["code"] for r in rej for p in r["problems"])
        codes_rows = sorted(p["code"] for r in pslib.read_jsonl(
            self.path("out", "rows-rejects.jsonl")) for p in r["problems"])
        self.assertEqual(codes, codes_rows)

    def test_unmapped_nested_keys_are_reported(self):
        cols = dict(NESTED)
        del cols["/customer/phone"]  # optional: dropped, and named as unknown
        del cols["/payment/amount"]  # required: every record rejected
        cfg = self.config_for(cols)
        res = pslib.run("run", cfg, "--report", self.path("report.json"))
        self.assertEqual(res.rc, 0, res)
        self.assertIn("ignoring 2 unknown record key(s): '/payment/amount', '/customer/phone'",
                      res.err, res)
        with open(self.path("report.json")) as f:
            rep = {d["dataset"]: d for d in json.load(f)["datasets"]}
        self.assertEqual(rep["ds_records"]["accepted"], 0, rep["ds_records"])
        rej = pslib.read_jsonl(self.path("out", "records-rejects.jsonl"))
        self.assertIn("required field PAYMENT_AMOUNT is empty or missing",
                      json.dumps(rej[0]["problems"]))

    def test_filters_read_key_paths_and_fields(self):
        cols = "".join("        %s: %s\n" % (json.dumps(k), v) for k, v in NESTED.items())
        cfg = self.config(f"""
sinks:
  recs: {{plugin: jsonl, path: out/records.jsonl}}
datasets:
  - name: ds_records
    target: {{level: project, id: site-1}}
    source: {{plugin: stub_records, rows: 400, invalid_ratio: "0.05", batch: 64}}
    mapping:
      columns:
{cols}      filters:
        - {{column: /payment/type, equals: FULL_PAYMENT}}
        - {{field: CUSTOMER_CATEGORY, not_equals: Nobody}}
    sinks: [recs]
""")
        res = pslib.run("run", cfg, "--report", self.path("report.json"))
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json")) as f:
            d = json.load(f)["datasets"][0]
        self.assertEqual(d["read"], d["accepted"] + d["rejected"] + d["blank"] +
                         d["duplicates"] + d["filtered"], d)
        self.assertGreater(d["filtered"], 0, d)
        self.assertGreater(d["accepted"], 0, d)
        self.assertEqual([f["rows"] for f in d["filtered_by"]], [d["filtered"], 0])
        recs = pslib.read_jsonl(self.path("out", "records.jsonl"))
        self.assertEqual(len(recs), d["accepted"])
        self.assertEqual({r["TRANSACTION_TYPE"] for r in recs}, {"FULL_PAYMENT"})

    def test_discover_shows_keys(self):
        cfg = self.config_for(NESTED)
        res = pslib.run("discover", cfg, "--dataset", "ds_records")
        self.assertEqual(res.rc, 0, res)
        self.assertRegex(res.out, r"(?m)^\w+\s+/customer/phone\s+CUSTOMER_PHONE$")
        self.assertRegex(res.out, r"(?m)^\w+\s+/id\s+ID$")
        self.assertIn("required fields without a column: none", res.out)
        self.assertIn('{"row":1,"record":{"ID":"PAY-1-00000001"', res.out)

    def test_plugins_lists_shape(self):
        # (exit 1: the folder also holds the loader's deliberately unloadable plugins)
        res = pslib.run("plugins", "--json", env={"PAYSYNC_PLUGIN_PATH": pslib.TEST_PLUGIN_DIR})
        by_name = {p.get("name"): p for p in json.loads(res.out)}
        self.assertEqual(by_name["stub_records"]["shape"], "record", res)
        self.assertEqual(by_name["zero_rows_provider"]["shape"], "tabular", res)
        res = pslib.run("plugins", env={"PAYSYNC_PLUGIN_PATH": pslib.TEST_PLUGIN_DIR})
        self.assertIn("stub_records (provider 1.0.0) - stub's payments as keyed records", res.out)
        self.assertIn("  shape: record (keys mapped by path)", res.out)


if __name__ == "__main__":
    pslib.unittest.main(verbosity=2)
