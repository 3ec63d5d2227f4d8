"""gsheet prefetch (docs/providers/gsheet.md, "The next page is fetched while the current one is
processed"), against the emulator: the same rows, counts, store and requests with and without
it; a fault in the page after the current one fails the run with the message of a run without
prefetch and commits nothing; a run failed by its source or by a sink while the next page's
request is stalled in flight ends without waiting for it (the request is cancelled and the
fetch thread joined: no hang; scripts/test-valgrind.sh and the sanitizer build check the
leaks and the threads)."""
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_gsheet_run import HEADER, Emulator, GsheetCase, payment  # noqa: E402
from test_sink_faults import MOUNT, mount_tmpfs  # noqa: E402

# a stalled answer lasts this long; a run that waited for it would outlive RUN_LIMIT
STALL_S = 900
RUN_LIMIT_S = 120

COUNTS = ("read", "accepted", "rejected", "blank", "duplicates", "filtered")
RUN_COLUMNS = {"first_seen_run", "last_seen_run", "vanished_run", "run_id", "valid_from",
               "valid_to", "version", "pending"}


class Prefetch(GsheetCase):
    def source(self, prefetch, **kw):
        s = {"spreadsheet_id": "generated", "api_key": "k", "api_url": self.emu.url,
             "requests_per_minute": 6000, "page_rows": 200, "max_retries": 1, "timeout": 600,
             "prefetch": prefetch}
        s.update(kw)
        return s

    def cfg(self, prefetch, sinks="out, store", **kw):
        return self.gsheet_config(self.source(prefetch, **kw), sinks=sinks,
                                  name="p%d.yaml" % prefetch)

    def values_log(self):
        return [p for k, p in self.emu.stats()["log"] if k == "values"]

    def store(self):
        db = sqlite3.connect(self.path("out", "store.db"))
        try:
            cols = [r[1] for r in db.execute("PRAGMA table_info(payments)")
                    if r[1] not in RUN_COLUMNS]
            return db.execute("SELECT %s FROM payments ORDER BY 1, 2" % ", ".join(cols)).fetchall()
        finally:
            db.close()

    def run_limited(self, cfg):
        """A run that must end long before a stalled answer would (STALL_S)."""
        return pslib.run("run", cfg, "--report", self.path("report.json"),
                         env={"PS_TEST_FAKE_SLEEP": "1"}, timeout=RUN_LIMIT_S)

    def test_same_rows_counts_store_and_requests(self):
        self.emu = Emulator(self.dir, "--generate", "2500")
        results = {}
        for prefetch in (False, True):
            self.emu.reset()
            if os.path.exists(self.path("out")):
                for f in os.listdir(self.path("out")):
                    os.unlink(self.path("out", f))
            res = self.run_paysync(self.cfg(prefetch))
            self.assertEqual(res.rc, 0, res)
            rep = self.report()
            results[prefetch] = (self.output(), {k: rep[k] for k in COUNTS}, self.store(),
                                 self.values_log())
        off, on = results[False], results[True]
        self.assertEqual(off[1]["accepted"], 2500, off[1])
        self.assertEqual(on[0], off[0], "JSONL output differs with prefetch")
        self.assertEqual(on[1], off[1])
        self.assertEqual(on[2], off[2], "store differs with prefetch")
        # the same requests in the same order: first page, header row (formatted), 2..13
        self.assertEqual(on[3], off[3])
        self.assertEqual(len(on[3]), 14, on[3])
        self.assertIn("%21A2401%3AU2501?", on[3][-1])

    def fault_case(self, fault, message):
        """The fault hits the third values request: page 2 (rows 201-400), fetched while page
        1 is processed. With and without prefetch: the same message, nothing committed."""
        self.emu = Emulator(self.dir, "--generate", "1000")
        res = self.run_paysync(self.cfg(True))
        self.assertEqual(res.rc, 0, res)
        before, store_before = self.output(), self.store()
        errors = {}
        for prefetch in (False, True):
            self.emu.reset()
            self.emu.faults([dict(fault, when="values", skip=2)])
            res = self.run_paysync(self.cfg(prefetch))
            self.assertEqual(res.rc, 1, res)
            self.assertIn(message, res.err, res)
            errors[prefetch] = self.report()["error"]
            self.assertEqual(self.output(), before, "output changed by a failed run")
            self.assertEqual(self.store(), store_before, "store changed by a failed run")
        self.assertEqual(errors[True], errors[False])

    def test_fault_never_retried_in_the_next_page(self):
        self.fault_case({"kind": "403api", "count": -1},
                        "enable the Google Sheets API in project 123456789012")

    def test_fault_retried_out_in_the_next_page(self):
        self.fault_case({"kind": "500", "count": -1}, "HTTP 500")

    def test_token_renewed_on_the_fetch_thread(self):
        # a 401 on page 3 (fetched ahead): the service account's token is renewed there and
        # the page asked again; the run equals one without prefetch
        key, pub = self.make_service_account()
        outputs = {}
        for prefetch in (False, True):
            if self.emu:
                self.emu.stop()
            self.emu = Emulator(self.dir, "--generate", "1000", "--public-key", pub,
                                "--fault", "values:401:1:3")
            src = self.source(prefetch, service_account_json=self.key_json(
                key, self.emu.url + "/token"))
            del src["api_key"]
            res = self.run_paysync(self.gsheet_config(src, name="sa%d.yaml" % prefetch))
            self.assertEqual(res.rc, 0, res)
            self.assertIn("access token rejected (401); getting a new one", res.err)
            counts = self.emu.stats()["counts"]
            self.assertEqual(counts.get("token"), 2, counts)
            self.assertEqual(counts.get("fault:401"), 1, counts)
            outputs[prefetch] = self.output()
        self.assertEqual(outputs[True], outputs[False])
        self.assertEqual(len(outputs[True].splitlines()), 1000)

    def test_source_fails_while_next_page_stalls(self):
        # page 2 (rows 101-200) holds a cell Google never sends (a list): the run fails there
        # while page 3 is being fetched, and that answer stalls
        rows = [HEADER] + [payment(i) for i in range(1, 300)]
        rows[150][7] = ["not", "a", "cell"]
        sheet = {"spreadsheetId": "S1", "title": "Big", "timeZone": "Africa/Lagos",
                 "locale": "en_GB", "link_readable": True, "shared_with": ["*"],
                 "tabs": [{"title": "Pay", "sheetId": 7, "rowCount": 300, "columnCount": 10,
                           "rows": rows}]}
        self.write("big.json", json.dumps(sheet))
        self.emu = Emulator(self.dir, "--sheet", self.path("big.json"), "--stall-seconds",
                            STALL_S)
        msg = "row 151, column 8: Google sent a cell that is not text, a number or a boolean"
        for prefetch in (False, True):
            # With prefetch, page 3's request is sent while page 2 is read; on a loaded machine
            # the run may fail on page 2 before the fetch thread sends it (cancelled before the
            # attempt: nothing stalls). Every attempt must end well before the stall would; up
            # to five are made until one fails with page 3's request stalled in flight.
            for attempt in range(5 if prefetch else 1):
                self.emu.reset()
                self.emu.faults([{"when": "values", "kind": "stall", "skip": 3, "count": -1}])
                res = self.run_limited(self.cfg(prefetch, spreadsheet_id="S1", page_rows=100))
                self.assertEqual(res.rc, 1, res)
                self.assertIn(msg, res.err, res)
                self.assertIsNone(self.output())
                stalled = self.emu.stats()["counts"].get("fault:stall", 0)
                self.assertLessEqual(stalled, 1, (prefetch, self.values_log()))
                if stalled:
                    break
            # without prefetch page 3 is never asked for; with it, its request was in flight
            self.assertEqual(stalled, 1 if prefetch else 0, (prefetch, self.values_log()))

    def test_sink_fails_while_next_page_stalls(self):
        if not MOUNT:
            self.skipTest("needs root and tmpfs mounts to make a small file system")
        self.emu = Emulator(self.dir, "--generate", "30000", "--stall-seconds", STALL_S)
        out = self.path("out")
        os.makedirs(out, exist_ok=True)
        mount_tmpfs(out, "size=64k")
        try:
            # page 1 is 19,999 payments (about 5 MB of JSONL): the sink runs out of room in
            # it, while page 2's answer stalls
            self.emu.faults([{"when": "values", "kind": "stall", "skip": 2, "count": -1}])
            res = self.run_limited(self.cfg(True, sinks="out", page_rows=20000))
            self.assertEqual(res.rc, 1, res)
            self.assertIn("No space left on device", res.err, res)
            self.assertEqual(self.emu.stats()["counts"].get("fault:stall"), 1)
            self.assertFalse(os.path.exists(self.path("out", "payments.jsonl")))
        finally:
            subprocess.run(["umount", "-l", out], capture_output=True)


if __name__ == "__main__":
    pslib.main()
