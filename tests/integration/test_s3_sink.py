"""The s3 sink against a real S3 server: s3rver (npm) on loopback, behind a small proxy that
verifies every request's AWS Signature V4 with an independent implementation (s3rver itself
accepts any signature, see /work/shared/spec/s3.md), counts requests and injects faults.
Objects are read back with boto3 (signed GETs). Skips with a message when s3rver or boto3 is
missing: install s3rver with
    npm install --prefix ~/.cache/paysync-npm s3rver@3.7.1
or point $S3RVER at its executable."""
import hashlib
import hmac
import http.client
import http.server
import json
import os
import re
import shutil
import sys
import threading
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pslib  # noqa: E402
from s3server import AK, SK, S3rver, free_port, skip_reason  # noqa: E402

BUCKET = "odyssey-pay"
HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE")
KEY_RE = re.compile(r"^paysync/ds1/(\d{4}-\d{2}-\d{2})/(\d{8})T\d{9}Z-\d+\.(csv|jsonl)$")


def csv_text(n, start=1, amount="1500.50"):
    rows = ["P%06d,2024-03-05T14:16:01.350Z,%s,NGN,FULL_PAYMENT,C%d,%05d,\"Bello, Amina\","
            "Residential,+2348031234567" % (i, amount, i, i) for i in range(start, start + n)]
    return HEADER + "\n" + "\n".join(rows) + "\n"


def xml_error(code, message):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s"
            "</Message></Error>" % (code, message)).encode()


