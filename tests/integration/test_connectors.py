"""Connector manifests through the real binary: a fourth API (tests/tools/keyset_emulator.py:
keyset paging behind OAuth2 client credentials, a pagination style none of the shipped
connectors uses) connected by a manifest alone, found by name on the config's plugin_path and
by path (`plugin: rest` with `manifest:`); manifest mistakes and their messages; a manifest
in a folder others can write is refused."""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from crmemu import Emulator  # noqa: E402

MANIFEST = """\
# Keyset Pay: keyset pagination behind OAuth2 client credentials (docs/connectors.md)
connector: keysetpay
description: Keyset Pay payments (test emulator)
options:
  page_size: "5"
required: [client_id, client_secret]
auth:
  type: oauth2
  token_url: /oauth/token
request:
  path: /v1/payments
  query:
    after_id: "{after}"
    limit: "{page_size}"
    updated_since: "{since}"
pagination:
  type: keyset
  from: /id
records: /data/items
filters:
  - {path: /status, equals: completed}
incremental:
  field: /paid_at
fields:
  ID: /id
  TIMESTAMP: /paid_at
  PAYMENT_AMOUNT: /value/amount
  PAYMENT_CURRENCY: /value/currency
  TRANSACTION_TYPE:
    first:
      - {path: /kind, map: {refund: REVERSAL}}
      - {option: payment_type}
  REFERENCE_ID: /refund_of
  CUSTOMER_ID: /account/number
  METER_ID: /account/device/serial
  CUSTOMER_NAME: {concat: [/account/holder/first, " ", /account/holder/last]}
  CUSTOMER_PHONE: /account/msisdn
  CUSTOMER_CATEGORY: {value: Residential}
"""


COMMON_FIELDS = """\
filters:
  - {path: /status, not_equals: failed}
fields:
  ID: /id
  TIMESTAMP: /paid_at
  PAYMENT_AMOUNT: /value/amount
  PAYMENT_CURRENCY: /value/currency
  TRANSACTION_TYPE:
    first:
      - {path: /kind, map: {refund: REVERSAL}}
      - {option: payment_type}
  REFERENCE_ID: /refund_of
  CUSTOMER_ID: /account/number
  METER_ID: /account/device/serial
  CUSTOMER_NAME: {concat: [/account/holder/first, " ", /account/holder/last]}
  CUSTOMER_PHONE: /account/msisdn
  CUSTOMER_CATEGORY: {option: customer_category}
"""

# The other pagination styles and auth types, against the same items.
STYLES = {
    "cursor": ("""\
connector: cursorpay
auth:
  type: api_key
  headers: {X-API-KEY: "{api_key}", X-API-SECRET: "{api_secret}"}
request:
  method: POST
  path: /v2/historical
  body:
    filters: {entity_types: [transactions], date_range: {from: "{since}"}}
    cursor: "{cursor}"
    limit: "{page_size}"
pagination: {type: cursor, cursor: /cursor}
records: /results
""", "api_key: k-123, api_secret: s-456789", "v2", 3),
    "hal": ("""\
connector: halpay
auth: {type: basic}
request:
  path: /v3/payments
  query: {offset: "{offset}", limit: "{limit}"}
pagination: {type: next_url, next: /_links/next/href}
records: /_embedded/item
""", "username: ks-user, password: ks-pass-1", "v3", 3),
    "offset": ("""\
connector: offsetpay
auth: {type: basic, username: "{username}", password: "{password}"}
request:
  path: /v3/payments
  query: {offset: "{offset}", limit: "{limit}"}
pagination: {type: offset}
records: /_embedded/item
""", "username: ks-user, password: ks-pass-1", "v3", 3),
    "bearer": ("""\
connector: bearerpay
auth: {type: bearer}
request:
  path: /v1/payments
  query: {after_id: "{after}", limit: "{page_size}"}
pagination: {type: keyset, from: /id, total: /meta/total, stop_on_short_page: false}
records: /data/items
""", "token: ks-access-777", "payments", 3),
    "page": ("""\
connector: pagepay
auth:
  type: header
  headers: {X-Token: "{token}"}
request:
  path: /v4/payments
  query: {page: "{page}", per_page: "{page_size}"}
pagination: {type: page}
records: ""
""", "token: tok-abcdef", "v4", 3),
}


