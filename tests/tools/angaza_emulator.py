#!/usr/bin/env python3
"""A local stand-in for Angaza's Data API (PAYG solar home systems), for the `angaza` connector.

Stdlib only (emu_common.py beside it). Listens on 127.0.0.1 and a random port, written to
--port-file (and printed). What it serves follows ../shared/spec/crm-apis.md section 3; what
that page marks assumed is assumed here too (docs/providers/angaza.md lists it).

Endpoints (HTTP Basic auth on every one, else 401 with WWW-Authenticate and
{"message": "..."}):
    GET /data/payments?limit=N&offset=K&from=ISO   HAL: {"_embedded": {"item": [...]},
        "_links": {"self": {"href"}, "next": {"href": absolute URL}}}; `next` only when more
        items follow. Ordered by effective_date, then qid. `from` (inclusive, on
        effective_date), `offset` and `limit` (default 100, at most 500) are [assumed].
    GET /data/accounts?limit=&offset=    HAL list of accounts [assumed: a list endpoint]
    GET /data/accounts/{qid}             {"qid", "account_number", "client_qids": [...],
        "status", "unit": {"qid", "serial_number"}} [assumed: the unit's shape]
    GET /data/clients?limit=&offset=     HAL list of clients [assumed]
    GET /data/clients/{qid}              {"qid", "attribute_values": [{"name", "value"}]}
    POST /_control/faults, /_control/reset, /_control/data, GET /_control/stats: see
        emu_common.py. /_control/data takes {"add": [payment...], "update": [{"qid": ...,
        fields...}]} (a late reversal: an update setting is_reversed true).

Data: --data FILE ({"payments": [...], "accounts": [...], "clients": [...]}), else the
built-in set (see builtin()).

Faults (WHEN is payments, accounts, clients or any):
    429        429 with Retry-After: 1          429bare   429 without Retry-After
    500, 503   server errors                    truncate  200 with the JSON cut in half
    401        401 once (the credentials stay valid)
    expire     401, and every later request too until /_control/reset (the password was
               changed mid-run; Basic auth has no token to renew)
    stall      nothing for --stall-seconds (default 30), then the connection closes
    503wait    503 with Retry-After: --stall-seconds (a long wait before the retry)
    insert     the page is served and a new payment is inserted at the front of the
               ordering (the next page, by offset, repeats one item)
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


def builtin():
    """Four clients with one account each (unit serials with leading zeros), 16 payments
    over 2024-03-01..08 in KES: amounts as strings and JSON numbers, effective dates in UTC
    and with offsets, one payment already reversed."""
    clients, accounts = [], []
    names = ["Wanjiru Kamau", "Otieno Odhiambo", "Achieng Atieno", "Mwangi Njoroge"]
    for i, name in enumerate(names, start=1):
        attrs = [{"name": "Name", "value": name},
                 {"name": "Phone Number", "value": "+2547123450%02d" % i}]
        if i % 2 == 0:  # not every account lists the Name attribute first
            attrs.reverse()
        clients.append({"qid": "CL%06d" % i, "attribute_values": attrs})
        accounts.append({"qid": "AC%06d" % i, "account_number": 50000 + i,
                         "client_qids": ["CL%06d" % i], "status": "ENABLED",
                         "unit": {"qid": "UN%06d" % i, "serial_number": "00%06d" % (7780 + i)}})
    pays = []
    for k in range(1, 17):
        day = 1 + (k - 1) // 2
        eff = "2024-03-%02dT%02d:30:00Z" % (day, 7 + (k % 2) * 6)
        if k % 4 == 0:
            eff = "2024-03-%02dT%02d:30:00+03:00" % (day, 10 + (k % 2) * 6)
        amount = "%d.00" % (100 * k)
        if k % 3 == 0:
            amount = {"number": "%d.00" % (100 * k)}
        acc = 1 + k % 4
        pays.append({"qid": "PA%06d" % k, "account_qid": "AC%06d" % acc,
                     "account_number": 50000 + acc, "amount": amount, "currency": "KES",
                     "effective_date": eff, "angaza_transaction_qid": "AT%06d" % k,
                     "external_xref": "QX%07d" % k if k % 2 == 0 else None,
                     "is_reversed": k == 11, "msisdn": "2547123450%02d" % acc,
                     "href": "/data/payments/PA%06d" % k})
    return {"payments": pays, "accounts": accounts, "clients": clients}


class Handler(emu_common.BaseHandler):
    server_version = "angaza-emulator/1"

    def edit_data(self, req):
        st = self.server.state
        with st.lock:
            st.data["payments"].extend(req.get("add", []))
            for up in req.get("update", []):
                for p in st.data["payments"]:
                    if p["qid"] == up["qid"]:
                        p.update(up)

    def unauthorized(self):
        self.send_json({"message": "Unauthorized: bad username or password"}, 401,
                       {"WWW-Authenticate": 'Basic realm="Angaza Data API"'})

    def fault(self, kind):
        st = self.server.state
        f = st.take_fault(kind)
        if not f:
            return None
        if self.transport_fault(f):
            return True
        if f == "429":
            self.send_json({"message": "Too many requests"}, 429, {"Retry-After": "1"})
        elif f == "429bare":
            self.send_json({"message": "Too many requests"}, 429)
        elif f == "500":
            self.send_json({"message": "Internal server error"}, 500)
        elif f == "503":
            self.send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                      ctype="text/html")
        elif f == "401":
            self.unauthorized()
        elif f == "expire":
            with st.lock:
                st.revoked = True
            self.unauthorized()
        elif f in ("truncate", "insert"):
            return f
        else:
            self.send_json({"message": "unknown fault " + f}, 500)
        return True

    def authorized(self):
        st = self.server.state
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (st.args.username, st.args.password)).encode()).decode()
        if self.headers.get("Authorization") != want or st.revoked:
            self.unauthorized()
            return False
        return True

    def do_POST(self):
        u = urllib.parse.urlsplit(self.path)
        if not self.control(u.path, self.body()):
            self.send_json({"message": "Not found"}, 404)

    def hal(self, path, q, items, total_before_page):
        base = "http://%s:%d%s" % (self.server.server_address[0], self.server.server_address[1],
                                   path)
        links = {"self": {"href": base + ("?" + urllib.parse.urlencode(q) if q else "")}}
        if total_before_page:
            q2 = dict(q)
            q2["offset"] = str(total_before_page)
            links["next"] = {"href": base + "?" + urllib.parse.urlencode(q2)}
        return {"_embedded": {"item": items}, "_links": links}

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        if self.control_get(u.path):
            return
        parts = u.path.rstrip("/").split("/")
        if len(parts) < 3 or parts[1] != "data" or parts[2] not in ("payments", "accounts",
                                                                    "clients"):
            return self.send_json({"message": "Not found"}, 404)
        kind = parts[2]
        st.count(kind, "GET " + self.path)
        if not self.authorized():
            return
        pending = self.fault(kind)
        if pending is True:
            return
        with st.lock:
            items = copy.deepcopy(st.data[kind])
        if len(parts) == 4:  # one item by qid
            item = next((i for i in items if i["qid"] == parts[3]), None)
            if item is None:
                return self.send_json({"message": "Not found"}, 404)
            return self.send_page(pending, emu_common.render(item))
        if len(parts) != 3:
            return self.send_json({"message": "Not found"}, 404)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        try:
            limit = int(q.get("limit", "100"))
            offset = int(q.get("offset", "0"))
            if limit < 1 or limit > 500 or offset < 0:
                raise ValueError
            lo = parse_ts(q["from"]) if q.get("from") else None
        except ValueError:
            return self.send_json({"message": "Bad request: limit (1-500), offset (>= 0) and "
                                   "from (ISO 8601) must be valid"}, 400)
        if kind == "payments":
            if lo is not None:
                items = [p for p in items if parse_ts(p["effective_date"]) >= lo]
            items.sort(key=lambda p: (parse_ts(p["effective_date"]), p["qid"]))
        chunk = items[offset:offset + limit]
        more = offset + len(chunk) if offset + len(chunk) < len(items) else 0
        body = emu_common.render(self.hal(u.path, q, chunk, more))
        if pending == "insert":  # before the answer: the next request must see it
            with st.lock:
                st.inserted += 1
                first = min(st.data["payments"], key=lambda p: parse_ts(p["effective_date"]))
                new = copy.deepcopy(first)
                new["qid"] = "PAINS%03d" % st.inserted
                new["amount"] = "77.00"
                st.data["payments"].insert(0, new)
        self.send_page(pending, body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    emu_common.common_args(ap)
    ap.add_argument("--username", default="operator@example.com")
    ap.add_argument("--password", default="s3cret-Angaza-pass")
    args = ap.parse_args()
    if args.data:
        with open(args.data, encoding="utf-8") as f:
            data = json.load(f)
    else:
        data = builtin()
    for k in ("payments", "accounts", "clients"):
        data.setdefault(k, [])
    emu_common.serve(args, Handler, emu_common.State(args, data))


if __name__ == "__main__":
    main()
