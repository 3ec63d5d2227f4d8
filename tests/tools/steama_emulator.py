#!/usr/bin/env python3
"""A local stand-in for the SteamaCo API (Django REST style), for the `steamaco` connector.

Stdlib only (emu_common.py beside it: server, faults and control endpoints shared with the
SparkMeter and Angaza emulators). Listens on 127.0.0.1 and a random port, written to
--port-file (and printed).
What it serves follows ../shared/spec/crm-apis.md section 1; what that page marks assumed is
assumed here too (docs/providers/steamaco.md lists it).

Endpoints:
    POST /get-token/        {"username", "password"} -> {"token"}; 400 on bad credentials
    GET  /transactions/     ?ordering=timestamp&created_after=&created_before=&page=&page_size=
    GET  /customers/        ?page=&page_size=
    GET  /meters/           ?page=&page_size=
    every list answers {"count", "next": absolute URL or null, "previous", "results": [...]};
    every request but /get-token/ needs "Authorization: Token <token>" (else 401
    {"detail": "Invalid token."}).
    POST /_control/faults   body: JSON list of faults (replaces the list)
    POST /_control/data     body: {"add": [transaction...], "update": [{"id": N, ...}],
                            "delete": [id...]}
    GET  /_control/stats    JSON: request counts per kind, faults served, requests seen
    POST /_control/reset    clears faults and counters (not the data)

Data: --data FILE ({"transactions": [...], "customers": [...], "meters": [...]}), else a
built-in set (see builtin()), or --generate N transactions (bench). A transaction whose
"amount" is {"number": "1500.50"} is sent as the bare JSON number 1500.50 (exact text).

Faults (--fault WHEN:KIND[:COUNT[:SKIP]] or the control endpoint with {"when", "kind",
"count", "skip"}): WHEN is token, transactions, customers, meters or any; the first SKIP
matching requests pass, the next COUNT (default 1; -1 = forever) fail with KIND:
    429        429 with Retry-After: 1;   429bare: 429 without Retry-After
    500, 503   server errors
    truncate   200 with the JSON cut in half
    expire     401 {"detail": "Invalid token."} and every token issued so far stops working
    401        401 {"detail": "Invalid token."} (the token stays valid)
    stall      nothing for --stall-seconds (default 30), then the connection closes
    503wait    503 with Retry-After: --stall-seconds (a long wait before the retry)
    insert     once the page's items are chosen, a copy of its list's first transaction (a
               new id, 900001...; same timestamp) is inserted at the front: the next page
               shifts
"""
import argparse
import bisect
import copy
import datetime
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import emu_common  # noqa: E402
from emu_common import parse_ts  # noqa: E402


def builtin():
    """Five customers with meters (serials with leading zeros), 20 transactions over
    2024-03-01..2024-03-10: PAY ones, two UCU (not payments), amounts as strings and numbers,
    timestamps in UTC and with offsets."""
    customers = []
    meters = []
    names = [("Amina", "Bello"), ("Kwame", "Mensah"), ("Grace", "Okafor"), ("John", ""),
             ("Fatima", "Yusuf")]
    for i, (first, last) in enumerate(names, start=1):
        customers.append({"id": i, "first_name": first, "last_name": last,
                          "telephone": "+23480312345%02d" % i, "site": 7, "site_name": "Kaduna",
                          "account_balance": "100.00", "user_type": "RES"})
        meters.append({"id": 100 + i, "reference": "00%05d" % (4200 + i), "customer": i,
                       "latitude": "10.5%d" % i, "longitude": {"number": "7.%d" % (430 + i)}})
    meters.append({"id": 999, "reference": "0099999", "customer": None, "latitude": None,
                   "longitude": None})
    tx = []
    for k in range(1, 21):
        day = 1 + (k - 1) // 2
        ts = "2024-03-%02dT%02d:15:01Z" % (day, 8 + (k % 2) * 5)
        if k % 5 == 0:  # the same instant written with an offset
            ts = "2024-03-%02dT%02d:15:01+01:00" % (day, 9 + (k % 2) * 5)
        amount = "%d.50" % (500 + k * 10)
        if k % 3 == 0:
            amount = {"number": "%d.50" % (500 + k * 10)}
        tx.append({"id": 1000 + k, "site_id": 7, "customer_id": 1 + (k % 5), "amount": amount,
                   "category": "UCU" if k in (4, 11) else "PAY", "provider": "AA" if k % 4 == 0
                   else "AP", "timestamp": ts, "synchronization_status": "S",
                   "reversed_by_id": None, "agent_id": 31 if k % 4 == 0 else None,
                   "customer_telephone": "+23480312345%02d" % (1 + (k % 5))})
    return {"transactions": tx, "customers": customers, "meters": meters}


