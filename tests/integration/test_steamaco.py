"""The steamaco connector (the rest provider with plugins/rest/connectors/steamaco.yaml)
against the SteamaCo emulator (tests/tools/steama_emulator.py), through the real binary: a
first run, an incremental run (only new rows plus the overlap), a late reversal, every fault
of the emulator (exit code, message, requests made, nothing committed on failure, and the run
after the fault equal to a clean run), and `paysync test-plugin`."""
import json
import os
import shutil
import sqlite3
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from crmemu import Emulator  # noqa: E402

USER = "operator@example.com"
PASSWORD = "s3cret-Steama-pass"
FAKE = {"PS_TEST_FAKE_SLEEP": "1", "STEAMA_PASSWORD": PASSWORD}


def tx(i, ts, amount, **kw):
    t = {"id": i, "site_id": 7, "customer_id": 2, "amount": amount, "category": "PAY",
         "provider": "AP", "timestamp": ts, "synchronization_status": "S",
         "reversed_by_id": None, "agent_id": None, "customer_telephone": "+2348031234502"}
    t.update(kw)
    return t


class SteamaCase(pslib.Case):
    def setUp(self):
        super().setUp()
        self.emu = Emulator("steama", self.dir)

    def tearDown(self):
        self.emu.stop()
        super().tearDown()

    def cfg(self, password="${STEAMA_PASSWORD}", extra="", name="paysync.yaml"):
        p = self.config("""
sinks:
  out: {plugin: jsonl, path: out/payments.jsonl}
  store: {plugin: sqlite, path: out/store.db}
datasets:
  - name: steama
    target: {level: project, id: kaduna}
    source:
      plugin: steamaco
      api_url: %s
      username: %s
      password: %s
      currency: NGN
      customer_category: Residential
%s    sinks: [out, store]
""" % (self.emu.url, USER, pslib.yaml_str(password), extra), name=name)
        os.chmod(p, 0o600)
        return p

    def run_ps(self, cfg, *more):
        return pslib.run("run", cfg, *more, env=FAKE)

    def output(self):
        p = self.path("out", "payments.jsonl")
        if not os.path.exists(p):
            return None
        with open(p, encoding="utf-8") as f:
            return f.read()

    def rows(self):
        return {r["ID"]: r for r in pslib.read_jsonl(self.path("out", "payments.jsonl"))}

    def store(self):
        if not os.path.exists(self.path("out", "store.db")):
            return [], []
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            cols = [r[1] for r in db.execute("PRAGMA table_info(payments)")
                    if not r[1].endswith("run") and r[1] != "run_id"]
            pay = db.execute("SELECT %s FROM payments ORDER BY 1, 2" % ", ".join(cols)).fetchall()
            cur = db.execute("SELECT dataset, cursor_json FROM cursors ORDER BY 1").fetchall()
            return pay, cur
        finally:
            db.close()

    def report(self, res):
        """The summary's counts line and changes line as dicts."""
        out = {}
        for line in res.out.splitlines():
            line = line.strip()
            if line.startswith("read ") or line.startswith("changes:"):
                for part in line.replace("changes:", "").split(","):
                    k, v = part.split()
                    out[k] = int(v)
        return out


