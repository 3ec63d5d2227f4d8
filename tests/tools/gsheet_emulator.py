#!/usr/bin/env python3
"""A local stand-in for Google's Sheets API v4, OAuth token endpoint and CSV export.

Stdlib only. Listens on 127.0.0.1 and a random port, written to --port-file (and printed).

Sheets come from fixture JSON files (--sheet FILE, repeatable):
    {"spreadsheetId": "abc", "title": "...", "timeZone": "Africa/Lagos", "locale": "en_US",
     "link_readable": true, "shared_with": ["*"],
     "tabs": [{"title": "Payments", "sheetId": 0, "sheetType": "GRID", "rowCount": 1000,
               "columnCount": 26, "rows": [[...], [], ...]}]}
from a generator (--generate N: spreadsheet "generated", tab "Payments", a header row and N
payment rows x 21 columns; their raw-value JSON is encoded once at start-up into one buffer,
about 205 bytes a row, so a values page is a slice of it: the emulator keeps up with the
client, bench/run's 500,000-row sheet included), or from a recorded
gspread cassette (--replay FILE: its metadata, values and error answers are served again).
A fixture cell may be {"v": raw, "f": "displayed"} (a number or date with a display format):
FORMATTED_VALUE reads and the CSV export send f, the other reads v.

Endpoints:
    GET  /v4/spreadsheets/{id}                 metadata
    GET  /v4/spreadsheets/{id}/values/{range}  one ValueRange
    GET  /v4/spreadsheets/{id}/values:batchGet?ranges=..&ranges=..
    POST /token                                OAuth JWT-bearer grant (RS256 checked with
                                               `openssl dgst -sha256 -verify --public-key`)
    GET  /spreadsheets/d/{id}/export?format=csv&gid=N   307 -> /_download/... -> text/csv
Writes (the gsheet_writer sink; service-account tokens with the read-write scope only, and a
sheet whose "editors" (default ["*"]) hold the account's e-mail):
    PUT  /v4/spreadsheets/{id}/values/{range}?valueInputOption=RAW   values.update
    POST /v4/spreadsheets/{id}/values/{range}:clear                  values.clear
    POST /v4/spreadsheets/{id}/values:batchUpdate                    values.batchUpdate
    POST /v4/spreadsheets/{id}:batchUpdate    addSheet, updateSheetProperties, deleteSheet
Every write is applied whole or not at all (a batchUpdate's requests in order on a copy), and
refused as Google does: a body over --max-body bytes (10 MB), a result over --max-cells cells
(10,000,000), values outside the range or the grid, a duplicate or missing tab, removing the
last visible tab, and more than --write-limit writes per --write-window seconds (429 with
Retry-After: 1; 0 = no limit).
    GET  /_control/sheet/{id}   JSON: the spreadsheet's tabs with their properties and rows
    POST /_control/faults   body: JSON list of faults (replaces the list)
    GET  /_control/stats    JSON: request counts per kind, faults served, requests seen
    POST /_control/reset    clears faults and counters

Faults (--fault WHEN:KIND[:COUNT[:SKIP]] or the control endpoint with
{"when", "kind", "count", "skip"}): WHEN is metadata, values, batch, token, export, write
(the values writes), structure (spreadsheets:batchUpdate) or any;
the first SKIP matching requests pass, the next COUNT (default 1; -1 = forever) fail with KIND:
    429       429 RESOURCE_EXHAUSTED with Retry-After: 1
    429bare   429 RESOURCE_EXHAUSTED without Retry-After
    500, 503  INTERNAL / UNAVAILABLE
    503wait   503 UNAVAILABLE with Retry-After: --stall-seconds (a long wait before the retry)
    stall     sends nothing for --stall-seconds (default 30), then closes
    truncate  200 with the JSON cut in half (Content-Length matches the cut body)
    cut       200 whose connection closes before Content-Length bytes were sent (a write is
              applied first: the answer is lost, not the change)
    reset     the connection is reset (TCP RST, SO_LINGER 0) before any answer
    html      200 text/html error page;  html502: 502 text/html
    range_tab    200 values of another tab of the sheet, its `range` naming that tab
    range_shift  200 values starting 2 columns right and 4 rows down (`range` C5:... for A1:...)
    401       401 UNAUTHENTICATED (as for an expired token)
    403       403 PERMISSION_DENIED "The caller does not have permission"
    403api    403 "Google Sheets API has not been used in project ... or it is disabled"
    404       404 NOT_FOUND
    badgrant  400 {"error": "invalid_grant", ...} (token endpoint shape)
"""
import argparse
import array
import base64
import copy
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SCOPE = "https://www.googleapis.com/auth/spreadsheets.readonly"
WRITE_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
FIELDS = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "TRANSACTION_CHARGES", "REFERENCE_ID", "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME",
          "CUSTOMER_PHONE", "CUSTOMER_CATEGORY", "FINANCING_ID", "AGENT_ID", "LATITUDE",
          "LONGITUDE", "UTILITY_ID", "FAILED_BATTERY_CAPACITY_COUNT", "ACCOUNT_TYPE", "STATUS",
          "NOTES"]

API_DISABLED_MSG = ("Google Sheets API has not been used in project 123456789012 before or it is "
                    "disabled. Enable it by visiting https://console.developers.google.com/apis/"
                    "api/sheets.googleapis.com/overview?project=123456789012 then retry. If you "
                    "enabled this API recently, wait a few minutes for the action to propagate to "
                    "our systems and retry.")


def gerror(code, status, message, details=None):
    e = {"code": code, "message": message, "status": status}
    if details is not None:
        e["details"] = details
    return json.dumps({"error": e}, indent=2).encode()


def api_disabled_body():
    url = "https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project=123456789012"
    return gerror(403, "PERMISSION_DENIED", API_DISABLED_MSG, [
        {"@type": "type.googleapis.com/google.rpc.Help",
         "links": [{"description": "Google developers console API activation", "url": url}]},
        {"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "SERVICE_DISABLED",
         "domain": "googleapis.com",
         "metadata": {"service": "sheets.googleapis.com", "consumer": "projects/123456789012"}}])


