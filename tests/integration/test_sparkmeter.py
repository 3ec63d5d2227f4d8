"""The `sparkmeter` connector (plugins/rest/connectors/sparkmeter.yaml) against the Koios
emulator (tests/tools/sparkmeter_emulator.py), through the real binary: the first run and its
mapping, an incremental run reading only the window plus the overlap, a late reversal landing
as a changed row, every fault switch (exit code, message, request count, nothing committed on
failure, the next run equal to a clean one) and `paysync test-plugin`."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from crmemu import ConnectorCase  # noqa: E402

KEY, SECRET = "koios-key-0123", "koios-secret-s3cr3t"
ORG = "4b0d6a52-org"


class Sparkmeter(ConnectorCase):
    emulator = "sparkmeter"
    plugin = "sparkmeter"
    secrets = (KEY, SECRET)
    overlap = None

    def source(self):
        return {"org_id": ORG, "api_key": KEY, "api_secret": SECRET, "start": "2024-03-01",
                "customer_category": "Residential", "requests_per_minute": 0,
                "overlap": self.overlap}

    def bodies(self):
        return [json.loads(line.split(" ", 2)[2]) for line in self.emu.stats()["log"]
                if line.startswith("POST ")]


class FirstAndIncremental(Sparkmeter):
    def test_first_run_maps_every_field(self):
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        # 20 transactions: pending, error and a transfer to no customer are filtered
        # (the core counts them: read = accepted + filtered)
        self.assertEqual((rep["read"], rep["accepted"], rep["rejected"], rep["filtered"]),
                         (20, 17, 0, 3), rep)
        self.assertIn("sparkmeter: 3 records filtered out (not payments)", res.err, res)
        self.assertEqual(rep["changes"]["new"], 17)
        recs = self.records()
        self.assertNotIn("txn-00007", recs)  # pending
        self.assertNotIn("txn-00013", recs)  # error
        self.assertNotIn("txn-00010", recs)  # no customer
        r = recs["txn-00003"]
        self.assertEqual(r["TIMESTAMP"], "2024-03-02T13:15:01.000Z")
        self.assertEqual(r["CUSTOMER_ID"], "cus-0004")
        self.assertEqual(r["METER_ID"], "SM-000424")          # v1 customer's meter serial
        self.assertEqual(r["CUSTOMER_NAME"], "John Doe")
        self.assertEqual(r["CUSTOMER_PHONE"], "+2348031234504")
        self.assertEqual(r["PAYMENT_CURRENCY"], "NGN")        # from the customer's balance
        self.assertEqual(r["TRANSACTION_TYPE"], "INSTALLMENT_PAYMENT")
        self.assertEqual(r["REFERENCE_ID"], "MP00007003")     # reference_id (no external_id)
        self.assertEqual(r["UTILITY_ID"], "site-kd1")
        self.assertEqual(recs["txn-00004"]["REFERENCE_ID"], "EXT-4")  # external_id first
        # a JSON number keeps its exact text: 530.50, not 530.5
        self.assertIn(b'"ID":"txn-00003","TIMESTAMP":"2024-03-02T13:15:01.000Z",'
                      b'"PAYMENT_AMOUNT":530.50', self.output())
        # an offset converted to UTC
        self.assertEqual(recs["txn-00005"]["TIMESTAMP"], "2024-03-03T13:15:01.000Z")
        self.assertEqual(recs["txn-00016"]["TRANSACTION_TYPE"], "REVERSAL")
        c = self.emu.counts()
        self.assertEqual((c["historical"], c["customers"]), (4, 1), c)
        body = self.bodies()[0]
        self.assertEqual(body, {"filters": {"entity_types": ["transactions"],
                                            "date_range": {"from": "2024-03-01T00:00:00.000Z"}},
                                "cursor": None})
        self.assertIsNotNone(self.bodies()[1]["cursor"])

    def test_incremental_overlap_and_late_reversal(self):
        self.assertEqual(self.run_paysync().rc, 0)
        self.emu.reset()
        # a new payment, and a day later the reversal of an earlier one (state changes)
        self.emu.data(add=[{"type": "transaction", "transaction_id": "txn-00021",
                            "site": "site-kd1", "state": "processed",
                            "created": "2024-03-11T09:00:00Z",
                            "processed_timestamp": "2024-03-11T09:00:00Z",
                            "reversed_timestamp": None, "errored_timestamp": None,
                            "amount": {"number": "1234.5"},
                            "to": {"customer": {"id": "cus-0001"}},
                            "reference_id": "MP00009999", "external_id": None}],
                      update=[{"transaction_id": "txn-00018", "state": "reversed",
                               "reversed_timestamp": "2024-03-11T10:00:00Z"}])
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        # the window starts 3 days before the last created time committed (2024-03-10T13:15:01Z)
        self.assertEqual(self.bodies()[0]["filters"]["date_range"]["from"],
                         "2024-03-07T13:15:01.000Z")
        # created from 2024-03-07T13:15:01Z: txn-00013 (error, filtered), 15..20 but 14, 16,
        # 18 and 20 (08:15Z on their day: 14 is before the window), plus the new one
        self.assertEqual((rep["read"], rep["accepted"], rep["filtered"]), (8, 7, 1), rep)
        # windowed change tracking: payments outside the window read are not marked vanished
        ch = rep["changes"]
        self.assertEqual((ch["new"], ch["changed"], ch["unchanged"], ch["vanished"]),
                         (1, 1, 5, 0), rep)
        # TIMESTAMP is processed_timestamp, not the window's `created`: the window counted by
        # the vanish guard starts incremental.timestamp_lag (1d) after the request's `from`
        self.assertEqual(rep["vanish_guard"]["window"]["from"], "2024-03-08T13:15:01.001Z")
        recs = self.records()
        self.assertEqual(recs["txn-00018"]["TRANSACTION_TYPE"], "REVERSAL")
        self.assertIn(b'"PAYMENT_AMOUNT":1234.5,', self.output())

    def test_test_plugin(self):
        res = pslib.run("test-plugin", "sparkmeter", "--config", self.cfg, "--dataset", "crm",
                        env={"PS_TEST_FAKE_SLEEP": "1"})
        self.assertEqual(res.rc, 0, res)
        self.assertNotIn("FAIL", res.out, res)
        for s in self.secrets:
            self.assertNotIn(s, res.out + res.err)

    def test_missing_options(self):
        cfg = self.config_with(name="nostart.yaml", start=None)
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("connector 'sparkmeter' needs the option 'start'", res.err, res)
        cfg = self.config_with(name="noorg.yaml", org_id=None)
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("connector 'sparkmeter' needs the option 'org_id'", res.err, res)


class MeterList(Sparkmeter):
    """verify_meters reading SparkMeter's meter list (sparkmeter_meters: the v1 customers'
    serials) through the rest provider: the connector endpoint kind of meter list."""

    def test_csv_payments_checked_against_koios_meters(self):
        pay = self.write("p.csv", "ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,"
                         "CUSTOMER_ID,METER_ID,CUSTOMER_NAME,CUSTOMER_CATEGORY\n"
                         "A1,2024-03-01T10:00:00Z,100,NGN,FULL_PAYMENT,C1,SM-000421,Ann,Res\n"
                         "A2,2024-03-01T11:00:00Z,100,NGN,FULL_PAYMENT,C2,sm 421,Bo,Res\n"
                         "A3,2024-03-01T12:00:00Z,100,NGN,FULL_PAYMENT,C3,XYZ-1,Cy,Res\n"
                         # cus-0002's second meter: every meter of a customer is listed
                         "A4,2024-03-01T13:00:00Z,100,NGN,FULL_PAYMENT,C2,SM-000520,Bo,Res\n")
        cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
datasets:
  - name: csv
    target: {{id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(pay)}}}
    verify_meters: {{plugin: sparkmeter_meters, api_url: {pslib.yaml_str(self.emu.url)},
                    api_key: {KEY}, api_secret: {SECRET}, requests_per_minute: 0}}
    sinks: [out]
    warnings: out/warnings.jsonl
""", name="meters.yaml")
        os.chmod(cfg, 0o600)
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.report()["verify_meters"],
                         {"meters": 6, "unknown": 2, "near_misses": 1})
        self.assertIn("verify_meters: the meter list (sparkmeter_meters): 6 meters", res.err, res)
        warns = {w["id"]: w["warnings"][0]["message"]
                 for w in pslib.read_jsonl(self.path("out", "warnings.jsonl"))}
        self.assertEqual(warns["A2"], "sm 421 not in the meter list; did you mean SM-000421?")
        self.assertTrue(warns["A3"].startswith("XYZ-1 not in the meter list"), warns)
        self.assertNotIn("A4", warns)
        self.assertEqual(self.emu.counts(), {"customers": 1, "total": 1})

    def test_test_plugin_on_the_meter_list(self):
        cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/meters.jsonl}}
