"""paysync run --due, status and export: schedules judged from the sqlite store, the store's
content in the platform's upload formats. Time is pinned with PAYSYNC_FAKE_NOW_MS."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,LATITUDE,NOTES")

FIELDS = ["ID", "TIMESTAMP", "PAYMENT_AMOUNT", "PAYMENT_CURRENCY", "TRANSACTION_TYPE",
          "TRANSACTION_CHARGES", "REFERENCE_ID", "CUSTOMER_ID", "METER_ID", "CUSTOMER_NAME",
          "CUSTOMER_PHONE", "CUSTOMER_CATEGORY", "FINANCING_ID", "AGENT_ID", "LATITUDE",
          "LONGITUDE", "UTILITY_ID", "FAILED_BATTERY_CAPACITY_COUNT", "ACCOUNT_TYPE", "STATUS",
          "NOTES"]


def iso_ms(text):
    """Milliseconds of a canonical UTC time (stdlib, no local time zone involved)."""
    import datetime
    d = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000


def row(i, day="05", notes="ok"):
    return ",".join([
        "P%03d" % i, "2024-03-%sT%02d:00:00Z" % (day, i % 24), "%d.50" % (100 + i), "NGN",
        "FULL_PAYMENT", "C%03d" % i, "M%03d" % i, '"Bello, Amina ""%d"""' % i, "Residential",
        "9.0%d" % i, notes])


