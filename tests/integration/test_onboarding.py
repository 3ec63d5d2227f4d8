"""Onboarding help (issue 17 item 3): csvfile finds its header row by the gsheet rule,
discover and validate list every missing required field with the columns that look like it and
print a mapping block; pasted into the config, the block makes the next run accept the rows.
validate's table names each problem's cell; both show STATUS and TRANSACTION_TYPE values."""
import json
import os
import re

import pslib

HEADER = ("Payment ID,Timestamp,Amount,Currency,Transaction Type,Customer ID,Meter No,"
          "Customer Name,Customer Category,Status")
ROWS = [
    "P1,2024-03-01T10:00:00Z,1500.50,NGN,FULL_PAYMENT,C1,00042,Amina,Residential,success",
    "P2,2024-03-02T10:00:00Z,200,NGN,FULL_PAYMENT,C2,00043,Bola,Commercial,success",
    "P3,2024-03-03T10:00:00Z,300,NGN,INSTALLMENT_PAYMENT,C3,00044,Chi,Residential,failed",
    '"P4","2024-03-04T10:00:00Z","1,250",NGN,FULL_PAYMENT,C4,00045,"Dayo, Jr.",Residential,success',
]
# A CRM export: two title lines and a blank line above the header (row 4).
MESSY = "Kuje mini-grid payments\nExported 2024-03-31 by CRM,,\n\n" + HEADER + "\n" + "\n".join(ROWS) + "\n"


