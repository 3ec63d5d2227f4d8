"""paysync run on messy CSV files: outputs, rejects, counts and exit codes."""
import json
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE")


def good_row(i, **kw):
    v = {"ID": "P%03d" % i, "TIMESTAMP": "2024-03-05T14:16:01.350Z", "PAYMENT_AMOUNT": "1500.50",
         "PAYMENT_CURRENCY": "NGN", "TRANSACTION_TYPE": "FULL_PAYMENT", "CUSTOMER_ID": "C%03d" % i,
         "METER_ID": "0%05d" % i, "CUSTOMER_NAME": "Amina Bello", "CUSTOMER_CATEGORY": "Residential",
         "CUSTOMER_PHONE": "+2348031234567"}
    v.update(kw)
    return ",".join(v[k] for k in HEADER.split(","))


class RunCsv(pslib.Case):
    def dataset_config(self, csv_path, extra_source="", mapping="", profile="standard"):
        return self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
  table: {{plugin: csv, path: out/payments.csv}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    profile: {profile}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv_path)}{extra_source}}}
{mapping}
    sinks: [out, table]
    rejects: out/rejects.jsonl
    warnings: out/warnings.jsonl
""")

    def run_ok(self, cfg, *extra):
        res = pslib.run("run", cfg, "--report", self.path("report.json"), *extra)
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json")) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                         rep["duplicates"] + rep["filtered"], rep)
        return res, rep

    def rejects(self):
        p = self.path("out", "rejects.jsonl")
        return pslib.read_jsonl(p) if os.path.exists(p) else []

    def test_clean_file_exact_output(self):
        csv = self.write("in.csv", HEADER + "\n" + good_row(1) + "\n" + good_row(2, PAYMENT_AMOUNT="0.0001") + "\n")
        res, rep = self.run_ok(self.dataset_config(csv))
        self.assertEqual(rep["accepted"], 2)
        recs = pslib.read_jsonl(self.path("out", "payments.jsonl"))
        self.assertEqual(recs[0]["ID"], "P001")
        self.assertEqual(recs[0]["DATASET"], "ds1")
        self.assertEqual(recs[0]["METER_ID"], "000001")  # leading zeros kept
        raw = open(self.path("out", "payments.jsonl")).read()
        self.assertIn('"PAYMENT_AMOUNT":1500.50', raw)  # exact, not 1500.5
        self.assertIn('"PAYMENT_AMOUNT":0.0001', raw)
        table = open(self.path("out", "payments.csv")).read().splitlines()
        self.assertTrue(table[0].startswith("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,TRANSACTION_CHARGES"), table[0])
        self.assertEqual(len(table), 3)
        self.assertIn("read 2, accepted 2, rejected 0", res.out)

    def test_title_rows_bom_crlf_semicolon_aliases(self):
        body = ("\ufeffAcme export;;\r\n;;\r\n"
                "Payment Id; timestamp ;Amount (NGN);Currency;Type;Customer-ID;meter_id;Customer Name;customer category;Region\r\n"
                "A1;05/03/2024 14:16;1.500,50;Naira;Installment payment;C1;00042;Amina;Public;North\r\n"
                "A2;2024-03-05 10:00;\"2,000\";ngn;PAY;C2;00043;Musa;Business;North\r\n")
        csv = self.write("in.csv", body)
        mapping = """    mapping:
      columns: {"Payment Id": ID, "Amount (NGN)": PAYMENT_AMOUNT, Currency: PAYMENT_CURRENCY, Type: TRANSACTION_TYPE}
      timestamp: {formats: ["%d/%m/%Y %H:%M"], utc_offset: "+01:00"}
      transaction_types: {PAY: FULL_PAYMENT}"""
        res, rep = self.run_ok(self.dataset_config(csv, ", delimiter: ';', header_row: 3", mapping))
        recs = {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}
        rej = self.rejects()
        # "1.500,50" is a locale-formatted amount: rejected, not guessed.
        self.assertEqual(rep["rejected"], 1, rej)
        self.assertEqual(rej[0]["row"], 4)
        self.assertEqual(rej[0]["problems"][0]["code"], "bad_amount")
        self.assertEqual(rej[0]["cells"]["Amount (NGN)"], "1.500,50")
        a2 = recs["A2"]
        self.assertEqual(a2["TIMESTAMP"], "2024-03-05T09:00:00.000Z")  # +01:00 source offset
        self.assertEqual(a2["PAYMENT_CURRENCY"], "NGN")
        self.assertEqual(a2["TRANSACTION_TYPE"], "FULL_PAYMENT")
        self.assertEqual(rep["unknown_columns"], ["Region"])

    def test_messy_values(self):
        rows = [HEADER,
                good_row(1, PAYMENT_AMOUNT='"1,500.50"', PAYMENT_CURRENCY="Naira"),
                good_row(2, TIMESTAMP="2024-02-30 10:00:00"),
                good_row(3, TIMESTAMP="2024-03-05 25:00:00"),
                ",,,,,,,,,",
                "   ,  ,,,,,,,,",
                good_row(4),
                good_row(4),                              # duplicate: written once
                good_row(5),
                good_row(5, PAYMENT_AMOUNT="99"),         # conflict: rejected
                good_row(6, CUSTOMER_NAME="Bad \xff name"),
                good_row(7, PAYMENT_CURRENCY="Shilling"),
                good_row(8, TRANSACTION_TYPE="refund"),
                good_row(9, METER_ID=""),
                ]
        data = ("\n".join(rows) + "\n").encode("latin-1")
        csv = self.write("in.csv", data)
        res, rep = self.run_ok(self.dataset_config(csv))
        self.assertEqual(rep["read"], 13)
        self.assertEqual(rep["blank"], 2)
        self.assertEqual(rep["duplicates"], 1)
        self.assertEqual(rep["accepted"], 3)  # 1, 4, 5
        rej = {r["row"]: r for r in self.rejects()}
        codes = {row: [p["code"] for p in r["problems"]] for row, r in rej.items()}
        self.assertEqual(codes[3], ["bad_timestamp"])
        self.assertEqual(codes[4], ["bad_timestamp"])
        self.assertEqual(codes[10], ["duplicate_id_conflict"])
        self.assertIn("row 9", rej[10]["problems"][0]["message"])
        self.assertEqual(codes[11], ["bad_utf8"])
        self.assertEqual(rej[11]["problems"][0]["field"], "CUSTOMER_NAME")
        self.assertEqual(codes[12], ["ambiguous_currency"])
        self.assertEqual(codes[13], ["unknown_transaction_type"])
        self.assertEqual(codes[14], ["missing_required"])
        recs = pslib.read_jsonl(self.path("out", "payments.jsonl"))
        self.assertEqual([r["ID"] for r in recs], ["P001", "P004", "P005"])
        self.assertEqual(recs[0]["PAYMENT_CURRENCY"], "NGN")
        raw = open(self.path("out", "payments.jsonl")).read()
        self.assertIn('"PAYMENT_AMOUNT":1500.50', raw)
        self.assertEqual(rep["rejected_by_code"]["bad_timestamp"], 2)

    def test_strict_profile_requires_id_and_phone(self):
        csv = self.write("in.csv", HEADER + "\n" + good_row(1, CUSTOMER_PHONE="") + "\n" + good_row(2) + "\n")
        res, rep = self.run_ok(self.dataset_config(csv, profile="strict"))
        self.assertEqual(rep["accepted"], 1)
        self.assertEqual(self.rejects()[0]["problems"][0]["field"], "CUSTOMER_PHONE")

    def test_missing_required_column_fails_dataset_and_keeps_output(self):
        good = self.write("good.csv", HEADER + "\n" + good_row(1) + "\n")
        cfg = self.dataset_config(good)
        self.run_ok(cfg)
        before = open(self.path("out", "payments.jsonl"), "rb").read()
        # Same dataset, now the source lost its METER_ID column.
        hdr = HEADER.replace(",METER_ID", "")
        row = good_row(1).split(",")
        del row[6]
        self.write("good.csv", hdr + "\n" + ",".join(row) + "\n")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("METER_ID", res.err)
        self.assertIn("no column", res.err)
        self.assertEqual(open(self.path("out", "payments.jsonl"), "rb").read(), before)

    def test_two_columns_on_one_field(self):
        csv = self.write("in.csv", HEADER + ",Meter-ID\n" + good_row(1) + ",x\n")
        res = pslib.run("run", self.dataset_config(csv))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("both map to field METER_ID", res.err)
        self.assertIn("column K", res.err)
        self.assertFalse(os.path.exists(self.path("out", "payments.jsonl")))

    def test_unterminated_quote_fails_with_line(self):
        csv = self.write("in.csv", HEADER + "\n" + good_row(1) + "\n" + '"P2,unterminated\n' + good_row(3) + "\n")
        res = pslib.run("run", self.dataset_config(csv))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("line 3", res.err)
        self.assertFalse(os.path.exists(self.path("out", "payments.jsonl")))

    def test_wider_row_is_one_unnamed_column_warning(self):
        # a value past the header's last column (K) is never a reject nor dropped silently:
        # one unnamed_column warning for the column, naming it, its values and first row
        csv = self.write("in.csv", HEADER + "\n" + good_row(1) + ",extra\n" + good_row(2) + ",\n" +
                         good_row(3) + ",more\n")
        res, rep = self.run_ok(self.dataset_config(csv))
        self.assertEqual((rep["accepted"], rep["rejected"]), (3, 0), rep)
        self.assertEqual(self.rejects(), [])
        self.assertEqual(rep["warnings_by_code"], {"unnamed_column": 1}, rep)
        [col] = rep["unnamed_columns"]
        self.assertEqual((col["column"], col["values"], col["first_row"]), ("K", 2, 2), col)
        self.assertIn("(past the header: in CSV, maybe an unquoted delimiter)", col["message"])
        self.assertIn("unnamed_column: column K has no header but holds 2 values", res.err)

    def test_stdin_source(self):
        cfg = self.dataset_config("-")
        res = pslib.run("run", cfg, stdin=(HEADER + "\n" + good_row(1) + "\n").encode())
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(len(pslib.read_jsonl(self.path("out", "payments.jsonl"))), 1)

    def test_dry_run_writes_nothing(self):
        csv = self.write("in.csv", HEADER + "\n" + good_row(1) + "\n" + good_row(2, TIMESTAMP="x") + "\n")
        res = pslib.run("run", self.dataset_config(csv), "--dry-run")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("accepted 1, rejected 1", res.out)
        self.assertFalse(os.path.exists(self.path("out")))

    def test_missing_source_file(self):
        res = pslib.run("run", self.dataset_config(self.path("nope.csv")))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("nope.csv", res.err)
        self.assertFalse(os.path.exists(self.path("out", "payments.jsonl")))

    def test_sink_failure_keeps_previous_output(self):
        if os.geteuid() == 0:
            # root ignores directory permissions: use a path whose parent is a file instead.
            pass
        csv = self.write("in.csv", HEADER + "\n" + good_row(1) + "\n")
        cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
  broken: {{plugin: jsonl, path: blocker/sub/payments.jsonl}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}
    sinks: [out, broken]
""")
        self.write("out/payments.jsonl", "previous\n")
        self.write("blocker", "a file where a folder is needed\n")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("blocker", res.err)
        self.assertEqual(open(self.path("out", "payments.jsonl")).read(), "previous\n")
        leftovers = [f for f in os.listdir(self.path("out")) if f != "payments.jsonl"]
        self.assertEqual(leftovers, [])

    def test_only_named_dataset_and_unknown_name(self):
        csv = self.write("in.csv", HEADER + "\n" + good_row(1) + "\n")
        cfg = self.dataset_config(csv)
        res = pslib.run("run", cfg, "--dataset", "ds2")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("no dataset named 'ds2'", res.err)
        self.assertIn("did you mean 'ds1'", res.err)
        res = pslib.run("run", cfg, "--dataset", "ds1")
        self.assertEqual(res.rc, 0, res)

    def test_json_logs(self):
        csv = self.write("in.csv", HEADER + "\n" + good_row(1) + "\n")
        res = pslib.run("--log-format", "json", "run", self.dataset_config(csv), "-v")
        self.assertEqual(res.rc, 0, res)
        lines = [json.loads(l) for l in res.err.splitlines() if l.strip()]
        self.assertTrue(any("committed" in l["message"] for l in lines), res)
        self.assertTrue(all({"time", "level", "message"} <= set(l) for l in lines))


if __name__ == "__main__":
    pslib.main()
