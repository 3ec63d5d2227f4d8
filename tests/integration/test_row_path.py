"""One row path: `discover` shows each sample row exactly as `run` ends it (same function:
blank rule, cells outside the header, validation, duplicates), for every CSV fixture of the
suite (tests/data and the shared fixtures, by path, skipped when absent), and one definition
of a blank row (Unicode whitespace, docs/data-model.md)."""
import csv
import glob
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

SHARED = os.environ.get("PS_SHARED_FIXTURES") or \
    os.path.join(pslib.SOURCE_DIR, "..", "shared", "fixtures")
FIELDS = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "TRANSACTION_CHARGES", "REFERENCE_ID", "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME",
          "CUSTOMER_PHONE", "CUSTOMER_CATEGORY", "FINANCING_ID", "AGENT_ID", "LATITUDE",
          "LONGITUDE", "UTILITY_ID", "FAILED_BATTERY_CAPACITY_COUNT", "ACCOUNT_TYPE", "STATUS",
          "NOTES"]
REQUIRED_DEFAULTS = {"TIMESTAMP": "2024-03-05T10:00:00Z", "PAYMENT_AMOUNT": "1",
                     "PAYMENT_CURRENCY": "NGN", "TRANSACTION_TYPE": "FULL_PAYMENT",
                     "CUSTOMER_ID": "C1", "METER_ID": "M1", "CUSTOMER_NAME": "N",
                     "CUSTOMER_CATEGORY": "Residential"}
# generic headers (a,b,c / first,last,...) are mapped in order onto these, so that values are
# really validated (amounts, phones) and verdicts differ from row to row
GENERIC = ["CUSTOMER_ID", "PAYMENT_AMOUNT", "CUSTOMER_PHONE", "NOTES", "METER_ID"]

HEADER = "ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID," \
         "CUSTOMER_NAME,CUSTOMER_CATEGORY"


def good(i, **kw):
    v = {"ID": "P%d" % i, "TIMESTAMP": "2024-03-05T10:00:00Z", "PAYMENT_AMOUNT": "1500.50",
         "PAYMENT_CURRENCY": "NGN", "TRANSACTION_TYPE": "FULL_PAYMENT", "CUSTOMER_ID": "C%d" % i,
         "METER_ID": "M%d" % i, "CUSTOMER_NAME": "Amina", "CUSTOMER_CATEGORY": "Residential"}
    v.update(kw)
    return ",".join(v[k] for k in HEADER.split(","))


# rows of only whitespace of each kind the spec's "whitespace" covers, then a mixed table:
# a conflict, a duplicate, a value past the header, a bad amount
WHITESPACE_ROWS = ["\u00a0,\u00a0", "\v", "\u3000,\u2003,\u205f", "\t,\f,\u0085"]
OWN_FIXTURES = {
    "whitespace_rows.csv": "\n".join([HEADER] + WHITESPACE_ROWS +
                                     [good(1, CUSTOMER_NAME="\u00a0\u2003Amina\u3000")]) + "\n",
    "mixed.csv": "\n".join([HEADER, good(1), good(1), good(1, PAYMENT_AMOUNT="9"),
                            good(2) + ",stray", good(3, PAYMENT_AMOUNT="1.23456"), good(4),
                            good(5)]) + "\n",
}


def fixture_files():
    files = sorted(glob.glob(os.path.join(pslib.SOURCE_DIR, "tests", "data", "**", "*.csv"),
                             recursive=True))
    shared = sorted(glob.glob(os.path.join(SHARED, "csv-spectrum", "csvs", "*.csv")))
    return files, shared


def recorded_tabs(cassette):
    """(spreadsheet ID, tab title) of every tab a cassette holds values for."""
    seen = []
    for it in cassette.get("interactions", []):
        parts = it["request"]["path"].split("/")
        if len(parts) < 6 or parts[4] != "values" or it["response"]["status"] != 200:
            continue
        try:
            rng = json.loads(it["response"]["body"]).get("range", "")
        except ValueError:
            continue
        title = rng.rsplit("!", 1)[0]
        if title.startswith("'"):
            title = title[1:-1].replace("''", "'")
        if (parts[3], title) not in seen:
            seen.append((parts[3], title))
    return seen


def header_of(path):
    with open(path, "rb") as f:
        first = f.read(65536).decode("utf-8", "replace")
    rows = list(csv.reader(io.StringIO(first)))
    return rows[0] if rows else []


def norm(h):
    return "_".join(h.strip().upper().replace("-", " ").replace("_", " ").split())


