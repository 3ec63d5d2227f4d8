"""paysync serve: the platform's pull API driven with curl against a server on a random
loopback port (docs/serve.md). Rows come from a real `paysync run` into a sqlite sink, or
into a postgres sink when PS_TEST_PG_CONNINFO is set (ctest integration.test_serve.postgres)."""
import decimal
import hashlib
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

KEY_ALL = "k-all-0123456789abcdef"
KEY_A = "k-only-a-fedcba9876543210"

CSV_A = """ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,CUSTOMER_CATEGORY,FINANCING_ID,AGENT_ID,LATITUDE,LONGITUDE,FAILED_BATTERY_CAPACITY_COUNT,NOTES
A1,2024-01-01T08:15:02Z,1500.50,NGN,FULL_PAYMENT,C1,M1,"Ada ""Q"" Okafor",Residential,LOAN-1,AG1,6.5244,3.3792,3,hello
A3,2024-01-01T09:00:00Z,200,NGN,INSTALLMENT_PAYMENT,C2,M2,Bo,Commercial,,,,,,
A2,2024-01-01T09:00:00Z,0.0001,NGN,FULL_PAYMENT,C3,M3,Cy,Residential,LOAN-2,,,,,
A4,2024-01-01T23:59:59.500Z,99999999999.99,NGN,FULL_PAYMENT,C4,M4,Di,Residential,,,,,,
A5,2024-01-02T00:00:00Z,7,NGN,FULL_PAYMENT,C5,M5,Ed,Residential,,,,,,
AX,2024-01-01T10:00:00Z,abc,NGN,FULL_PAYMENT,C6,M6,Fi,Residential,,,,,,
A0,2023-12-31T23:59:59.999Z,1,NGN,FULL_PAYMENT,C7,M7,Gu,Residential,,,,,,
"""

CSV_B = """ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,CUSTOMER_CATEGORY,FINANCING_ID
B1,2024-01-01T12:00:00Z,-12.5,KES,REVERSAL,K1,SHS-1,Wa,Residential,LOAN-1
B2,2024-01-01T08:15:02Z,300.25,KES,FULL_PAYMENT,K2,SHS-2,Ot,Residential,
B3,2024-01-01T08:00:00Z,5,KES,FULL_PAYMENT,K3,,Ny,Residential,
"""

DAY = "FROM=2024-01-01T00:00:00Z&TO=2024-01-01T23:59:59Z"
API = "/api/odyssey/payments"


def sha(s):
    return hashlib.sha256(s.encode()).hexdigest()


class Server:
    """A `paysync serve` process on 127.0.0.1:0 with its log in a file."""

    def __init__(self, cfg, workdir, args=()):
        self.log_path = os.path.join(workdir, "serve-%d.log" % time.monotonic_ns())
        self.log = open(self.log_path, "wb")
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        self.proc = subprocess.Popen([pslib.PAYSYNC, "serve", cfg, "--listen", "127.0.0.1:0"]
                                     + list(args), stdout=subprocess.DEVNULL, stderr=self.log,
                                     env=env)
        self.port = None
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.text())
            if m:
                self.port = int(m.group(1))
                break
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        if not self.port:
            self.stop()
            raise AssertionError("server did not start:\n" + self.text())

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("utf-8", "replace")

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body.decode("utf-8"), parse_float=decimal.Decimal)

    def header(self, name):
        for line in self.headers.splitlines():
            k, _, v = line.partition(":")
            if k.strip().lower() == name.lower():
                return v.strip()
        return None

    def __repr__(self):
        return "HTTP %d\n%s\n%r" % (self.status, self.headers, self.body[:2000])


def curl(port, target, key=None, method=None, headers=(), tmp=None):
    """Requests target (path and query, sent as is) with curl; returns a Resp."""
    fd, body = tempfile.mkstemp(dir=tmp)
    os.close(fd)
    hfd, hdr = tempfile.mkstemp(dir=tmp)
    os.close(hfd)
    args = ["curl", "-s", "-g", "--path-as-is", "-o", body, "-D", hdr, "-w", "%{http_code}",
            "--max-time", "30"]
    if method == "HEAD":
        args.append("-I")
    elif method:
        args += ["-X", method]
    if key is not None:
        args += ["-H", "Authorization: Bearer " + key]
    for h in headers:
        args += ["-H", h]
    args.append("http://127.0.0.1:%d%s" % (port, target))
    p = subprocess.run(args, capture_output=True, timeout=60)
    try:
        with open(body, "rb") as f:
            data = f.read()
        with open(hdr, "rb") as f:
            htext = f.read().decode("latin-1")
    finally:
        os.unlink(body)
        os.unlink(hdr)
    code = int(p.stdout.decode() or "0")
    return Resp(code, htext, data)


