"""Row and record flags (ABI 2.5) end to end: csvfile's reader says which rows hold no NUL and
nothing a JSON string must escape, the core skips its NUL check for them and the jsonl sink
copies their values as they are. On random text with quotes, backslashes, control bytes,
tabs (also as the delimiter), NUL bytes and long records, every JSONL line must parse and
hold the cells' text; rows with a NUL must still be rejected; a default with a quote must
still be escaped."""
import csv
import io
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pslib  # noqa: E402

HEADER = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME", "CUSTOMER_CATEGORY", "REFERENCE_ID",
          "NOTES"]
POOL = ['"', "\\", "\t", "\x01", "\x1f", ",", ";", " ", "a", "b", "Z", "\u00e9", "\u20ac", "'",
        "/", "{", "x", "y", "0"]
TEXT_FIELDS = ("CUSTOMER_NAME", "REFERENCE_ID", "NOTES")


def text(rng, special):
    """A value that starts and ends with a letter (nothing to trim)."""
    n = rng.randrange(0, 30 if rng.random() < 0.95 else 5000)
    mid = "".join(rng.choice(POOL) if rng.random() < special else rng.choice("abcdefgh ")
                  for _ in range(n))
    return "v" + mid + "w"


def rows(rng, count):
    out = []
    for i in range(count):
        special = rng.choice([0.0, 0.0, 0.05, 0.5])
        r = {"ID": "P%d" % i, "TIMESTAMP": "2024-03-05T10:00:00.000Z", "PAYMENT_AMOUNT": "15.5",
             "PAYMENT_CURRENCY": "NGN", "TRANSACTION_TYPE": "FULL_PAYMENT",
             "CUSTOMER_ID": "C%d" % i, "METER_ID": "M%d" % i, "CUSTOMER_CATEGORY": "Residential"}
        for f in TEXT_FIELDS:
            r[f] = text(rng, special)
        out.append(r)
    return out


def encode(rs, delim, nul_rows=()):
    buf = io.StringIO()
    plain = csv.writer(buf, delimiter=delim, lineterminator="\n")
    every = csv.writer(buf, delimiter=delim, lineterminator="\n", quoting=csv.QUOTE_ALL)
    plain.writerow(HEADER)
    for i, r in enumerate(rs):
        cells = [r[h] for h in HEADER]
        if i in nul_rows:
            cells[HEADER.index("NOTES")] = "a\0b"
        (every if i % 3 == 0 else plain).writerow(cells)
    return buf.getvalue().encode("utf-8")


class PlainRows(pslib.Case):
    def run_csv(self, data, delim_opt="", mapping=""):
        src = self.write("in.csv", data)
        cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl, fsync: false}}
datasets:
  - name: ds
    target: {{level: project, id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(src)}{delim_opt}}}
{mapping}    sinks: [out]
    rejects: out/rejects.jsonl
""")
        res = pslib.run("run", cfg, "--report", self.path("report.json"))
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json"), encoding="utf-8") as f:
            rep = json.load(f)["datasets"][0]
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            lines = f.read().split(b"\n")
        self.assertEqual(lines[-1], b"")
        return rep, [json.loads(line) for line in lines[:-1]]  # every line valid JSON

    def check_random(self, delim, delim_opt, seed):
        rng = random.Random(seed)
        rs = rows(rng, 1500)
        nul_rows = set(rng.sample(range(len(rs)), 20))
        rep, got = self.run_csv(encode(rs, delim, nul_rows), delim_opt)
        self.assertEqual((rep["accepted"], rep["rejected"]), (1500 - 20, 20), rep)
        self.assertEqual(rep["rejected_by_code"], {"bad_text": 20}, rep)
        want = [r for i, r in enumerate(rs) if i not in nul_rows]
        self.assertEqual(len(got), len(want))
        for g, w in zip(got, want):
            for f in TEXT_FIELDS:
                self.assertEqual(g[f], w[f], (g["ID"], f))

    def test_comma(self):
        self.check_random(",", "", 1)

    def test_tab_delimiter_inside_quotes(self):
        self.check_random("\t", ", delimiter: tab", 2)

    def test_semicolon(self):
        self.check_random(";", ", delimiter: \";\"", 3)

    def test_default_with_quote_is_escaped(self):
        rng = random.Random(4)
        rs = rows(rng, 50)
        for r in rs:
            r["NOTES"] = ""
            r["CUSTOMER_NAME"] = "plain name"
        mapping = """    mapping:
      defaults: {NOTES: 'say "hi" \\\\ there'}
"""
        rep, got = self.run_csv(encode(rs, ","), "", mapping)
        self.assertEqual(rep["accepted"], 50, rep)
        for g in got:
            self.assertEqual(g["NOTES"], 'say "hi" \\\\ there')


if __name__ == "__main__":
    import unittest
    unittest.main()