class Onboarding(pslib.Case):
    def dataset_config(self, csv, extra="", source_extra=""):
        return self.config(
            "sinks:\n  out: {plugin: jsonl, path: %s}\n"
            "datasets:\n  - name: kuje\n    target: {id: site-1}\n"
            "    source: {plugin: csvfile, path: %s%s}\n%s"
            "    sinks: [out]\n"
            % (pslib.yaml_str(self.path("out.jsonl")), pslib.yaml_str(csv), source_extra, extra))

    def test_discover_then_paste_the_mapping(self):
        csv = self.write("messy.csv", MESSY)
        cfg = self.dataset_config(csv)
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 1, r)  # before: the mapping is incomplete
        r = pslib.run("discover", cfg, "--dataset", "kuje")
        self.assertEqual(r.rc, 1, r)
        out = r.out
        self.assertIn("header row:  4 (10 columns; header_row not set: the first of the first "
                      "20 rows naming 3 fields, else row 1)", out)
        # every missing field at once, each with the column that looks like it
        self.assertIn("missing required fields (3), with the columns that look like them:\n"
                      "  PAYMENT_AMOUNT     'Amount' (column C)?\n"
                      "  PAYMENT_CURRENCY   'Currency' (column D)?\n"
                      "  METER_ID           'Meter No' (column G)?\n", out)
        # values of STATUS and TRANSACTION_TYPE, from the raw cells (the mapping is incomplete)
        self.assertIn("STATUS values (column 'Status', raw cells of all 4 rows): success 3, "
                      "failed 1\n", out)
        self.assertIn("TRANSACTION_TYPE values (column 'Transaction Type', raw cells of all 4 "
                      "rows): FULL_PAYMENT 3, INSTALLMENT_PAYMENT 1\n", out)
        # the block, indented for the dataset, pasted as it is
        m = re.search(r"\n\n(    mapping:\n(?:    .*\n)+)", out)
        self.assertIsNotNone(m, out)
        block = m.group(1)
        self.assertEqual(block, '    mapping:\n      columns:\n        "Amount": PAYMENT_AMOUNT\n'
                                '        "Currency": PAYMENT_CURRENCY\n'
                                '        "Meter No": METER_ID\n')
        cfg = self.dataset_config(csv, block)
        r = pslib.run("run", cfg, "--report", self.path("r.json"))
        self.assertEqual(r.rc, 0, r)
        with open(self.path("r.json")) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual((rep["read"], rep["accepted"], rep["rejected"]), (4, 4, 0), rep)
        # nothing lost ('Payment ID' is not required: not suggested, IDs are derived)
        got = {p["CUSTOMER_ID"]: p for p in pslib.read_jsonl(self.path("out.jsonl"))}
        self.assertEqual(sorted(got), ["C1", "C2", "C3", "C4"])
        self.assertEqual(got["C1"]["METER_ID"], "00042")  # the text as it was
        self.assertEqual(got["C1"]["PAYMENT_CURRENCY"], "NGN")
        self.assertEqual(str(got["C4"]["PAYMENT_AMOUNT"]), "1250")
        # and discover is content now
        r = pslib.run("discover", cfg, "--dataset", "kuje")
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("missing required fields", r.out)
        self.assertIn("required fields without a column: none", r.out)
        self.assertIn("TRANSACTION_TYPE values (column 'Transaction Type', all 4 rows): "
                      "FULL_PAYMENT 3, INSTALLMENT_PAYMENT 1\n", r.out)

    def test_no_suggestion_and_existing_mapping_kept(self):
        csv = self.write("p.csv", "ID,TIMESTAMP,Amt,CUSTOMER_ID,CUSTOMER_NAME,Region\n"
                                  "P1,2024-03-01T10:00:00Z,5,C1,Amina,North\n")
        extra = ("    mapping:\n      columns: {Region: NOTES}\n"
                 "      defaults: {PAYMENT_CURRENCY: NGN}\n"
                 "      timestamp: {time_zone: Africa/Lagos}\n")
        cfg = self.dataset_config(csv, extra)
        r = pslib.run("discover", cfg, "--dataset", "kuje")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("  PAYMENT_AMOUNT     'Amt' (column C)?\n", r.out)
        self.assertIn("  METER_ID           no column looks like it: map one in mapping.columns "
                      "or set mapping.defaults.METER_ID\n", r.out)
        self.assertIn('        "Region": NOTES\n        "Amt": PAYMENT_AMOUNT\n      defaults:\n'
                      '        PAYMENT_CURRENCY: "NGN"\n', r.out)
        self.assertIn('        # METER_ID: "..."', r.out)
        self.assertIn("      # keep the dataset's other mapping keys as they are: timestamp\n",
                      r.out)
        self.assertNotIn("PAYMENT_CURRENCY   ", r.out)  # it has a default: not missing

    def test_header_rule_limits(self):
        # no row among the first 20 names 3 fields: row 1, as before the rule
        csv = self.write("late.csv", "x\n" * 20 + HEADER.replace("Amount", "PAYMENT_AMOUNT") + "\n")
        cfg = self.dataset_config(csv)
        r = pslib.run("discover", cfg, "--dataset", "kuje")
        self.assertIn("header row:  1 (1 columns;", r.out)
        self.assertIn("no row among the first 20 names 3 fields: row 1 is the header", r.err)
        # header_row set: used as it is, whatever the rule would find
        csv = self.write("set.csv", MESSY)
        cfg = self.dataset_config(csv, source_extra=", header_row: 2")
        r = pslib.run("discover", cfg, "--dataset", "kuje")
        self.assertIn("header row:  2 (3 columns)\n", r.out)

    def test_validate(self):
        csv = self.write("messy.csv", MESSY)
        r = pslib.run("validate", csv)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("required field PAYMENT_AMOUNT has no column", r.err)
        self.assertIn("header row 4 of %s:\nmissing required fields (3)" % csv, r.out)
        self.assertIn("  METER_ID           'Meter No' (column G)?\n", r.out)
        self.assertIn('    mapping:\n      columns:\n        "Amount": PAYMENT_AMOUNT\n', r.out)
        # standard input cannot be read twice: the error alone
        with open(csv) as f:
            r = pslib.run("validate", "-", stdin=f.read().encode())
        self.assertEqual(r.rc, 1, r)
        self.assertNotIn("missing required fields", r.out)
        # with the mapping: the cell of each problem, and the values
        bad = MESSY.replace("1500.50", "15x").replace("INSTALLMENT_PAYMENT", "PAYG")
        csv = self.write("bad.csv", bad)
        cfg = self.dataset_config(csv, "    mapping:\n      columns: {Amount: PAYMENT_AMOUNT, "
                                       "Currency: PAYMENT_CURRENCY, Meter No: METER_ID}\n")
        r = pslib.run("validate", csv, "--config", cfg, "--dataset", "kuje")
        self.assertEqual(r.rc, 1, r)
        lines = r.out.splitlines()
        self.assertRegex(lines[0], r"^ROW\s+LEVEL\s+FIELD\s+CELL\s+CODE\s+MESSAGE$")
        self.assertRegex(r.out, r"\n5\s+error\s+PAYMENT_AMOUNT\s+C5\s+bad_amount\s")
        self.assertRegex(r.out, r"\n7\s+error\s+TRANSACTION_TYPE\s+E7\s+unknown_transaction_type\s")
        self.assertIn("4 rows read, 2 valid, 2 rejected", r.out)
        self.assertIn("STATUS values (column 'Status'): success 3, failed 1\n", r.out)
        self.assertIn("TRANSACTION_TYPE values (column 'Transaction Type'): FULL_PAYMENT 3, "
                      "PAYG 1\n", r.out)


if __name__ == "__main__":
    pslib.main()