HTML_PAGE = (b"<!DOCTYPE html><html lang=en><meta charset=utf-8><title>Error 502 (Server Error)"
             b"</title><p><b>502.</b> <ins>That\xe2\x80\x99s an error.</ins><p>The server "
             b"encountered a temporary error. <ins>That\xe2\x80\x99s all we know.</ins></html>")
SIGNIN_PAGE = (b"<!DOCTYPE html><html><head><title>Google Sheets - sign in</title></head>"
               b"<body>Sign in to continue to Sheets</body></html>")


# ---- sheets -------------------------------------------------------------------------------

def gen_row(i):
    """Data row i (1-based) of the generated sheet: 21 cells as Google sends them."""
    return ["P%07d" % i, 45292 + (i % 1440) / 1440.0 + i // 1440, 1500.5 + (i % 100), "NGN",
            "FULL_PAYMENT", 10, "REF%d" % i, "C%05d" % (i % 5000), "0%07d" % (i % 5000),
            "Customer %d" % (i % 5000), "+23480%08d" % (i % 100000000), "Residential", "",
            "A%d" % (i % 50), 6.5 + (i % 10) / 100.0, 3.4, "U1", i % 3, "Prepaid", "OK", ""]


# gen_row(i) as json.dumps(..., ensure_ascii=False) writes it under any render but
# FORMATTED_VALUE, with the trailing empty NOTES cell left out (as render_values does):
# %r of a float is the repr json uses. Checked against json.dumps at start-up (GenRows).
GEN_ROW_JSON = ('["P%07d", %r, %r, "NGN", "FULL_PAYMENT", 10, "REF%d", "C%05d", "0%07d", '
                '"Customer %d", "+23480%08d", "Residential", "", "A%d", %r, 3.4, "U1", %d, '
                '"Prepaid", "OK"]')


def gen_row_json(i):
    return GEN_ROW_JSON % (i, 45292 + (i % 1440) / 1440.0 + i // 1440, 1500.5 + (i % 100), i,
                           i % 5000, i % 5000, i % 5000, i % 100000000, i % 50,
                           6.5 + (i % 10) / 100.0, i % 3)


class GenRows:
    """The raw-value rows 1..n+1 of a generated tab (header, then gen_row(1..n)) encoded once:
    one bytes buffer of the rows' JSON arrays joined by ',' and the offset of each row, so the
    rows r1..r2 of a page are one slice."""

    def __init__(self, n):
        for i in list(range(1, min(n, 50) + 1)) + [n]:  # the shortcut writes what json does
            if i >= 1 and gen_row_json(i) != json.dumps(gen_row(i)[:-1], ensure_ascii=False):
                raise AssertionError("gen_row_json(%d) differs from json.dumps(gen_row)" % i)
        texts = [json.dumps(FIELDS, ensure_ascii=False)]
        texts.extend(map(gen_row_json, range(1, n + 1)))
        self.off = array.array("q", [0])
        pos = 0
        for t in texts:  # ASCII: characters are bytes
            pos += len(t) + 1
            self.off.append(pos)
        self.buf = ",".join(texts).encode("ascii")
        self.nrows = n + 1

    def rows(self, r1, r2):
        """JSON of sheet rows r1..r2 (1-based, clipped to the tab) joined by ',', or b''."""
        r2 = min(r2, self.nrows)
        if r1 > r2:
            return b""
        return self.buf[self.off[r1 - 1]:self.off[r2] - 1]


class Tab:
    def __init__(self, title, sheet_id, index, rows=None, row_count=None, col_count=26,
                 sheet_type="GRID", generator=None, first_row=1):
        self.title = title
        self.sheet_id = sheet_id
        self.index = index
        self.rows = rows or []
        self.first_row = first_row  # sheet row of rows[0]
        self.generator = generator  # (n) -> rows are header + n generated rows
        self.encoded = None  # GenRows of a generated tab, set by encode_generated()
        self.sheet_type = sheet_type
        self.hidden = False
        if generator is not None:
            row_count = row_count or generator + 1
        self.row_count = row_count if row_count is not None else max(1000, len(self.rows))
        self.col_count = col_count

    def encode_generated(self):
        """Encodes a generated tab's raw values once (GenRows); materialise() drops them."""
        if self.generator is not None:
            self.encoded = GenRows(self.generator)

    def row(self, r):
        """Cells of sheet row r (1-based), ragged like Google's answers."""
        if self.generator is not None:
            if r == 1:
                return list(FIELDS)
            if 2 <= r <= self.generator + 1:
                return gen_row(r - 1)
            return []
        i = r - self.first_row
        return list(self.rows[i]) if 0 <= i < len(self.rows) else []


class Sheet:
    def __init__(self, sid, title="Payments", tz="Etc/GMT", locale="en_US", tabs=(),
                 link_readable=True, shared_with=("*",), error=None, editors=("*",)):
        self.id = sid
        self.title = title
        self.tz = tz
        self.locale = locale
        self.tabs = list(tabs)
        self.link_readable = link_readable
        self.shared_with = list(shared_with)
        self.error = error  # (status, content_type, body) replayed for every request
        self.editors = list(editors)

    def metadata(self):
        return {"spreadsheetId": self.id,
                "properties": {"title": self.title, "locale": self.locale, "timeZone": self.tz},
                "sheets": [{"properties": tab_props(t)}
                           for t in sorted(self.tabs, key=lambda t: t.index)]}


def tab_props(t):
    p = {"sheetId": t.sheet_id, "title": t.title, "index": t.index, "sheetType": t.sheet_type,
         "gridProperties": {"rowCount": t.row_count, "columnCount": t.col_count}}
    if getattr(t, "hidden", False):
        p["hidden"] = True
    return p


def load_fixture(path):
    with open(path, encoding="utf-8") as f:
        d = json.load(f)
    tabs = [Tab(t["title"], t.get("sheetId", i), t.get("index", i), rows=t.get("rows", []),
                row_count=t.get("rowCount"), col_count=t.get("columnCount", 26),
                sheet_type=t.get("sheetType", "GRID"))
            for i, t in enumerate(d.get("tabs", []))]
    return Sheet(d["spreadsheetId"], d.get("title", "Payments"), d.get("timeZone", "Etc/GMT"),
                 d.get("locale", "en_US"), tabs, d.get("link_readable", True),
                 d.get("shared_with", ["*"]), editors=d.get("editors", ["*"]))