def verify_sigv4(method, raw_path, headers, body, secrets):
    """None when the request carries a valid SigV4 signature, else (code, message)."""
    auth = headers.get("Authorization", "")
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                 r"SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$", auth)
    if not m:
        return ("AuthorizationHeaderMalformed", "bad Authorization header: %r" % auth)
    ak, day, region, signed, sig = m.groups()
    if ak not in secrets:
        return ("InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist")
    names = signed.split(";")
    for need in ("host", "x-amz-content-sha256", "x-amz-date"):
        if need not in names:
            return ("AccessDenied", "%s is not signed" % need)
    if headers.get("x-amz-content-sha256") != hashlib.sha256(body).hexdigest():
        return ("XAmzContentSHA256Mismatch", "body hash differs")
    if "Content-MD5" in headers:
        import base64
        if base64.b64encode(hashlib.md5(body).digest()).decode() != headers["Content-MD5"]:
            return ("BadDigest", "Content-MD5 differs")
    path, _, query = raw_path.partition("?")
    params = []
    for part in query.split("&") if query else []:
        k, _, v = part.partition("=")
        enc = lambda s: urllib.parse.quote(urllib.parse.unquote(s), safe="-_.~")  # noqa: E731
        params.append((enc(k), enc(v)))
    cq = "&".join("%s=%s" % kv for kv in sorted(params))
    ch = "".join("%s:%s\n" % (n, " ".join(headers.get(n, "").split())) for n in names)
    creq = "\n".join([method, path, cq, ch, signed, headers["x-amz-content-sha256"]])
    date = headers["x-amz-date"]
    scope = "%s/%s/s3/aws4_request" % (day, region)
    sts = "\n".join(["AWS4-HMAC-SHA256", date, scope, hashlib.sha256(creq.encode()).hexdigest()])
    k = ("AWS4" + secrets[ak]).encode()
    for part in (day, region, "s3", "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    if hmac.new(k, sts.encode(), hashlib.sha256).hexdigest() != sig:
        return ("SignatureDoesNotMatch", "The request signature we calculated does not match "
                "the signature you provided. Check your key and signing method.")
    return None


class Proxy:
    """Verifying, counting, fault-injecting HTTP proxy in front of s3rver."""

    def __init__(self, upstream_port):
        self.upstream = upstream_port
        self.log = []        # (method, path) of every request
        self.bad_sigs = []
        self.fault = None    # callable(method, path) -> (status, code) or None
        proxy = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def handle_any(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n) if n else b""
                proxy.log.append((self.command, self.path))
                f = proxy.fault(self.command, self.path) if proxy.fault else None
                if f:
                    return self.answer(f[0], xml_error(f[1], "injected by the test"), {})
                bad = verify_sigv4(self.command, self.path, self.headers, body, {AK: SK})
                if bad:
                    proxy.bad_sigs.append((self.command, self.path, bad))
                    return self.answer(403, xml_error(*bad), {})
                c = http.client.HTTPConnection("127.0.0.1", proxy.upstream, timeout=60)
                hdrs = {k: v for k, v in self.headers.items() if k.lower() != "expect"}
                c.request(self.command, self.path, body=body, headers=hdrs)
                r = c.getresponse()
                data = r.read()
                keep = {k: v for k, v in r.getheaders()
                        if k.lower() in ("content-type", "etag", "last-modified")}
                c.close()
                self.answer(r.status, data, keep)

            def answer(self, status, data, hdrs):
                self.send_response(status)
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class S3Sink(pslib.Case):
    @classmethod
    def setUpClass(cls):
        cls.srv = S3rver(BUCKET)
        cls.s3port, cls.s3 = cls.srv.port, cls.srv.s3
        cls.proxy = Proxy(cls.s3port)

    @classmethod
    def tearDownClass(cls):
        cls.proxy.close()
        cls.srv.stop()

    def setUp(self):
        super().setUp()
        self.proxy.fault = None
        self.proxy.log.clear()
        self.proxy.bad_sigs.clear()
        for o in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
            self.s3.delete_object(Bucket=BUCKET, Key=o["Key"])

    def tearDown(self):
        self.assertEqual(self.proxy.bad_sigs, [], "requests with a bad signature")
        shutil.rmtree(self.dir, ignore_errors=True)

    def objects(self):
        return sorted(o["Key"] for o in self.s3.list_objects_v2(Bucket=BUCKET)
                      .get("Contents", []))

    def body(self, key):
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def setup_run(self, csv, extra="", endpoint=None, secret=SK, bucket=BUCKET):
        src = os.path.join(self.dir, "in.csv")
        with open(src, "w") as f:
            f.write(csv)
        ep = endpoint or "http://127.0.0.1:%d" % self.proxy.port
        cfg = os.path.join(self.dir, "c.yaml")
        with open(cfg, "w") as f:
            f.write("""
sinks:
  db: {plugin: sqlite, path: %s}
  s3: {plugin: s3, bucket: %s, endpoint: %s, prefix: paysync/, access_key_id: "${T_AK}",
       secret_access_key: "${T_SK}", max_attempts: 3%s}
  table: {plugin: csv, path: %s, fsync: false}
datasets:
  - name: ds1
    target: {level: project, id: site-1}
    profile: standard
    source: {plugin: csvfile, path: %s}
    sinks: [db, s3, table]
""" % (pslib.yaml_str(os.path.join(self.dir, "db.sqlite")), bucket, pslib.yaml_str(ep), extra,
                pslib.yaml_str(os.path.join(self.dir, "out.csv")), pslib.yaml_str(src)))
        os.chmod(cfg, 0o600)
        self.cfg = cfg
        self.env = {"T_AK": AK, "T_SK": secret, "PS_TEST_FAKE_SLEEP": "1"}

    def run_it(self):
        return pslib.run("run", self.cfg, env=self.env)

    def methods(self):
        return [m for m, _ in self.proxy.log]

    def test_upload_equals_export_and_rerun_uploads_nothing(self):
        self.setup_run(csv_text(50))
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        keys = self.objects()
        self.assertEqual(len(keys), 2, keys)
        data_keys = [k for k in keys if KEY_RE.match(k)]
        self.assertEqual(len(data_keys), 1, keys)
        self.assertIn("paysync/_paysync/ds1.json", keys)
        key = data_keys[0]
        m = KEY_RE.match(key)
        self.assertEqual(m.group(1).replace("-", ""), m.group(2))  # {date} = run's date
        got = self.body(key)
        with open(os.path.join(self.dir, "out.csv"), "rb") as f:
            self.assertEqual(got, f.read())
        exp = pslib.run("export", self.cfg, "--dataset", "ds1", "--format", "csv",
                        env=self.env)
        self.assertEqual(exp.rc, 0, exp)
        self.assertEqual(got, exp.out.encode())
        self.assertTrue(got.startswith(b"ID,TIMESTAMP,PAYMENT_AMOUNT,"))
        self.assertIn(b'"Bello, Amina"', got)
        # GET state (404), PUT object, PUT state
        self.assertEqual(self.methods(), ["GET", "PUT", "PUT"], self.proxy.log)
        self.assertIn("uploaded 50 payments", r.err)
        self.assertIn("s3://%s/%s" % (BUCKET, key), r.err)
        state = json.loads(self.body("paysync/_paysync/ds1.json"))
        self.assertEqual(state["sha256"], hashlib.sha256(got).hexdigest())
        self.assertEqual(state["key"], key)

        # Unchanged re-run: one GET of the state object, no upload, no new object.
        self.proxy.log.clear()
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.methods(), ["GET"], self.proxy.log)
        self.assertEqual(self.objects(), keys)
        self.assertIn("unchanged since the upload of s3://%s/%s" % (BUCKET, key), r.err)

        # A changed source uploads a new object.
        self.setup_run(csv_text(51))
        self.proxy.log.clear()
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.methods(), ["GET", "PUT", "PUT"], self.proxy.log)
        new = [k for k in self.objects() if KEY_RE.match(k) and k != key]
        self.assertEqual(len(new), 1)
        self.assertEqual(self.body(new[0]).count(b"\r\n"), 52)

    def test_jsonl_format(self):
        self.setup_run(csv_text(3), extra=", format: jsonl, state_key: \"\"")
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        keys = self.objects()
        self.assertEqual(len(keys), 1, keys)
        self.assertTrue(keys[0].endswith(".jsonl"), keys)
        lines = self.body(keys[0]).decode().splitlines()
        self.assertEqual(len(lines), 3)
        first = json.loads(lines[0])
        self.assertEqual(first["ID"], "P000001")
        self.assertEqual(first["CUSTOMER_NAME"], "Bello, Amina")
        self.assertEqual(first["DATASET"], "ds1")
        self.assertIn('"PAYMENT_AMOUNT":1500.50', lines[0])
        # Without a state object, a re-run uploads again (documented).
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(len(self.objects()), 2)

    def test_multipart_above_part_size(self):
        n = 48000  # about 6 MB of CSV: two parts of 5 MiB
        self.setup_run(csv_text(n), extra=", part_size: 5MiB")
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        data_keys = [k for k in self.objects() if KEY_RE.match(k)]
        self.assertEqual(len(data_keys), 1)
        got = self.body(data_keys[0])
        self.assertGreater(len(got), 5 * 1024 * 1024)
        with open(os.path.join(self.dir, "out.csv"), "rb") as f:
            self.assertEqual(got, f.read())
        log = self.proxy.log
        self.assertEqual([m for m, _ in log], ["GET", "POST", "PUT", "PUT", "POST", "PUT"], log)
        self.assertIn("?uploads", log[1][1])
        self.assertIn("partNumber=1&uploadId=", log[2][1])
        self.assertIn("partNumber=2&uploadId=", log[3][1])

    def test_failed_multipart_leaves_no_object(self):
        self.setup_run(csv_text(48000), extra=", part_size: 5MiB")
        self.proxy.fault = lambda m, p: (500, "InternalError") \
            if m == "POST" and "uploadId=" in p else None
        r = self.run_it()
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.out + r.err, r"completing the multipart upload of "
                         r"s3://odyssey-pay/paysync/ds1/[^ ]+\.csv: HTTP 500 InternalError: "
                         r"injected by the test \[gave up after 3 attempts\]")
        self.assertEqual(self.objects(), [])
        # s3rver answers 405 to AbortMultipartUpload: logged, not fatal (s3.md).
        self.assertIn("DELETE", self.methods())
        self.assertIn("aborting the multipart upload", r.err)

    def test_transient_5xx_is_retried(self):
        self.setup_run(csv_text(5))
        seen = {"n": 0}

        def flaky(m, p):
            if m == "PUT" and "_paysync" not in p and seen["n"] < 2:
                seen["n"] += 1
                return (503, "SlowDown")
            return None
        self.proxy.fault = flaky
        r = self.run_it()
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.methods(), ["GET", "PUT", "PUT", "PUT", "PUT"], self.proxy.log)
        self.assertIn("retrying", r.err)
        self.assertEqual(len([k for k in self.objects() if KEY_RE.match(k)]), 1)

    def check_failure(self, pattern):
        r = self.run_it()
        self.assertEqual(r.rc, 1, r)
        self.assertIn("ds1: FAILED", r.out)
        self.assertRegex(r.out, pattern)
        self.assertEqual(self.objects(), [])
        # nothing recorded as delivered: the store kept nothing either
        self.assertFalse(os.path.exists(os.path.join(self.dir, "out.csv")))
        return r

    def test_bad_secret_fails_with_s3_message(self):
        self.setup_run(csv_text(5), secret="not-the-secret", extra=", state_key: \"\"")
        r = self.check_failure(r"uploading s3://odyssey-pay/paysync/ds1/\S+\.csv: HTTP 403 "
                               r"SignatureDoesNotMatch: The request signature we calculated "
                               r"does not match .* \(check access_key_id, secret_access_key "
                               r"and region\)")
        self.assertNotIn("not-the-secret", r.out + r.err)
        self.assertEqual(len(self.proxy.bad_sigs), 1)
        self.proxy.bad_sigs.clear()

    def test_no_such_bucket(self):
        self.setup_run(csv_text(5), bucket="no-such-bucket")
        self.check_failure(r"reading the state object s3://no-such-bucket/paysync/_paysync/"
                           r"ds1.json: HTTP 404 NoSuchBucket: The specified bucket does not "
                           r"exist \(check the bucket name, endpoint and region\)")

    def test_5xx_after_retries(self):
        self.setup_run(csv_text(5), extra=", state_key: \"\"")
        self.proxy.fault = lambda m, p: (503, "ServiceUnavailable")
        self.check_failure(r"uploading s3://odyssey-pay/paysync/ds1/\S+\.csv: HTTP 503 "
                           r"ServiceUnavailable: injected by the test \[gave up after 3 "
                           r"attempts\]")
        self.assertEqual(len(self.proxy.log), 3)

    def test_connection_refused(self):
        self.setup_run(csv_text(5), endpoint="http://127.0.0.1:%d" % free_port(),
                       extra=", state_key: \"\"")
        self.check_failure(r"uploading s3://odyssey-pay/paysync/ds1/\S+\.csv: transport error"
                           r".*\[gave up after 3 attempts\]")

    def test_check(self):
        self.setup_run(csv_text(1))
        r = pslib.run("check", self.cfg, env=self.env)
        self.assertEqual(r.rc, 0, r)
        self.assertEqual(self.methods(), ["GET"])
        self.assertEqual(self.objects(), [])
        self.setup_run(csv_text(1), secret="not-the-secret")
        r = pslib.run("check", self.cfg, env=self.env)
        self.assertEqual(r.rc, 1, r)
        self.assertRegex(r.out + r.err, r"checking access to s3://odyssey-pay/paysync/_paysync/"
                         r"check: HTTP 403 SignatureDoesNotMatch: ")
        self.assertNotIn("not-the-secret", r.out + r.err)
        self.proxy.bad_sigs.clear()
        self.setup_run(csv_text(1), bucket="no-such-bucket")
        r = pslib.run("check", self.cfg, env=self.env)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("HTTP 404 NoSuchBucket: The specified bucket does not exist", r.out + r.err)

    def test_config_errors(self):
        self.setup_run(csv_text(1), extra=", key: \"{dataset}/{month}.csv\"")
        r = self.run_it()
        self.assertEqual(r.rc, 2, r)
        self.assertIn("option 'key' has an unknown placeholder '{month}'", r.out + r.err)
        self.setup_run(csv_text(1), endpoint="ftp://x")
        r = self.run_it()
        self.assertEqual(r.rc, 2, r)
        self.assertIn("option 'endpoint' must be http://HOST[:PORT]", r.out + r.err)
        self.setup_run(csv_text(1), bucket="Bad_Bucket")
        r = self.run_it()
        self.assertEqual(r.rc, 2, r)
        self.assertIn("option 'bucket' must be an S3 bucket name", r.out + r.err)
        self.setup_run(csv_text(1))
        self.env = {"T_AK": "", "T_SK": "", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
        r = self.run_it()
        self.assertEqual(r.rc, 2, r)
        self.assertIn("no S3 credentials", r.out + r.err)
        self.assertEqual(self.proxy.log, [])


if __name__ == "__main__":
    pslib.require_binary()
    why = skip_reason()
    if why:
        print("SKIP: " + why, file=sys.stderr)
        sys.exit(pslib.SKIP)
    unittest.main()