def generated(n):
    customers = [{"id": i, "first_name": "Customer", "last_name": str(i), "telephone":
                  "+2348031%06d" % i, "site": 7} for i in range(1, 1001)]
    meters = [{"id": 10000 + i, "reference": "00%06d" % i, "customer": i, "latitude": "10.5",
               "longitude": "7.4"} for i in range(1, 1001)]
    base = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    tx = []
    for k in range(1, n + 1):
        ts = (base + datetime.timedelta(seconds=37 * k)).strftime("%Y-%m-%dT%H:%M:%SZ")
        tx.append({"id": k, "site_id": 7, "customer_id": 1 + k % 1000,
                   "amount": "%d.%02d" % (100 + k % 900, k % 100), "category": "PAY",
                   "provider": "AP", "timestamp": ts, "synchronization_status": "S",
                   "reversed_by_id": None, "agent_id": None,
                   "customer_telephone": "+2348031%06d" % (1 + k % 1000)})
    return {"transactions": tx, "customers": customers, "meters": meters}


class State(emu_common.State):
    """emu_common's state plus the tokens issued and a data version (for the cached stamps)."""

    def __init__(self, args, data):
        super().__init__(args, data)
        self.tokens = set()
        self.issued = 0
        self.version = 0
        self._stamps = (None, None)

    def stamps(self, version):
        """parse_ts of every transaction (generated data is in time order), cached."""
        if self._stamps[0] != version:
            self._stamps = (version, [parse_ts(t["timestamp"]) for t in self.data["transactions"]])
        return self._stamps[1]