datasets:
  - name: meters
    target: {{id: site-1}}
    source: {{plugin: sparkmeter_meters, api_url: {pslib.yaml_str(self.emu.url)},
              api_key: {KEY}, api_secret: {SECRET}, requests_per_minute: 0}}
    sinks: [out]
""", name="kit.yaml")
        os.chmod(cfg, 0o600)
        res = pslib.run("test-plugin", "sparkmeter_meters", "--config", cfg, "--dataset",
                        "meters", env={"PS_TEST_FAKE_SLEEP": "1"})
        self.assertEqual(res.rc, 0, res)
        self.assertIn("read contract        pass   6 rows", res.out, res)
        self.assertIn(" 0 failed", res.out, res)
        for s in self.secrets:
            self.assertNotIn(s, res.out + res.err)


class Faults(Sparkmeter):
    overlap = "366d"  # every run reads everything: a recovered run equals the clean one

    def setUp(self):
        super().setUp()
        self.good_first_run()

    # retried, then the run succeeds exactly as a clean run
    def test_429_with_retry_after(self):
        _, c = self.run_fault([{"when": "historical", "kind": "429"}], 0, None)
        self.assertEqual((c["fault:429"], c["historical"]), (1, 5), c)

    def test_429_without_retry_after(self):
        _, c = self.run_fault([{"when": "historical", "kind": "429bare", "skip": 1}], 0, None)
        self.assertEqual((c["fault:429bare"], c["historical"]), (1, 5), c)

    def test_koios_burst_limit(self):
        _, c = self.run_fault([{"when": "any", "kind": "burst", "count": 2}], 0, None)
        self.assertEqual((c["fault:burst"], c["total"]), (2, 7), c)

    def test_500_and_503(self):
        _, c = self.run_fault([{"when": "historical", "kind": "500"},
                               {"when": "customers", "kind": "503"}], 0, None)
        self.assertEqual((c["fault:500"], c["fault:503"], c["total"]), (1, 1, 7), c)

    def test_truncated_json_is_retried(self):
        _, c = self.run_fault([{"when": "historical", "kind": "truncate", "skip": 2}], 0, None)
        self.assertEqual((c["fault:truncate"], c["historical"]), (1, 5), c)

    # the run fails: nothing committed
    def test_503_until_retries_run_out(self):
        res, c = self.run_fault([{"when": "historical", "kind": "503", "count": -1}], 1,
                                "temporary failure, a later run may succeed")
        self.assertEqual(c["historical"], 4, c)  # attempts (4), then it gives up

    def test_429_until_retries_run_out(self):
        res, c = self.run_fault([{"when": "historical", "kind": "429", "count": -1,
                                  "skip": 1}], 1, "temporary failure, a later run may succeed")
        self.assertEqual(c["historical"], 5, c)

    def test_bad_credentials(self):
        cfg = self.config_with(name="bad.yaml", api_secret="wrong-secret")
        self.emu.faults([])
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("401", res.out + res.err, res)
        self.assertIn("Invalid API key or secret", res.out + res.err, res)
        self.assertNotIn("wrong-secret", res.out + res.err)
        c = self.emu.counts()
        self.assertEqual(c["total"], 1, c)  # a refused key is not retried
        self.assertEqual(self.store_rows(), self.store_before)

    def test_key_revoked_mid_run(self):
        res, c = self.run_fault([{"when": "historical", "kind": "expire", "skip": 2}], 1,
                                "Invalid API key or secret")
        self.assertEqual((c["customers"], c["historical"]), (1, 3), c)

    def test_page_changes_while_paging(self):
        """A transaction inserted at the front shifts the offset-based cursor: the next page
        repeats one row, which the core counts as a duplicate; nothing is lost."""
        self.emu.faults([{"when": "historical", "kind": "insert"}])
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.assertEqual((rep["read"], rep["accepted"], rep["duplicates"], rep["filtered"]),
                         (21, 17, 1, 3), rep)
        self.assertEqual(self.store_without_run_ids(), self.clean_store)
        self.emu.faults([])
        res = self.run_paysync()  # the inserted row (at the front) is read by the next run
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.report()["changes"]["new"], 1)
        self.assertIn("txn-ins-001", self.records())


if __name__ == "__main__":
    pslib.main()
