"""paysync export-rejects: the last run's rejected rows as CSV or xlsx for the sheet's owner
(issue 17 item 2), checked against the bundled sample's source file and the run's JSON report;
the xlsx is read back with the standard library (zipfile + XML)."""
import collections
import csv
import io
import json
import os
import re
import shutil
import zipfile
import xml.etree.ElementTree as ET

import pslib

HEADER_ROW = 3  # config/example.yaml: header_row: 3
NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def col_index(ref):
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group(0):
        n = n * 26 + ord(ch) - 64
    return n - 1


def read_xlsx(path):
    """The first sheet as a list of rows of (type, value): type 's' for text (shared or inline
    strings), 'n' for a number; missing cells are ('', '')."""
    with zipfile.ZipFile(path) as z:
        self_check = z.testzip()
        assert self_check is None, self_check
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            root = ET.fromstring(z.read("xl/sharedStrings.xml"))
            for si in root.findall("m:si", NS):
                shared.append("".join(t.text or "" for t in si.iter("{%s}t" % NS["m"])))
        root = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for r in root.find("m:sheetData", NS).findall("m:row", NS):
        assert int(r.get("r")) == len(rows) + 1, "rows in order, none skipped"
        cells = []
        for c in r.findall("m:c", NS):
            i = col_index(c.get("r"))
            while len(cells) < i:
                cells.append(("", ""))
            t = c.get("t")
            if t == "inlineStr":
                cells.append(("s", "".join(x.text or "" for x in c.iter("{%s}t" % NS["m"]))))
            elif t == "s":
                cells.append(("s", shared[int(c.find("m:v", NS).text)]))
            else:
                cells.append(("n", c.find("m:v", NS).text))
        rows.append(cells)
    return rows


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

    def text_config(self, data, meter=True):
        """Dataset d reading p.csv (data) with its rejects in rej.jsonl; METER_ID from the
        column Meter (meter) or a default."""
        self.write("p.csv", data)
        return self.config(
            "sinks:\n  s: {plugin: jsonl, path: %s}\n"
            "datasets:\n  - name: d\n    target: {id: t}\n"
            "    source: {plugin: csvfile, path: %s}\n"
            "    mapping:\n      columns: {Payment ID: ID, Amount: PAYMENT_AMOUNT%s}\n"
            "      defaults: {PAYMENT_CURRENCY: NGN, TRANSACTION_TYPE: FULL_PAYMENT, CUSTOMER_ID: C1, %sCUSTOMER_NAME: N, CUSTOMER_CATEGORY: Residential}\n"
            "    sinks: [s]\n    rejects: %s\n"
            % (pslib.yaml_str(self.path("o.jsonl")), pslib.yaml_str(self.path("p.csv")),
               ", Meter: METER_ID" if meter else "", "" if meter else "METER_ID: M1, ",
               pslib.yaml_str(self.path("rej.jsonl"))))

    def test_quoting_and_formula_guard(self):
        data = ("Payment ID,Timestamp,Amount,Note\r\n"
                'P1,2024-01-01T00:00:00Z,"=HYPERLINK(""http://x"")","a, ""b"""\r\n'
                "P2,2024-01-01T00:00:00Z,-x5,@SUM(A1)\r\n"
                "P3,2024-01-01T00:00:00Z,+x7,\"line1\nline2\"\r\n")
        cfg = self.text_config(data, meter=False)
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
        cfg = self.text_config("Payment ID,Timestamp,Amount\r\nP1,2024-01-01T00:00:00Z,5\r\n",
                               meter=False)
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
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje", "--format", "ods")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--format 'ods' is not supported; expected csv or xlsx", r.err)
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

    # ---- xlsx ------------------------------------------------------------------------------

    def test_sample_xlsx_equals_csv(self):
        cfg = self.sample()
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje")
        self.assertEqual(r.rc, 0, r)
        lines = list(csv.reader(io.StringIO(r.out, newline="")))
        out = self.path("rejects.xlsx")
        r = pslib.run("export-rejects", cfg, "--dataset", "01_2024_Kuje", "--format", "xlsx",
                      "--output", out)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("problem line(s)) to %s" % out, r.err)
        rows = read_xlsx(out)
        self.assertEqual(len(rows), len(lines))
        ncols = len(lines[0]) - 4
        self.assertEqual([v for _, v in rows[0]], lines[0])
        for x, c in zip(rows[1:], lines[1:]):
            x = x + [("", "")] * (len(c) - len(x))
            # the row number is a number cell; everything else text, as in the source (the
            # CSV's ' before a formula-like value is not needed in a text cell)
            self.assertEqual(x[ncols], ("n", c[ncols]), (x, c))
            for i, (t, v) in enumerate(x):
                if i == ncols or v == "":
                    continue
                self.assertEqual(t, "s", (i, x))
                want = c[i][1:] if c[i][:2] in ("'=", "'+", "'-", "'@") else c[i]
                self.assertEqual(v, want, (i, x, c))
        self.assertEqual(oct(os.stat(out).st_mode & 0o777), "0o644")
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp-" in n], [])


    def test_xlsx_keeps_text_as_text(self):
        cfg = self.text_config(
            "Payment ID,Timestamp,Amount,Meter,Note\r\n"
            '007,2024-01-01T00:00:00Z,"=HYPERLINK(""http://x"")",00042, two  spaces \r\n'
            "008,2024-01-01T00:00:00Z,1e5x,0012,\"<b>&amp;\nnext\"\r\n")
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        out = self.path("r.xlsx")
        r = pslib.run("export-rejects", cfg, "--dataset", "d", "--format", "xlsx", "--output", out)
        self.assertEqual(r.rc, 0, r)
        rows = read_xlsx(out)
        self.assertEqual([v for _, v in rows[0]], ["Payment ID", "Timestamp", "Amount", "Meter",
                                                   "Note", "row", "cell", "code", "message"])
        by_id = {r[0][1]: r for r in rows[1:]}
        self.assertEqual(sorted(by_id), ["007", "008"])  # leading zeros kept
        a = by_id["007"]
        self.assertEqual(a[2], ("s", '=HYPERLINK("http://x")'))  # text, not a formula
        self.assertEqual(a[3], ("s", "00042"))
        self.assertEqual(a[4], ("s", " two  spaces "))
        self.assertEqual(a[5:8], [("n", "2"), ("s", "C2"), ("s", "bad_amount")])
        b = by_id["008"]
        self.assertEqual(b[2], ("s", "1e5x"))
        self.assertEqual(b[4], ("s", "<b>&amp;\nnext"))
        self.assertEqual(b[5:7], [("n", "3"), ("s", "C3")])
        with zipfile.ZipFile(out) as z:
            self.assertNotIn(b"<f>", z.read("xl/worksheets/sheet1.xml"))

    def test_xlsx_errors_and_symlink(self):
        cfg = self.text_config("Payment ID,Timestamp,Amount,Meter\r\nP1,2024-01-01T00:00:00Z,x,M\r\n")
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        # no --output (or -): a workbook is not written to standard output
        for extra in ([], ["--output", "-"]):
            r = pslib.run("export-rejects", cfg, "--dataset", "d", "--format", "xlsx", *extra)
            self.assertEqual(r.rc, 2, r)
            self.assertIn("--format xlsx needs --output FILE.xlsx", r.err)
            self.assertEqual(r.out, "")
        # a symlink at the target is replaced, never written through
        victim = self.path("victim.txt")
        self.write("victim.txt", "keep me\n")
        link = self.path("r.xlsx")
        os.symlink(victim, link)
        r = pslib.run("export-rejects", cfg, "--dataset", "d", "--format", "xlsx", "--output", link)
        self.assertEqual(r.rc, 0, r)
        self.assertFalse(os.path.islink(link))
        self.assertEqual(open(victim).read(), "keep me\n")
        self.assertEqual(read_xlsx(link)[1][0], ("s", "P1"))
        # a folder at the target: refused, nothing changed
        os.mkdir(self.path("dir.xlsx"))
        r = pslib.run("export-rejects", cfg, "--dataset", "d", "--format", "xlsx", "--output",
                      self.path("dir.xlsx"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("refusing to replace", r.err)
        self.assertIn("it is a directory", r.err)
        # a missing folder
        r = pslib.run("export-rejects", cfg, "--dataset", "d", "--format", "xlsx", "--output",
                      self.path("no", "r.xlsx"))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("cannot create a temporary file next to", r.err)
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp-" in n], [])

    def test_xlsx_cell_too_long(self):
        cfg = self.text_config("Payment ID,Timestamp,Amount,Meter\r\nP1,2024-01-01T00:00:00Z,x,%s\r\n"
                               % ("9" * 40000))
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        rej = pslib.read_jsonl(self.path("rej.jsonl"))
        if len(rej[0]["cells"]["Meter"]) <= 32767:
            self.skipTest("the rejects file keeps no cell past xlsx's limit")
        out = self.path("r.xlsx")
        self.write("r.xlsx", "previous\n")
        r = pslib.run("export-rejects", cfg, "--dataset", "d", "--format", "xlsx", "--output", out)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("a value of 40000 characters in line 2 does not fit in an xlsx cell (at "
                      "most 32767); use --format csv", r.err)
        self.assertEqual(open(out).read(), "previous\n")  # the previous file is untouched
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp-" in n], [])
        r = pslib.run("export-rejects", cfg, "--dataset", "d")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("9" * 40000, r.out)


if __name__ == "__main__":
    pslib.main()