class Handler(emu_common.BaseHandler):
    server_version = "steama-emulator/1"

    def edit_data(self, req):
        st = self.server.state
        with st.lock:
            st.version += 1
            st.data["transactions"].extend(req.get("add", []))
            for up in req.get("update", []):
                for t in st.data["transactions"]:
                    if t["id"] == up["id"]:
                        t.update(up)
            gone = set(req.get("delete", []))
            st.data["transactions"] = [t for t in st.data["transactions"] if t["id"] not in gone]

    def fault(self, kind):
        st = self.server.state
        f = st.take_fault(kind)
        if not f:
            return None
        if self.transport_fault(f):
            return True
        if f == "429":
            self.send_json({"detail": "Request was throttled. Expected available in 1 second."},
                           429, {"Retry-After": "1"})
        elif f == "429bare":
            self.send_json({"detail": "Request was throttled."}, 429)
        elif f == "500":
            self.send(500, b"<h1>Server Error (500)</h1>", ctype="text/html")
        elif f == "503":
            self.send_json({"detail": "Service temporarily unavailable."}, 503)
        elif f == "expire":
            with st.lock:
                st.tokens.clear()
            self.send_json({"detail": "Invalid token."}, 401)
        elif f == "401":
            self.send_json({"detail": "Invalid token."}, 401)
        elif f in ("truncate", "insert"):
            return f
        else:
            self.send_json({"detail": "unknown fault " + f}, 500)
        return True

    def do_POST(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        raw = self.body()
        if self.control(u.path, raw):
            return
        if u.path != "/get-token/":
            return self.send_json({"detail": "Not found."}, 404)
        st.count("token", self.path)
        if self.fault("token") is True:
            return
        try:
            cred = json.loads(raw)
        except ValueError:
            return self.send_json({"detail": "JSON parse error"}, 400)
        if cred.get("username") != st.args.username or cred.get("password") != st.args.password:
            return self.send_json({"non_field_errors":
                                   ["Unable to log in with provided credentials."]}, 400)
        with st.lock:
            st.issued += 1
            tok = "tok%04d-%s" % (st.issued, "9f8e7d6c5b4a")
            st.tokens.add(tok)
        self.send_json({"token": tok})

    def do_GET(self):
        st = self.server.state
        u = urllib.parse.urlsplit(self.path)
        if self.control_get(u.path):
            return
        kinds = {"/transactions/": "transactions", "/customers/": "customers",
                 "/meters/": "meters"}
        kind = kinds.get(u.path)
        if not kind:
            return self.send_json({"detail": "Not found."}, 404)
        st.count(kind, self.path)
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Token ") or auth[6:] not in st.tokens:
            return self.send_json({"detail": "Invalid token."}, 401)
        pending = self.fault(kind)
        if pending is True:
            return
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        try:
            page = int(q.get("page", "1"))
            size = int(q.get("page_size", "100"))
        except ValueError:
            return self.send_json({"detail": "Invalid page."}, 404)
        with st.lock:
            items = list(st.data[kind])
            version = st.version
        if kind == "transactions" and not st.args.generate:
            try:
                if q.get("created_after"):
                    lo = parse_ts(q["created_after"])
                    items = [t for t in items if parse_ts(t["timestamp"]) >= lo]
                if q.get("created_before"):
                    hi = parse_ts(q["created_before"])
                    items = [t for t in items if parse_ts(t["timestamp"]) < hi]
            except ValueError:
                return self.send_json({"created_after": ["Enter a valid date/time."]}, 400)
            if q.get("ordering") == "timestamp":
                items.sort(key=lambda t: (parse_ts(t["timestamp"]), t["id"]))
        elif kind == "transactions":  # generated: already in order, filtered by a bisection
            if q.get("created_after"):
                lo = parse_ts(q["created_after"])
                stamps = st.stamps(version)
                items = items[bisect.bisect_left(stamps, lo):]
        start = (page - 1) * size
        if page < 1 or (start >= len(items) and page != 1):
            return self.send_json({"detail": "Invalid page."}, 404)
        chunk = items[start:start + size]
        nxt = None
        if start + size < len(items):
            q2 = dict(q)
            q2["page"] = str(page + 1)
            nxt = "http://%s:%d%s?%s" % (self.server.server_address[0],
                                         self.server.server_address[1], u.path,
                                         urllib.parse.urlencode(q2))
        prev = None
        body = emu_common.render({"count": len(items), "next": nxt, "previous": prev,
                                  "results": chunk})
        if pending == "truncate":
            return self.send_page(pending, body)
        if pending == "insert":  # before answering: the client's next request cannot race it
            with st.lock:
                st.inserted += 1
                new = copy.deepcopy(items[0])  # the front of what is being paged
                new["id"] = 900000 + st.inserted
                new["amount"] = "77.00"
                st.data["transactions"].insert(0, new)
                st.version += 1
        self.send(200, body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    emu_common.common_args(ap)
    ap.add_argument("--generate", type=int, help="serve N generated transactions")
    ap.add_argument("--username", default="operator@example.com")
    ap.add_argument("--password", default="s3cret-Steama-pass")
    args = ap.parse_args()
    if args.data:
        with open(args.data, encoding="utf-8") as f:
            data = json.load(f)
    elif args.generate:
        data = generated(args.generate)
    else:
        data = builtin()
    for k in ("transactions", "customers", "meters"):
        data.setdefault(k, [])
    emu_common.serve(args, Handler, State(args, data))


if __name__ == "__main__":
    main()