def load_replay(path):
    """Sheets rebuilt from a recorded cassette: metadata, the widest values read per tab,
    and recorded error answers for spreadsheets that only ever answered with an error."""
    with open(path, encoding="utf-8") as f:
        cas = json.load(f)
    sheets = {}
    errors = {}
    values = {}  # (sid, title) -> (first_row, rows, nrows_in_range)
    for it in cas.get("interactions", []):
        req, resp = it["request"], it["response"]
        parts = req["path"].split("/")
        if len(parts) < 4 or parts[1] != "v4" or parts[2] != "spreadsheets":
            continue
        sid = parts[3]
        rest = parts[4:]
        status = resp["status"]
        if not rest:
            if status == 200:
                m = json.loads(resp["body"])
                p = m.get("properties", {})
                tabs = []
                for i, s in enumerate(m.get("sheets", [])):
                    sp = s["properties"]
                    gp = sp.get("gridProperties", {})
                    tabs.append(Tab(sp["title"], sp.get("sheetId", i), sp.get("index", i),
                                    row_count=gp.get("rowCount", 1000),
                                    col_count=gp.get("columnCount", 26),
                                    sheet_type=sp.get("sheetType", "GRID")))
                sheets[sid] = Sheet(sid, p.get("title", ""), p.get("timeZone", "Etc/GMT"),
                                    p.get("locale", "en_US"), tabs)
            else:
                errors[sid] = (status, resp["content_type"], resp["body"].encode())
        elif rest[0] == "values" and status == 200:
            vr = json.loads(resp["body"])
            title, r1, _, r2 = parse_a1(vr.get("range", ""))
            rows = vr.get("values", [])
            old = values.get((sid, title))
            if old is None or len(rows) > len(old[1]):
                values[(sid, title)] = (r1 or 1, rows)
        elif rest[0].startswith("values:batchGet") and status == 200:
            for vr in json.loads(resp["body"]).get("valueRanges", []):
                title, r1, _, _ = parse_a1(vr.get("range", ""))
                # batchGet of single columns: merge columns into rows
                rows = vr.get("values", [])
                key = (sid, title)
                base = values.get(key, (1, []))[1]
                merged = [list(r) for r in base]
                col = column_of(vr.get("range", ""))
                for ri, row in enumerate(rows):
                    while len(merged) <= ri:
                        merged.append([])
                    while len(merged[ri]) < col:
                        merged[ri].append("")
                    if row:
                        if len(merged[ri]) == col:
                            merged[ri].append(row[0])
                        else:
                            merged[ri][col] = row[0]
                values[key] = (r1 or 1, merged)
    for (sid, title), (r1, rows) in values.items():
        sh = sheets.get(sid)
        if not sh:
            continue
        tab = next((t for t in sh.tabs if t.title == title), None)
        if tab is None:  # created by a request the cassette does not hold (gspread's POSTs)
            idx = len(sh.tabs)
            tab = Tab(title, 1000 + idx, idx, row_count=1000, col_count=26)
            sh.tabs.append(tab)
        tab.rows, tab.first_row = rows, r1
    for sid, e in errors.items():
        if sid not in sheets:
            sheets[sid] = Sheet(sid, error=e)
    return sheets


def col_number(letters):
    n = 0
    for ch in letters.upper():
        n = n * 26 + (ord(ch) - 64)
    return n


def column_of(a1):
    _, _, c1, _ = parse_a1(a1, want_cols=True)
    return (c1 or 1) - 1


def parse_a1(a1, want_cols=False):
    """'Tab'!A1:C5 -> (title, r1, c1 or None, r2). Unquoted forms accepted too."""
    title, cells = a1, ""
    if a1.startswith("'"):
        i, out = 1, []
        while i < len(a1):
            if a1[i] == "'":
                if i + 1 < len(a1) and a1[i + 1] == "'":
                    out.append("'")
                    i += 2
                    continue
                break
            out.append(a1[i])
            i += 1
        title = "".join(out)
        rest = a1[i + 1:]
        cells = rest[1:] if rest.startswith("!") else ""
    elif "!" in a1:
        title, cells = a1.rsplit("!", 1)
    if not cells:
        return (title, None, None, None) if not want_cols else (title, None, None, None)
    lo, _, hi = cells.partition(":")

    def split(ref):
        letters = "".join(ch for ch in ref if ch.isalpha())
        digits = "".join(ch for ch in ref if ch.isdigit())
        return (col_number(letters) if letters else None, int(digits) if digits else None)

    c1, r1 = split(lo)
    c2, r2 = split(hi) if hi else (c1, r1)
    if want_cols:
        return title, r1, c1, r2
    return title, r1, c2, r2


def shown(v, render):
    """A cell as sent: {"v": raw, "f": "displayed"} cells (a number or date with a display
    format) give f for FORMATTED_VALUE and v otherwise; other cells are what they are."""
    if isinstance(v, dict):
        return v.get("f", "") if render == "FORMATTED_VALUE" else v.get("v", "")
    return v


def quote_title(t):
    simple = t.replace("_", "").isalnum() and t.isascii() and not t[:1].isdigit()
    return t if simple else "'" + t.replace("'", "''") + "'"


def col_letters(n):
    s = ""
    while n > 0:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


# ---- writes -------------------------------------------------------------------------------

class WriteError(Exception):
    """A refused write: the message Google sends with its 400."""


def find_tab(tabs, title):
    return next((t for t in tabs if t.title == title), None)


def materialise(tab):
    """The tab's rows as a plain list from row 1 (a generated tab is copied out)."""
    if tab.generator is not None:
        tab.rows = [tab.row(r) for r in range(1, tab.generator + 2)]
        tab.generator = None
        tab.encoded = None
        tab.first_row = 1
    elif tab.first_row != 1:
        tab.rows = [[] for _ in range(tab.first_row - 1)] + tab.rows
        tab.first_row = 1


