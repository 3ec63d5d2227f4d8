"""paysync report / run --html: one self-contained HTML file (issue 17 items 1 and 5).

Its figures are checked against `status --json`, `export` and the run's JSON report; it is
parsed as XML (well-formed) and walked for external references; values from sheet cells are
escaped (an injection attempt stays text); and it is rendered in headless Chromium (skipped
with a message when absent): no console message, one bar per day of the window, and a
screenshot saved under the build dir (test-artifacts/)."""
import collections
import csv
import datetime
import decimal
import html.parser
import io
import json
import os
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import pslib

import pgcluster

DS = "01_2024_Kuje"
ARTIFACTS = os.path.join(os.environ.get("PS_BUILD_DIR") or tempfile.gettempdir(), "test-artifacts")


class Page(html.parser.HTMLParser):
    """Every element with its attributes and the ids of the <svg> and <table class> around it,
    plus the text of every element."""

    def __init__(self, text):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, attrs, svg id, table class)
        self.stack = []
        self.svg = None
        self.table = []
        self.text = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svg = a.get("id")
        if tag == "table":
            self.table.append(a.get("class"))
        self.elements.append((tag, a, self.svg, self.table[-1] if self.table else None))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None
        if tag == "table" and self.table:
            self.table.pop()

    def handle_data(self, data):
        self.text.append(data)

    def bars(self, svg_id):
        return [a for t, a, s, _ in self.elements
                if t == "rect" and s == svg_id and "bar" in a.get("class", "").split()]

    def first(self, tag, cls):
        for t, a, _, _ in self.elements:
            if t == tag and cls in a.get("class", "").split():
                return a
        return None


def table_rows(text, cls):
    """Rows of the first <table class=cls> as lists of cell texts (tbody only)."""
    root = ET.fromstring(text)
    for t in root.iter("table"):
        if t.get("class") == cls:
            body = t.find("tbody")
            return [["".join(td.itertext()) for td in tr] for tr in body.findall("tr")]
    return None