class Connectors(pslib.Case):
    def setUp(self):
        super().setUp()
        self.emu = Emulator("keyset", self.dir)

    def tearDown(self):
        self.emu.stop()
        super().tearDown()

    def cfg(self, source, name="paysync.yaml", plugin_path=None):
        body = ("plugin_path: [%s]\n" % pslib.yaml_str(plugin_path) if plugin_path else "") + """
sinks:
  out: {plugin: jsonl, path: out/payments.jsonl}
  store: {plugin: sqlite, path: out/store.db}
datasets:
  - name: ks
    target: {level: program, id: shs}
    source: %s
    sinks: [out, store]
""" % source
        p = self.write(name, body)
        os.chmod(p, 0o600)
        return p

    def test_fourth_api_by_manifest_alone(self):
        os.makedirs(self.path("connectors"), mode=0o755)
        self.write("connectors/keysetpay.yaml", MANIFEST)
        src = ("{plugin: keysetpay, api_url: %s, client_id: ks-client, "
               "client_secret: ks-secret-0123456789}" % self.emu.url)
        cfg = self.cfg(src, plugin_path=self.path("connectors"))
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("read 12, accepted 11, rejected 0", res.out)
        self.assertIn("keysetpay: 1 records filtered out (not payments)", res.err)
        self.assertIn("duplicates 0, filtered 1, warnings 0", res.out)
        rows = {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}
        self.assertEqual(rows["512"]["TRANSACTION_TYPE"], "REVERSAL")
        self.assertEqual(rows["512"]["REFERENCE_ID"], "502")
        self.assertEqual(rows["501"]["TRANSACTION_TYPE"], "INSTALLMENT_PAYMENT")
        self.assertEqual(rows["501"]["TIMESTAMP"], "2024-05-01T07:00:00.000Z")
        self.assertEqual(rows["501"]["METER_ID"], "SHS000001")
        self.assertEqual(rows["501"]["CUSTOMER_NAME"], "Wanjiru K1")
        self.assertNotIn("504", rows)  # status failed: filtered
        with open(self.path("out", "payments.jsonl")) as f:
            self.assertIn('"PAYMENT_AMOUNT":1001.25', f.read())
        with open(self.emu.port_file):
            pass
        import json
        import urllib.request
        with urllib.request.urlopen(self.emu.url + "/_control/stats") as r:
            st = json.load(r)
        # 12 items, 5 a page: after_id 0 (unset), 505, 510; the short third page is the last
        self.assertEqual(st["counts"], {"token": 1, "token:basic": 1, "payments": 3})
        afters = [urllib.parse.parse_qs(urllib.parse.urlsplit(p).query).get("after_id")
                  for p in st["log"][1:]]
        self.assertEqual(afters, [None, ["505"], ["510"]])
        self.assertNotIn("ks-secret-0123456789", res.out + res.err)
        # by path, and through the kit
        src = ("{plugin: rest, manifest: connectors/keysetpay.yaml, api_url: %s, "
               "client_id: ks-client, client_secret: ks-secret-0123456789}" % self.emu.url)
        cfg2 = self.cfg(src, name="bypath.yaml")
        res = pslib.run("run", cfg2)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("read 12, accepted 11", res.out)
        res = pslib.run("test-plugin", "rest", "--config", cfg2, "--dataset", "ks")
        self.assertEqual(res.rc, 0, res)
        # 8 checks; a sanitizer build cannot count heap use, so there "arena use only" is
        # the one skipped check
        self.assertRegex(res.out, r"(?m)^(8 passed, 0 failed, 0 skipped|7 passed, 0 failed, 1 skipped)$")
        if "1 skipped" in res.out:
            self.assertRegex(res.out, r"(?m)^  arena use only +skip ")

    def stats(self):
        import json
        import urllib.request
        with urllib.request.urlopen(self.emu.url + "/_control/stats") as r:
            return json.load(r)

    def test_other_pagination_styles_and_auths(self):
        seen = set()
        for style, (head, creds, kind, nreq) in sorted(STYLES.items()):
            with self.subTest(style=style):
                self.write("%s.yaml" % style, head + COMMON_FIELDS)
                before = self.stats()["counts"].get(kind, 0)
                cfg = self.cfg("{plugin: rest, manifest: %s.yaml, api_url: %s, page_size: 5, "
                               "currency: KES, customer_category: Residential, %s}"
                               % (style, self.emu.url, creds), name="%s-cfg.yaml" % style)
                res = pslib.run("run", cfg)
                self.assertEqual(res.rc, 0, res)
                self.assertIn("read 12, accepted 11, rejected 0", res.out)
                self.assertEqual(self.stats()["counts"][kind] - before, nreq)
                rows = {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}
                self.assertEqual(rows["512"]["TRANSACTION_TYPE"], "REVERSAL")
                self.assertEqual(rows["511"]["PAYMENT_AMOUNT"], 1011.25)
                seen.add(style)
                os.rename(self.path("out"), self.path("out-" + style))
        self.assertEqual(seen, set(STYLES))
        st = self.stats()
        # the cursor style: the first body has a null cursor and the unset window, then the
        # cursors the answers gave; page_size as a bare number
        self.assertEqual([b["cursor"] for b in st["bodies"]], [None, "cur-5", "cur-10"])
        self.assertEqual(st["bodies"][0]["filters"]["date_range"], {"from": None})
        self.assertEqual(st["bodies"][0]["limit"], 5)
        hal = [p for p in st["log"] if p.startswith("/v3/")]
        self.assertEqual(hal[:3], ["/v3/payments?offset=0&limit=5", "/v3/payments?offset=5&limit=5",
                                   "/v3/payments?offset=10&limit=5"])
        pages = [p for p in st["log"] if p.startswith("/v4/")]
        self.assertEqual(pages, ["/v4/payments?page=%d&per_page=5" % i for i in (1, 2, 3)])

    def refused(self, manifest):
        """A run of manifest with a wrong client secret: exit 1, the token endpoint's 401 and
        the refusal named, the secret never shown."""
        cfg = self.cfg("{plugin: rest, manifest: %s, api_url: %s, client_id: ks-client, "
                       "client_secret: not-it-at-all}" % (manifest, self.emu.url), name="wrong.yaml")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("logging in (POST %s/oauth/token): HTTP 401 (server said: {\"error\": "
                      "\"invalid_client\"}): the credentials were refused; check the connector's "
                      "credential options (client_id, client_secret)" % self.emu.url, res.out)
        self.assertNotIn("not-it-at-all", res.out + res.err)
        return res

    def test_wrong_client_secret(self):
        self.write("k.yaml", MANIFEST)
        self.refused("k.yaml")

    def test_oauth2_credentials_in_the_body(self):
        # send_credentials: body: client_id and client_secret in the form, no Basic header
        self.write("body.yaml", MANIFEST.replace("  token_url: /oauth/token\n",
                                                 "  token_url: /oauth/token\n"
                                                 "  send_credentials: body\n"))
        cfg = self.cfg("{plugin: rest, manifest: body.yaml, api_url: %s, client_id: ks-client, "
                       "client_secret: ks-secret-0123456789}" % self.emu.url)
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("read 12, accepted 11, rejected 0", res.out)
        c = self.stats()["counts"]
        self.assertEqual((c.get("token:body"), c.get("token:basic")), (1, None), c)
        self.assertNotIn("ks-secret-0123456789", res.out + res.err)
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            before = f.read()
        res = self.refused("body.yaml")
        self.assertIn("nothing committed", res.out)
        with open(self.path("out", "payments.jsonl"), "rb") as f:
            self.assertEqual(f.read(), before)  # the previous output kept
        self.assertEqual(self.stats()["counts"]["token:body"], 2)

    def bad(self, manifest, message):
        self.write("bad.yaml", manifest)
        cfg = self.cfg("{plugin: rest, manifest: bad.yaml, api_url: %s, client_id: a, "
                       "client_secret: b}" % self.emu.url, name="cfg-bad.yaml")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn(message, res.err, res)

    def test_manifest_mistakes(self):
        m = MANIFEST
        self.bad(m.replace("type: keyset", "type: keyset_x"),
                 "bad.yaml:17:9: pagination.type must be one of: none, next_url, cursor, "
                 "offset, page, keyset (got 'keyset_x')")
        self.bad(m.replace("  from: /id\n", ""),
                 "pagination: type keyset needs `from`")
        self.bad(m.replace("records: /data/items", "records: data.items"),
                 "records must be a JSON pointer such as /results or /data/items, got "
                 "'data.items'")
        self.bad(m.replace("  ID: /id", "  IDENT: /id"),
                 "fields: 'IDENT' is not a field of the payment model")
        self.bad(m.replace("CUSTOMER_CATEGORY: {value: Residential}",
                           "CUSTOMER_CATEGORY: Residential"),
                 "fields.CUSTOMER_CATEGORY: expected a JSON pointer (/amount) or a mapping")
        self.bad(m.replace("METER_ID: /account/device/serial",
                           "METER_ID: {lookup: meters, key: /x, field: /y}"),
                 "fields.METER_ID: no lookup named 'meters' under `lookups`")
        self.bad(m.replace("type: oauth2", "type: oauth3"),
                 "auth.type must be one of: none, header, bearer, basic, api_key, token_login, "
                 "oauth2 (got 'oauth3')")
        self.bad(m.replace("connector: keysetpay", "connector: keysetpay\nconector: x"),
                 "bad.yaml:3:11: manifest: unknown key 'conector'")
        self.bad(m.replace("  page_size: \"5\"", "  page_sise: \"5\""),
                 "options: 'page_sise' is not an option of the rest provider")
        self.bad(m.replace("  page_size: \"5\"", "  page_size: \"0\""),
                 "options.page_size: '0' is not a valid number here")
        self.bad(m.replace("limit: \"{page_size}\"", "limit: \"{pagesize}\""),
                 "bad.yaml:14:12: request: unknown variable {pagesize}")
        self.bad(m.replace("  field: /paid_at\n", "  field: /paid_at\n  timestamp_lag: soon\n"),
                 "bad.yaml:24:18: incremental.timestamp_lag must be a duration such as 1d or "
                 "12h, got 'soon'")
        self.bad(m.replace("records: /data/items", "records: /data/items\nflatten: \"\""),
                 "flatten must point to a list inside each item, such as /meters")
        self.bad(m.replace("records: /data/items", "records: /data/items\nflatten: meters"),
                 "manifest.flatten must be a JSON pointer such as /results or /data/items, got "
                 "'meters'")
        self.bad(m + "fields: {}\n", "key 'fields' given twice")
        self.bad("connector: [", "bad.yaml:2:1: did not find expected node content")
        res = pslib.run("run", self.cfg("{plugin: rest, api_url: http://x}", name="c.yaml"))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("missing required option 'manifest'", res.err)

    def test_unknown_name_and_untrusted_manifest(self):
        res = pslib.run("run", self.cfg("{plugin: steamacoo}", name="c.yaml"))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("plugin 'steamacoo' not found", res.err)
        os.makedirs(self.path("drop"))
        os.chmod(self.path("drop"), 0o777)
        self.write("drop/evil.yaml", MANIFEST)
        res = pslib.run("run", self.cfg("{plugin: evil, client_id: a, client_secret: b}",
                                        name="c2.yaml", plugin_path=self.path("drop")))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("connector 'evil': %s: refusing to load: its directory is writable by "
                      "group or others (mode 777); fix with: chmod go-w '%s'"
                      % (self.path("drop", "evil.yaml"), self.path("drop")), res.err)


if __name__ == "__main__":
    pslib.main()
