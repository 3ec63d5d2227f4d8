#!/usr/bin/env python3
"""A local stand-in for SparkMeter's Koios cloud APIs, for the `sparkmeter` connector.

Stdlib only (emu_common.py beside it). Listens on 127.0.0.1 and a random port, written to
--port-file (and printed). What it serves follows ../shared/spec/crm-apis.md section 2; what
that page marks assumed is assumed here too (docs/providers/sparkmeter.md lists it).

Endpoints (every one needs the headers X-API-KEY and X-API-SECRET, else 401
{"errors": [{"title": "Unauthorized", "details": "..."}]}):
    POST /api/v2/organizations/{org}/data/historical   Koios v2 data API
         body {"filters": {"entity_types": ["transactions"], "date_range": {"from": ISO,
         "to": ISO (optional)}}, "cursor": null or the last answer's cursor}
         -> {"cursor": "..." or null, "count": N, "results": [...]}; --page-size results a
         page, ordered by `created`; `from` (inclusive) and `to` (exclusive) apply to
         `created` [assumed]; a bad body or cursor is 400, another org 404.
    GET  /api/v1/customers?page=P&per_page=N (or ?code=X)   Koios v1
         -> {"data": [{"id", "code", "name", "phone_number", "meters": [{"serial"}],
         "balances": {"credit": {"value", "currency"}}}]}; pages count from 1 and a page
         past the end is empty [assumed: page/per_page].
    POST /_control/faults, /_control/reset, /_control/data, GET /_control/stats: see
         emu_common.py. /_control/data takes {"add": [transaction...], "update":
         [{"transaction_id": ..., fields...}]} (a late reversal is an update to
         state "reversed" with a reversed_timestamp).

Data: --data FILE ({"transactions": [...], "customers": [...]}), else the built-in set (see
builtin()).

Faults (WHEN is historical, customers or any):
    429        429 with Retry-After: 1          429bare   429 without Retry-After
    burst      429 as Koios' burst limit answers it (about 3 requests per 5 s; no
               Retry-After, an errors body); --burst-limit N/S enforces a real one
    500, 503   server errors                    truncate  200 with the JSON cut in half
    401        401 once (the credentials stay valid)
    expire     401, and every later request too until /_control/reset (the API key was
               revoked mid-run; Koios keys are static: there is no token to renew)
    stall      nothing for --stall-seconds (default 30), then the connection closes
    503wait    503 with Retry-After: --stall-seconds (a long wait before the retry)
    insert     the page is served and a new transaction is inserted at the front of the
               ordering (the cursor is an offset: the next page repeats one row)
"""
import argparse
import base64
import copy
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu_common  # noqa: E402
from emu_common import parse_ts  # noqa: E402

ORG = "4b0d6a52-org"


def err(title, details):
    return {"errors": [{"title": title, "details": details}]}


def builtin():
    """Five customers (meter serials with leading zeros), 20 transactions over 2024-03-01..10:
    processed ones, one pending, one errored, one already reversed, one with no customer,
    amounts as strings and JSON numbers, `created` in UTC and with offsets."""
    names = ["Amina Bello", "Kwame Mensah", "Grace Okafor", "John Doe", "Fatima Yusuf"]
    customers = []
    for i, name in enumerate(names, start=1):
        meters = [{"serial": "SM-%06d" % (420 + i)}]
        if i == 2:  # a customer with two meters
            meters.append({"serial": "SM-%06d" % 520})
        customers.append({"id": "cus-%04d" % i, "code": "C%03d" % i, "name": name,
                          "phone_number": "+23480312345%02d" % i, "meters": meters,
                          "balances": {"credit": {"value": "%d.00" % (100 * i),
                                                  "currency": "NGN"}}})
    tx = []
    for k in range(1, 21):
        day = 1 + (k - 1) // 2
        created = "2024-03-%02dT%02d:15:01Z" % (day, 8 + (k % 2) * 5)
        if k % 5 == 0:  # the same kind of instant written with an offset
            created = "2024-03-%02dT%02d:15:01+01:00" % (day, 9 + (k % 2) * 5)
        amount = "%d.50" % (500 + k * 10)
        if k % 3 == 0:
            amount = {"number": "%d.50" % (500 + k * 10)}
        state = {7: "pending", 13: "error", 16: "reversed"}.get(k, "processed")
        t = {"type": "transaction", "transaction_id": "txn-%05d" % k, "site": "site-kd1",
             "state": state, "created": created,
             "processed_timestamp": None if state in ("pending", "error") else created,
             "reversed_timestamp": "2024-03-09T10:00:00Z" if state == "reversed" else None,
             "errored_timestamp": created if state == "error" else None,
             "amount": amount, "to": {"customer": {"id": "cus-%04d" % (1 + k % 5)}},
             "reference_id": "MP%08d" % (7000 + k),
             "external_id": "EXT-%d" % k if k % 4 == 0 else None}
        if k == 10:
            t["to"] = {"customer": None}  # a transfer to no customer: not a payment
        tx.append(t)
    return {"transactions": tx, "customers": customers}


def encode_cursor(offset):
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode()


def decode_cursor(c):
    return int(json.loads(base64.urlsafe_b64decode(c.encode()))["o"])


