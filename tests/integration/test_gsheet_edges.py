"""Google Sheets edge cases (issue 12 item 5) through the real binary against the emulator:
date serials in the spreadsheet's own time zone, values under blank header cells, the range of
every values answer checked, NUL inside a cell, columns mapped by letter or position, and
header cells read as the user sees them."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_gsheet_run import API_KEY, GsheetCase  # noqa: E402

HEADER = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME", "CUSTOMER_CATEGORY"]
TAB = "My Tab"


def row(i, **kw):
    v = {"ID": "P%03d" % i, "TIMESTAMP": "2024-03-05T10:00:00Z", "PAYMENT_AMOUNT": 1500.5,
         "PAYMENT_CURRENCY": "NGN", "TRANSACTION_TYPE": "FULL_PAYMENT", "CUSTOMER_ID": "C%d" % i,
         "METER_ID": "M%d" % i, "CUSTOMER_NAME": "Amina", "CUSTOMER_CATEGORY": "Residential"}
    v.update(kw)
    return [v[k] for k in HEADER]


def sheet(rows, tz="Africa/Lagos", cols=12, other_tab=True):
    tabs = [{"title": TAB, "sheetId": 7, "rowCount": max(40, len(rows) + 5),
             "columnCount": cols, "rows": rows}]
    if other_tab:
        tabs.append({"title": "Other", "sheetId": 8, "rowCount": 40, "columnCount": cols,
                     "rows": [list(HEADER)] + [row(90 + i, ID="X%d" % i) for i in range(5)]})
    return {"spreadsheetId": "edgeSheet", "title": "Edges", "timeZone": tz, "locale": "en_GB",
            "tabs": tabs}


class Edges(GsheetCase):
    def use(self, fixture, mapping="", **src):
        self.write("sheet.json", json.dumps(fixture))
        if not self.emu:
            self.start()
        s = {"spreadsheet_id": "edgeSheet", "sheet": TAB, "api_key": API_KEY,
             "api_url": self.emu.url, "requests_per_minute": 6000, "max_retries": 1,
             "timeout": 5, "page_rows": 25}
        s.update(src)
        extra = ("    mapping: " + mapping) if mapping else ""
        return self.gsheet_config(s, extra_dataset=extra)

    def records(self):
        return {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}

    def rejects(self):
        p = self.path("out", "rejects.jsonl")
        return {r["row"]: r for r in pslib.read_jsonl(p)} if os.path.exists(p) else {}

    def check_counts(self, rep):
        self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                         rep["duplicates"] + rep.get("filtered", 0), rep)

    # ---- date serials: the spreadsheet's timeZone, whatever the mapping says -------------

    def test_serials_use_the_sheet_zone_text_uses_the_mapping(self):
        # 45488.5 = 2024-07-15 12:00 in Europe/Paris (CEST, UTC+2) = 10:00Z
        rows = [list(HEADER), row(1, TIMESTAMP=45488.5), row(2, TIMESTAMP="2024-07-15 12:00")]
        for mapping, text_utc in (('{timestamp: {time_zone: "Africa/Lagos"}}', "11:00"),
                                  ('{timestamp: {utc_offset: "+03:00"}}', "09:00"),
                                  ("", "12:00")):
            with self.subTest(mapping=mapping):
                cfg = self.use(sheet(rows, tz="Europe/Paris"), mapping)
                res = self.run_paysync(cfg)
                self.assertEqual(res.rc, 0, res)
                recs = self.records()
                self.assertEqual(recs["P001"]["TIMESTAMP"], "2024-07-15T10:00:00.000Z", mapping)
                self.assertEqual(recs["P002"]["TIMESTAMP"], "2024-07-15T%s:00.000Z" % text_utc,
                                 mapping)

    # ---- a NUL inside a cell rejects that row, not the whole read ---------------------------

    def test_nul_in_a_cell_rejects_the_row(self):
        # json.dumps writes the NUL as \u0000, as Google does
        rows = [list(HEADER) + ["Notes"], row(1), row(2, CUSTOMER_NAME="Ami\u0000na"),
                row(3) + ["a\u0000b"], row(4)]
        res = self.run_paysync(self.use(sheet(rows)))
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.check_counts(rep)
        self.assertEqual((rep["accepted"], rep["rejected"]), (2, 2), rep)
        self.assertEqual(rep["rejected_by_code"], {"bad_text": 2}, rep)
        rej = self.rejects()
        self.assertEqual(sorted(rej), [3, 4], rej)
        p = rej[3]["problems"][0]
        self.assertEqual((p["code"], p["field"]), ("bad_text", "CUSTOMER_NAME"), p)
        self.assertIn("row 3, column H ('CUSTOMER_NAME'): the cell holds a NUL byte", p["message"])
        p = rej[4]["problems"][0]
        self.assertIn("row 4, column J ('Notes')", p["message"])  # an unmapped column too
        self.assertEqual(sorted(self.records()), ["P001", "P004"])

    # ---- the range of every values answer is the range asked for ---------------------------

    def run_with_fault(self, kind, skip):
        rows = [list(HEADER)] + [row(i) for i in range(1, 60)]
        cfg = self.use(sheet(rows, cols=9))
        # a first good run: its output must survive the failed one unchanged
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 0, res)
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            before = f.read()
        self.emu.faults([{"when": "values", "kind": kind, "skip": skip}])
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertEqual(self.report()["outcome"], "failed")
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            self.assertEqual(f.read(), before)
        return res

    def test_answer_for_another_tab_fails_the_dataset(self):
        res = self.run_with_fault("range_tab", 2)  # first page, header row, then rows 26-50
        self.assertIn("reading 'My Tab'!A26:I50: Google's answer is for Other!A26:I50, not for "
                      "the range asked (another tab)", res.err, res)
        self.assertIn("nothing was used", res.err, res)

    def test_answer_starting_elsewhere_fails_the_dataset(self):
        res = self.run_with_fault("range_shift", 0)  # the first page
        self.assertIn("reading 'My Tab'!A1:I25: Google's answer is for 'My Tab'!C5:I29, not for "
                      "the range asked (start cell differs)", res.err, res)

    # ---- values under blank header cells: one warning per column, never dropped ---------------

    def test_values_under_blank_headers_warn_once_per_column(self):
        # header: D is blank in the middle; the header ends at J, values also in K and L
        head = list(HEADER)
        head.insert(3, "")
        rows = [head]
        for i in range(1, 6):
            r = row(i)
            r.insert(3, "note %d" % i if i != 2 else "")
            if i >= 4:
                r += ["k%d" % i]
            if i == 5:
                r += ["l5"]
            rows.append(r)
        res = self.run_paysync(self.use(sheet(rows)))
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.check_counts(rep)
        self.assertEqual((rep["accepted"], rep["rejected"]), (5, 0), rep)  # no row rejected
        self.assertEqual(rep["warnings_by_code"].get("unnamed_column"), 3, rep)
        cols = {c["column"]: c for c in rep["unnamed_columns"]}
        self.assertEqual(sorted(cols), ["D", "K", "L"], rep)
        self.assertEqual((cols["D"]["values"], cols["D"]["first_row"]), (4, 2))
        self.assertEqual((cols["K"]["values"], cols["K"]["first_row"]), (2, 5))
        self.assertEqual(cols["L"]["values"], 1)
        self.assertEqual('column D has no header but holds 4 values (first in row 2), not read: '
                         'name the column or map it with mapping.columns {"@D": FIELD}',
                         cols["D"]["message"])
        self.assertIn("warning unnamed_column: column K has no header but holds 2 values",
                      res.out + res.err, res)
        self.assertEqual(self.records()["P001"]["CUSTOMER_NAME"], "Amina")
        # discover says so too, for the rows it samples (rows 2-6 here)
        d = pslib.run("discover", self.path("paysync.yaml"), "--dataset", "sheet1")
        self.assertEqual(d.rc, 0, d)
        self.assertIn("warning unnamed_column (in the rows sampled): column D has no header but "
                      "holds 4 values (first in row 2)", d.out, d)
        self.assertIn("column L has no header but holds 1 value (first in row 6)", d.out, d)

    def test_unnamed_column_mapped_by_letter_is_read(self):
        head = list(HEADER)
        head.insert(3, "")
        rows = [head]
        for i in range(1, 4):
            r = row(i)
            r.insert(3, "note %d" % i)
            rows.append(r)
        res = self.run_paysync(self.use(sheet(rows), '{columns: {"@D": NOTES}}'))
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.assertEqual(rep["unnamed_columns"], [], rep)
        self.assertEqual(self.records()["P002"]["NOTES"], "note 2")

    # ---- columns by letter or position: duplicate headers told apart ------------------------

    def dup_sheet(self):
        head = list(HEADER) + ["Amount"]
        head[2] = "Amount"
        rows = [head] + [row(i) + [10 + i] for i in range(1, 4)]
        return sheet(rows)

    def test_duplicate_headers_message_says_how_to_tell_them_apart(self):
        cfg = self.use(self.dup_sheet(), '{columns: {"Amount": PAYMENT_AMOUNT}}')
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("columns 'Amount' (column C) and 'Amount' (column J) both map to field "
                      "PAYMENT_AMOUNT; remove one, or tell them apart by column letter or "
                      'position in mapping.columns, e.g. {"@C": PAYMENT_AMOUNT, "@J": NOTES}',
                      res.err, res)

    def test_duplicate_headers_mapped_by_letter_and_position(self):
        for cols in ('{"@C": PAYMENT_AMOUNT, "@j": TRANSACTION_CHARGES}',
                     '{"@3": PAYMENT_AMOUNT, "@10": TRANSACTION_CHARGES}'):
            with self.subTest(columns=cols):
                res = self.run_paysync(self.use(self.dup_sheet(), "{columns: %s}" % cols))
                self.assertEqual(res.rc, 0, res)
                r = self.records()["P002"]
                self.assertEqual((str(r["PAYMENT_AMOUNT"]), str(r["TRANSACTION_CHARGES"])),
                                 ("1500.5", "12"), r)

    def test_bad_column_reference_is_a_config_error(self):
        for key in ("@", "@0", "@4D", "@ZZZZ", "@18279"):
            with self.subTest(key=key):
                res = self.run_paysync(self.use(self.dup_sheet(), '{columns: {"%s": NOTES}}' % key))
                self.assertEqual(res.rc, 2, res)
                self.assertIn("'%s' is not a column reference" % key, res.err, res)

    def test_header_beginning_with_at_is_written_double_at(self):
        head = list(HEADER) + ["@note"]
        rows = [head] + [row(i) + ["n%d" % i] for i in range(1, 3)]
        res = self.run_paysync(self.use(sheet(rows), '{columns: {"@@note": NOTES}}'))
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.records()["P001"]["NOTES"], "n1")

    # ---- header cells as the user sees them -------------------------------------------------

    def test_header_cells_are_read_formatted(self):
        # the NOTES column's header is a date cell displayed "Mar 2024" (raw: serial 45352)
        head = list(HEADER) + [{"v": 45352, "f": "Mar 2024"}]
        rows = [head] + [row(i) + ["n%d" % i] for i in range(1, 3)]
        res = self.run_paysync(self.use(sheet(rows), '{columns: {"Mar 2024": NOTES}}'))
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.records()["P002"]["NOTES"], "n2")
        self.assertEqual(self.report()["unknown_columns"], [])
        log = [p for k, p in self.emu.stats()["log"] if k == "values"]
        header_reads = [p for p in log if "FORMATTED_VALUE" in p and "UNFORMATTED" not in p]
        self.assertEqual(len(header_reads), 1, log)
        self.assertIn("%27My%20Tab%27%21A1%3AL1?", header_reads[0])  # the header row alone
        data = [p for p in log if "UNFORMATTED_VALUE" in p]
        self.assertTrue(data and all("dateTimeRenderOption=SERIAL_NUMBER" in p for p in data))


if __name__ == "__main__":
    pslib.main()