class ReportHtml(pslib.Case):
    def sample(self):
        """The README's sample job in a temp copy of config/; returns the config path."""
        self.work = self.path("repo")
        return pslib.sample_config(self.work)

    def report(self, cfg, *args, name="report.html"):
        out = self.path(name)
        r = pslib.run("report", cfg, "--output", out, *args)
        self.assertEqual(r.rc, 0, r)
        self.assertIn("wrote the report of", r.err)
        with open(out, encoding="utf-8") as f:
            return f.read()

    def check_self_contained(self, text):
        """Well-formed (parses as XML), and nothing that fetches or runs anything."""
        ET.fromstring(text)
        page = Page(text)
        for tag, a, _, _ in page.elements:
            self.assertNotIn(tag, ("script", "img", "iframe", "link", "object", "embed", "image",
                                   "use", "audio", "video", "source", "form", "base"), a)
            for k, v in a.items():
                self.assertFalse(k.startswith("on"), (tag, a))
                if k in ("src", "srcset", "action", "xlink:href", "poster", "data"):
                    self.fail("external reference %s=%r on <%s>" % (k, v, tag))
                if k == "href":
                    self.assertTrue(v.startswith("#"), (tag, a))
        # the SVG namespace is a name, not a fetch
        low = text.lower().replace('xmlns="http://www.w3.org/2000/svg"', "")
        for bad in ("url(", "@import", "javascript:", "http://", "https://", "//"):
            self.assertNotIn(bad, low)
        return page

    def export_rows(self, cfg):
        r = pslib.run("export", cfg, "--dataset", DS, "--format", "csv")
        self.assertEqual(r.rc, 0, r)
        return list(csv.DictReader(io.StringIO(r.out)))

    def test_sample_figures_equal_status_export_and_run_report(self):
        cfg = self.sample()
        r = pslib.run("run", cfg, "--report", self.path("r.json"))
        self.assertEqual(r.rc, 0, r)
        with open(self.path("r.json")) as f:
            run_rep = json.load(f)["datasets"][0]
        text = self.report(cfg)
        page = self.check_self_contained(text)
        rows = self.export_rows(cfg)
        status = json.loads(pslib.run("status", cfg, "--json").out)["datasets"][0]

        # Payments per day: one bar per day from the first to the last day with payments,
        # each with export's count for that UTC day; a day without any is a gap.
        def day(ts):
            t = datetime.datetime.fromisoformat(ts.replace("Z", "+00:00"))
            return t.astimezone(datetime.timezone.utc).date()
        per_day = collections.Counter(day(p["TIMESTAMP"]) for p in rows)
        first, last = min(per_day), max(per_day)
        ndays = (last - first).days + 1
        win = page.first("p", "window")
        self.assertEqual((win["data-first-day"], win["data-last-day"], int(win["data-days"])),
                         (first.isoformat(), last.isoformat(), ndays))
        self.assertEqual(int(win["data-payments"]), len(rows))
        self.assertEqual(int(win["data-payments"]), status["payments"])
        store = page.first("p", "store")
        self.assertEqual(int(store["data-payments"]), status["payments"])
        bars = page.bars("payments-0")
        self.assertEqual(len(bars), ndays)
        gaps = 0
        for i, b in enumerate(bars):
            d = first + datetime.timedelta(days=i)
            self.assertEqual(b["data-day"], d.isoformat())
            self.assertEqual(int(b["data-value"]), per_day.get(d, 0), b)
            is_gap = "gap" in b["class"].split()
            self.assertEqual(is_gap, per_day.get(d, 0) == 0, b)
            gaps += is_gap
        self.assertGreater(gaps, 0)  # the sample has days without payments: they stand out
        self.assertIn("Days without payments: %d" % gaps, "".join(page.text))

        # Amount per day by currency: exact sums of export's PAYMENT_AMOUNT.
        amounts = collections.defaultdict(decimal.Decimal)
        currencies = sorted({p["PAYMENT_CURRENCY"] for p in rows})
        for p in rows:
            amounts[(p["PAYMENT_CURRENCY"], day(p["TIMESTAMP"]))] += decimal.Decimal(p["PAYMENT_AMOUNT"])
        for ci, cur in enumerate(currencies):
            cb = page.bars("amount-0-%d" % ci)
            self.assertEqual(len(cb), ndays)
            for i, b in enumerate(cb):
                d = first + datetime.timedelta(days=i)
                self.assertEqual(decimal.Decimal(b["data-value"]), amounts.get((cur, d), 0), b)

        # Counts by transaction type.
        types = collections.Counter(p["TRANSACTION_TYPE"] for p in rows)
        got = {r[0]: int(r[1].replace(",", "")) for r in table_rows(text, "types")}
        self.assertEqual(got, dict(types))

        # The last run: outcome and counts as status shows them.
        runs = table_rows(text, "runs")
        lr = status["last_run"]
        c = lr["counts"]
        self.assertEqual(runs[0][:2], [lr["started"], "ok"])
        self.assertEqual([int(v.replace(",", "")) for v in runs[0][3:14]],
                         [c["read"], c["accepted"], c["rejected"], c["blank"], c["duplicates"],
                          c["filtered"], c["warnings"], lr["changes"]["new"],
                          lr["changes"]["changed"], lr["changes"]["unchanged"],
                          lr["changes"]["vanished"]])

        # Rejects and warnings by code: the run's report.
        got = {r[0]: int(r[1]) for r in table_rows(text, "rejects-by-code")}
        self.assertEqual(got, run_rep["rejected_by_code"])
        got = {r[0]: int(r[1]) for r in table_rows(text, "warnings-by-code")}
        self.assertEqual(got, run_rep["warnings_by_code"])

        # Problems by column and the first rejected rows, from the rejects file: each cell
        # reference is the column's letters and the row, and the value is the sheet's cell.
        rejects = pslib.read_jsonl(os.path.join(self.work, "out", "rejects.jsonl"))
        by_col = collections.Counter()
        for rej in rejects:
            for p in rej["problems"]:
                by_col[p.get("column", "(row)")] += 1
        got = {r[0]: int(r[3]) for r in table_rows(text, "columns")}
        self.assertEqual(got, dict(by_col))
        with open(os.path.join(self.work, "config", "sample", "payments.csv"), newline="",
                  encoding="utf-8") as f:
            src = list(csv.reader(f))
        shown = [r for r in table_rows(text, "rejects")]
        self.assertIn("First %d rejected rows of %d" % (len(rejects), run_rep["rejected"]),
                      "".join(page.text))
        with_cell = 0
        row = None
        for r in shown:
            if len(r) == 6:  # the first problem of a row carries the row and its cells
                row, cell, value = int(r[0]), r[1], r[4]
            else:
                cell, value = r[0], r[3]
            if cell:
                with_cell += 1
                letters = cell.rstrip("0123456789")
                self.assertEqual(cell, "%s%d" % (letters, row))
                col = 0
                for ch in letters:
                    col = col * 26 + ord(ch) - 64
                self.assertEqual(value, src[row - 1][col - 1], r)
        self.assertGreater(with_cell, 0)
        self.assertEqual({int(r[0]) for r in shown if len(r) == 6}, {j["row"] for j in rejects})

        # No vanished or changed payments in a first load.
        self.assertEqual(page.first("table", "vanished"), None)
        self.assertIn("Vanished: 0", "".join(page.text))

    def test_window_days_and_changes_of_the_last_run(self):
        cfg = self.sample()
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        rows = self.export_rows(cfg)
        # the second run: one payment gone, one with another amount
        path = os.path.join(self.work, "config", "sample", "payments.csv")
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        gone, changed = rows[0]["ID"], rows[1]["ID"]
        keep = [l for l in lines if not l.startswith(gone + ",")]
        self.assertEqual(len(keep), len(lines) - 1)
        keep = [l.replace(changed + ",", changed + ",", 1) for l in keep]
        src = "\n".join(keep)
        idx = src.index(changed + ",")
        line_end = src.index("\n", idx)
        line = src[idx:line_end]
        cells = next(csv.reader([line]))
        cells[2] = "777"  # the amount column of the sample
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(cells)
        src = src[:idx] + out.getvalue() + src[line_end:]
        with open(path, "w", encoding="utf-8") as f:
            f.write(src)
        r = pslib.run("run", cfg, "--report", self.path("r2.json"), "--html", self.path("run.html"))
        self.assertEqual(r.rc, 0, r)
        with open(self.path("r2.json")) as f:
            ch = json.load(f)["datasets"][0]["changes"]
        self.assertEqual((ch["vanished"], ch["changed"]), (1, 1), ch)
        with open(self.path("run.html"), encoding="utf-8") as f:
            text = f.read()
        self.check_self_contained(text)
        self.assertEqual([r[0] for r in table_rows(text, "vanished")], [gone])
        self.assertEqual([r[0] for r in table_rows(text, "changed")], [changed])
        self.assertEqual(table_rows(text, "changed")[0][2], "777")
        self.assertEqual(len(table_rows(text, "runs")), 2)

        # A window wider than the data: every day a bar, the days outside the data gaps.
        first = min(r["TIMESTAMP"][:10] for r in rows)
        d0 = datetime.date.fromisoformat(first) - datetime.timedelta(days=3)
        d1 = d0 + datetime.timedelta(days=59)
        text = self.report(cfg, "--dataset", DS, "--from", d0.isoformat(), "--to", d1.isoformat(),
                           name="window.html")
        page = self.check_self_contained(text)
        bars = page.bars("payments-0")
        self.assertEqual(len(bars), 60)
        self.assertEqual([b["data-day"] for b in bars[:1] + bars[-1:]], [d0.isoformat(), d1.isoformat()])
        self.assertTrue(all("gap" in b["class"] for b in bars[:3]))
        self.assertEqual(int(page.first("p", "window")["data-payments"]), len(rows) - 1)

    def test_errors(self):
        cfg = self.sample()
        out = self.path("x.html")
        # never run: the section says so, exit 0
        r = pslib.run("report", cfg, "--output", out)
        self.assertEqual(r.rc, 0, r)
        with open(out, encoding="utf-8") as f:
            self.assertIn("Not run yet", f.read())
        os.unlink(out)
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        cases = [
            (["--output", out, "--dataset", "nope"], 2, "report: %s: unknown dataset 'nope'" % cfg),
            ([], 2, "report: --output FILE is required"),
            (["--output", out, "--from", "2024-03-05", "--to", "2024-03-01"], 2,
             "report: FROM must not be after TO (--from 2024-03-05, --to 2024-03-01)"),
            (["--output", out, "--from", "yesterday"], 2, "--from 'yesterday': not a time"),
            (["--output", out, "--from", "2000-01-01", "--to", "2024-01-01"], 2,
             "the window has 8767 days; the report shows at most 3660"),
            (["--output", self.path("no", "such", "dir", "x.html")], 1, "report: "),
            (["--output", self.dir], 1, "is a directory, not a regular file"),
        ]
        for args, rc, msg in cases:
            r = pslib.run("report", cfg, *args)
            self.assertEqual(r.rc, rc, (args, r))
            self.assertIn(msg, r.err, (args, r))
            self.assertFalse(os.path.exists(out), args)  # nothing written, nothing left
            self.assertEqual([f for f in os.listdir(self.dir) if ".tmp-" in f], [])
        r = pslib.run("run", cfg, "--dry-run", "--html", out)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--html cannot be used with --dry-run", r.err)
        r = pslib.run("run", cfg, "--html", self.dir)
        self.assertEqual(r.rc, 2, r)
        self.assertIn("--html: refusing to replace", r.err)
        # a damaged store: exit 1, no file
        db = os.path.join(self.work, "var", "paysync.db")
        with open(db, "r+b") as f:
            f.seek(0)
            f.write(b"not a database at all, sorry" * 4)
        r = pslib.run("report", cfg, "--output", out)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("report: dataset '%s'" % DS, r.err)
        self.assertFalse(os.path.exists(out))

    def test_sheet_cells_cannot_inject_html(self):
        attacks = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>',
                   "</title><style>body{display:none}</style>", "&lt;b&gt; &amp; ' \"",
                   "]]><!--", "\x01\x7f bad"]
        hdr = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
               "CUSTOMER_NAME\n")
        body = ""
        for i, a in enumerate(attacks):
            q = '"%s"' % a.replace('"', '""')
            # accepted (the attack in METER_ID and CUSTOMER_ID) and rejected (in the currency)
            body += "A%d,2024-03-0%dT10:00:00Z,10,NGN,FULL_PAYMENT,%s,%s,%s\n" % (i, i + 1, q, q, q)
            body += "R%d,2024-03-01T10:00:00Z,10,%s,FULL_PAYMENT,%s,M,%s\n" % (i, q, q, q)
        self.write("in.csv", hdr + body)
        cfg = self.config(
            "sinks:\n  db: {plugin: sqlite, path: %s}\n"
            "datasets:\n  - name: d\n    target: {level: project, id: s}\n"
            "    source: {plugin: csvfile, path: %s}\n    sinks: [db]\n    rejects: %s\n"
            "    mapping: {defaults: {CUSTOMER_CATEGORY: Residential}}\n"
            % (pslib.yaml_str(self.path("db.sqlite")), pslib.yaml_str(self.path("in.csv")),
               pslib.yaml_str(self.path("rejects.jsonl"))))
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        # change every accepted payment: the attack shows in the changed payments too
        self.write("in.csv", hdr + body.replace(",10,NGN,", ",11,NGN,"))
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        text = self.report(cfg)
        page = self.check_self_contained(text)
        alltext = "".join(page.text)
        for a in attacks[:4]:
            self.assertIn(a, alltext)  # shown as text, exactly
        self.assertIn("\ufffd bad", alltext)  # control characters replaced
        self.assertNotIn("<script", text)
        self.assertNotIn("<img", text)
        self.assertEqual(len(table_rows(text, "changed")), len(attacks))
        self.assertEqual(len([r for r in table_rows(text, "rejects") if len(r) == 6]), len(attacks))

    def test_currencies_and_types_in_byte_order(self):
        hdr = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
               "CUSTOMER_NAME\n")
        # the first day has only NGN and FULL_PAYMENT: KES and DISCOUNT come later
        self.write("in.csv", hdr + "A,2024-03-01T10:00:00Z,10,NGN,FULL_PAYMENT,C,M,N\n"
                   "B,2024-03-02T10:00:00Z,2.5,KES,DISCOUNT,C,M,N\n"
                   "C,2024-03-02T11:00:00Z,1,NGN,DISCOUNT,C,M,N\n")
        cfg = self.config(
            "sinks:\n  db: {plugin: sqlite, path: %s}\n"
            "datasets:\n  - name: d\n    target: {level: project, id: s}\n"
            "    source: {plugin: csvfile, path: %s}\n    sinks: [db]\n"
            "    mapping: {defaults: {CUSTOMER_CATEGORY: Residential}}\n"
            % (pslib.yaml_str(self.path("db.sqlite")), pslib.yaml_str(self.path("in.csv"))))
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        text = self.report(cfg)
        page = Page(text)
        self.assertEqual([b["data-value"] for b in page.bars("amount-0-0")], ["0.0", "2.5"])  # KES
        self.assertEqual([b["data-value"] for b in page.bars("amount-0-1")], ["10", "1"])  # NGN
        self.assertEqual([r[0] for r in table_rows(text, "types")], ["DISCOUNT", "FULL_PAYMENT"])
        self.assertEqual(table_rows(text, "types")[0][2:], ["2.5", "1"])

    def test_headless_chromium(self):
        chromium = shutil.which("chromium") or shutil.which("chromium-browser")
        if not chromium:
            self.skipTest("chromium is not installed (Debian package `chromium`, installed by "
                          "scripts/install-test-deps.sh): the report is not rendered")
        cfg = self.sample()
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        out = self.path("report.html")
        text = self.report(cfg)
        page = Page(text)
        ndays = int(page.first("p", "window")["data-days"])
        os.makedirs(ARTIFACTS, exist_ok=True)
        shot = os.path.join(ARTIFACTS, "report-sample.png")
        if os.path.exists(shot):
            os.unlink(shot)

        def render(url, *extra):
            prof = tempfile.mkdtemp(prefix="paysync-chromium-")
            try:
                p = subprocess.run(
                    [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                     "--user-data-dir=" + prof, "--enable-logging=stderr", "--v=0",
                     "--hide-scrollbars", "--window-size=1280,2400"] + list(extra) + [url],
                    capture_output=True, timeout=120)
            finally:
                shutil.rmtree(prof, ignore_errors=True)
            console = [l for l in p.stderr.decode("utf-8", "replace").splitlines()
                       if ":CONSOLE" in l]
            return p, console

        # The detector sees console messages: a page with a blocked fetch and a script error.
        self.write("control.html", "<!DOCTYPE html><html><head><meta http-equiv="
                   "\"Content-Security-Policy\" content=\"default-src 'none'\"/></head><body>"
                   "<img src=\"http://127.0.0.1:9/x.png\"/></body></html>")
        _, console = render("file://" + self.path("control.html"), "--dump-dom")
        self.assertTrue(console, "no console message seen for the control page: the check "
                                 "would not see one either")

        p, console = render("file://" + out, "--dump-dom")
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(console, [])
        dom = Page(p.stdout.decode("utf-8"))
        self.assertEqual(len(dom.bars("payments-0")), ndays)
        self.assertEqual(len([t for t, _, _, _ in dom.elements if t == "script"]), 0)
        p, console = render("file://" + out, "--screenshot=" + shot)
        self.assertEqual(p.returncode, 0, p.stderr[-2000:])
        self.assertEqual(console, [])
        with open(shot, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        self.assertGreater(os.path.getsize(shot), 10000)
        print("screenshot: %s" % shot)


class PgReport(pslib.Case):
    """The same report from the PostgreSQL store as from SQLite (docs/sinks.md "postgres"):
    its totals go through the payment query (no backend totals), its run codes and the last
    run's changes through its own reader."""

    def test_same_figures_as_sqlite(self):
        if not pgcluster.bindir() or not shutil.which("psql"):
            self.skipTest("PostgreSQL is not installed (Debian's postgresql, installed by "
                          "scripts/install-test-deps.sh): the postgres report is not compared")
        pg = pgcluster.Cluster()
        pg.start_new()
        self.addCleanup(pg.destroy)
        self.work = self.path("repo")
        base = pslib.sample_config(self.work)
        with open(base) as f:
            text = f.read()
        self.assertIn("{plugin: sqlite, path: ../var/paysync.db}", text)
        pgcfg = os.path.join(self.work, "config", "pg.yaml")
        with open(pgcfg, "w") as f:
            f.write(text.replace("{plugin: sqlite, path: ../var/paysync.db}",
                                 "{plugin: postgres, conninfo: %s}" % pslib.yaml_str(pg.conninfo))
                        .replace("../out/", "../out-pg/"))
        src = os.path.join(self.work, "config", "sample", "payments.csv")
        for cfg in (base, pgcfg):
            r = pslib.run("run", cfg)
            self.assertEqual(r.rc, 0, r)
        with open(src, encoding="utf-8") as f:
            lines = f.read().split("\n")
        # the second run: the first payment row gone, another's amount changed
        rows = [i for i, l in enumerate(lines) if l.startswith("PAY-")]
        gone = lines[rows[0]].split(",")[0]
        del lines[rows[0]]
        cells = next(csv.reader([lines[rows[5]]]))
        cells[2] = "4242"
        out = io.StringIO()
        csv.writer(out, lineterminator="").writerow(cells)
        lines[rows[5]] = out.getvalue()
        with open(src, "w", encoding="utf-8") as f:
            f.write("\n".join(lines))
        pages = []
        for cfg in (base, pgcfg):
            r = pslib.run("run", cfg)
            self.assertEqual(r.rc, 0, r)
            self.assertIn("vanished 1", r.out)
            out = self.path(os.path.basename(cfg) + ".html")
            r = pslib.run("report", cfg, "--output", out)
            self.assertEqual(r.rc, 0, r)
            with open(out, encoding="utf-8") as f:
                pages.append(f.read())
        figures = []
        for text in pages:
            page = Page(text)
            bars = [(a["data-day"], a["data-value"], a["class"]) for t, a, svg, _ in page.elements
                    if t == "rect" and svg and "bar" in a.get("class", "")]
            tables = {c: table_rows(text, c) for c in ("types", "rejects-by-code",
                                                       "warnings-by-code", "columns", "rejects",
                                                       "vanished", "changed")}
            runs = [[r[1]] + r[3:14] for r in table_rows(text, "runs")]  # outcome and counts
            figures.append((bars, tables, runs, page.first("p", "store")["data-payments"]))
        self.assertEqual(figures[0], figures[1])
        self.assertEqual([r[0] for r in figures[1][1]["vanished"]], [gone])
        self.assertEqual(len(figures[1][1]["changed"]), 1)
        self.assertGreater(len(figures[1][0]), 20)


if __name__ == "__main__":
    pslib.main()