class RowPath(pslib.Case):
    def config_for(self, path):
        header = header_of(path)
        named = [h for h in header if norm(h) in FIELDS]
        columns = {}
        if not named:
            for h, f in zip(header, GENERIC):
                if h.strip() and h not in columns:
                    columns[h] = f
        mapped = set(norm(h) for h in named) | set(columns.values())
        defaults = {k: v for k, v in REQUIRED_DEFAULTS.items() if k not in mapped}
        cols = ", ".join("%s: %s" % (json.dumps(k), v) for k, v in columns.items())
        defs = ", ".join("%s: %s" % (k, json.dumps(v)) for k, v in defaults.items())
        for f in ("out/payments.jsonl", "out/rejects.jsonl"):
            if os.path.exists(self.path(f)):
                os.unlink(self.path(f))
        return self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
datasets:
  - name: ds
    target: {{level: project, id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(path)}}}
    mapping: {{columns: {{{cols}}}, defaults: {{{defs}}}}}
    sinks: [out]
    rejects: out/rejects.jsonl
""")

    def samples(self, cfg):
        res = pslib.run("discover", cfg, "--dataset", "ds")
        lines = res.out.split("sample rows (normalised):\n", 1)
        if len(lines) != 2:
            self.assertNotEqual(res.rc, 0, res)
            return res, []
        out = []
        for line in lines[1].splitlines():
            line = line.strip()
            if line.startswith("{"):
                out.append(json.loads(line))
        return res, out

    def compare(self, path):
        return self.compare_cfg(self.config_for(path), os.path.basename(path))

    def compare_cfg(self, cfg, name):
        for f in ("out/payments.jsonl", "out/rejects.jsonl"):
            if os.path.exists(self.path(f)):
                os.unlink(self.path(f))
        dres, samples = self.samples(cfg)
        run = pslib.run("run", cfg, "--report", self.path("report.json"))
        if run.rc != 0:
            # the run failed as a whole (mapping, unreadable or broken file): discover too
            self.assertEqual(dres.rc, 1, (name, dres, run))
            return 0
        self.assertEqual(dres.rc, 0, (name, dres))
        rejects = {r["row"]: r for r in pslib.read_jsonl(self.path("out", "rejects.jsonl"))} \
            if os.path.exists(self.path("out", "rejects.jsonl")) else {}
        if not os.path.exists(self.path("out", "payments.jsonl")):
            self.write(os.path.join("out", "payments.jsonl"), "")
        with open(self.path("out", "payments.jsonl"), encoding="utf-8") as f:
            # numbers exactly as written (amounts are exact decimals)
            accepted = {r["ID"]: r for r in (json.loads(line, parse_float=str, parse_int=str)
                                             for line in f if line.strip())}
        with open(self.path("report.json")) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                         rep["duplicates"] + rep.get("filtered", 0), rep)
        # discover samples the first 5 rows that are not blank for run
        self.assertEqual(len(samples), min(5, rep["read"] - rep["blank"]), (name, samples, rep))
        for s in samples:
            row = s["row"]
            if "rejected" in s:
                self.assertIn(row, rejects, (name, s))
                want = [p["code"] + ": " + p["message"] for p in rejects[row]["problems"]]
                self.assertEqual(s["rejected"], want, (name, s))
            elif s.get("duplicate"):
                self.assertNotIn(row, rejects, (name, s))
            else:
                self.assertNotIn(row, rejects, (name, s, rejects.get(row)))
                rec = s["record"]
                self.assertIn(rec["ID"], accepted, (name, s))
                out = accepted[rec["ID"]]
                for k, v in rec.items():
                    self.assertEqual(str(out[k]), v, (name, k, s, out))
        return len(samples)

    def test_discover_verdicts_equal_run_for_every_fixture(self):
        own = [self.write(os.path.join("fx", n), d) for n, d in OWN_FIXTURES.items()]
        files, _ = fixture_files()
        self.assertTrue(files, "no CSV fixtures under tests/data")
        compared = 0
        for path in own + files:
            with self.subTest(fixture=os.path.basename(path)):
                compared += self.compare(path)
        self.assertGreater(compared, 10)

    def test_discover_verdicts_equal_run_for_every_shared_fixture(self):
        _, shared = fixture_files()
        if not shared:
            self.skipTest("shared fixtures absent (%s)" % SHARED)
        compared = 0
        for path in shared:
            with self.subTest(fixture=os.path.basename(path)):
                compared += self.compare(path)
        self.assertGreater(compared, 10)

    def test_discover_verdicts_equal_run_for_every_recorded_sheet(self):
        """The Google Sheets answers recorded from Google's servers (shared fixtures), served by
        the emulator: columns mapped by letter (C, a blank header cell, left unnamed)."""
        recorded = sorted(glob.glob(os.path.join(SHARED, "google-sheets-recorded", "*.json")))
        if not recorded:
            self.skipTest("shared fixtures absent (%s)" % SHARED)
        from test_gsheet_run import Emulator
        compared = tabs = 0
        for path in recorded:
            with open(path, encoding="utf-8") as f:
                cassette = json.load(f)
            for sid, title in recorded_tabs(cassette):
                tabs += 1
                with self.subTest(fixture=os.path.basename(path), tab=title):
                    emu = Emulator(self.dir, "--replay", path)
                    try:
                        cfg = self.gsheet_config(emu.url, sid, title)
                        compared += self.compare_cfg(cfg, os.path.basename(path))
                    finally:
                        emu.stop()
        self.assertGreater(tabs, 5)
        self.assertGreater(compared, 5)

    def gsheet_config(self, url, sid, title):
        defs = {k: v for k, v in REQUIRED_DEFAULTS.items()
                if k not in ("CUSTOMER_ID", "PAYMENT_AMOUNT")}
        src = {"spreadsheet_id": sid, "sheet": title, "api_key": "k", "api_url": url,
               "requests_per_minute": 6000, "max_retries": 0, "header_row": 1}
        return self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
datasets:
  - name: ds
    target: {{level: project, id: site-1}}
    source: {{plugin: gsheet, {", ".join("%s: %s" % (k, json.dumps(v, ensure_ascii=False)) for k, v in src.items())}}}
    mapping:
      columns: {{"@A": CUSTOMER_ID, "@B": PAYMENT_AMOUNT, "@D": NOTES}}
      defaults: {{{", ".join("%s: %s" % (k, json.dumps(v)) for k, v in defs.items())}}}
    sinks: [out]
    rejects: out/rejects.jsonl
""")

    def test_mixed_fixture_verdicts(self):
        path = self.write("mixed.csv", OWN_FIXTURES["mixed.csv"])
        _, samples = self.samples(self.config_for(path))
        verdicts = [("rejected" in s and s["rejected"][0].split(":")[0]) or
                    ("duplicate" if s.get("duplicate") else "accepted") for s in samples]
        # the stray value past the header is an unnamed_column warning of the run, not a reject
        self.assertEqual(verdicts, ["accepted", "duplicate", "duplicate_id_conflict",
                                    "accepted", "bad_amount"], samples)

    def test_an_id_written_differently_is_the_same_id(self):
        """The run computes each row's duplicate key from the raw ID cell ahead of the row and
        reuses it only when the validated ID is the same bytes: an ID with surrounding spaces
        (ASCII or Unicode) or quotes is still the trimmed ID, at any place in the batch."""
        rows = [good(i) for i in range(2, 12)] + [
            good(1), good(1, ID=" P1 "), good(1, ID='"P1"'), good(1, ID="\u00a0P1\u3000"),
            good(1, ID="\tP1", PAYMENT_AMOUNT="9"), good(1, ID="P1 x"), good(1, ID="P13"),
            good(1, ID="P1\u00a0")]
        path = self.write("ids.csv", "\n".join([HEADER] + rows) + "\n")
        res = pslib.run("run", self.config_for(path), "--report", self.path("report.json"))
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json")) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual((rep["accepted"], rep["duplicates"], rep["rejected"]), (13, 4, 1), rep)
        rejects = pslib.read_jsonl(self.path("out", "rejects.jsonl"))
        self.assertEqual([(r["row"], r["problems"][0]["code"]) for r in rejects],
                         [(16, "duplicate_id_conflict")], rejects)
        self.assertIn("already used by row 12", rejects[0]["problems"][0]["message"])
        ids = sorted(r["ID"] for r in pslib.read_jsonl(self.path("out", "payments.jsonl")))
        self.assertEqual(ids, sorted(["P%d" % i for i in range(1, 12)] + ["P1 x", "P13"]), ids)

    def test_whitespace_only_rows_are_blank_in_run_and_discover(self):
        path = self.write("ws.csv", OWN_FIXTURES["whitespace_rows.csv"])
        cfg = self.config_for(path)
        res = pslib.run("run", cfg, "--report", self.path("report.json"))
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json")) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual((rep["blank"], rep["rejected"], rep["accepted"]), (4, 0, 1), rep)
        recs = pslib.read_jsonl(self.path("out", "payments.jsonl"))
        self.assertEqual(recs[0]["CUSTOMER_NAME"], "Amina")  # trimmed by the same rule
        _, samples = self.samples(cfg)
        self.assertEqual([s["row"] for s in samples], [6], samples)


if __name__ == "__main__":
    pslib.main()