class FirstAndIncremental(SteamaCase):
    def test_first_run(self):
        cfg = self.cfg()
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 0, res)
        c = self.report(res)
        # 20 transactions, 2 of them UCU (not payments): filtered, not rejected
        self.assertEqual((c["read"], c["accepted"], c["rejected"], c["filtered"], c["new"]),
                         (20, 18, 0, 2, 18), res)
        self.assertIn("filtered by the source (not payments): 2", res.out)
        self.assertIn("steamaco: 2 records filtered out (not payments)", res.err)
        self.assertIn("the first record's keys: id, site_id, customer_id, amount", res.err)
        rows = self.rows()
        self.assertNotIn("1004", rows)  # UCU
        self.assertNotIn("1011", rows)
        r = rows["1003"]  # amount sent as the JSON number 530.50: exact text kept
        self.assertIn('"PAYMENT_AMOUNT":530.50', self.output())
        self.assertEqual(r["METER_ID"], "0004204")  # leading zeros from /meters/ reference
        self.assertEqual(r["CUSTOMER_NAME"], "John")  # first + " " + empty last name
        self.assertEqual(r["TRANSACTION_TYPE"], "INSTALLMENT_PAYMENT")
        self.assertEqual(r["PAYMENT_CURRENCY"], "NGN")
        # 1005 is written "2024-03-03T14:15:01+01:00": converted to UTC
        self.assertEqual(rows["1005"]["TIMESTAMP"], "2024-03-03T13:15:01.000Z")
        self.assertEqual(rows["1008"]["AGENT_ID"], "31")
        self.assertEqual(rows["1002"]["LONGITUDE"], 7.433)
        st = self.emu.stats()
        self.assertEqual(st["counts"], {"token": 1, "meters": 1, "customers": 1,
                                        "transactions": 1, "total": 4})
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(st["log"][-1]).query)
        self.assertEqual(q, {"ordering": ["timestamp"], "page": ["1"], "page_size": ["100"]})
        # the cursor: the latest timestamp read, stored at commit
        self.assertEqual(self.store()[1], [("steama", '{"max":"2024-03-10T13:15:01.000Z"}')])
        self.assertNotIn(PASSWORD, res.out + res.err)

    def test_incremental_run_reads_new_rows_and_the_overlap(self):
        cfg = self.cfg()
        self.assertEqual(self.run_ps(cfg).rc, 0)
        self.emu.reset()
        self.emu.data(add=[tx(1101, "2024-03-12T09:00:00Z", "700.00"),
                           tx(1102, "2024-03-12T10:00:00+02:00", {"number": "800.25"})])
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 0, res)
        st = self.emu.stats()
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(st["log"][-1]).query)
        # from the cursor (2024-03-10T13:15:01Z) minus the 3-day overlap
        self.assertEqual(q["created_after"], ["2024-03-07T13:15:01.000Z"])
        c = self.report(res)
        # transactions 1013, 1015..1020 are in the overlap (none UCU), plus the 2 new ones
        self.assertEqual((c["read"], c["new"], c["unchanged"]), (9, 2, 7), res)
        # only a window was read: the 11 payments before it are kept, none marked vanished;
        # the window starts just after created_after, 1015..1020 are stored inside it
        self.assertEqual(c["vanished"], 0, res)
        self.assertRegex(res.err, r"windowed source: TIMESTAMP 2024-03-07T13:15:01\.001Z to "
                         r"20\d\d-\d\d-\d\dT[0-9:.]+Z read, 6 stored payments in it, 0 vanish")
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            self.assertEqual(db.execute("SELECT count(*) FROM payments WHERE vanished_run IS NULL"
                                        ).fetchone()[0], 20)
        finally:
            db.close()
        exp = pslib.run("export", cfg, "--dataset", "steama", "--format", "jsonl", env=FAKE)
        self.assertEqual(exp.rc, 0, exp)
        self.assertEqual(len(exp.out.splitlines()), 20, exp)
        self.assertEqual(self.store()[1], [("steama", '{"max":"2024-03-12T09:00:00.000Z"}')])
        self.assertIn('"ID":"1102","TIMESTAMP":"2024-03-12T08:00:00.000Z",'
                      '"PAYMENT_AMOUNT":800.25', self.output())

    def present(self):
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            return {r[0] for r in db.execute("SELECT id FROM payments WHERE vanished_run IS NULL")}
        finally:
            db.close()

    def run_report(self, cfg, *more):
        rep = self.path("report.json")
        res = self.run_ps(cfg, "--report", rep, *more)
        with open(rep, encoding="utf-8") as f:
            return res, json.load(f)["datasets"][0]

    def test_deleted_inside_the_window_vanishes(self):
        cfg = self.cfg(extra="    max_vanished: 1\n")
        self.assertEqual(self.run_ps(cfg).rc, 0)
        # 1017 (2024-03-09T08:15:01Z) is inside the next run's window (after 2024-03-07T13:15:01Z)
        self.emu.data(delete=[1017])
        res, rep = self.run_report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.report(res)["vanished"], 1, res)
        self.assertEqual((rep["changes"]["vanished"], rep["changes"]["unchanged"]), (1, 6), rep)
        g = rep["vanish_guard"]
        self.assertEqual((g["outcome"], g["stored"], g["vanishing"], g["limit"]),
                         ("passed", 6, 1, 1), rep)
        self.assertEqual(g["window"]["from"], "2024-03-07T13:15:01.001Z")
        self.assertRegex(g["window"]["to"], r"^20\d\d-\d\d-\d\dT[0-9:.]+Z$")
        present = self.present()
        self.assertNotIn("1017", present)
        self.assertEqual(len(present), 17)  # 18 payments, one vanished, nothing else touched
        exp = pslib.run("export", cfg, "--dataset", "steama", "--format", "jsonl", env=FAKE)
        self.assertEqual(exp.rc, 0, exp)
        self.assertEqual(len(exp.out.splitlines()), 17, exp)
        self.assertNotIn('"ID":"1017"', exp.out)
        # the cursor advanced with the commit
        self.assertEqual(self.store()[1], [("steama", '{"max":"2024-03-10T13:15:01.000Z"}')])

    def test_deleted_outside_the_window_is_untouched(self):
        cfg = self.cfg()
        self.assertEqual(self.run_ps(cfg).rc, 0)
        # 1002 (2024-03-01T13:15:01Z) and 1013 (on the window's start, not after it) are not
        # in the window: nothing marks them, whatever the source says
        self.emu.data(delete=[1002, 1013])
        res, rep = self.run_report(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(self.report(res)["vanished"], 0, res)
        self.assertEqual((rep["vanish_guard"]["stored"], rep["vanish_guard"]["vanishing"]), (6, 0))
        present = self.present()
        self.assertIn("1002", present)
        self.assertIn("1013", present)
        self.assertEqual(len(present), 18)

    def test_guard_counts_only_the_window(self):
        # 3 of the 18 stored payments (17 %) would pass a 20 % guard over the whole dataset;
        # the run read a window holding 6 of them, and 3 of 6 is over 20 % of 6 (1)
        cfg = self.cfg(extra="    max_vanished: 20%\n")
        self.assertEqual(self.run_ps(cfg).rc, 0)
        cursor = self.store()[1]
        self.emu.data(delete=[1015, 1016, 1018], add=[tx(1101, "2024-03-12T09:00:00Z", "700.00")])
        res, rep = self.run_report(cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertRegex(res.out + res.err,
                         r"vanish_guard: this run would vanish 3 of 6 stored payments in the "
                         r"window read \(TIMESTAMP 2024-03-07T13:15:01\.001Z to "
                         r"20\d\d-\d\d-\d\dT[0-9:.]+Z\), limit 1 \(max_vanished 20%\); "
                         r"nothing was committed")
        self.assertEqual(rep["vanish_guard"]["outcome"], "tripped")
        self.assertEqual(len(self.present()), 18)  # nothing marked
        self.assertNotIn("1101", self.present())   # nothing written
        self.assertEqual(self.store()[1], cursor)  # the cursor stays without a commit
        res, rep = self.run_report(cfg, "--allow-vanish")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("vanish guard: allowed 3 of 6 stored payments to vanish (in the window "
                      "read)", res.out)
        self.assertEqual((rep["changes"]["vanished"], rep["changes"]["new"]), (3, 1), rep)
        self.assertEqual(len(self.present()), 16)
        self.assertEqual(self.store()[1], [("steama", '{"max":"2024-03-12T09:00:00.000Z"}')])

    def test_time_far_ahead_does_not_move_the_cursor(self):
        cfg = self.cfg()
        self.emu.data(add=[tx(1401, "2099-01-01T00:00:00Z", "5.00")])
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("steamaco: 1 records have a time at /timestamp more than a day ahead of "
                      "now: they do not move the cursor", res.err)
        self.assertEqual(self.store()[1], [("steama", '{"max":"2024-03-10T13:15:01.000Z"}')])

    def test_overlap_and_start_options(self):
        cfg = self.cfg(extra="      overlap: 1d\n      start: 2024-03-09\n")
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 0, res)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.emu.stats()["log"][-1]).query)
        self.assertEqual(q["created_after"], ["2024-03-09T00:00:00.000Z"])
        self.assertEqual(self.report(res)["read"], 4, res)
        res = self.run_ps(cfg)
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.emu.stats()["log"][-1]).query)
        self.assertEqual(q["created_after"], ["2024-03-09T13:15:01.000Z"])

    def test_late_reversal_lands(self):
        cfg = self.cfg()
        self.assertEqual(self.run_ps(cfg).rc, 0)
        # a day after payment 1019 (2024-03-10T08:15:01Z), transaction 1201 reverses it
        self.emu.data(add=[tx(1201, "2024-03-11T08:15:01Z", "-690.50", customer_id=5)],
                      update=[{"id": 1019, "reversed_by_id": 1201}])
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 0, res)
        c = self.report(res)
        self.assertEqual((c["new"], c["changed"]), (1, 1), res)
        rows = self.rows()
        self.assertEqual(rows["1201"]["TRANSACTION_TYPE"], "REVERSAL")
        self.assertEqual(rows["1201"]["REFERENCE_ID"], "1019")
        self.assertEqual(rows["1019"]["TRANSACTION_TYPE"], "INSTALLMENT_PAYMENT")
        self.assertEqual(rows["1019"]["REFERENCE_ID"], "1201")

    def test_late_reversal_on_a_later_page(self):
        # two transactions a page: the reversal (1201) is read pages after the payment it
        # reverses (1019), whose page was freed; the self lookup kept a copy of 1019
        cfg = self.cfg(extra="      page_size: 2\n")
        self.emu.data(add=[tx(1201, "2024-03-11T08:15:01Z", "-690.50", customer_id=5)],
                      update=[{"id": 1019, "reversed_by_id": 1201}])
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 0, res)
        # 11 pages of transactions, 3 of customers, 3 of meters
        self.assertIn("steamaco: 21 records in 17 pages (18 requests)", res.err)
        rows = self.rows()
        self.assertEqual(rows["1201"]["TRANSACTION_TYPE"], "REVERSAL")
        self.assertEqual(rows["1201"]["REFERENCE_ID"], "1019")
        self.assertEqual(rows["1019"]["REFERENCE_ID"], "1201")

    def test_page_changes_while_paging(self):
        cfg = self.cfg(extra="      page_size: 3\n")
        self.assertEqual(self.run_ps(cfg).rc, 0)
        # while the second run pages, a transaction is inserted at the front of its window
        self.emu.faults([{"when": "transactions", "kind": "insert"}])
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 0, res)
        c = self.report(res)
        # page 2 starts with the last row of page 1 again: a duplicate, not a loss
        self.assertEqual((c["duplicates"], c["new"], c["unchanged"]), (1, 0, 7), res)
        # the row inserted behind the reader is read by the next run (inside the overlap)
        res = self.run_ps(cfg)
        self.assertEqual(self.report(res)["new"], 1, res)
        self.assertIn("900001", self.rows())

    def test_discover_check_and_kit(self):
        cfg = self.cfg()
        res = pslib.run("check", cfg, env=FAKE)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("source ok (rest 1.0.0)", res.err)
        self.assertEqual(self.emu.stats()["counts"].get("token"), 1)  # check logs in
        res = pslib.run("check", self.cfg(password="wrong", name="bad.yaml"), env=FAKE)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("credentials were refused", res.out + res.err)
        res = pslib.run("discover", cfg, "--dataset", "steama", env=FAKE)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("/METER_ID                        METER_ID", res.out)
        self.assertIn('"METER_ID":"0004203"', res.out)
        for target in ("steamaco", os.path.join(os.path.dirname(pslib.PAYSYNC), "plugins",
                                                "rest.so")):
            res = pslib.run("test-plugin", target, "--config", cfg, "--dataset", "steama",
                            env=FAKE)
            self.assertEqual(res.rc, 0, res)
            self.assertIn("0 failed", res.out)
            self.assertIn("two reads identical  pass", res.out)


