#!/usr/bin/env python3
"""A made-up payments API ("Keyset Pay") whose pagination none of SteamaCo, SparkMeter and
Angaza use: keyset paging (`?after_id=<last id>&limit=N`, an empty `data.items` list at the
end), behind OAuth2 client credentials. It exists to show a connector written as a manifest
alone (tests/integration/test_connectors.py, docs/connectors.md). Stdlib only.

The same items are also served in the other styles a manifest can describe, to test them:
    POST /v2/historical  X-API-KEY: k-123, X-API-SECRET: s-456789; body {"filters": ...,
                         "cursor": null|"cur-N", "limit": N} -> {"cursor", "count", "results"}
    GET  /v3/payments    HTTP Basic ks-user:ks-pass-1; ?offset=&limit= -> HAL
                         {"_embedded": {"item": [...]}, "_links": {"next": {"href": relative}}}
    GET  /v4/payments    X-Token: tok-abcdef; ?page=&per_page= -> a bare list

    POST /oauth/token   grant_type=client_credentials, client_id:client_secret as HTTP Basic or
                        in the form body (counted as token:basic / token:body; both: 400)
                        -> {"access_token", "token_type": "Bearer", "expires_in"}; 401 else
    GET  /v1/payments   ?after_id=&limit=&updated_since=  (Bearer token) ->
                        {"data": {"items": [...]}, "meta": {"limit": N, "total": N}}
    GET  /_control/stats  request counts and the requests seen

Items: {"id": int, "paid_at": ISO 8601, "value": {"amount": JSON number, "currency"},
"kind": "payment" | "refund", "status": "completed" | "failed", "refund_of": id or null,
"account": {"number", "holder": {"first", "last"}, "device": {"serial"}, "msisdn"}}.
"""
import argparse
import base64
import json
import os
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CLIENT_ID = "ks-client"
CLIENT_SECRET = "ks-secret-0123456789"


def items():
    out = []
    for i in range(1, 12):
        out.append({"id": 500 + i, "paid_at": "2024-05-%02dT10:00:00+03:00" % i,
                    "value": {"amount": "\x00%d.25\x00" % (1000 + i), "currency": "KES"},
                    "kind": "payment", "status": "failed" if i == 4 else "completed",
                    "refund_of": None,
                    "account": {"number": "AC-%03d" % i, "msisdn": "+2547001000%02d" % i,
                                "holder": {"first": "Wanjiru", "last": "K%d" % i},
                                "device": {"serial": "SHS%06d" % i}}})
    out.append({"id": 512, "paid_at": "2024-05-12T09:00:00Z",
                "value": {"amount": "\x00-1002.25\x00", "currency": "KES"}, "kind": "refund",
                "status": "completed", "refund_of": 502,
                "account": {"number": "AC-002", "msisdn": "+254700100002",
                            "holder": {"first": "Wanjiru", "last": "K2"},
                            "device": {"serial": "SHS000002"}}})
    return out


def dump(obj):
    t = json.dumps(obj)
    return t.replace('"\\u0000', "").replace('\\u0000"', "").encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        pass

    def send(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def count(self, kind):
        st = self.server.state
        with st["lock"]:
            st["counts"][kind] = st["counts"].get(kind, 0) + 1
            st["log"].append(self.path)

    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode()
        if self.path == "/v2/historical":
            self.count("v2")
            if self.headers.get("X-API-KEY") != "k-123" or \
                    self.headers.get("X-API-SECRET") != "s-456789":
                return self.send(401, b'{"errors": [{"title": "unauthorized"}]}')
            req = json.loads(body)
            st = self.server.state
            with st["lock"]:
                st["bodies"].append(req)
            cur = req.get("cursor")
            off = int(cur[4:]) if cur else 0
            lim = int(req.get("limit", 50))
            rows = items()[off:off + lim]
            nxt = "cur-%d" % (off + lim) if off + lim < len(items()) else None
            return self.send(200, dump({"cursor": nxt, "count": len(rows), "results": rows}))
        if self.path != "/oauth/token":
            return self.send(404, b'{"error": "not_found"}')
        self.count("token")
        form = urllib.parse.parse_qs(body)
        want = "Basic " + base64.b64encode(("%s:%s" % (CLIENT_ID, CLIENT_SECRET)).encode()).decode()
        basic = self.headers.get("Authorization")
        in_body = "client_id" in form or "client_secret" in form
        if basic and in_body:  # RFC 6749 2.3: one way of sending the credentials
            return self.send(400, b'{"error": "invalid_request"}')
        st = self.server.state
        with st["lock"]:  # how the credentials came (counted, not logged)
            k = "token:body" if in_body else "token:basic"
            st["counts"][k] = st["counts"].get(k, 0) + 1
        ok = (form.get("client_id") == [CLIENT_ID] and form.get("client_secret") == [CLIENT_SECRET]
              if in_body else basic == want)
        if form.get("grant_type") != ["client_credentials"] or not ok:
            return self.send(401, b'{"error": "invalid_client"}')
        self.send(200, json.dumps({"access_token": "ks-access-777", "token_type": "Bearer",
                                   "expires_in": 3600}).encode())

    def do_GET(self):
        u = urllib.parse.urlsplit(self.path)
        if u.path == "/_control/stats":
            st = self.server.state
            with st["lock"]:
                return self.send(200, json.dumps({"counts": st["counts"], "log": st["log"],
                                             "bodies": st["bodies"]})
                                 .encode())
        if u.path not in ("/v1/payments", "/v3/payments", "/v4/payments"):
            return self.send(404, b'{"error": "not_found"}')
        if u.path == "/v1/payments":
            self.count("payments")
        if u.path == "/v1/payments" and \
                self.headers.get("Authorization") != "Bearer ks-access-777":
            return self.send(401, b'{"error": "invalid_token"}')
        q = dict(urllib.parse.parse_qsl(u.query))
        if u.path == "/v3/payments":
            self.count("v3")
            want = "Basic " + base64.b64encode(b"ks-user:ks-pass-1").decode()
            if self.headers.get("Authorization") != want:
                return self.send(401, b'{"error": "unauthorized"}')
            off, lim = int(q.get("offset", "0")), int(q.get("limit", "50"))
            rows = items()[off:off + lim]
            body = {"_embedded": {"item": rows}, "_links": {}}
            if off + lim < len(items()):
                body["_links"]["next"] = {"href": "/v3/payments?offset=%d&limit=%d"
                                          % (off + lim, lim)}
            return self.send(200, dump(body))
        if u.path == "/v4/payments":
            self.count("v4")
            if self.headers.get("X-Token") != "tok-abcdef":
                return self.send(401, b'{"error": "unauthorized"}')
            page, per = int(q.get("page", "1")), int(q.get("per_page", "50"))
            return self.send(200, dump(items()[(page - 1) * per:page * per]))
        after = int(q.get("after_id", "0"))
        limit = min(int(q.get("limit", "50")), 50)
        rows = [r for r in items() if r["id"] > after][:limit]
        self.send(200, dump({"data": {"items": rows}, "meta": {"limit": limit,
                                                               "total": len(items())}}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file")
    args = ap.parse_args()
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = {"lock": threading.Lock(), "counts": {}, "log": [], "bodies": []}
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(srv.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