def write_values(tabs, a1, values, opt):
    if opt not in ("RAW", "USER_ENTERED"):
        raise WriteError("Invalid valueInputOption: %r" % opt)
    title, r1, c1, r2 = parse_a1(a1, want_cols=True)
    _, _, c2, _ = parse_a1(a1)
    tab = find_tab(tabs, title)
    if tab is None or r1 is None:
        raise WriteError("Unable to parse range: " + a1)
    if r2 > tab.row_count or c2 > tab.col_count:
        raise WriteError("Range (%s) exceeds grid limits. Max rows: %d, max columns: %d"
                         % (a1, tab.row_count, tab.col_count))
    if len(values) > r2 - r1 + 1 or any(len(v) > c2 - c1 + 1 for v in values):
        raise WriteError("Requested writing within range [%s], but tried writing to row [%d]"
                         % (a1, r1 + len(values) - 1))
    materialise(tab)
    for i, row in enumerate(values):
        r = r1 + i
        while len(tab.rows) < r:
            tab.rows.append([])
        cur = list(tab.rows[r - 1])
        while len(cur) < c1 - 1 + len(row):
            cur.append("")
        for j, v in enumerate(row):
            if opt == "USER_ENTERED" and isinstance(v, str):
                try:
                    v = float(v) if "." in v else int(v)
                except ValueError:
                    pass
            cur[c1 - 1 + j] = v
        while cur and cur[-1] in ("", None):
            cur.pop()
        tab.rows[r - 1] = cur


def clear_values(tabs, a1):
    title, r1, c1, r2 = parse_a1(a1, want_cols=True)
    _, _, c2, _ = parse_a1(a1)
    tab = find_tab(tabs, title)
    if tab is None:
        raise WriteError("Unable to parse range: " + a1)
    materialise(tab)
    r1, c1 = r1 or 1, c1 or 1
    r2, c2 = r2 or tab.row_count, c2 or tab.col_count
    for r in range(r1, min(r2, len(tab.rows)) + 1):
        cur = list(tab.rows[r - 1])
        for c in range(c1, min(c2, len(cur)) + 1):
            cur[c - 1] = ""
        while cur and cur[-1] in ("", None):
            cur.pop()
        tab.rows[r - 1] = cur


def structure_update(sheet, tabs, req):
    """spreadsheets:batchUpdate on tabs (a copy), request by request."""
    replies = []
    for i, r in enumerate(req.get("requests", [])):
        where = "Invalid requests[%d]" % i
        if "addSheet" in r:
            p = r["addSheet"].get("properties", {})
            title = p.get("title") or "Sheet%d" % (len(tabs) + 1)
            if find_tab(tabs, title):
                raise WriteError('%s.addSheet: A sheet with the name "%s" already exists. Please '
                                 'enter another name.' % (where, title))
            gp = p.get("gridProperties", {})
            sid = p.get("sheetId")
            if sid is None:
                sid = max([t.sheet_id for t in tabs] + [0]) + 1000 + len(tabs)
            idx = p.get("index", len(tabs))
            for t in tabs:
                if t.index >= idx:
                    t.index += 1
            t = Tab(title, sid, idx, rows=[], row_count=gp.get("rowCount", 1000),
                    col_count=gp.get("columnCount", 26))
            t.hidden = bool(p.get("hidden", False))
            tabs.append(t)
            replies.append({"addSheet": {"properties": tab_props(t)}})
        elif "updateSheetProperties" in r:
            u = r["updateSheetProperties"]
            p = u.get("properties", {})
            fields = [f.strip() for f in u.get("fields", "").split(",") if f.strip()]
            t = next((x for x in tabs if x.sheet_id == p.get("sheetId")), None)
            if t is None:
                raise WriteError("%s.updateSheetProperties: No grid with id: %s"
                                 % (where, p.get("sheetId")))
            for f in fields:
                if f == "title":
                    other = find_tab(tabs, p.get("title"))
                    if other is not None and other is not t:
                        raise WriteError('%s.updateSheetProperties: A sheet with the name "%s" '
                                         'already exists. Please enter another name.'
                                         % (where, p.get("title")))
                    t.title = p["title"]
                elif f == "hidden":
                    t.hidden = bool(p.get("hidden", False))
                elif f == "index":
                    idx = p.get("index", 0)
                    order = sorted((x for x in tabs if x is not t), key=lambda x: x.index)
                    order.insert(min(idx, len(order)), t)
                    for k, x in enumerate(order):
                        x.index = k
                elif f in ("gridProperties.rowCount", "gridProperties.columnCount"):
                    materialise(t)
                    gp = p.get("gridProperties", {})
                    if f.endswith("rowCount"):
                        t.row_count = gp["rowCount"]
                        del t.rows[t.row_count:]
                    else:
                        t.col_count = gp["columnCount"]
                        t.rows = [row[:t.col_count] for row in t.rows]
                else:
                    raise WriteError("%s.updateSheetProperties: unsupported field %s" % (where, f))
            replies.append({})
        elif "deleteSheet" in r:
            sid = r["deleteSheet"].get("sheetId")
            t = next((x for x in tabs if x.sheet_id == sid), None)
            if t is None:
                raise WriteError("%s.deleteSheet: No sheet with id: %s" % (where, sid))
            if not any(x is not t and not getattr(x, "hidden", False) for x in tabs):
                raise WriteError("%s.deleteSheet: You can't remove all the visible sheets in a "
                                 "document." % where)
            tabs.remove(t)
            for k, x in enumerate(sorted(tabs, key=lambda x: x.index)):
                x.index = k
            replies.append({})
        else:
            raise WriteError("%s: unsupported request %s" % (where, ",".join(r)))
    return {"replies": replies}


# ---- state --------------------------------------------------------------------------------

