"""mapping.filters and mapping.extract (issue 12 item 4): the Paystack and M-Pesa
reproductions, every operator, the counts everywhere, bounded regexes, and every config error
with its message."""
import json
import os
import shutil
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

FIXTURES = os.path.join(pslib.SOURCE_DIR, "tests", "data", "filters")

PAYSTACK_MAPPING = """      columns:
        Reference: ID
        Amount: PAYMENT_AMOUNT
        Currency: PAYMENT_CURRENCY
        Transaction Date: TIMESTAMP
        Customer Email: CUSTOMER_ID
        Meter Number: METER_ID
        Fees: TRANSACTION_CHARGES
      defaults: {TRANSACTION_TYPE: FULL_PAYMENT, CUSTOMER_CATEGORY: Residential}
      phone_country_code: "234"
"""


class Filters(pslib.Case):
    def setUp(self):
        super().setUp()
        for name in ("paystack_export.csv", "mpesa_statement.csv"):
            shutil.copy(os.path.join(FIXTURES, name), self.path(name))

    def cfg(self, rules, source="paystack_export.csv", mapping=PAYSTACK_MAPPING, extra=""):
        return self.config("""
sinks:
  out: {plugin: jsonl, path: out/p.jsonl}
  db: {plugin: sqlite, path: out/p.db}
datasets:
  - name: ds
    target: {level: project, id: site-1}
    source: {plugin: csvfile, path: %s}
    mapping:
%s%s
    sinks: [out, db]
    rejects: out/rejects.jsonl
    warnings: out/warnings.jsonl
%s""" % (source, mapping, rules, extra))

    def run_ok(self, cfg):
        # each test runs several configs on one store: payments one filter keeps and the next
        # drops would trip the vanish guard (test_new_filter_trips_the_vanish_guard)
        res = pslib.run("run", cfg, "--report", self.path("report.json"), "--allow-vanish")
        self.assertEqual(res.rc, 0, res)
        with open(self.path("report.json")) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual(rep["read"], rep["accepted"] + rep["rejected"] + rep["blank"] +
                         rep["duplicates"] + rep["filtered"], rep)
        return res, rep

    def records(self):
        return pslib.read_jsonl(self.path("out", "p.jsonl"))

    def fails(self, rules, *needles, rc=2, command="run", **kw):
        cfg = self.cfg(rules, **kw)
        res = pslib.run(command, cfg)
        self.assertEqual(res.rc, rc, res)
        for n in needles:
            self.assertIn(n, res.err, res)
        return res

    # ---- the reproduction: Paystack failed transactions -----------------------------------

    def test_paystack_without_filter_accepts_failed_but_shows_them(self):
        res, rep = self.run_ok(self.cfg(""))
        self.assertEqual(rep["accepted"], 6)  # what issue 12 reproduced: failed ones accepted
        self.assertEqual(rep["filtered"], 0)
        # ... but the STATUS values cannot hide any more
        self.assertIn("    STATUS values (column 'Status'): failed 2, success 2, Success 1, "
                      "abandoned 1\n", res.out)
        self.assertEqual(rep["status_values"]["column"], "Status")
        self.assertEqual(rep["status_values"]["values"][0], {"value": "failed", "rows": 2})
        self.assertNotIn("filtered_by", rep)

    def test_paystack_status_filter_counts_failed_as_filtered(self):
        res, rep = self.run_ok(self.cfg("      filters: [{column: Status, equals: success}]\n"))
        # exact comparison: 'Success' is dropped too, and the summary shows it
        self.assertEqual((rep["read"], rep["accepted"], rep["filtered"]), (6, 2, 4))
        self.assertEqual(rep["rejected"], 0)
        self.assertEqual(rep["filtered_by"],
                         [{"filter": "column 'Status' equals 'success'", "rows": 4}])
        self.assertIn("read 6, accepted 2, rejected 0, blank 0, duplicates 0, filtered 4, "
                      "warnings 0", res.out)
        self.assertIn("filtered by filters[0] (column 'Status' equals 'success'): 4", res.out)
        self.assertEqual([r["STATUS"] for r in self.records()], ["success", "success"])
        self.assertFalse(os.path.exists(self.path("out", "rejects.jsonl")) and
                         os.path.getsize(self.path("out", "rejects.jsonl")))

    def test_new_filter_trips_the_vanish_guard(self):
        self.run_ok(self.cfg(""))
        # a filter added later drops 4 of the 6 stored payments: that is a vanish, refused
        cfg = self.cfg("      filters: [{column: Status, equals: success}]\n")
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("vanish_guard: this run would vanish 4 of 6 stored payments", res.out)
        self.assertIn("filtered 4", res.out)
        self.assertEqual(len(self.records()), 6)  # the previous output is kept

    def test_case_insensitive_and_in(self):
        _, rep = self.run_ok(self.cfg(
            "      filters: [{column: status, in: [SUCCESS, reversed], case_insensitive: true}]\n"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (3, 3))
        self.assertEqual(sorted(r["ID"] for r in self.records()),
                         ["T482016937164829", "T482016937164831", "T482016937164833"])

    def test_not_in_not_equals_and_combined_with_and(self):
        rules = ("      filters:\n"
                 "        - {column: Status, not_in: [failed, abandoned]}\n"
                 "        - {column: Channel, not_equals: ussd}\n")
        res, rep = self.run_ok(self.cfg(rules))
        self.assertEqual((rep["accepted"], rep["filtered"]), (2, 4))
        self.assertEqual([f["rows"] for f in rep["filtered_by"]], [3, 1])
        self.assertIn("filtered by filters[1] (column 'Channel' not_equals 'ussd'): 1", res.out)

    def test_matches_and_not_matches(self):
        _, rep = self.run_ok(self.cfg("      filters: [{column: Gateway Response, matches: "
                                      "'^(Approved|Declined)$'}]\n"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (4, 2))
        _, rep = self.run_ok(self.cfg("      filters: [{column: Channel, not_matches: '^card$', "
                                      "case_insensitive: true}]\n"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (2, 4))

    def test_field_filter_reads_mapped_cells_and_defaults(self):
        _, rep = self.run_ok(self.cfg("      filters: [{field: meter id, in: [MTR-0042]}]\n"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (2, 4))
        # a field with no column is compared through its default
        _, rep = self.run_ok(self.cfg("      filters: [{field: TRANSACTION_TYPE, equals: "
                                      "FULL_PAYMENT}]\n"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (6, 0))
        _, rep = self.run_ok(self.cfg("      filters: [{field: CUSTOMER_CATEGORY, equals: "
                                      "Business}]\n"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (0, 6))

    def test_empty_cells_compare_as_empty(self):
        _, rep = self.run_ok(self.cfg("      filters: [{column: Paid At, not_equals: ''}]\n"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (3, 3))

    def test_filtered_rows_are_not_validated(self):
        # a failed attempt with a broken amount is filtered, not rejected
        with open(self.path("paystack_export.csv")) as f:
            body = f.read().replace("T482016937164830,2000.00", "T482016937164830,two thousand")
        self.write("paystack_export.csv", body)
        _, rep = self.run_ok(self.cfg("      filters: [{column: Status, equals: success, "
                                      "case_insensitive: true}]\n"))
        self.assertEqual((rep["accepted"], rep["rejected"], rep["filtered"]), (3, 0, 3))

    def test_blank_rows_count_as_blank_not_filtered(self):
        with open(self.path("paystack_export.csv")) as f:
            body = f.read() + ",,,,,,,,,,,,\n \n"
        self.write("paystack_export.csv", body)
        _, rep = self.run_ok(self.cfg("      filters: [{column: Status, equals: success}]\n"))
        self.assertEqual((rep["read"], rep["blank"], rep["filtered"]), (8, 2, 4))

    def test_filtered_in_store_status_and_validate(self):
        cfg = self.cfg("      filters: [{column: Status, equals: success}]\n")
        self.run_ok(cfg)
        res = pslib.run("status", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("filtered 4", res.out)
        res = pslib.run("status", cfg, "--json")
        self.assertEqual(res.rc, 0, res)
        counts = json.loads(res.out)["datasets"][0]["last_run"]["counts"]
        self.assertEqual((counts["read"], counts["accepted"], counts["filtered"]), (6, 2, 4))
        con = sqlite3.connect("file:%s?mode=ro" % self.path("out", "p.db"), uri=True)
        try:
            rows = con.execute("SELECT read, accepted, filtered FROM runs").fetchall()
        finally:
            con.close()
        self.assertEqual(rows, [(6, 2, 4)])
        res = pslib.run("validate", self.path("paystack_export.csv"), "--config", cfg,
                        "--dataset", "ds")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("6 rows read, 2 valid, 0 rejected, 0 blank, 0 duplicates, 4 filtered, "
                      "0 with warnings", res.out)

    def test_discover_shows_filtered_samples_and_status_values(self):
        cfg = self.cfg("      filters: [{column: Status, equals: success}]\n")
        res = pslib.run("discover", cfg, "--dataset", "ds")
        self.assertEqual(res.rc, 0, res)
        self.assertIn('{"row":3,"filtered":"filters[0] (column \'Status\' equals \'success\')"}',
                      res.out)
        self.assertIn('"row":2,"record":{"ID":"T482016937164829"', res.out)
        self.assertIn("STATUS values (column 'Status', all 6 rows): failed 2, success 2, "
                      "Success 1, abandoned 1\n", res.out)
        cfg = self.cfg("      filters: [{column: Stats, equals: success}]\n")
        res = pslib.run("discover", cfg, "--dataset", "ds")
        self.assertEqual(res.rc, 1, res)
        self.assertIn("mapping problem: ", res.out)
        self.assertIn("no column 'Stats' in the source's header (did you mean 'Status'?)", res.out)

    def test_status_values_are_bounded(self):
        rows = ["Reference,Amount,Currency,Status,Transaction Date,Customer Email,Meter Number,"
                "Customer Name"]
        for i in range(100):
            rows.append("T%d,100,NGN,state-%02d,2024-03-05 10:00,a@example.com,M1,Ada"
                        % (i, i % 70 if i < 90 else 0))
        self.write("many.csv", "\n".join(rows) + "\n")
        res, rep = self.run_ok(self.cfg("", source="many.csv"))
        line = [ln for ln in res.out.splitlines() if "STATUS values" in ln][0]
        # state-00 has 12 rows (i = 0, 70, 90..99); 20 shown; 64 tracked exactly, 6 more lumped
        self.assertTrue(line.startswith("    STATUS values (column 'Status'): state-00 12, "
                                        "state-01 2, "), line)
        self.assertEqual(line.count(","), 20, line)
        self.assertTrue(line.endswith(", and at least 45 more values (50 rows)"), line)
        self.assertEqual(len(rep["status_values"]["values"]), 64)
        self.assertEqual(rep["status_values"]["other_rows"], 6)

    # ---- extract ------------------------------------------------------------------------------

    MPESA_MAPPING = """      columns:
        Receipt No.: ID
        Completion Time: TIMESTAMP
        Paid In: PAYMENT_AMOUNT
        Transaction Status: STATUS
      defaults: {PAYMENT_CURRENCY: KES, TRANSACTION_TYPE: FULL_PAYMENT, CUSTOMER_CATEGORY: Residential}
"""

    def mpesa(self, rules):
        return self.cfg(rules, source="mpesa_statement.csv", mapping=self.MPESA_MAPPING)

    def test_mpesa_numbered_groups_and_filters(self):
        rules = ("      extract:\n"
                 "        - column: Details\n"
                 "          pattern: 'from (\\d+) - (.+?) Acc\\.? ?(\\S+)$'\n"
                 "          fields: [CUSTOMER_PHONE, CUSTOMER_NAME, METER_ID]\n"
                 "        - {column: Details, pattern: 'from (?<CUSTOMER_ID>\\d+)'}\n"
                 "      filters:\n"
                 "        - {column: Transaction Status, equals: Completed}\n"
                 "        - {field: CUSTOMER_ID, matches: '^254'}\n")
        res, rep = self.run_ok(self.mpesa(rules))
        self.assertEqual((rep["read"], rep["accepted"], rep["rejected"], rep["filtered"]),
                         (7, 4, 0, 3), res)
        recs = {r["ID"]: r for r in self.records()}
        self.assertEqual(recs["SC52K1XY7Q"]["CUSTOMER_PHONE"], "+254712345678")
        self.assertEqual(recs["SC52K1XY7Q"]["CUSTOMER_NAME"], "JOHN KAMAU")
        self.assertEqual(recs["SC52K1XY7Q"]["METER_ID"], "MTR-0042")
        self.assertEqual(recs["SC52K1XZ02"]["METER_ID"], "MTR-0500")  # 'Acc' without '.'
        self.assertEqual(recs["SC52K1XZ04"]["CUSTOMER_NAME"], "ALI HASSAN")
        # Details is read by the rules: not an unknown column
        self.assertIn("unknown columns ignored: 'Withdrawn', 'Balance'\n", res.out)
        self.assertIn("STATUS values (column 'Transaction Status'): Completed 6, Failed 1", res.out)

    def test_no_match_on_optional_fields_is_a_counted_warning(self):
        mapping = PAYSTACK_MAPPING
        rules = ("      extract:\n"
                 "        - {column: Gateway Response, pattern: '^(?<NOTES>[A-Z][a-z]+)$'}\n")
        res, rep = self.run_ok(self.cfg(rules, mapping=mapping))
        # 'The transaction was not completed' and 'Insufficient Funds' do not match
        self.assertEqual(rep["accepted"], 6)
        self.assertEqual(rep["warnings_by_code"], {"extract_no_match": 2})
        warnings = pslib.read_jsonl(self.path("out", "warnings.jsonl"))
        self.assertEqual([w["row"] for w in warnings], [5, 7])
        self.assertEqual(warnings[0]["warnings"][0]["code"], "extract_no_match")
        self.assertEqual(warnings[0]["warnings"][0]["raw"], "The transaction was not completed")
        self.assertIn("column 'Gateway Response' does not match the pattern of "
                      "mapping.extract[0]", warnings[0]["warnings"][0]["message"])
        notes = {r["ID"]: r.get("NOTES") for r in self.records()}
        self.assertEqual(notes["T482016937164829"], "Approved")
        self.assertIsNone(notes["T482016937164834"])

    def test_extracted_required_field_needs_no_column(self):
        mapping = PAYSTACK_MAPPING.replace("        Meter Number: METER_ID\n", "")
        rules = "      extract: [{column: Meter Number, pattern: '(?<METER_ID>MTR-\\d+)'}]\n"
        _, rep = self.run_ok(self.cfg(rules, mapping=mapping))
        self.assertEqual(rep["accepted"], 6)

    def test_hostile_regex_is_bounded(self):
        body = ("Reference,Amount,Currency,Status,Transaction Date,Customer Email,Meter Number,"
                "Customer Name\n"
                "T1,100,NGN,%s!,2024-03-05 10:00,a@example.com,M1,Ada\n"
                "T2,100,NGN,success,2024-03-05 10:00,a@example.com,M1,Ada\n" % ("a" * 5000))
        self.write("hostile.csv", body)
        t0 = time.monotonic()
        res, rep = self.run_ok(self.cfg("      filters: [{column: Status, matches: '^(a|a?)+$'}]\n",
                                        source="hostile.csv"))
        self.assertLess(time.monotonic() - t0, 120)  # generous: the limit, not the clock
        self.assertEqual((rep["rejected"], rep["filtered"]), (1, 1), res)
        self.assertEqual(rep["rejected_by_code"], {"regex_limit": 1})
        rej = pslib.read_jsonl(self.path("out", "rejects.jsonl"))
        self.assertIn("hit the matching limits", rej[0]["problems"][0]["message"])

    def test_invalid_utf8_cell_is_matched_safely(self):
        self.write("bad.csv", b"Reference,Amount,Currency,Status,Transaction Date,Customer Email,"
                   b"Meter Number,Customer Name\n"
                   b"T1,100,NGN,succ\xff\xfeess,2024-03-05 10:00,a@x,M1,Ada\n"
                   b"T2,100,NGN,success,2024-03-05 10:00,a@x,M1,Ada\n")
        _, rep = self.run_ok(self.cfg("      filters: [{column: Status, matches: '^succ.*ss$'}]\n",
                                      source="bad.csv"))
        self.assertEqual((rep["accepted"], rep["filtered"]), (1, 1))

    # ---- configuration errors ---------------------------------------------------------------

    def test_bad_regex(self):
        self.fails("      filters: [{column: Status, matches: 'succ(ess'}]\n",
                   "paysync.yaml:21:43: datasets[ds].mapping.filters[0].matches: invalid regular "
                   "expression at offset 8: missing closing parenthesis")
        self.fails("      extract: [{column: Details, pattern: '(?<METER_ID>[a-'}]\n",
                   "paysync.yaml:21:44: datasets[ds].mapping.extract[0].pattern: invalid regular "
                   "expression at offset", "missing terminating ] for character class",
                   command="check")

    def test_unknown_column_exits_2_with_suggestion(self):
        self.fails("      filters: [{column: Stauts, equals: success}]\n",
                   "paysync.yaml:21:26: datasets[ds].mapping.filters[0].column: no column "
                   "'Stauts' in the source's header (did you mean 'Status'?) (columns: "
                   "'Reference', 'Amount'")
        self.fails("      extract:\n"
                   "        - {column: Details, pattern: 'from (?<CUSTOMER_ID>\\d+)'}\n"
                   "        - {column: Detials, pattern: '(?<CUSTOMER_NAME>.+) Acc\\. "
                   "(?<METER_ID>\\S+)$'}\n",
                   "paysync.yaml:19:20: datasets[ds].mapping.extract[1].column: no column 'Detials' in "
                   "the source's "
                   "header (did you mean 'Details'?)", source="mpesa_statement.csv",
                   mapping=self.MPESA_MAPPING)
        self.assertFalse(os.path.exists(self.path("out", "p.jsonl")))

    def test_bad_operator_and_keys(self):
        self.fails("      filters: [{column: Status, equal: success}]\n",
                   "paysync.yaml:21:34: datasets[ds].mapping.filters[0]: unknown key 'equal' "
                   "(did you mean 'equals'?)")
        self.fails("      filters: [{column: Status, notin: [failed]}]\n",
                   "unknown key 'notin' (did you mean 'not_in'?)")
        self.fails("      filters: [{column: Status}]\n",
                   "datasets[ds].mapping.filters[0]: missing an operator: one of equals, "
                   "not_equals, in, not_in, matches, not_matches")
        self.fails("      filters: [{column: Status, equals: success, in: [a]}]\n",
                   "set one operator per filter, found 'equals' and 'in'")
        self.fails("      filters: [{column: Status, field: STATUS, equals: a}]\n",
                   "set either 'column' or 'field', not both")
        self.fails("      filters: [{equals: a}]\n", "missing key 'column' or 'field'")
        self.fails("      filters: [{column: Status, equals: a, case_insensitive: maybe}]\n",
                   "filters[0].case_insensitive: 'maybe' is not valid; expected true or false")
        self.fails("      filters: {column: Status, equals: success}\n",
                   "mapping.filters: expected a list of filters")
        self.fails("      filters: [{column: Status, in: []}]\n", "filters[0].in: the list is empty")
        self.fails("      filters: [{column: Status, equals: [a, b]}]\n",
                   "filters[0].equals: expected a single value, found a list (use 'in' for a "
                   "list)")
        self.fails("      filtres: []\n", "unknown key 'filtres' (did you mean 'filters'?)")

    def test_unknown_fields(self):
        self.fails("      filters: [{field: STATSU, equals: a}]\n",
                   "paysync.yaml:21:25: datasets[ds].mapping.filters[0].field: 'STATSU' is not a "
                   "field of the data model (did you mean 'STATUS'?)", command="check")
        self.fails("      filters: [{field: AGENT_ID, equals: a}]\n",
                   "datasets[ds].mapping.filters[0].field: field AGENT_ID has no column in the "
                   "source's header, no extract rule and no default")
        self.fails("      extract: [{column: Details, pattern: '(?<METER>\\S+)'}]\n",
                   "extract[0].pattern: group name 'METER' is not a field of the data model")
        self.fails("      extract: [{column: Details, pattern: '(?<METER_IDD>\\S+)'}]\n",
                   "group name 'METER_IDD' is not a field of the data model (did you mean "
                   "'METER_ID'?)")
        self.fails("      extract: [{column: Details, pattern: '(\\S+)'}]\n",
                   "the pattern has no named groups ((?<METER_ID>...)) and there is no 'fields' "
                   "list for its numbered groups")
        self.fails("      extract: [{column: Details, pattern: '(\\S+)', fields: [NOTES, "
                   "AGENT_ID]}]\n", "extract[0].fields: 2 fields but the pattern has 1 capture "
                   "group")
        self.fails("      extract: [{column: Details, pattern: '(\\S+)', fields: [NOTEZ]}]\n",
                   "'NOTEZ' is not a field of the data model (did you mean 'NOTES'?)")
        self.fails("      extract:\n        - {column: Details, pattern: '(?<NOTES>.*)'}\n"
                   "        - {column: Details, pattern: '(.*)', fields: [NOTES]}\n",
                   "extract[1]: field NOTES is already filled by extract[0] (line 22)")
        self.fails("      extract: [{column: Details, patern: 'x'}]\n",
                   "unknown key 'patern' (did you mean 'pattern'?)")
        self.fails("      extract: [{column: Channel, pattern: '(?<METER_ID>.*)'}]\n",
                   "datasets[ds].mapping.extract[0]: field METER_ID is filled by this rule and "
                   "also by column 'Meter Number'")


if __name__ == "__main__":
    pslib.main()
