"""paysync export-rejects: the last run's rejected rows as CSV for the sheet's owner (issue 17
item 2), checked against the bundled sample's source file and the run's JSON report."""
import collections
import csv
import io
import json
import os
import shutil

import pslib

HEADER_ROW = 3  # config/example.yaml: header_row: 3


class ExportRejects(pslib.Case):
    def sample(self, rejects=True):
        """The README's sample job in a temp copy of config/; returns the config path."""
        src = pslib.SOURCE_DIR
        work = self.path("repo")
        os.makedirs(os.path.join(work, "config"))
        shutil.copytree(os.path.join(src, "config", "sample"), os.path.join(work, "config", "sample"))
        with open(os.path.join(src, "config", "example.yaml")) as f:
            text = f.read().replace("[../build/plugins]", "[%s]" % pslib.yaml_str(pslib.PLUGIN_DIR))
        if not rejects:
            text = text.replace("    rejects: ../out/rejects.jsonl\n", "")
        self.work = work
        cfg = os.path.join(work, "config", "example.yaml")
        with open(cfg, "w") as f:
            f.write(text)
        return cfg

    def source_rows(self):
        with open(os.path.join(self.work, "config", "sample", "payments.csv"), newline="",
                  encoding="utf-8") as f:
            text = f.read()
        rows = list(csv.reader(io.StringIO(text)))
        # Sheet row N is rows[N - 1] only when no cell spans lines: make sure.
        self.assertEqual(len(rows), len(text.rstrip("\n").split("\n")))
        return rows

    def test_sample_rejects_match_source_and_report(self):
        cfg = self.sample()
        r = pslib.run("run", cfg, "--report", self.path("r.json"))
        self.assertEqual(r.rc, 0, r)
        rep = json.load(open(self.path("r.json")))["datasets"][0]
        self.assertGreater(rep["rejected"], 0, rep)
        out = self.path("rejects.csv")
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje", "--output", out)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("wrote %d rejected row(s) of '01_2024_Kuje'" % rep["rejected"], r.err)
        raw = open(out, "rb").read()
        self.assertTrue(raw.endswith(b"\r\n"))
        lines = list(csv.reader(io.StringIO(raw.decode("utf-8"), newline="")))
        src = self.source_rows()
        header = lines[0]
        # The source header's names in order, then the four added columns.
        self.assertEqual(header, src[HEADER_ROW - 1] + ["row", "cell", "code", "message"])
        body = lines[1:]
        ncols = len(src[HEADER_ROW - 1])
        # Every rejected row, and per code as many lines as the report counts.
        self.assertEqual(len({b[ncols] for b in body}), rep["rejected"])
        codes = collections.Counter(b[ncols + 2] for b in body)
        self.assertEqual(dict(codes), rep["rejected_by_code"])
        with_cell = 0
        for b in body:
            row = int(b[ncols])
            s = src[row - 1]
            # The row's values are the source row's (a value a spreadsheet would run as a
            # formula is shown with a leading ').
            for i in range(ncols):
                v = s[i] if i < len(s) else ""
                if v[:1] in ("=", "+", "-", "@"):
                    v = "'" + v
                self.assertEqual(b[i], v, (b, s))
            cell = b[ncols + 1]
            if cell:
                with_cell += 1
                self.assertRegex(cell, r"^[A-Z]+%d$" % row)
            self.assertTrue(b[ncols + 3], b)  # a message
        self.assertGreater(with_cell, 0)
        # A cell reference points at the offending column: an unknown currency is in D
        # (Currency), a bad amount in C (Amount (NGN)).
        by_code = {b[ncols + 2]: b for b in body}
        if "unknown_currency" in by_code:
            self.assertEqual(by_code["unknown_currency"][ncols + 1][0], "D")
        if "bad_amount" in by_code:
            self.assertEqual(by_code["bad_amount"][ncols + 1][0], "C")
        # Standard output gives the same bytes.
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje", "--output", "-")
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(r.out.encode("utf-8"), raw)

    def test_quoting_and_formula_guard(self):
        data = ("Payment ID,Timestamp,Amount,Note\r\n"
                'P1,2024-01-01T00:00:00Z,"=HYPERLINK(""http://x"")","a, ""b"""\r\n'
                "P2,2024-01-01T00:00:00Z,-x5,@SUM(A1)\r\n"
                "P3,2024-01-01T00:00:00Z,+x7,\"line1\nline2\"\r\n")
        self.write("p.csv", data)
        cfg = self.config(
            "sinks:\n  s: {plugin: jsonl, path: %s}\n"
            "datasets:\n  - name: d\n    target: {id: t}\n"
            "    source: {plugin: csvfile, path: %s}\n"
            "    mapping:\n      columns: {Payment ID: ID, Amount: PAYMENT_AMOUNT}\n"
            "      defaults: {PAYMENT_CURRENCY: NGN, TRANSACTION_TYPE: FULL_PAYMENT, CUSTOMER_ID: C1, METER_ID: M1, CUSTOMER_NAME: N, CUSTOMER_CATEGORY: Residential}\n"
            "    sinks: [s]\n    rejects: %s\n"
            % (pslib.yaml_str(self.path("o.jsonl")), pslib.yaml_str(self.path("p.csv")),
               pslib.yaml_str(self.path("rej.jsonl"))))
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        r = pslib.run("export-rejects", cfg, "--dataset", "d")
        self.assertEqual(r.rc, 0, r)
        lines = list(csv.reader(io.StringIO(r.out, newline="")))
        self.assertEqual(lines[0], ["Payment ID", "Timestamp", "Amount", "Note", "row", "cell",
                                    "code", "message"])
        rows = {l[0]: l for l in lines[1:]}
        self.assertEqual(rows["P1"][2], "'=HYPERLINK(\"http://x\")")
        self.assertEqual(rows["P1"][3], 'a, "b"')
        self.assertEqual(rows["P1"][4:7], ["2", "C2", "bad_amount"])
        self.assertEqual(rows["P2"][2], "'-x5")
        self.assertEqual(rows["P2"][3], "'@SUM(A1)")
        self.assertEqual(rows["P2"][5], "C3")
        self.assertEqual(rows["P3"][2], "'+x7")
        self.assertEqual(rows["P3"][3], "line1\nline2")
        # RFC 4180: the quoted field with a comma and doubled quotes, CRLF line ends.
        self.assertIn('"a, ""b"""', r.out)
        self.assertTrue(r.out.endswith("\r\n"))

    def test_no_rejects_gives_header_only(self):
        self.write("p.csv", "Payment ID,Timestamp,Amount\r\nP1,2024-01-01T00:00:00Z,5\r\n")
        cfg = self.config(
            "sinks:\n  s: {plugin: jsonl, path: %s}\n"
            "datasets:\n  - name: d\n    target: {id: t}\n"
            "    source: {plugin: csvfile, path: %s}\n"
            "    mapping:\n      columns: {Payment ID: ID, Amount: PAYMENT_AMOUNT}\n"
            "      defaults: {PAYMENT_CURRENCY: NGN, TRANSACTION_TYPE: FULL_PAYMENT, CUSTOMER_ID: C1, METER_ID: M1, CUSTOMER_NAME: N, CUSTOMER_CATEGORY: Residential}\n"
            "    sinks: [s]\n    rejects: %s\n"
            % (pslib.yaml_str(self.path("o.jsonl")), pslib.yaml_str(self.path("p.csv")),
               pslib.yaml_str(self.path("rej.jsonl"))))
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        out = self.path("x.csv")
        r = pslib.run("export-rejects", cfg, "--dataset", "d", "--output", out)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(open(out, "rb").read(), b"row,cell,code,message\r\n")
        self.assertIn("the last run of 'd' rejected no rows", r.err)

    def test_errors(self):
        cfg = self.sample()
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kujo")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("unknown dataset '01_2024_Kujo' (did you mean '01_2024_Kuje'?)", r.err)
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("dataset '01_2024_Kuje' has no run yet", r.err)
        self.assertIn("run `paysync run", r.err)
        self.assertEqual(r.out, "")
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje", "--format", "xlsx")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--format 'xlsx' is not supported; expected csv", r.err)
        r = pslib.run("export-rejects", cfg)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--dataset NAME is required", r.err)
        # A rejects file that is not paysync's.
        os.makedirs(os.path.join(self.work, "out"))
        with open(os.path.join(self.work, "out", "rejects.jsonl"), "w") as f:
            f.write("not json\n")
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje")
        self.assertEqual(r.rc, 1, r)
        self.assertIn("rejects.jsonl:1: not a line of a rejects file", r.err)
        self.assertEqual(r.out, "")
        # An output whose folder is missing.
        open(os.path.join(self.work, "out", "rejects.jsonl"), "w").close()
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje", "--output",
                      self.path("no", "such", "x.csv"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("paysync: export-rejects: ", r.err)
        self.assertIn("x.csv", r.err)
        self.assertFalse(os.path.exists(self.path("no")))

    def test_dataset_without_rejects_file(self):
        cfg = self.sample(rejects=False)
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("dataset '01_2024_Kuje' keeps no rejects file (no `rejects` key); set "
                      "`rejects: FILE`", r.err)


if __name__ == "__main__":
    pslib.main()