class Handler(emu_common.BaseHandler):
    server_version = "sparkmeter-emulator/1"

    def edit_data(self, req):
        st = self.server.state
        with st.lock:
            st.data["transactions"].extend(req.get("add", []))
            for up in req.get("update", []):
                for t in st.data["transactions"]:
                    if t["transaction_id"] == up["transaction_id"]:
                        t.update(up)

    def fault(self, kind):
        st = self.server.state
        if st.over_burst():
            with st.lock:
                st.counts["burst-limit"] = st.counts.get("burst-limit", 0) + 1
            self.send_json(err("Too Many Requests", "Rate limit exceeded"), 429)
            return True
        f = st.take_fault(kind)
        if not f:
            return None
        if self.transport_fault(f):
            return True
        if f == "429":
            self.send_json(err("Too Many Requests", "Rate limit exceeded"), 429,
                           {"Retry-After": "1"})
        elif f == "429bare":
            self.send_json(err("Too Many Requests", "Rate limit exceeded"), 429)
        elif f == "burst":
            self.send_json(err("Too Many Requests",
                               "Burst rate limit exceeded: at most 3 requests per 5 seconds"), 429)
        elif f == "500":
            self.send(500, b'{"errors": [{"title": "Internal Server Error", "details": null}]}')
        elif f == "503":
            self.send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                      ctype="text/html")
        elif f == "401":
            self.send_json(err("Unauthorized", "Invalid API key or secret"), 401)
        elif f == "expire":
            with st.lock:
                st.revoked = True
            self.send_json(err("Unauthorized", "Invalid API key or secret"), 401)
        elif f in ("truncate", "insert"):
            return f
        else:
            self.send_json(err("Internal Server Error", "unknown fault " + f), 500)
        return True

    def authorized(self):
        st = self.server.state
        ok = (self.headers.get("X-API-KEY") == st.args.api_key and
              self.headers.get("X-API-SECRET") == st.args.api_secret and not st.revoked)
        if not ok:
            self.send_json(err("Unauthorized", "Invalid API key or secret"), 401)
        return ok

    def do_POST(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        raw = self.body()
        if self.control(u.path, raw):
            return
        parts = u.path.strip("/").split("/")
        if not (len(parts) == 6 and parts[:3] == ["api", "v2", "organizations"] and
                parts[4:] == ["data", "historical"]):
            return self.send_json(err("Not Found", "no such endpoint"), 404)
        st.count("historical", "POST " + self.path + " " + raw.decode("utf-8", "replace"))
        if not self.authorized():
            return
        pending = self.fault("historical")
        if pending is True:
            return
        if parts[3] != st.args.org:
            return self.send_json(err("Not Found", "organization not found"), 404)
        try:
            req = json.loads(raw)
            filters = req["filters"]
            if "transactions" not in filters.get("entity_types", []):
                raise ValueError("filters.entity_types must include transactions")
            rng = filters.get("date_range") or {}
            if not rng.get("from"):
                raise ValueError("filters.date_range.from is required")
            lo = parse_ts(rng["from"])
            hi = parse_ts(rng["to"]) if rng.get("to") else None
            offset = decode_cursor(req["cursor"]) if req.get("cursor") else 0
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            return self.send_json(err("Bad Request", str(e)), 400)
        with st.lock:
            items = [t for t in st.data["transactions"] if parse_ts(t["created"]) >= lo and
                     (hi is None or parse_ts(t["created"]) < hi)]
        items.sort(key=lambda t: (parse_ts(t["created"]), t["transaction_id"]))
        chunk = items[offset:offset + st.args.page_size]
        nxt = offset + len(chunk)
        cursor = encode_cursor(nxt) if nxt < len(items) else None
        body = emu_common.render({"cursor": cursor, "count": len(chunk), "results": chunk})
        if pending == "insert":  # before the answer: the next request must see it
            with st.lock:
                st.inserted += 1
                first = min(st.data["transactions"], key=lambda t: parse_ts(t["created"]))
                new = copy.deepcopy(first)
                new["transaction_id"] = "txn-ins-%03d" % st.inserted
                new["amount"] = "77.00"
                new["state"] = "processed"
                new["processed_timestamp"] = new["created"]
                st.data["transactions"].insert(0, new)
        self.send_page(pending, body)

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        if self.control_get(u.path):
            return
        if u.path.rstrip("/") != "/api/v1/customers":
            return self.send_json(err("Not Found", "no such endpoint"), 404)
        st.count("customers", "GET " + self.path)
        if not self.authorized():
            return
        pending = self.fault("customers")
        if pending is True:
            return
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        with st.lock:
            items = list(st.data["customers"])
        if "code" in q:
            items = [c for c in items if c["code"] == q["code"]]
        else:
            try:
                page = int(q.get("page", "1"))
                per = int(q.get("per_page", q.get("page_size", "100")))
                if page < 1 or per < 1:
                    raise ValueError
            except ValueError:
                return self.send_json(err("Bad Request", "page and per_page must be positive "
                                          "integers"), 400)
            items = items[(page - 1) * per:page * per]
        self.send_page(pending, emu_common.render({"data": items}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    emu_common.common_args(ap)
    ap.add_argument("--org", default=ORG)
    ap.add_argument("--api-key", default="koios-key-0123")
    ap.add_argument("--api-secret", default="koios-secret-s3cr3t")
    ap.add_argument("--page-size", type=int, default=6, help="transactions per v2 page")
    ap.add_argument("--burst-limit", help="N/S: a real limit of N requests per S seconds")
    args = ap.parse_args()
    if args.data:
        with open(args.data, encoding="utf-8") as f:
            data = json.load(f)
    else:
        data = builtin()
    for k in ("transactions", "customers"):
        data.setdefault(k, [])
    emu_common.serve(args, Handler, emu_common.State(args, data))


if __name__ == "__main__":
    main()
