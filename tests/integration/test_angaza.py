"""The `angaza` connector (plugins/rest/connectors/angaza.yaml) against the Angaza Data API
emulator (tests/tools/angaza_emulator.py), through the real binary: the first run and its
mapping, an incremental run reading only the window plus the overlap, a late reversal landing
as a changed row, every fault switch (exit code, message, request count, nothing committed on
failure, the next run equal to a clean one) and `paysync test-plugin`."""
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from crmemu import ConnectorCase  # noqa: E402

USER, PASSWORD = "operator@example.com", "s3cret-Angaza-pass"


class Angaza(ConnectorCase):
    emulator = "angaza"
    plugin = "angaza"
    secrets = (PASSWORD,)
    api_path = "/data"
    overlap = None

    def source(self):
        return {"username": USER, "password": PASSWORD, "customer_category": "Residential",
                "page_size": 5, "requests_per_minute": 0, "overlap": self.overlap}

    def payment_queries(self):
        return [dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(line.split(" ", 1)[1]).query))
                for line in self.emu.stats()["log"] if "/data/payments" in line]


class FirstAndIncremental(Angaza):
    def test_first_run_maps_every_field(self):
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.assertEqual((rep["read"], rep["accepted"], rep["rejected"]), (16, 16, 0), rep)
        recs = self.records()
        r = recs["PA000003"]
        self.assertEqual(r["TIMESTAMP"], "2024-03-02T13:30:00.000Z")
        self.assertEqual(r["PAYMENT_CURRENCY"], "KES")
        self.assertEqual(r["CUSTOMER_ID"], "AC000004")
        self.assertEqual(r["METER_ID"], "00007784")            # the account's unit, zeros kept
        self.assertEqual(r["CUSTOMER_PHONE"], "+254712345004")  # msisdn without '+'
        self.assertEqual(r["REFERENCE_ID"], "AT000003")         # no external_xref
        self.assertEqual(r["TRANSACTION_TYPE"], "INSTALLMENT_PAYMENT")
        # payment -> account AC000004 -> client CL000004 -> its Name attribute, which that
        # client lists after its phone number (the attribute chosen by name, not position)
        self.assertEqual(r["CUSTOMER_NAME"], "Mwangi Njoroge")
        self.assertEqual(recs["PA000002"]["CUSTOMER_NAME"], "Achieng Atieno")
        self.assertEqual(recs["PA000002"]["REFERENCE_ID"], "QX0000002")
        self.assertEqual(recs["PA000011"]["TRANSACTION_TYPE"], "REVERSAL")
        # +03:00 converted to UTC
        self.assertEqual(recs["PA000004"]["TIMESTAMP"], "2024-03-02T07:30:00.000Z")
        # a JSON number keeps its exact text
        self.assertIn(b'"ID":"PA000003","TIMESTAMP":"2024-03-02T13:30:00.000Z",'
                      b'"PAYMENT_AMOUNT":300.00,', self.output())
        c = self.emu.counts()
        self.assertEqual((c["payments"], c["accounts"], c["clients"]), (4, 1, 1), c)
        q = self.payment_queries()
        self.assertEqual(q[0], {"limit": "5"})  # no `from` on a first run without start
        self.assertEqual(q[1], {"limit": "5", "offset": "5"})  # the next link, followed

    def test_incremental_overlap_and_late_reversal(self):
        self.assertEqual(self.run_paysync().rc, 0)
        self.emu.reset()
        self.emu.data(add=[{"qid": "PA000017", "account_qid": "AC000001",
                            "account_number": 50001, "amount": {"number": "250"},
                            "currency": "KES", "effective_date": "2024-03-09T08:00:00+03:00",
                            "angaza_transaction_qid": "AT000017", "external_xref": None,
                            "is_reversed": False, "msisdn": "254712345001",
                            "href": "/data/payments/PA000017"}],
                      update=[{"qid": "PA000014", "is_reversed": True}])
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        # 3 days before the latest effective date committed (2024-03-08T13:30:00Z)
        self.assertEqual(self.payment_queries()[0]["from"], "2024-03-05T13:30:00.000Z")
        rep = self.report()
        # PA000009, 11..16 inside the window, and the new one
        self.assertEqual((rep["read"], rep["accepted"]), (8, 8), rep)
        ch = rep["changes"]  # nothing outside the window read is marked vanished
        self.assertEqual((ch["new"], ch["changed"], ch["unchanged"], ch["vanished"]),
                         (1, 1, 6, 0), rep)
        self.assertEqual(rep["vanish_guard"]["window"]["from"], "2024-03-05T13:30:00.001Z")
        recs = self.records()
        self.assertEqual(recs["PA000014"]["TRANSACTION_TYPE"], "REVERSAL")
        self.assertEqual(recs["PA000017"]["TIMESTAMP"], "2024-03-09T05:00:00.000Z")
        self.assertIn(b'"PAYMENT_AMOUNT":250,', self.output())

    def test_start_option(self):
        res = self.run_paysync(self.config_with(name="start.yaml", start="2024-03-07"))
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.payment_queries()[0]["from"], "2024-03-07T00:00:00.000Z")
        self.assertEqual(self.report()["read"], 4)

    def test_test_plugin(self):
        res = pslib.run("test-plugin", "angaza", "--config", self.cfg, "--dataset", "crm",
                        env={"PS_TEST_FAKE_SLEEP": "1"})
        self.assertEqual(res.rc, 0, res)
        self.assertNotIn("FAIL", res.out, res)
        self.assertNotIn(PASSWORD, res.out + res.err)

    def test_unknown_account_is_rejected_naming_the_fields(self):
        self.emu.data(add=[{"qid": "PA000099", "account_qid": "AC999999",
                            "account_number": 59999, "amount": "10.00", "currency": "KES",
                            "effective_date": "2024-03-05T10:00:00Z",
                            "angaza_transaction_qid": "AT000099", "external_xref": None,
                            "is_reversed": False, "msisdn": "254712345001",
                            "href": "/data/payments/PA000099"}])
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.assertEqual((rep["accepted"], rep["rejected"]), (16, 1), rep)
        (rej,) = pslib.read_jsonl(self.path("out", "rejects.jsonl"))
        self.assertEqual(sorted((p["field"], p["code"]) for p in rej["problems"]),
                         [("CUSTOMER_NAME", "missing_required"),
                          ("METER_ID", "missing_required")], rej)

    def test_chained_lookup_mistakes_are_manifest_errors(self):
        src = os.path.join(pslib.SOURCE_DIR, "plugins", "rest", "connectors", "angaza.yaml")
        with open(src) as f:
            text = f.read()
        bad = text.replace("key: {lookup: accounts, key: /account_qid, field: /client_qids/0}",
                           "key: {lookup: acounts, key: /account_qid, field: /client_qids/0}")
        self.assertNotEqual(bad, text)
        man = self.write("bad.yaml", bad)
        os.chmod(man, 0o600)
        cfg = self.config_with(name="badman.yaml")
        with open(cfg) as f:
            text = f.read().replace("plugin: angaza,", "plugin: rest, manifest: bad.yaml,")
        with open(cfg, "w") as f:
            f.write(text)
        res = self.run_paysync(cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("no lookup named 'acounts' under `lookups`", res.err, res)


class Faults(Angaza):
    overlap = "366d"  # every run reads everything: a recovered run equals the clean one

    def setUp(self):
        super().setUp()
        self.good_first_run()

    def test_429_with_and_without_retry_after(self):
        _, c = self.run_fault([{"when": "payments", "kind": "429"},
                               {"when": "payments", "kind": "429bare", "skip": 1}], 0, None)
        self.assertEqual((c["fault:429"], c["fault:429bare"], c["payments"]), (1, 1, 6), c)

    def test_500_and_503(self):
        _, c = self.run_fault([{"when": "accounts", "kind": "500"},
                               {"when": "payments", "kind": "503", "skip": 3}], 0, None)
        self.assertEqual((c["fault:500"], c["fault:503"], c["total"]), (1, 1, 8), c)

    def test_truncated_json_is_retried(self):
        _, c = self.run_fault([{"when": "payments", "kind": "truncate", "skip": 1}], 0, None)
        self.assertEqual((c["fault:truncate"], c["payments"]), (1, 5), c)

    def test_503_until_retries_run_out(self):
        _, c = self.run_fault([{"when": "payments", "kind": "503", "count": -1, "skip": 2}], 1,
                              "temporary failure, a later run may succeed")
        self.assertEqual(c["payments"], 6, c)  # 2 pages, then 4 attempts of the third

    def test_bad_password(self):
        self.emu.faults([])
        res = self.run_paysync(self.config_with(name="bad.yaml", password="wrong-pass"))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("HTTP 401", res.out + res.err, res)
        self.assertIn("bad username or password", res.out + res.err, res)
        self.assertNotIn("wrong-pass", res.out + res.err)
        self.assertEqual(self.emu.counts()["total"], 1)
        self.assertEqual(self.store_rows(), self.store_before)

    def test_password_changed_mid_run(self):
        _, c = self.run_fault([{"when": "payments", "kind": "expire", "skip": 1}], 1,
                              "bad username or password")
        self.assertEqual((c["accounts"], c["clients"], c["payments"]), (1, 1, 2), c)

    def test_page_changes_while_paging(self):
        self.emu.faults([{"when": "payments", "kind": "insert"}])
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        rep = self.report()
        self.assertEqual((rep["read"], rep["accepted"], rep["duplicates"]), (17, 16, 1), rep)
        self.assertEqual(self.store_without_run_ids(), self.clean_store)
        res = self.run_paysync()
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.report()["changes"]["new"], 1)
        self.assertIn("PAINS001", self.records())


if __name__ == "__main__":
    pslib.main()