class Faults(SteamaCase):
    def setUp(self):
        super().setUp()
        self.cfgp = self.cfg()
        res = self.run_ps(self.cfgp)
        self.assertEqual(res.rc, 0, res)
        self.before = self.output()
        self.clean = self.store()
        os.rename(self.path("out"), self.path("clean"))
        self.emu.reset()

    def run_fault(self, faults, rc, message, cfg=None):
        """A first run (empty store) under faults: rc and message; when it fails, nothing
        committed and the next run equals the clean run; when it succeeds through the fault,
        it equals the clean run itself."""
        shutil.rmtree(self.path("out"), ignore_errors=True)
        self.emu.reset()
        self.emu.faults(faults)
        res = self.run_ps(cfg or self.cfgp)
        self.assertEqual(res.rc, rc, res)
        self.assertIn(message, res.out + res.err, res)
        self.assertNotIn(PASSWORD, res.out + res.err)
        counts = self.emu.stats()["counts"]
        self.emu.faults([])
        if rc != 0:
            self.assertIsNone(self.output(), "a failed first run wrote output")
            self.assertEqual(self.store()[0], [], "a failed run committed payments")
            self.assertEqual(self.store()[1], [], "a failed run moved the cursor")
            self.assertIn("nothing committed", res.out)
            again = self.run_ps(self.cfgp)  # recovery equals a clean run
            self.assertEqual(again.rc, 0, again)
        self.assertEqual(self.output(), self.before)
        self.assertEqual(self.store(), self.clean)
        return res, counts

    def test_token_expiry_mid_run_logs_in_again_once(self):
        res, c = self.run_fault([{"when": "transactions", "kind": "expire"}], 0,
                                "HTTP 401, the token expired: logging in again")
        self.assertEqual((c["token"], c["transactions"]), (2, 2))

    def test_401_after_new_login_fails(self):
        res, c = self.run_fault([{"when": "transactions", "kind": "401", "count": -1}], 1,
                                "HTTP 401 (server said: {\"detail\": \"Invalid token.\"}) "
                                "(after logging in again: the new token was refused too)")
        self.assertEqual((c["token"], c["transactions"]), (2, 2))

    def test_bad_credentials(self):
        cfg = self.cfg(password="not-the-password", name="bad.yaml")
        res, c = self.run_fault([], 1, "logging in (POST %s/get-token/): HTTP 400 (server said: "
                                "{\"non_field_errors\": [\"Unable to log in with provided "
                                "credentials.\"]}): the credentials were refused" % self.emu.url,
                                cfg=cfg)
        self.assertEqual(c, {"token": 1, "total": 1})
        self.assertNotIn("not-the-password", res.out + res.err)

    def test_429_with_retry_after(self):
        res, c = self.run_fault([{"when": "transactions", "kind": "429"}], 0,
                                "retrying in 1.000 s (retry 1 of 3)")
        self.assertEqual((c["transactions"], c["fault:429"]), (2, 1))

    def test_429_without_retry_after_gives_up_as_temporary(self):
        res, c = self.run_fault([{"when": "transactions", "kind": "429bare", "count": -1}], 1,
                                "temporary failure, a later run may succeed")
        self.assertIn("HTTP 429", res.out)
        self.assertIn("[gave up after 4 attempts]", res.out)
        self.assertEqual(c["transactions"], 4)

    def test_500_then_ok(self):
        res, c = self.run_fault([{"when": "meters", "kind": "500"}], 0, "HTTP 500")
        self.assertEqual(c["meters"], 2)

    def test_503_forever(self):
        res, c = self.run_fault([{"when": "customers", "kind": "503", "count": -1}], 1,
                                "reading page 1 of lookups.customers: HTTP 503")
        self.assertEqual((c["customers"], c.get("transactions", 0)), (4, 0))

    def test_truncated_json_is_retried(self):
        res, c = self.run_fault([{"when": "transactions", "kind": "truncate"}], 0,
                                "reading page 1 of the records: the answer is not valid JSON (")
        self.assertEqual(c["transactions"], 2)

    def test_truncated_json_forever(self):
        res, c = self.run_fault([{"when": "transactions", "kind": "truncate", "count": -1}], 1,
                                "reading page 1 of the records: the answer is not valid JSON")
        self.assertEqual(c["transactions"], 4)

    def test_failure_on_a_later_page_commits_nothing(self):
        # records are handed on page by page: page 3 failing after 10 were read fails the run
        cfg = self.cfg(extra="      page_size: 5\n", name="paged.yaml")
        res, c = self.run_fault([{"when": "transactions", "kind": "503", "count": -1,
                                  "skip": 2}], 1,
                                "reading the source failed after 10 rows: temporary failure, a "
                                "later run may succeed: reading page 3 of the records: HTTP 503",
                                cfg=cfg)
        self.assertEqual(c["transactions"], 6)  # pages 1 and 2, then page 3 four times

    def test_caps(self):
        cfg = self.cfg(extra="      page_size: 5\n      max_pages: 2\n", name="c1.yaml")
        res, c = self.run_fault([], 1, "more than 2 pages (option max_pages); nothing was "
                                "committed", cfg=cfg)
        cfg = self.cfg(extra="      max_records: 10\n", name="c2.yaml")
        res, c = self.run_fault([], 1, "more than 10 records (option max_records)", cfg=cfg)

    def test_config_errors(self):
        cfg = self.cfg(extra="      page_size: 0\n", name="c1.yaml")
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("option 'page_size' must be a whole number from 1 to 10000, got '0'",
                      res.err)
        cfg = self.cfg(extra="      start: yesterday\n", name="c2.yaml")
        res = self.run_ps(cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("option start must be a date (2024-01-31)", res.err)
        p = self.config("""
datasets:
  - name: steama
    target: {level: project, id: kaduna}
    source: {plugin: steamaco, api_url: %s, password: x}
    sinks: [out]
sinks:
  out: {plugin: jsonl, path: out/payments.jsonl}
""" % self.emu.url, name="c3.yaml")
        res = self.run_ps(p)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("connector 'steamaco' needs the option 'username'", res.err)


if __name__ == "__main__":
    pslib.main()