class State:
    def __init__(self, args):
        self.lock = threading.Lock()
        self.sheets = {}
        self.faults = []
        self.counts = {}
        self.log = []  # (kind, path with key redacted)
        self.tokens = {}  # token -> (email, expiry)
        self.args = args
        self.public_key = args.public_key
        self.api_key = args.api_key
        self.token_ttl = args.token_ttl
        self.stall_seconds = args.stall_seconds
        self.write_times = []

    def add_fault(self, spec):
        f = {"when": spec.get("when", "any"), "kind": str(spec["kind"]),
             "count": int(spec.get("count", 1)), "skip": int(spec.get("skip", 0))}
        self.faults.append(f)

    def take_fault(self, kind):
        with self.lock:
            for f in self.faults:
                if f["when"] not in (kind, "any"):
                    continue
                if f["skip"] > 0:
                    f["skip"] -= 1
                    continue
                if f["count"] == 0:
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                self.counts["fault:" + f["kind"]] = self.counts.get("fault:" + f["kind"], 0) + 1
                return f["kind"]
        return None

    def count(self, kind, path):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.log.append([kind, path])


def b64url_decode(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_rs256(public_key, signing_input, sig):
    with tempfile.TemporaryDirectory() as d:
        data, sigf = os.path.join(d, "data"), os.path.join(d, "sig")
        with open(data, "wb") as f:
            f.write(signing_input)
        with open(sigf, "wb") as f:
            f.write(sig)
        p = subprocess.run(["openssl", "dgst", "-sha256", "-verify", public_key, "-signature",
                            sigf, data], capture_output=True)
        return p.returncode == 0


# ---- HTTP ---------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "gsheet-emulator/1"
    # TCP_NODELAY: a small body written after its headers would otherwise wait for the
    # client's delayed ACK (about 40 ms a request)
    disable_nagle_algorithm = True

    def log_message(self, fmt, *a):
        if self.server.state.args.verbose:
            sys.stderr.write("emulator: " + (fmt % a) + "\n")

    # -- helpers
    def send(self, status, body, ctype="application/json; charset=UTF-8", headers=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, obj, status=200):
        self.send(status, json.dumps(obj, ensure_ascii=False).encode())

    def fault(self, kind):
        st = self.server.state
        f = st.take_fault(kind)
        if not f:
            return False
        if f == "429":
            self.send(429, gerror(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric "
                                  "'Read requests' and limit 'Read requests per minute per user' "
                                  "of service 'sheets.googleapis.com' for consumer "
                                  "'project_number:123456789012'."), headers={"Retry-After": "1"})
        elif f == "429bare":
            self.send(429, gerror(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric "
                                  "'Read requests' and limit 'Read requests per minute per user'."))
        elif f == "500":
            self.send(500, gerror(500, "INTERNAL", "Internal error encountered."))
        elif f == "503":
            self.send(503, gerror(503, "UNAVAILABLE", "The service is currently unavailable."))
        elif f == "503wait":
            self.send(503, gerror(503, "UNAVAILABLE", "The service is currently unavailable."),
                      headers={"Retry-After": "%d" % st.stall_seconds})
        elif f == "stall":
            time.sleep(st.stall_seconds)
            self.close_connection = True
        elif f == "reset":
            # close with linger 0: the kernel answers with RST instead of a FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif f in ("truncate", "cut", "range_tab", "range_shift"):
            return "__" + f  # handled by the endpoint (needs the real body)
        elif f == "html":
            self.send(200, HTML_PAGE, "text/html; charset=UTF-8")
        elif f == "html502":
            self.send(502, HTML_PAGE, "text/html; charset=UTF-8")
        elif f == "401":
            self.send(401, gerror(401, "UNAUTHENTICATED", "Request had invalid authentication "
                                  "credentials. Expected OAuth 2 access token, login cookie or "
                                  "other valid authentication credential. See https://developers"
                                  ".google.com/identity/sign-in/web/devconsole-project."))
        elif f == "403":
            self.send(403, gerror(403, "PERMISSION_DENIED", "The caller does not have permission"))
        elif f == "403api":
            self.send(403, api_disabled_body())
        elif f == "404":
            self.send(404, gerror(404, "NOT_FOUND", "Requested entity was not found."))
        elif f == "badgrant":
            self.send(400, json.dumps({"error": "invalid_grant",
                                       "error_description": "Invalid JWT Signature."}).encode())
        else:
            self.send(500, gerror(500, "INTERNAL", "unknown fault " + f))
        return True

    def send_body_with_fault(self, pending, body, ctype="application/json; charset=UTF-8"):
        if pending == "__truncate":
            self.send(200, body[: len(body) // 2], ctype)
        elif pending == "__cut":
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
        else:
            self.send(200, body, ctype)

    def auth(self, sheet, query):
        """None when allowed, else the error already sent."""
        st = self.server.state
        key = query.get("key", [None])[0]
        authz = self.headers.get("Authorization", "")
        if key is not None:
            if st.api_key is not None and key != st.api_key:
                self.send(400, gerror(400, "INVALID_ARGUMENT",
                                      "API key not valid. Please pass a valid API key."))
                return False
            if not sheet.link_readable:
                self.send(403, gerror(403, "PERMISSION_DENIED",
                                      "The caller does not have permission"))
                return False
            return True
        if authz.startswith("Bearer "):
            tok = authz[7:]
            with st.lock:
                info = st.tokens.get(tok)
            if not info or info[1] < time.time():
                self.send(401, gerror(401, "UNAUTHENTICATED", "Request had invalid authentication "
                                      "credentials. Expected OAuth 2 access token, login cookie "
                                      "or other valid authentication credential."))
                return False
            if not (sheet.link_readable or "*" in sheet.shared_with or info[0] in sheet.shared_with):
                self.send(403, gerror(403, "PERMISSION_DENIED",
                                      "The caller does not have permission"))
                return False
            return True
        self.send(403, gerror(403, "PERMISSION_DENIED", "The request is missing a valid API key."))
        return False

    def value_range(self, sheet, a1, render):
        title, r1, c2, r2 = parse_a1(a1)
        tab = next((t for t in sheet.tabs if t.title == title), None)
        if tab is None or tab.sheet_type != "GRID":
            return None, (400, gerror(400, "INVALID_ARGUMENT", "Unable to parse range: " + a1))
        r1 = r1 or 1
        r2 = r2 or tab.row_count
        c2 = c2 or tab.col_count
        if r2 > tab.row_count or c2 > tab.col_count:
            return None, (400, gerror(400, "INVALID_ARGUMENT",
                                      "Range (%s!A%d:%s%d) exceeds grid limits. Max rows: %d, max "
                                      "columns: %d" % (title, r1, col_letters(c2), r2,
                                                       tab.row_count, tab.col_count)))
        rng = "%s!A%d:%s%d" % (quote_title(title), r1, col_letters(c2), r2)
        return (tab, r1, c2, r2, rng, render), None

    def render_values(self, spec, col0=0):
        """Bytes of a ValueRange, built row by row, or sliced from a generated tab's encoding.
        col0: first column sent (0 = A)."""
        tab, r1, c2, r2, rng, render = spec
        head = '{"range": %s, "majorDimension": "ROWS"' % json.dumps(rng, ensure_ascii=False)
        enc = tab.encoded
        if enc is not None and render != "FORMATTED_VALUE" and col0 == 0 and c2 >= len(FIELDS):
            rows = enc.rows(r1, r2)  # a generated tab, whole rows: a slice of the encoding
            if rows:
                return b"".join((head.encode(), b', "values": [', rows, b"]}"))
            return (head + "}").encode()
        out = []
        pending_empty = 0
        first = True
        for r in range(r1, r2 + 1):
            row = [shown(v, render) for v in tab.row(r)[col0:c2]]
            while row and row[-1] in ("", None):
                row.pop()
            if render == "FORMATTED_VALUE":
                row = [("TRUE" if v else "FALSE") if isinstance(v, bool) else
                       (v if isinstance(v, str) else "%s" % v) for v in row]
            if not row:
                pending_empty += 1
                continue
            for _ in range(pending_empty):
                out.append(("" if first else ",") + "[]")
                first = False
            pending_empty = 0
            out.append(("" if first else ",") + json.dumps(row, ensure_ascii=False))
            first = False
        if out:
            return (head + ', "values": [' + "".join(out) + "]}").encode()
        return (head + "}").encode()

    # -- endpoints
    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(u.query, keep_blank_values=True)
        path = u.path
        shown = self.path
        if "key=" in shown:
            shown = shown.split("key=")[0] + "key=***"
        if path == "/_control/stats":
            with st.lock:
                return self.send_json({"counts": st.counts, "log": st.log})
        if path.startswith("/_control/sheet/"):
            sheet = st.sheets.get(path[len("/_control/sheet/"):])
            if sheet is None:
                return self.send(404, b"{}")
            with st.lock:
                tabs = []
                for t in sorted(sheet.tabs, key=lambda t: t.index):
                    d = tab_props(t)
                    d["rows"] = [t.row(r) for r in range(1, t.row_count + 1)]
                    while d["rows"] and not d["rows"][-1]:
                        d["rows"].pop()
                    tabs.append(d)
            return self.send_json({"spreadsheetId": sheet.id, "tabs": tabs})
        parts = path.split("/")
        if path.startswith("/_download/"):
            st.count("download", shown)
            sid, gid = parts[2], int(parts[3])
            return self.export(sid, gid)
        if len(parts) >= 4 and parts[1] == "spreadsheets" and parts[2] == "d" and \
                len(parts) >= 5 and parts[4] == "export":
            st.count("export", shown)
            pending = self.fault("export")
            if pending is True:
                return
            sid = parts[3]
            sheet = st.sheets.get(sid)
            if sheet is None:
                return self.send(404, b"<html><body>Sorry, unable to open the file at this time."
                                      b"</body></html>", "text/html; charset=utf-8")
            gid = int(query.get("gid", ["0"])[0] or 0)
            return self.send(307, b"", "text/html", {"Location": "/_download/%s/%d" % (sid, gid)})
        if len(parts) < 4 or parts[1] != "v4" or parts[2] != "spreadsheets":
            return self.send(404, gerror(404, "NOT_FOUND", "unknown path"))
        sid_and_more = parts[3]
        if sid_and_more.endswith(":batchGet") or (len(parts) > 4 and parts[4] == "values:batchGet"):
            kind = "batch"
        elif len(parts) > 5 and parts[4] == "values":
            kind = "values"
        else:
            kind = "metadata"
        st.count(kind, shown)
        pending = self.fault(kind)
        if pending is True:
            return
        sheet = st.sheets.get(sid_and_more.split(":")[0])
        if sheet is None:
            return self.send(404, gerror(404, "NOT_FOUND", "Requested entity was not found."))
        if sheet.error:
            status, ctype, body = sheet.error
            return self.send(status, body, ctype)
        if not self.auth(sheet, query):
            return
        render = query.get("valueRenderOption", ["FORMATTED_VALUE"])[0]
        if kind == "metadata":
            return self.send_body_with_fault(pending, json.dumps(sheet.metadata()).encode())
        if kind == "values":
            if st.args.values_latency_ms > 0:
                time.sleep(st.args.values_latency_ms / 1000.0)
            a1 = urllib.parse.unquote("/".join(parts[5:]))
            spec, error = self.value_range(sheet, a1, render)
            if error:
                return self.send(*error)
            if pending == "__range_tab":  # the answer of another tab, same cells
                tab, r1, c2, r2, rng, render = spec
                other = next(t for t in sheet.tabs if t is not tab and t.sheet_type == "GRID")
                rng = quote_title(other.title) + "!" + rng.rsplit("!", 1)[1]
                return self.send(200, self.render_values((other, r1, c2, r2, rng, render)),
                                 "application/json; charset=UTF-8")
            if pending == "__range_shift":  # the answer for C(r1+4):..., as a stale cache might
                tab, r1, c2, r2, _, render = spec
                rng = "%s!C%d:%s%d" % (quote_title(tab.title), r1 + 4, col_letters(c2), r2 + 4)
                return self.send(200, self.render_values((tab, r1 + 4, c2, r2 + 4, rng, render),
                                                         col0=2),
                                 "application/json; charset=UTF-8")
            return self.send_body_with_fault(pending, self.render_values(spec))
        ranges = query.get("ranges", [])
        bodies = []
        for a1 in ranges:
            spec, error = self.value_range(sheet, a1, render)
            if error:
                return self.send(*error)
            bodies.append(self.render_values(spec))
        body = (b'{"spreadsheetId": ' + json.dumps(sheet.id).encode() + b', "valueRanges": [' +
                b",".join(bodies) + b"]}")
        return self.send_body_with_fault(pending, body)

    def export(self, sid, gid):
        st = self.server.state
        sheet = st.sheets.get(sid)
        if sheet is None or not sheet.link_readable:
            return self.send(200, SIGNIN_PAGE, "text/html; charset=utf-8")
        tab = next((t for t in sheet.tabs if t.sheet_id == gid), None)
        if tab is None:
            return self.send(400, b"<html><body>Bad gid</body></html>", "text/html")
        lines = []
        for r in range(1, tab.row_count + 1):
            row = tab.row(r)
            cells = []
            for v in (shown(x, "FORMATTED_VALUE") for x in row):
                s = ("TRUE" if v else "FALSE") if isinstance(v, bool) else \
                    ("" if v is None else "%s" % v)
                if any(ch in s for ch in ',"\n\r'):
                    s = '"' + s.replace('"', '""') + '"'
                cells.append(s)
            lines.append(",".join(cells))
        while lines and lines[-1] == "":
            lines.pop()
        return self.send(200, ("\r\n".join(lines)).encode(), "text/csv")

    # -- writes (the gsheet_writer sink)
    def write_auth(self, sheet):
        """True when the bearer token may write to sheet, else the error is sent."""
        st = self.server.state
        authz = self.headers.get("Authorization", "")
        if not authz.startswith("Bearer "):
            self.send(401, gerror(401, "UNAUTHENTICATED", "API keys are not supported by this "
                                  "API. Expected OAuth2 access token or other authentication "
                                  "credentials that assert a principal."))
            return False
        with st.lock:
            info = st.tokens.get(authz[7:])
        if not info or info[1] < time.time():
            self.send(401, gerror(401, "UNAUTHENTICATED", "Request had invalid authentication "
                                  "credentials. Expected OAuth 2 access token, login cookie "
                                  "or other valid authentication credential."))
            return False
        if info[2] != WRITE_SCOPE:
            self.send(403, gerror(403, "PERMISSION_DENIED",
                                  "Request had insufficient authentication scopes."))
            return False
        if "*" not in sheet.editors and info[0] not in sheet.editors:
            self.send(403, gerror(403, "PERMISSION_DENIED", "The caller does not have permission"))
            return False
        return True

    def rate_limited(self):
        st = self.server.state
        if st.args.write_limit <= 0:
            return False
        now = time.time()
        with st.lock:
            st.write_times = [t for t in st.write_times if t > now - st.args.write_window]
            if len(st.write_times) >= st.args.write_limit:
                st.counts["limited:429"] = st.counts.get("limited:429", 0) + 1
                limited = True
            else:
                st.write_times.append(now)
                limited = False
        if limited:
            self.send(429, gerror(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric "
                                  "'Write requests' and limit 'Write requests per minute per "
                                  "user' of service 'sheets.googleapis.com' for consumer "
                                  "'project_number:123456789012'."), headers={"Retry-After": "1"})
        return limited

    def apply_write(self, kind, sheet, body, fn):
        """Runs fn(tabs copy, body) -> reply; applies the copy only when all of it worked. The
        fault is taken before, and a `cut` fault loses the answer of an applied write."""
        st = self.server.state
        pending = self.fault(kind)
        if pending is True:
            return
        if not self.write_auth(sheet):
            return
        if len(body) > st.args.max_body:
            return self.send(400, gerror(400, "INVALID_ARGUMENT", "Request payload size exceeds "
                                         "the limit: %d bytes." % st.args.max_body))
        if self.rate_limited():
            return
        try:
            req = json.loads(body or b"{}")
        except ValueError:
            return self.send(400, gerror(400, "INVALID_ARGUMENT", "Invalid JSON payload received."))
        with st.lock:
            tabs = copy.deepcopy(sheet.tabs)
            try:
                reply = fn(sheet, tabs, req)
            except WriteError as e:
                return self.send(400, gerror(400, "INVALID_ARGUMENT", str(e)))
            cells = sum(t.row_count * t.col_count for t in tabs)
            if cells > st.args.max_cells:
                return self.send(400, gerror(400, "INVALID_ARGUMENT", "This action would increase "
                                             "the number of cells in the workbook above the "
                                             "limit of %d cells." % st.args.max_cells))
            sheet.tabs = tabs
            st.counts["applied:" + kind] = st.counts.get("applied:" + kind, 0) + 1
        reply.setdefault("spreadsheetId", sheet.id)
        return self.send_body_with_fault(pending, json.dumps(reply).encode())

    def do_PUT(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else b""
        u = urllib.parse.urlsplit(self.path)
        parts = u.path.split("/")
        if len(parts) < 6 or parts[1] != "v4" or parts[2] != "spreadsheets" or parts[4] != "values":
            return self.send(404, gerror(404, "NOT_FOUND", "unknown path"))
        st.count("write", self.path)
        sheet = st.sheets.get(parts[3])
        if sheet is None:
            return self.send(404, gerror(404, "NOT_FOUND", "Requested entity was not found."))
        a1 = urllib.parse.unquote("/".join(parts[5:]))
        opt = urllib.parse.parse_qs(u.query).get("valueInputOption", [""])[0]

        def update(sh, tabs, req):
            write_values(tabs, a1, req.get("values", []), opt)
            return {"updatedRange": a1}
        return self.apply_write("write", sheet, body, update)

    def post_write(self, path, body):
        """POSTs to /v4/spreadsheets/...: values:batchUpdate, values/{range}:clear and
        spreadsheets:batchUpdate. False when path is none of them."""
        st = self.server.state
        parts = path.split("/")
        if len(parts) < 4 or parts[1] != "v4" or parts[2] != "spreadsheets":
            return False
        if parts[3].endswith(":batchUpdate") and len(parts) == 4:
            kind, sid = "structure", parts[3][:-len(":batchUpdate")]
        elif len(parts) == 5 and parts[4] == "values:batchUpdate":
            kind, sid = "write", parts[3]
        elif len(parts) >= 6 and parts[4] == "values" and path.endswith(":clear"):
            kind, sid = "write", parts[3]
        else:
            return False
        st.count(kind, path)
        sheet = st.sheets.get(sid)
        if sheet is None:
            self.send(404, gerror(404, "NOT_FOUND", "Requested entity was not found."))
            return True
        if kind == "structure":
            self.apply_write(kind, sheet, body, structure_update)
        elif path.endswith(":clear"):
            a1 = urllib.parse.unquote("/".join(parts[5:]))[:-len(":clear")]

            def clear(sh, tabs, req):
                clear_values(tabs, a1)
                return {"clearedRange": a1}
            self.apply_write(kind, sheet, body, clear)
        else:
            def batch(sh, tabs, req):
                opt = req.get("valueInputOption", "")
                for d in req.get("data", []):
                    write_values(tabs, d.get("range", ""), d.get("values", []), opt)
                return {"totalUpdatedRanges": len(req.get("data", []))}
            self.apply_write(kind, sheet, body, batch)
        return True

    def do_POST(self):
        st = self.server.state
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else b""
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/_control/faults":
            with st.lock:
                st.faults = []
            for spec in json.loads(body or b"[]"):
                st.add_fault(spec)
            return self.send_json({"ok": True})
        if u.path == "/_control/reset":
            with st.lock:
                st.faults, st.counts, st.log = [], {}, []
            return self.send_json({"ok": True})
        if u.path != "/token":
            if self.post_write(u.path, body):
                return
            return self.send(404, gerror(404, "NOT_FOUND", "unknown path"))
        st.count("token", u.path)
        if self.fault("token") is True:
            return
        form = urllib.parse.parse_qs(body.decode("ascii", "replace"))
        bad = lambda why: self.send(400, json.dumps(
            {"error": "invalid_grant", "error_description": why}).encode())
        if form.get("grant_type", [""])[0] != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            return self.send(400, json.dumps({"error": "unsupported_grant_type",
                                              "error_description": "Invalid grant_type"}).encode())
        jwt = form.get("assertion", [""])[0]
        parts = jwt.split(".")
        if len(parts) != 3:
            return bad("Invalid JWT: Token must be a short-lived token and in a reasonable timeframe")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
            sig = b64url_decode(parts[2])
        except Exception:  # noqa: BLE001
            return bad("Invalid JWT: malformed")
        if header.get("alg") != "RS256" or header.get("typ") != "JWT":
            return bad("Invalid JWT header")
        if not st.public_key or not verify_rs256(st.public_key, (parts[0] + "." + parts[1]).encode(), sig):
            return bad("Invalid JWT Signature.")
        now = time.time()
        aud = st.args.token_aud or ("http://127.0.0.1:%d/token" % self.server.server_port)
        if claims.get("scope") not in (SCOPE, WRITE_SCOPE):
            return self.send(400, json.dumps({"error": "invalid_scope",
                                              "error_description": "Invalid OAuth scope"}).encode())
        if claims.get("aud") != aud:
            return bad("Invalid JWT: aud %r is not %r" % (claims.get("aud"), aud))
        iat, exp = claims.get("iat"), claims.get("exp")
        if not isinstance(iat, int) or not isinstance(exp, int) or exp <= now or \
                exp - iat > 3600 or iat > now + 300:
            return bad("Invalid JWT: Token must be a short-lived token (60 minutes) and in a "
                       "reasonable timeframe. Check your iat and exp values in the JWT claim.")
        if not claims.get("iss"):
            return bad("Invalid JWT: no iss")
        tok = "ya29.emu-" + base64.urlsafe_b64encode(os.urandom(18)).decode()
        with st.lock:
            st.tokens[tok] = (claims["iss"], now + st.token_ttl, claims["scope"])
        return self.send_json({"access_token": tok, "expires_in": st.token_ttl,
                               "token_type": "Bearer"})


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--port-file")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--sheet", action="append", default=[], help="fixture JSON file")
    ap.add_argument("--generate", type=int, help="rows of the generated sheet 'generated'")
    ap.add_argument("--replay", help="recorded cassette to serve")
    ap.add_argument("--public-key", help="PEM public key that verifies service-account JWTs")
    ap.add_argument("--token-aud", help="expected JWT aud (default: this server's /token URL)")
    ap.add_argument("--token-ttl", type=int, default=3599, help="access token lifetime (s)")
    ap.add_argument("--api-key", help="the only API key accepted (default: any)")
    ap.add_argument("--fault", action="append", default=[], help="WHEN:KIND[:COUNT[:SKIP]]")
    ap.add_argument("--stall-seconds", type=float, default=30)
    ap.add_argument("--values-latency-ms", type=float, default=0,
                    help="each values answer waits this long before it is sent (Google takes "
                         "100s of ms per page; for measurements)")
    ap.add_argument("--max-cells", type=int, default=10000000, help="cells per spreadsheet")
    ap.add_argument("--max-body", type=int, default=10485760, help="largest write body (bytes)")
    ap.add_argument("--write-limit", type=int, default=0, help="writes per window (0 = off)")
    ap.add_argument("--write-window", type=float, default=60.0, help="seconds of the window")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    st = State(args)
    for p in args.sheet:
        sh = load_fixture(p)
        st.sheets[sh.id] = sh
    if args.generate is not None:
        st.sheets["generated"] = Sheet("generated", "Generated payments", "Africa/Lagos",
                                       tabs=[Tab("Payments", 0, 0, generator=args.generate,
                                                 col_count=21)])
        st.sheets["generated"].tabs[0].encode_generated()
    if args.replay:
        if not os.path.exists(args.replay):
            print("replay file %s is absent" % args.replay, file=sys.stderr)
            sys.exit(77)
        st.sheets.update(load_replay(args.replay))
    for spec in args.fault:
        f = spec.split(":")
        st.add_fault({"when": f[0], "kind": f[1], "count": int(f[2]) if len(f) > 2 else 1,
                      "skip": int(f[3]) if len(f) > 3 else 0})
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    srv.daemon_threads = True
    srv.state = st
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.rename(tmp, args.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