def write_config(case, extra_serve="", db="var/store.db"):
    """A fresh store (sqlite at db, or the emptied test database) and the config."""
    pslib.store_reset()
    case.write("a.csv", CSV_A)
    case.write("b.csv", CSV_B)
    return case.config("""sinks:
  store: %s
datasets:
  - name: ds_a
    target: {level: project, id: site-a}
    source: {plugin: csvfile, path: a.csv}
    sinks: [store]
  - name: ds_b
    target: {level: program, id: prog-b}
    source: {plugin: csvfile, path: b.csv}
    sinks: [store]
serve:
  store: store
  keys:
    - {name: platform, key_sha256: %s, datasets: ["*"]}
    - {name: partner, key_sha256: %s, datasets: [ds_a]}
%s""" % (pslib.store_sink(db), sha(KEY_ALL), sha(KEY_A), extra_serve))


def have_curl():
    return subprocess.run(["sh", "-c", "command -v curl"], capture_output=True).returncode == 0


class ServeTest(pslib.Case):
    """One store and one server shared by the read-only checks."""

    @classmethod
    def setUpClass(cls):
        pslib.require_binary()
        if not have_curl():
            print("SKIP: curl is not installed", file=sys.stderr)
            sys.exit(pslib.SKIP)
        cls.shared = pslib.Case("run")
        cls.shared.setUp()
        cls.cfg = write_config(cls.shared)
        res = pslib.run("run", cls.cfg)
        if res.rc != 0:
            raise AssertionError("paysync run failed (is `run` implemented yet?)\n%r" % res)
        cls.db = cls.shared.path("var", "store.db")
        cls.srv = Server(cls.cfg, cls.shared.dir)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()
        cls.shared.tearDown()

    def get(self, target, key=KEY_ALL, **kw):
        return curl(self.srv.port, target, key=key, tmp=self.dir, **kw)

    def store_rows(self, lo_ms, hi_ms, datasets=("ds_a", "ds_b")):
        q = ("SELECT id, timestamp, payment_amount, payment_currency, transaction_type,"
             " customer_id, meter_id, customer_name, customer_category, financing_id,"
             " agent_id, latitude, longitude, failed_battery_capacity_count, target_level"
             " FROM payments WHERE timestamp_ms BETWEEN ? AND ? AND vanished_run IS NULL"
             " AND dataset IN (%s) ORDER BY timestamp_ms, id" % ",".join("?" * len(datasets)))
        return pslib.store_query(self.db, q, (lo_ms, hi_ms) + tuple(datasets))

    def assert_payments(self, r, ids):
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("Content-Type"), "application/json; charset=utf-8", r)
        doc = r.json()
        self.assertEqual(doc["errors"], "", r)
        self.assertEqual([p["transactionId"] for p in doc["payments"]], ids, r)
        return doc

    def assert_400(self, r, message):
        self.assertEqual(r.status, 400, r)
        self.assertEqual(r.json(), {"payments": [], "errors": message}, r)

    # ---- the day window --------------------------------------------------------------

    def test_day_matches_rows_written_by_run(self):
        r = self.get(API + "?" + DAY)
        doc = r.json()
        lo = 1704067200000
        rows = self.store_rows(lo, lo + 86400000 - 1)
        self.assertEqual(len(rows), 6, rows)  # A1 A2 A3 A4 B1 B2; not AX, B3 (rejected), A0, A5
        self.assertEqual(len(doc["payments"]), len(rows), r)
        fields = ["transactionId", "timestamp", "amount", "currency", "transactionType",
                  "customerId", None, "customerName", "customerCategory", "financingId",
                  "agentId", "latitude", "longitude", "failedBatteryCapacityCount"]
        for p, row in zip(doc["payments"], rows):
            level = row[-1]
            for i, name in enumerate(fields):
                if name is None:
                    name = "meterId" if level == "project" else "serialNumber"
                v = row[i]
                if v is None:
                    if name == "serialNumber":
                        self.assertEqual(p[name], "N/A", p)
                    else:
                        self.assertNotIn(name, p)
                elif name in ("amount", "failedBatteryCapacityCount"):
                    self.assertEqual(p[name], decimal.Decimal(v), p)
                else:
                    self.assertEqual(p[name], v, p)
            self.assertNotIn("notes", p)
            self.assertNotIn(None, p.values())
        # timestamp then ID: A1 and B2 share 08:15:02, A2 and A3 share 09:00
        self.assertEqual([p["transactionId"] for p in doc["payments"]],
                         ["A1", "B2", "A2", "A3", "B1", "A4"], r)

    def test_amounts_are_exact_json_numbers(self):
        r = self.get(API + "?" + DAY)
        body = r.body.decode()
        for text in ('"amount":1500.50,', '"amount":0.0001,', '"amount":99999999999.99,',
                     '"amount":-12.5,', '"amount":200,'):
            self.assertIn(text, body)
        self.assertIn('"failedBatteryCapacityCount":3', body)
        self.assertIn('"latitude":"6.5244"', body)
        self.assertIn('"customerName":"Ada \\"Q\\" Okafor"', body)
        self.assertNotIn("null", body)

    def test_project_meter_id_and_program_serial_number(self):
        doc = self.get(API + "?" + DAY).json()
        by_id = {p["transactionId"]: p for p in doc["payments"]}
        self.assertEqual(by_id["A1"]["meterId"], "M1")
        self.assertNotIn("serialNumber", by_id["A1"])
        self.assertEqual(by_id["B1"]["serialNumber"], "SHS-1")
        self.assertNotIn("meterId", by_id["B1"])

    def test_lower_case_parameters(self):
        self.assert_payments(self.get(API + "?from=2024-01-01T00:00:00Z&to=2024-01-01T08:30:00Z"),
                             ["A1", "B2"])

    def test_last_second_inclusive_and_fractions(self):
        # TO without a fraction covers its whole second (A4 is at 23:59:59.500)
        self.assert_payments(self.get(API + "?FROM=2024-01-01T23:00:00Z&TO=2024-01-01T23:59:59Z"),
                             ["A4"])
        self.assert_payments(
            self.get(API + "?FROM=2024-01-01T23:00:00Z&TO=2024-01-01T23:59:59.499Z"), [])
        self.assert_payments(
            self.get(API + "?FROM=2024-01-01T00:00:00%2B01:00&TO=2024-01-01T00:00:00Z"), ["A0"])

    def test_export_and_serve_share_the_window_rule(self):
        """`export --from/--to` and serve's FROM/TO read a window the same way (one parser,
        model/time_window.c): a TO without a fraction covers its whole second, a fraction is
        exact, and FROM after TO is refused with the same message (serve 400, export exit 2)."""
        windows = [("2024-01-01T23:00:00Z", "2024-01-01T23:59:59Z", ["A4"]),  # A4 at .500
                   ("2024-01-01T23:00:00Z", "2024-01-01T23:59:59.499Z", []),
                   ("2024-01-01T23:00:00Z", "2024-01-01T23:59:59.5Z", ["A4"]),
                   ("2024-01-01T08:15:02Z", "2024-01-01T09:00:00Z", ["A1", "A2", "A3"]),
                   ("2023-12-31T23:59:59Z", "2023-12-31T23:59:59Z", ["A0"])]  # A0 at .999
        for lo, hi, ids in windows:
            r = self.get(API + "?FROM=%s&TO=%s" % (lo, hi), key=KEY_A)
            self.assert_payments(r, ids)
            res = pslib.run("export", self.cfg, "--dataset", "ds_a", "--format", "jsonl",
                            "--from", lo, "--to", hi)
            self.assertEqual(res.rc, 0, res)
            self.assertEqual([json.loads(x)["ID"] for x in res.out.splitlines()], ids,
                             (lo, hi, res))
        lo, hi = "2024-01-01T10:00:00Z", "2024-01-01T09:59:59.999Z"
        r = self.get(API + "?FROM=%s&TO=%s" % (lo, hi))
        self.assertEqual(r.status, 400, r)
        message = r.json()["errors"]
        self.assertEqual(message, "FROM must not be after TO")
        res = pslib.run("export", self.cfg, "--dataset", "ds_a", "--format", "csv",
                        "--from", lo, "--to", hi)
        self.assertEqual(res.rc, 2, res)
        self.assertEqual(res.out, "", res)
        self.assertEqual(res.err.strip(), "paysync: export: %s (--from %s, --to %s)"
                         % (message, lo, hi), res)
        # a date alone as --to is still its whole day; --from after it on the next day is refused
        res = pslib.run("export", self.cfg, "--dataset", "ds_a", "--format", "csv",
                        "--from", "2024-01-02", "--to", "2024-01-01")
        self.assertEqual(res.rc, 2, res)
        self.assertIn(message, res.err, res)

    def test_empty_window(self):
        self.assertEqual(self.get(API + "?FROM=2020-01-01T00:00:00Z&TO=2020-01-01T23:59:59Z")
                         .body, b'{"payments":[],"errors":""}')

    def test_site_id_filter(self):
        self.assert_payments(self.get(API + "?" + DAY + "&SITE_ID=prog-b"), ["B2", "B1"])
        self.assert_payments(self.get(API + "?" + DAY + "&site_id=site-a"),
                             ["A1", "A2", "A3", "A4"])
        self.assert_payments(self.get(API + "?" + DAY + "&SITE_ID=nowhere"), [])

    def test_financing_id_filter(self):
        self.assert_payments(self.get(API + "?" + DAY + "&FINANCING_ID=LOAN-1"), ["A1", "B1"])
        self.assert_payments(self.get(API + "?" + DAY + "&financing_id=LOAN-1&SITE_ID=site-a"),
                             ["A1"])

    def test_key_datasets(self):
        self.assert_payments(self.get(API + "?" + DAY, key=KEY_A), ["A1", "A2", "A3", "A4"])
        self.assert_payments(self.get(API + "?" + DAY + "&SITE_ID=prog-b", key=KEY_A), [])

    def test_head(self):
        r = self.get(API + "?" + DAY, method="HEAD")
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.body.startswith(b"HTTP/1.1 200"), r)  # curl -I: headers only
        self.assertNotIn(b"payments", r.body)
        self.assertIsNotNone(r.header("Content-Length"), r)

    def test_double_and_trailing_slash(self):
        self.assert_payments(self.get("//api/odyssey/payments/?" + DAY + "&SITE_ID=prog-b"),
                             ["B2", "B1"])

    # ---- 400s ----------------------------------------------------------------------------

    def test_range_too_long(self):
        self.assert_400(self.get(API + "?FROM=2024-01-01T00:00:00Z&TO=2024-01-02T00:00:01Z"),
                        "Range must be <= 24 hours")

    def test_missing_or_bad_times(self):
        msg = "FROM and TO are required ISO8601 timestamps"
        for q in ("", "?", "?FROM=2024-01-01T00:00:00Z", "?TO=2024-01-01T00:00:00Z",
                  "?FROM=yesterday&TO=today", "?FROM=2024-01-01&TO=2024-01-02",
                  "?FROM=1704067200&TO=1704153600", "?FROM=2024-02-30T00:00:00Z&TO=2024-03-01T00:00:00Z",
                  "?FROM=" + "9" * 3000 + "&TO=2024-01-01T00:00:00Z",
                  "?FROM=2024-01-01T00:00:00.%s&TO=2024-01-01T00:00:01Z" % ("0" * 200),
                  "?FROM=+002024-01-01T00:00:00Z&TO=2024-01-01T00:00:01Z"):
            self.assert_400(self.get(API + q), msg)

    def test_from_after_to(self):
        self.assert_400(self.get(API + "?FROM=2024-01-02T00:00:00Z&TO=2024-01-01T00:00:00Z"),
                        "FROM must not be after TO")

    def test_malformed_percent_encoding(self):
        for q in ("?FROM=2024-01-01T00%3G00:00Z&TO=2024-01-01T01:00:00Z", "?" + DAY + "&x=%",
                  "?" + DAY + "&SITE_ID=%2"):
            self.assert_400(self.get(API + q), "malformed percent-encoding in the query string")

    def test_repeated_parameters(self):
        self.assert_400(self.get(API + "?" + DAY + "&FROM=2024-01-01T00:00:00Z"),
                        "parameter FROM given more than once")
        self.assert_400(self.get(API + "?" + DAY + "&to=2024-01-01T23:59:59Z"),
                        "parameter TO given more than once")
        self.assert_400(self.get(API + "?" + DAY + "&SITE_ID=a&site_id=a"),
                        "parameter SITE_ID given more than once")

    def test_injection_attempts(self):
        before = self.store_rows(0, 2 ** 62)
        for name, value in (("SITE_ID", "x%27%20OR%20%271%27%3D%271"),
                            ("SITE_ID", "site-a%27--"),
                            ("FINANCING_ID", "1%3B%20DROP%20TABLE%20payments"),
                            ("FINANCING_ID", "%22%29%20UNION%20SELECT%20*%20FROM%20runs"),
                            ("SITE_ID", "a%00b")):
            r = self.get(API + "?" + DAY + "&%s=%s" % (name, value))
            self.assert_400(r, "%s may only hold letters, digits, spaces and - _ . : / # @ + ( )"
                            % name)
        self.assertEqual(self.store_rows(0, 2 ** 62), before)

    # ---- auth ----------------------------------------------------------------------------

    def test_401(self):
        for key, hdrs in ((None, ()), ("wrong", ()), (sha(KEY_ALL), ()), (KEY_ALL + "x", ()),
                          (None, ("Authorization: Basic " + KEY_ALL,)),
                          (None, ("Authorization: " + KEY_ALL,))):
            r = self.get(API + "?" + DAY, key=key, headers=hdrs)
            self.assertEqual(r.status, 401, r)
            self.assertEqual(r.json(), {"payments": [], "errors":
                                        "a valid API key is required: Authorization: Bearer KEY"})
            self.assertEqual(r.header("WWW-Authenticate"), 'Bearer realm="paysync"')

    def test_401_before_parameter_checks(self):
        r = self.get(API + "?FROM=bad", key=None)
        self.assertEqual(r.status, 401, r)

    # ---- other paths and methods -----------------------------------------------------------

    def test_404_and_405(self):
        r = self.get("/nope")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.json(), {"error": "not found"})
        r = self.get("/api/odyssey/payment?" + DAY)
        self.assertEqual(r.status, 404, r)
        for m in ("POST", "PUT", "DELETE", "OPTIONS"):
            r = self.get(API + "?" + DAY, method=m)
            self.assertEqual(r.status, 405, r)
            self.assertEqual(r.json(), {"payments": [], "errors": "method not allowed (use GET)"})
            self.assertEqual(r.header("Allow"), "GET, HEAD")
        r = self.get("/metrics", method="POST")
        self.assertEqual(r.status, 405, r)
        self.assertEqual(r.json(), {"error": "method not allowed (use GET)"})

    def test_limits_url_and_headers(self):
        r = self.get(API + "?" + DAY + "&pad=" + "x" * 5000)
        self.assertEqual(r.status, 414, r)
        self.assertEqual(r.json(), {"error": "request target too long"})
        r = self.get(API + "?" + DAY, headers=["X-Pad-%d: %s" % (i, "y" * 1000) for i in range(20)])
        self.assertEqual(r.status, 431, r)
        self.assertEqual(r.json(), {"error": "request headers too large"})

    # ---- health and metrics ----------------------------------------------------------------

    def test_healthz(self):
        r = self.get("/healthz", key=None)
        self.assertEqual(r.status, 200, r)
        doc = r.json()
        self.assertEqual(doc["status"], "ok")
        self.assertEqual([d["dataset"] for d in doc["datasets"]], ["ds_a", "ds_b"])
        for d in doc["datasets"]:
            self.assertRegex(d["lastSuccess"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIs(d["lastRunOk"], True)
            self.assertGreaterEqual(d["runsOk"], 1)

    def test_metrics(self):
        self.get(API + "?" + DAY)
        self.get(API + "?" + DAY, key="bad")
        r = self.get("/metrics", key=None)
        self.assertEqual(r.status, 200, r)
        self.assertTrue(r.header("Content-Type").startswith("text/plain; version=0.0.4"), r)
        text = r.body.decode()
        self.assertIn("paysync_store_up 1\n", text)
        self.assertRegex(text, r'paysync_runs_total\{dataset="ds_a",outcome="ok"\} [1-9]')
        self.assertRegex(text, r'paysync_rows_total\{dataset="ds_a",outcome="rejected"\} [1-9]')
        self.assertRegex(text, r'paysync_rows_total\{dataset="ds_b",outcome="accepted"\} [1-9]')
        self.assertIn('paysync_rows_total{dataset="ds_b",outcome="filtered"} 0\n', text)
        # AX has a text amount, B3 no meter: rejects by code, per dataset.
        self.assertRegex(text, r'paysync_rejected_rows_total\{dataset="ds_a",code="bad_amount"\} 1\n')
        self.assertRegex(text, r'paysync_rejected_rows_total\{dataset="ds_b",code="missing_required"\} 1\n')
        self.assertRegex(text, r'paysync_last_success_timestamp_seconds\{dataset="ds_b"\} '
                               r'\d+\.\d{3}\n')
        self.assertRegex(text, r'paysync_last_success_duration_seconds\{dataset="ds_a"\} ')
        self.assertRegex(text, r'paysync_http_requests_total\{code="200"\} [1-9]')
        self.assertRegex(text, r'paysync_http_requests_total\{code="401"\} [1-9]')
        # every sample line is NAME{labels} VALUE or NAME VALUE
        for line in text.splitlines():
            if not line.startswith("#"):
                self.assertRegex(line, r'^[a-z_]+(\{[^}]*\})? -?\d+(\.\d+)?$')

    def test_access_log_has_no_secrets(self):
        self.get(API + "?" + DAY + "&SITE_ID=site-a")
        self.get(API + "?" + DAY, key="not-a-real-key-XYZ")
        time.sleep(0.2)
        log = self.srv.text()
        self.assertRegex(log, r"GET /api/odyssey/payments\?\.\.\. 200 \d+ bytes \d+ ms "
                              r"key=platform")
        self.assertRegex(log, r"GET /api/odyssey/payments\?\.\.\. 401 \d+ bytes \d+ ms")
        for secret in (KEY_ALL, KEY_A, "not-a-real-key-XYZ", sha(KEY_ALL), "2024-01-01T",
                       "site-a"):
            self.assertNotIn(secret, log)


class ServeLifecycleTest(pslib.Case):
    """Servers of their own: store states, settings, shutdown, hash-key."""

    def setUp(self):
        super().setUp()
        if not have_curl():
            self.skipTest("curl is not installed")

    def get(self, srv, target, key=KEY_ALL, **kw):
        return curl(srv.port, target, key=key, tmp=self.dir, **kw)

    def test_store_unreachable_then_reachable(self):
        cfg = write_config(self)
        srv = Server(cfg, self.dir)
        try:
            r = self.get(srv, "/healthz", key=None)
            self.assertEqual(r.status, 503, r)
            doc = r.json()
            self.assertEqual(doc["status"], "unavailable")
            self.assertIn("is not a paysync store (no schema): run a sync with the postgres sink"
                          if pslib.postgres() else "does not exist: run a sync", doc["error"])
            r = self.get(srv, API + "?" + DAY)
            self.assertEqual(r.status, 503, r)
            self.assertEqual(r.json(), {"payments": [], "errors":
                                        "the payment store is unavailable"})
            r = self.get(srv, "/metrics", key=None)
            self.assertEqual(r.status, 200, r)
            self.assertIn("paysync_store_up 0\n", r.body.decode())
            self.assertNotIn("paysync_runs_total", r.body.decode())
            # a run while serving: the next request sees it (WAL readers)
            res = pslib.run("run", cfg)
            self.assertEqual(res.rc, 0, res)
            r = self.get(srv, API + "?" + DAY)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json()["payments"]), 6, r)
            self.assertEqual(self.get(srv, "/healthz", key=None).status, 200)
        finally:
            self.assertEqual(srv.stop(), 0)

    @unittest.skipIf(pslib.postgres(), "SQLite files (test_pg_schema_states on PostgreSQL)")
    def test_store_not_a_database_or_other_schema(self):
        cfg = write_config(self)
        db = self.path("var", "store.db")
        os.makedirs(os.path.dirname(db), exist_ok=True)
        srv = Server(cfg, self.dir)
        try:
            for make, msg in ((lambda: self.write("var/store.db", "not a database\n" * 200),
                               "is not a SQLite database"),
                              (lambda: self.make_db(db, 99), "newer than this paysync"),
                              (lambda: self.make_db(db, 0), "is not a paysync store")):
                make()
                r = self.get(srv, "/healthz", key=None)
                self.assertEqual(r.status, 503, r)
                self.assertIn(msg, r.json()["error"])
                r = self.get(srv, API + "?" + DAY)
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.json()["errors"], "the payment store is unavailable")
            self.assertNotIn(KEY_ALL, srv.text())
        finally:
            srv.stop()

    @unittest.skipUnless(pslib.postgres(), "PostgreSQL only")
    def test_pg_schema_states(self):
        """A newer schema, no schema, and a server that went away: 503, then back."""
        cfg = write_config(self)
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        srv = Server(cfg, self.dir)
        try:
            self.assertEqual(self.get(srv, "/healthz", key=None).status, 200)
            for sql, msg in (("UPDATE paysync_schema SET version = 99",
                              "has schema version 99, newer than this paysync (2)"),
                             ("DROP TABLE paysync_schema", "is not a paysync store (no schema)")):
                pslib.psql(sql)
                r = self.get(srv, "/healthz", key=None)
                self.assertEqual(r.status, 503, r)
                self.assertIn(msg, r.json()["error"])
                self.assertNotIn("password", r.json()["error"])
                r = self.get(srv, API + "?" + DAY)
                self.assertEqual(r.status, 503, r)
                self.assertEqual(r.json()["errors"], "the payment store is unavailable")
            # a sync brings the schema back (migrations on first use)
            pslib.store_reset()
            self.assertEqual(pslib.run("run", cfg).rc, 0)
            r = self.get(srv, API + "?" + DAY)
            self.assertEqual(r.status, 200, r)
            self.assertEqual(len(r.json()["payments"]), 6, r)
        finally:
            self.assertEqual(srv.stop(), 0)

    @staticmethod
    def make_db(path, version):
        if os.path.exists(path):
            os.unlink(path)
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE t (x)")
        con.execute("PRAGMA user_version = %d" % version)
        con.commit()
        con.close()

    def test_rerun_and_vanished_rows(self):
        cfg = write_config(self)
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        srv = Server(cfg, self.dir)
        try:
            ids = [p["transactionId"] for p in self.get(srv, API + "?" + DAY).json()["payments"]]
            self.assertIn("A3", ids)
            self.write("a.csv", "\n".join(l for l in CSV_A.splitlines() if not l.startswith("A3,"))
                       + "\n")
            res = pslib.run("run", cfg, "--allow-vanish")  # 1 of 6 is over the default 10 %
            self.assertEqual(res.rc, 0, res)
            ids2 = [p["transactionId"] for p in self.get(srv, API + "?" + DAY).json()["payments"]]
            self.assertEqual(ids2, [i for i in ids if i != "A3"])
            h = self.get(srv, "/healthz", key=None).json()
            self.assertEqual(h["datasets"][0]["runsOk"], 2)
        finally:
            srv.stop()

    def test_protect_metrics(self):
        cfg = write_config(self, "  protect_metrics: true\n")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        srv = Server(cfg, self.dir)
        try:
            for path in ("/metrics", "/healthz"):
                r = self.get(srv, path, key=None)
                self.assertEqual(r.status, 401, r)
                self.assertEqual(r.json(), {"error": "a valid API key is required: "
                                                     "Authorization: Bearer KEY"})
                self.assertEqual(self.get(srv, path, key=KEY_A).status, 200)
        finally:
            srv.stop()

    def test_small_limits(self):
        cfg = write_config(self, "  max_url_bytes: 256\n  max_header_bytes: 1024\n")
        self.assertEqual(pslib.run("run", cfg).rc, 0)
        srv = Server(cfg, self.dir)
        try:
            self.assertEqual(self.get(srv, API + "?" + DAY).status, 200)
            self.assertEqual(self.get(srv, API + "?" + DAY + "&p=" + "x" * 200).status, 414)
            self.assertEqual(self.get(srv, API + "?" + DAY, headers=["X-P: " + "y" * 1100])
                             .status, 431)
        finally:
            srv.stop()

    def test_sigint_stops_cleanly(self):
        cfg = write_config(self)
        srv = Server(cfg, self.dir)
        self.assertEqual(srv.stop(signal.SIGINT), 0)
        self.assertIn("SIGINT received", srv.text())
        self.assertIn("serve: stopped", srv.text())

    def test_config_errors(self):
        cases = [
            ("  max_conections: 5\n", "serve: unknown setting 'max_conections' (did you mean "
             "'max_connections'?); valid settings: listen, store, keys, threads"),
            ("  threads: 0\n",
             "serve: setting 'threads' must be a whole number from 1 to 64, got '0'"),
            ("  protect_metrics: maybe\n", "serve: setting 'protect_metrics' must be true or false"),
            ("  connection_timeout: 2h\n",
             "serve: setting 'connection_timeout' must be a duration from 1s to 1h (units ms, s, "
             "m, h, d, e.g. 500ms, 90s, 1h30m; a plain number means seconds), got '2h'"),
            ("  max_header_bytes: 1MiB\n",
             "serve: setting 'max_header_bytes' must be a size from 1KiB to 256KiB"),
        ]
        for extra, msg in cases:
            cfg = write_config(self, extra)
            res = pslib.run("serve", cfg, "--listen", "127.0.0.1:0", timeout=30)
            self.assertEqual(res.rc, 2, res)
            self.assertIn(msg, res.err, res)
        cfg = write_config(self)
        for listen, msg in (("nope", "expected HOST:PORT"), ("127.0.0.1:99999", "port must be"),
                            ("127.0.0.1:x", "port must be")):
            res = pslib.run("serve", cfg, "--listen", listen, timeout=30)
            self.assertEqual(res.rc, 2, res)
            self.assertIn(msg, res.err, res)
        res = pslib.run("serve", timeout=30)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("usage: paysync serve CONFIG", res.err)
        res = pslib.run("serve", cfg, "--bogus", timeout=30)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("unknown option '--bogus'", res.err)

    def test_no_keys_or_no_serve_section(self):
        self.write("a.csv", CSV_A)
        cfg = self.config("""sinks:
  store: {plugin: sqlite, path: var/s.db}
datasets:
  - name: ds_a
    target: {level: project, id: site-a}
    source: {plugin: csvfile, path: a.csv}
    sinks: [store]
serve:
  listen: 127.0.0.1:0
""")
        res = pslib.run("serve", cfg, timeout=30)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("serve.keys is empty", res.err)
        cfg = self.config("""sinks:
  store: {plugin: sqlite, path: var/s.db}
datasets: []
""", name="noserve.yaml")
        res = pslib.run("serve", cfg, timeout=30)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("has no 'serve:' section", res.err)

    def test_store_must_be_sqlite(self):
        self.write("a.csv", CSV_A)
        cfg = self.config("""sinks:
  out: {plugin: jsonl, path: out.jsonl}
datasets:
  - name: ds_a
    target: {level: project, id: site-a}
    source: {plugin: csvfile, path: a.csv}
    sinks: [out]
serve:
  store: out
  keys: [{name: k, key_sha256: %s, datasets: ["*"]}]
""" % sha(KEY_ALL))
        res = pslib.run("serve", cfg, timeout=30)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("serve reads only a sqlite or postgres sink", res.err)

    def test_port_in_use(self):
        cfg = write_config(self)
        srv = Server(cfg, self.dir)
        try:
            res = pslib.run("serve", cfg, "--listen", "127.0.0.1:%d" % srv.port, timeout=30)
            self.assertEqual(res.rc, 1, res)
            self.assertIn("cannot listen on 127.0.0.1:%d" % srv.port, res.err)
        finally:
            srv.stop()

    def test_hash_key(self):
        res = pslib.run("hash-key", stdin=b"test\n")
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(res.out,
                         "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n")
        self.assertEqual(pslib.run("hash-key", stdin=b"test").out, res.out)
        self.assertEqual(pslib.run("hash-key", stdin=b"test\r\n").out, res.out)
        # only one newline is stripped; the rest is refused as whitespace
        res = pslib.run("hash-key", stdin=b"test\n\n")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("space or control character at byte 5", res.err)
        for data, msg in ((b"", "no key on stdin"), (b"\n", "no key on stdin"),
                          (b"a b\n", "space or control character at byte 2"),
                          (b"k" * 5000, "longer than 4096 bytes")):
            res = pslib.run("hash-key", stdin=data)
            self.assertEqual(res.rc, 2, res)
            self.assertIn(msg, res.err, res)
        res = pslib.run("hash-key", "extra", stdin=b"x")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("unexpected argument 'extra'", res.err)
        self.assertEqual(pslib.run("hash-key", stdin=KEY_ALL.encode()).out.strip(), sha(KEY_ALL))


if __name__ == "__main__":
    pslib.main()