class ScheduleCli(pslib.Case):
    def run_at(self, when, *args):
        return pslib.run(*args, env={"PAYSYNC_FAKE_NOW_MS": str(iso_ms(when))})

    def runs(self, db="var/state.db"):
        con = sqlite3.connect("file:%s?mode=ro" % self.path(db), uri=True)
        try:
            return con.execute("SELECT dataset, outcome, started FROM runs "
                               "ORDER BY started_ms, dataset").fetchall()
        finally:
            con.close()

    def sched_config(self, extra_dataset=""):
        csv = self.write("in.csv", HEADER + "\n" + "\n".join(row(i) for i in range(1, 4)) + "\n")
        src = "{plugin: csvfile, path: %s}" % pslib.yaml_str(csv)
        body = "sinks:\n  state: {plugin: sqlite, path: var/state.db}\ndatasets:\n"
        for name, sched in [("d_daily", '{daily: {at: "02:00"}}'), ("d_every", "{every: 6h}"),
                            ("d_none", None), ("d_cron", '"30 * * * *"')]:
            body += ("  - name: %s\n    target: {level: project, id: p1}\n    source: %s\n"
                     "    sinks: [state]\n" % (name, src))
            if sched:
                body += "    schedule: %s\n" % sched
        return self.config(body + extra_dataset)

    # ---- run --due --------------------------------------------------------------------

    def test_due_selects_by_schedule_and_last_run(self):
        cfg = self.sched_config()
        res = self.run_at("2024-03-05T10:00:00Z", "run", cfg, "--due")
        self.assertEqual(res.rc, 0, res)
        ran = sorted(r[0] for r in self.runs())
        self.assertEqual(ran, ["d_cron", "d_daily", "d_every"], res)  # never run: due
        self.assertNotIn("d_none", res.out)

        res = self.run_at("2024-03-05T10:00:30Z", "run", cfg, "--due")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("no dataset is due", res.err)
        self.assertEqual(len(self.runs()), 3)

        res = self.run_at("2024-03-05T11:00:00Z", "run", cfg, "--due")  # cron :30 passed
        self.assertEqual(res.rc, 0, res)
        self.assertEqual([r[0] for r in self.runs()][3:], ["d_cron"], res)

        res = self.run_at("2024-03-05T16:00:00Z", "run", cfg, "--due", "--dataset", "d_every")
        self.assertEqual(res.rc, 0, res)
        self.assertEqual([r[0] for r in self.runs()][4:], ["d_every"], res)  # cron filtered out

        res = self.run_at("2024-03-06T02:00:00Z", "run", cfg, "--due")
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(sorted(r[0] for r in self.runs()[5:]), ["d_cron", "d_daily", "d_every"],
                         res)  # every 6h: 16:00 + 6h passed too

        res = self.run_at("2024-03-06T02:00:00Z", "run", cfg, "--due", "--dataset", "nope")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("unknown dataset 'nope'", res.err)

    def test_due_without_sqlite_sink_is_always_due(self):
        csv = self.write("in.csv", HEADER + "\n" + row(1) + "\n")
        cfg = self.config("""
sinks:
  out: {plugin: jsonl, path: out/p.jsonl}
datasets:
  - name: plain
    target: {level: project, id: p1}
    source: {plugin: csvfile, path: %s}
    sinks: [out]
    schedule: daily
""" % pslib.yaml_str(csv))
        for _ in range(2):
            res = self.run_at("2024-03-05T10:00:00Z", "run", cfg, "--due")
            self.assertEqual(res.rc, 0, res)
            self.assertIn("no sqlite sink remembers", res.err)
            self.assertIn("plain: ok", res.out)

    def test_failed_run_stays_due_and_status_shows_error(self):
        cfg = self.config("""
sinks:
  state: {plugin: sqlite, path: var/state.db}
datasets:
  - name: broken
    target: {level: project, id: p1}
    source: {plugin: csvfile, path: missing.csv}
    sinks: [state]
    schedule: {daily: {at: "02:00"}}
""")
        res = self.run_at("2024-03-05T03:00:00Z", "run", cfg, "--due")
        self.assertEqual(res.rc, 1, res)
        self.assertEqual([r[:2] for r in self.runs()], [("broken", "failed")])
        res = self.run_at("2024-03-05T03:10:00Z", "run", cfg, "--due")
        self.assertEqual(res.rc, 1, res)  # no successful run yet: still due
        self.assertEqual(len(self.runs()), 2)
        res = self.run_at("2024-03-05T03:20:00Z", "status", cfg, "--json")
        self.assertEqual(res.rc, 0, res)
        st = json.loads(res.out)["datasets"][0]
        self.assertEqual(st["last_run"]["outcome"], "failed")
        self.assertIn("missing.csv", st["last_run"]["error"])
        self.assertIsNone(st["last_ok_started"])
        self.assertTrue(st["due"])
        res = self.run_at("2024-03-05T03:20:00Z", "status", cfg)
        self.assertIn("  error:     ", res.out)
        self.assertIn("  last ok:   never", res.out)

    def test_invalid_schedule_is_a_config_error(self):
        csv = self.write("in.csv", HEADER + "\n" + row(1) + "\n")
        cfg = self.config("""
sinks:
  state: {plugin: sqlite, path: var/state.db}
datasets:
  - name: typo
    target: {level: project, id: p1}
    source: {plugin: csvfile, path: %s}
    sinks: [state]
    schedule: dayly
""" % pslib.yaml_str(csv))
        for args in (["run", cfg, "--due"], ["status", cfg], ["daemon", cfg]):
            res = pslib.run(*args, timeout=30)
            self.assertEqual(res.rc, 2, res)
            self.assertIn("paysync.yaml:10:15: datasets[typo].schedule: unknown schedule 'dayly' "
                          "(did you mean 'daily'?)", res.err)

    # ---- status -----------------------------------------------------------------------

    def test_status_text_and_json(self):
        cfg = self.sched_config()
        res = self.run_at("2024-03-05T10:00:00Z", "status", cfg)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("d_daily\n  schedule:  daily at 02:00 UTC\n", res.out)
        self.assertIn("(not created yet)", res.out)
        self.assertIn("  last run:  never\n", res.out)
        self.assertIn("  next due:  2024-03-05T10:00:00.000Z (now) - never ran successfully",
                      res.out)
        self.assertIn("d_none\n  schedule:  none (runs only when asked)", res.out)
        self.assertIn("  next due:  not scheduled", res.out)

        self.assertEqual(self.run_at("2024-03-05T10:00:00Z", "run", cfg).rc, 0)
        res = self.run_at("2024-03-05T12:00:00Z", "status", cfg, "--json")
        self.assertEqual(res.rc, 0, res)
        doc = json.loads(res.out)
        self.assertEqual(doc["now"], "2024-03-05T12:00:00.000Z")
        by = {d["name"]: d for d in doc["datasets"]}
        self.assertEqual(list(by), ["d_daily", "d_every", "d_none", "d_cron"])
        d = by["d_daily"]
        self.assertEqual(d["schedule"], "daily at 02:00 UTC")
        self.assertEqual(d["payments"], 3)
        self.assertEqual(d["last_run"]["outcome"], "ok")
        self.assertEqual(d["last_run"]["started"], "2024-03-05T10:00:00.000Z")
        self.assertEqual(d["last_run"]["counts"]["read"], 3)
        self.assertEqual(d["last_run"]["counts"]["accepted"], 3)
        self.assertEqual(d["last_run"]["changes"],
                         {"new": 3, "changed": 0, "unchanged": 0, "vanished": 0})
        self.assertIsNone(d["last_run"]["error"])
        self.assertEqual(d["next_due"], "2024-03-06T02:00:00.000Z")
        self.assertFalse(d["due"])
        self.assertEqual(by["d_every"]["next_due"], "2024-03-05T16:00:00.000Z")
        self.assertEqual(by["d_cron"]["next_due"], "2024-03-05T10:30:00.000Z")
        self.assertTrue(by["d_cron"]["due"])
        self.assertIsNone(by["d_none"]["schedule"])
        self.assertIsNone(by["d_none"]["next_due"])

        res = self.run_at("2024-03-05T12:00:00Z", "status", cfg, "--dataset", "d_every")
        self.assertEqual(res.rc, 0, res)
        self.assertIn("  next due:  2024-03-05T16:00:00.000Z (in 4h)", res.out)
        self.assertIn("  counts:    read 3, accepted 3, rejected 0, blank 0, duplicates 0", res.out)
        self.assertIn("  changes:   new 3, changed 0, unchanged 0, vanished 0", res.out)
        self.assertNotIn("d_daily", res.out)
        res = self.run_at("2024-03-05T12:00:00Z", "status", cfg, "--dataset", "d_evry")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("unknown dataset 'd_evry'", res.err)

    def test_status_unreadable_store(self):
        cfg = self.sched_config()
        self.write("var/state.db", "this is not a database\n" * 100)
        res = pslib.run("status", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assertIn("cannot be read", res.out)

    # ---- export -------------------------------------------------------------------------

    def export_config(self, csv):
        return self.config("""
sinks:
  state: {plugin: sqlite, path: var/state.db}
  csvout: {plugin: csv, path: out/sink.csv}
  jsonout: {plugin: jsonl, path: "out/sink-{dataset}.jsonl"}
datasets:
  - name: site
    target: {level: project, id: p1}
    source: {plugin: csvfile, path: %s}
    sinks: [state, csvout, jsonout]
  - name: nostore
    target: {level: project, id: p1}
    source: {plugin: csvfile, path: %s}
    sinks: [jsonout]
""" % (pslib.yaml_str(csv), pslib.yaml_str(csv)))

    def test_export_matches_sinks_and_filters(self):
        rows = [row(i, day="%02d" % (1 + i % 5)) for i in range(1, 13)]
        csv = self.write("in.csv", HEADER + "\n" + "\n".join(rows) + "\n")
        cfg = self.export_config(csv)
        res = pslib.run("run", cfg, "--dataset", "site")
        self.assertEqual(res.rc, 0, res)

        res = pslib.run("export", cfg, "--dataset", "site", "--format", "csv")
        self.assertEqual(res.rc, 0, res)
        lines = res.out.split("\r\n")
        self.assertEqual(lines[0], ",".join(FIELDS))  # the 21 columns in the spec's order
        self.assertEqual(lines[-1], "")
        with open(self.path("out", "sink.csv"), newline="") as f:
            sink_lines = f.read().split("\r\n")
        self.assertEqual(sorted(lines[1:-1]), sorted(sink_lines[1:-1]))  # same bytes per row
        self.assertIn('"Bello, Amina ""3"""', res.out)
        stamps = [json.loads(x)["TIMESTAMP"] for x in
                  pslib.run("export", cfg, "--dataset", "site", "--format", "jsonl").out.splitlines()]
        self.assertEqual(stamps, sorted(stamps))  # ordered by time

        res = pslib.run("export", cfg, "--dataset", "site", "--format", "jsonl")
        self.assertEqual(res.rc, 0, res)
        with open(self.path("out", "sink-site.jsonl")) as f:  # one file per dataset
            sink = sorted(f.read().splitlines())
        self.assertEqual(sorted(res.out.splitlines()), sink)  # same keys, numbers and order

        recs = [json.loads(x) for x in sink]
        want = sorted(r["ID"] for r in recs
                      if "2024-03-02T00:00:00.000Z" <= r["TIMESTAMP"] <= "2024-03-03T23:59:59.999Z")
        res = pslib.run("export", cfg, "--dataset", "site", "--format", "jsonl",
                        "--from", "2024-03-02", "--to", "2024-03-03")  # --to date = whole day
        self.assertEqual(res.rc, 0, res)
        got = sorted(json.loads(x)["ID"] for x in res.out.splitlines())
        self.assertEqual(got, want)
        self.assertTrue(want)
        res = pslib.run("export", cfg, "--dataset", "site", "--format", "csv",
                        "--from", "2024-03-03T05:00:00+01:00", "--to", "2024-03-03T04:00:00Z")
        self.assertEqual(res.rc, 0, res)
        got = [l.split(",")[0] for l in res.out.split("\r\n")[1:-1]]
        want = [r["ID"] for r in recs if r["TIMESTAMP"] == "2024-03-03T04:00:00.000Z"]
        self.assertEqual(got, want)

        out = self.path("out", "export.csv")
        res = pslib.run("export", cfg, "--dataset", "site", "--format", "csv", "--output", out)
        self.assertEqual(res.rc, 0, res)
        self.assertEqual(res.out, "")
        self.assertIn("wrote 12 payment(s) of 'site'", res.err)
        with open(out, newline="") as f:
            self.assertEqual(len(f.read().split("\r\n")), 14)

    def test_export_vanished_left_out_unless_asked(self):
        rows = [row(i) for i in range(1, 4)]
        csv = self.write("in.csv", HEADER + "\n" + "\n".join(rows) + "\n")
        cfg = self.export_config(csv)
        self.assertEqual(pslib.run("run", cfg, "--dataset", "site").rc, 0)
        self.write("in.csv", HEADER + "\n" + "\n".join(rows[:2]) + "\n")  # P003 vanishes
        self.assertEqual(pslib.run("run", cfg, "--dataset", "site", "--allow-vanish").rc, 0)
        res = pslib.run("export", cfg, "--dataset", "site", "--format", "jsonl")
        self.assertEqual(sorted(json.loads(x)["ID"] for x in res.out.splitlines()),
                         ["P001", "P002"])
        res = pslib.run("export", cfg, "--dataset", "site", "--format", "jsonl",
                        "--include-vanished")
        self.assertEqual(sorted(json.loads(x)["ID"] for x in res.out.splitlines()),
                         ["P001", "P002", "P003"])

    def test_export_errors(self):
        csv = self.write("in.csv", HEADER + "\n" + row(1) + "\n")
        cfg = self.export_config(csv)
        cases = [
            (["--format", "csv"], 2, "--dataset NAME is required"),
            (["--dataset", "site"], 2, "--format csv|jsonl is required"),
            (["--dataset", "site", "--format", "xml"], 2, "--format 'xml' is not supported"),
            (["--dataset", "sit", "--format", "csv"], 2,
             "unknown dataset 'sit' (did you mean 'site'?)"),
            (["--dataset", "site", "--format", "csv", "--bogus"], 2, "usage: paysync export"),
            (["--dataset", "site", "--format", "csv", "--from", "2024-02-30"], 2,
             "--from '2024-02-30': no such date or time"),
            (["--dataset", "site", "--format", "csv", "--to", "yesterday"], 2,
             "--to 'yesterday': not a time"),
            (["--dataset", "nostore", "--format", "csv"], 2,
             "dataset 'nostore' has no sqlite sink"),
            (["--dataset", "site", "--format", "csv"], 1, "does not exist"),  # never ran
        ]
        for args, rc, msg in cases:
            res = pslib.run("export", cfg, *args)
            self.assertEqual(res.rc, rc, res)
            self.assertIn(msg, res.err, res)
        self.assertEqual(pslib.run("run", cfg, "--dataset", "site").rc, 0)
        res = pslib.run("export", cfg, "--dataset", "site", "--format", "csv", "--output",
                        self.path("no", "such", "dir", "x.csv"))
        self.assertEqual(res.rc, 1, res)
        self.assertIn("cannot create", res.err)


if __name__ == "__main__":
    pslib.main()
