"""The SteamaCo, SparkMeter (Koios) and Angaza emulators themselves: what the connector tests rely on.
Each fault switch answers as its docstring says (status, Retry-After, body), the `insert`
fault shifts the next page, `expire` keeps failing until reset, paging and the time filter
cover every record once, amounts arrive as strings and as bare JSON numbers, and
/_control/data edits records (a late reversal)."""
import base64
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from crmemu import Emulator  # noqa: E402

KOIOS_HEADERS = {"X-API-KEY": "koios-key-0123", "X-API-SECRET": "koios-secret-s3cr3t",
                 "Content-Type": "application/json"}
ORG_PATH = "/api/v2/organizations/4b0d6a52-org/data/historical"
ANGAZA_AUTH = {"Authorization": "Basic " + base64.b64encode(
    b"operator@example.com:s3cret-Angaza-pass").decode()}


class EmuCase(pslib.Case):
    name = None

    def setUp(self):
        super().setUp()
        self.emu = Emulator(self.name, self.dir)

    def tearDown(self):
        self.emu.stop()
        super().tearDown()

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.emu.port, timeout=10)
        try:
            c.request(method, path, body=json.dumps(body) if body is not None else None,
                      headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()


class Steama(EmuCase):
    name = "steama"

    def token(self):
        st, _, raw = self.request("POST", "/get-token/",
                                  {"username": "operator@example.com",
                                   "password": "s3cret-Steama-pass"},
                                  {"Content-Type": "application/json"})
        self.assertEqual(st, 200, raw)
        return json.loads(raw)["token"]

    def test_command_line_fault_and_delete(self):
        # emu_common's --fault parsing (the emulator's own copy never applied it)
        self.emu.stop()
        self.emu = Emulator(self.name, self.dir, "--fault", "transactions:503")
        auth = {"Authorization": "Token " + self.token()}
        st, _, raw = self.request("GET", "/transactions/", headers=auth)
        self.assertEqual(st, 503, raw)
        self.assertEqual(json.loads(raw), {"detail": "Service temporarily unavailable."})
        st, _, raw = self.request("GET", "/transactions/?page_size=100", headers=auth)
        self.assertEqual(st, 200, raw)
        self.assertEqual(json.loads(raw)["count"], 20)
        self.emu.data(delete=[1001, 1002])
        st, _, raw = self.request("GET", "/transactions/?page_size=100", headers=auth)
        ids = [t["id"] for t in json.loads(raw)["results"]]
        self.assertEqual((len(ids), 1001 in ids, 1003 in ids), (18, False, True))
        self.assertEqual(self.emu.counts()["fault:503"], 1)
        st, _, raw = self.request("GET", "/meters/", headers={"Authorization": "Token x"})
        self.assertEqual((st, json.loads(raw)), (401, {"detail": "Invalid token."}))


class Koios(EmuCase):
    name = "sparkmeter"

    def page(self, cursor=None, frm="2024-03-01T00:00:00Z", headers=KOIOS_HEADERS):
        body = {"filters": {"entity_types": ["transactions"], "date_range": {"from": frm}},
                "cursor": cursor}
        return self.request("POST", ORG_PATH, body, headers)

    def all_ids(self, frm="2024-03-01T00:00:00Z"):
        ids, cursor = [], None
        while True:
            st, _, raw = self.page(cursor, frm)
            self.assertEqual(st, 200, raw)
            doc = json.loads(raw)
            self.assertEqual(doc["count"], len(doc["results"]))
            ids += [t["transaction_id"] for t in doc["results"]]
            cursor = doc["cursor"]
            if cursor is None:
                return ids

    def test_paging_filter_and_numbers(self):
        ids = self.all_ids()
        self.assertEqual(len(ids), 20)
        self.assertEqual(len(set(ids)), 20)
        self.assertEqual(len(self.all_ids("2024-03-09T00:00:00Z")), 4)
        _, _, raw = self.page()
        self.assertIn(b'"amount": 530.50', raw)   # a bare JSON number, exact text
        self.assertIn(b'"amount": "520.50"', raw)  # a string
        self.assertIn(b'+01:00"', self.request("POST", ORG_PATH, {
            "filters": {"entity_types": ["transactions"],
                        "date_range": {"from": "2024-03-03T00:00:00Z"}}, "cursor": None},
            KOIOS_HEADERS)[2])
        st, _, raw = self.request("GET", "/api/v1/customers?page=2&per_page=2", None,
                                  KOIOS_HEADERS)
        self.assertEqual([c["id"] for c in json.loads(raw)["data"]], ["cus-0003", "cus-0004"])
        self.assertEqual(self.emu.counts()["historical"], 7)

    def test_errors(self):
        st, _, raw = self.page(headers={"X-API-KEY": "wrong", "X-API-SECRET": "x"})
        self.assertEqual((st, json.loads(raw)["errors"][0]["title"]), (401, "Unauthorized"))
        st, _, raw = self.request("POST", ORG_PATH, {"filters": {"entity_types":
                                                                 ["transactions"]}},
                                  KOIOS_HEADERS)
        self.assertEqual(st, 400)
        self.assertIn(b"filters.date_range.from is required", raw)
        st, _, _ = self.request("POST", ORG_PATH.replace("4b0d6a52-org", "other"),
                                {"filters": {}}, KOIOS_HEADERS)
        self.assertEqual(st, 404)

    def test_faults(self):
        for kind, status, retry in (("429", 429, "1"), ("429bare", 429, None),
                                    ("burst", 429, None), ("500", 500, None),
                                    ("503", 503, None), ("401", 401, None)):
            self.emu.faults([{"when": "historical", "kind": kind}])
            st, hdr, raw = self.page()
            self.assertEqual((st, hdr.get("Retry-After")), (status, retry), (kind, raw))
            self.assertEqual(self.page()[0], 200, kind)  # count 1: the next one passes
        self.assertIn(b"at most 3 requests per 5 seconds",
                      (self.emu.faults([{"when": "any", "kind": "burst"}]), self.page())[1][2])
        self.emu.faults([{"when": "historical", "kind": "truncate"}])
        st, _, raw = self.page()
        self.assertEqual(st, 200)
        self.assertRaises(ValueError, json.loads, raw)
        self.emu.faults([{"when": "historical", "kind": "expire", "skip": 1}])
        self.assertEqual(self.page()[0], 200)
        self.assertEqual(self.page()[0], 401)
        self.assertEqual(self.page()[0], 401)  # revoked until reset
        self.emu.reset()
        self.assertEqual(self.page()[0], 200)
        self.assertEqual(self.emu.counts(), {"historical": 1, "total": 1})

    def test_insert_shifts_the_next_page_and_data_edits(self):
        self.emu.faults([{"when": "historical", "kind": "insert"}])
        st, _, raw = self.page()
        first = json.loads(raw)
        st, _, raw = self.page(first["cursor"])
        second = json.loads(raw)
        self.assertEqual(second["results"][0]["transaction_id"],
                         first["results"][-1]["transaction_id"])  # repeated by the shift
        self.emu.data(update=[{"transaction_id": "txn-00002", "state": "reversed",
                               "reversed_timestamp": "2024-03-02T09:00:00Z"}])
        _, _, raw = self.page()
        t = [t for t in json.loads(raw)["results"] if t["transaction_id"] == "txn-00002"][0]
        self.assertEqual(t["state"], "reversed")

    def test_real_burst_limit(self):
        self.emu.stop()
        self.emu = Emulator(self.name, self.dir, "--burst-limit", "3/60")
        self.assertEqual([self.page()[0] for _ in range(4)], [200, 200, 200, 429])
        self.assertEqual(self.emu.counts()["burst-limit"], 1)


class Angaza(EmuCase):
    name = "angaza"

    def get(self, path, headers=ANGAZA_AUTH):
        return self.request("GET", path, None, headers)

    def test_hal_paging_filter_and_numbers(self):
        path, ids = "/data/payments?limit=5", []
        while path:
            st, _, raw = self.get(path)
            self.assertEqual(st, 200, raw)
            doc = json.loads(raw)
            ids += [p["qid"] for p in doc["_embedded"]["item"]]
            nxt = doc["_links"].get("next")
            path = nxt["href"].split(str(self.emu.port), 1)[1] if nxt else None
        self.assertEqual((len(ids), len(set(ids))), (16, 16))
        _, _, raw = self.get("/data/payments?from=2024-03-08T00:00:00Z")
        self.assertEqual(len(json.loads(raw)["_embedded"]["item"]), 2)
        _, _, raw = self.get("/data/payments?limit=4")
        self.assertIn(b'"amount": 300.00', raw)
        self.assertIn(b'"amount": "100.00"', raw)
        _, _, raw = self.get("/data/accounts/AC000002")
        self.assertEqual(json.loads(raw)["unit"]["serial_number"], "00007782")
        _, _, raw = self.get("/data/clients?limit=1&offset=1")
        self.assertEqual(json.loads(raw)["_embedded"]["item"][0]["qid"], "CL000002")
        self.assertEqual(self.get("/data/payments?limit=0")[0], 400)
        self.assertEqual(self.get("/data/accounts/NOPE")[0], 404)

    def test_auth_and_faults(self):
        st, hdr, _ = self.get("/data/payments", {})
        self.assertEqual((st, hdr.get("WWW-Authenticate")), (401, 'Basic realm="Angaza Data API"'))
        for kind, status, retry in (("429", 429, "1"), ("429bare", 429, None),
                                    ("500", 500, None), ("503", 503, None), ("401", 401, None)):
            self.emu.faults([{"when": "payments", "kind": kind}])
            st, hdr, raw = self.get("/data/payments")
            self.assertEqual((st, hdr.get("Retry-After")), (status, retry), (kind, raw))
            self.assertEqual(self.get("/data/payments")[0], 200, kind)
        self.emu.faults([{"when": "payments", "kind": "truncate"}])
        self.assertRaises(ValueError, json.loads, self.get("/data/payments")[2])
        self.emu.faults([{"when": "any", "kind": "expire"}])
        self.assertEqual(self.get("/data/accounts")[0], 401)
        self.assertEqual(self.get("/data/payments")[0], 401)
        self.emu.reset()
        self.assertEqual(self.get("/data/payments")[0], 200)

    def test_insert_and_late_reversal(self):
        self.emu.faults([{"when": "payments", "kind": "insert"}])
        first = json.loads(self.get("/data/payments?limit=3")[2])["_embedded"]["item"]
        second = json.loads(self.get("/data/payments?limit=3&offset=3")[2])["_embedded"]["item"]
        self.assertEqual(second[0]["qid"], first[-1]["qid"])
        self.emu.data(update=[{"qid": "PA000002", "is_reversed": True}])
        items = json.loads(self.get("/data/payments?limit=100")[2])["_embedded"]["item"]
        self.assertTrue([p for p in items if p["qid"] == "PA000002"][0]["is_reversed"])
        self.assertEqual(len(items), 17)


if __name__ == "__main__":
    pslib.main()
