"""paysync test-plugin (the conformance kit): every in-tree plugin passes it, with a config
where the plugin needs options (csvfile on the sample export, gsheet against the local Sheets
emulator); deliberately broken plugins fail the right check with a message that says what is
wrong, and a crash or a hang fails a check instead of the kit."""
import json
import os
import re
import sys

import pslib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_gsheet_run as gs  # noqa: E402  (the emulator helper and its fixture sheet)


def plugin(name):
    """The in-tree plugin's .so, or its name when it is built into the core."""
    so = os.path.join(pslib.PLUGIN_DIR, name + ".so")
    return so if os.path.exists(so) else name


def test_plugin_file(name):
    return os.path.join(pslib.TEST_PLUGIN_DIR, name + ".so")


def checks(out):
    """{check: (result, detail)} from the kit's table."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^  (\S.*?)\s{2,}(pass|FAIL|skip)\s+(.*)$", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    return rows


class Kit(pslib.Case):
    def kit(self, *args, **kw):
        return pslib.run("test-plugin", *args, **kw)

    def assert_all_pass(self, res, expect_checks, allowed_skips=()):
        self.assertEqual(res.rc, 0, res)
        rows = checks(res.out)
        for c in expect_checks:
            self.assertIn(c, rows, res)
        for c, (result, detail) in rows.items():
            if c in allowed_skips:
                self.assertIn(result, ("pass", "skip"), res)
            elif c == "arena use only" and result == "skip":
                # sanitizer builds report no heap use; a small source has too few batches
                self.assertRegex(detail, r"does not report heap use|too few to see", res)
            else:
                self.assertEqual(result, "pass", "%s: %s\n%r" % (c, detail, res))
        m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", res.out, re.M)
        self.assertIsNotNone(m, res)
        self.assertEqual(m.group(2), "0", res)
        return rows

    # ---- in-tree plugins ------------------------------------------------------------------

    def test_sinks_pass(self):
        for name in ("jsonl", "csv", "null", "sqlite"):
            with self.subTest(sink=name):
                res = self.kit(plugin(name))
                self.assert_all_pass(res, ["load", "options", "create/destroy",
                                           "abort leaves nothing", "commit repeatable"])

    def test_stub_passes(self):
        res = self.kit(plugin("stub"))
        rows = self.assert_all_pass(res, ["read contract", "two reads identical",
                                          "arena use only"],
                                    allowed_skips=("cursor round trip", "missing source"))
        self.assertRegex(rows["read contract"][1], r"^\d+ rows in \d+ batches")

    def test_after_store_sink_reads_a_temporary_store(self):
        # tests/plugins/store_reader (PS_SINK_AFTER_STORE) fails its commit unless the store
        # it reads holds exactly the records written to it, in store order: the kit commits
        # them to a temporary store first (docs/plugin-abi.md, "paysync test-plugin")
        res = self.kit(test_plugin_file("store_reader"))
        rows = self.assert_all_pass(res, ["abort leaves nothing", "commit repeatable"])
        self.assertEqual(rows["commit repeatable"][1],
                         "25 records committed twice: same 0 files", res)
        # two commits (two fresh instances), each over its own store of the 25 payments
        self.assertEqual(res.err.count("read 25 stored payments (kit-001 .. kit-025)"), 2, res)

    def test_record_shaped_stub_passes(self):
        # tests/plugins/stub_records: the stub's payments as keyed records (record shape)
        res = self.kit(test_plugin_file("stub_records"))
        rows = self.assert_all_pass(res, ["read contract", "two reads identical"],
                                    allowed_skips=("cursor round trip", "missing source"))
        self.assertRegex(rows["read contract"][1], r"^1000 rows in \d+ batches")

    def test_csvfile_passes_with_the_sample_config(self):
        cfg = os.path.join(pslib.SOURCE_DIR, "config", "example.yaml")
        res = self.kit(plugin("csvfile"), "--config", cfg, "--dataset", "01_2024_Kuje")
        rows = self.assert_all_pass(res, ["read contract", "two reads identical",
                                          "missing source"],
                                    allowed_skips=("cursor round trip",))
        self.assertIn("rows in", rows["read contract"][1])
        self.assertIn("/nonexistent/paysync-kit/missing-source", rows["missing source"][1])

    def test_csvfile_without_options_skips_and_says_how(self):
        res = self.kit(plugin("csvfile"))
        self.assertEqual(res.rc, 0, res)
        rows = checks(res.out)
        self.assertEqual(rows["read contract"][0], "skip", res)
        self.assertIn("missing required option 'path'", rows["options"][1])
        self.assertIn("--config", rows["options"][1])

    def test_gsheet_passes_against_the_emulator(self):
        sheet = self.write("sheet.json", json.dumps(gs.fixture_sheet()))
        emu = gs.Emulator(self.dir, "--sheet", sheet, "--api-key", gs.API_KEY)
        try:
            cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
datasets:
  - name: sheet1
    target: {{level: project, id: site-1}}
    source: {{plugin: gsheet, spreadsheet_id: "1SheetID_abc-XYZ", sheet: {json.dumps(gs.TAB)},
              api_key: {json.dumps(gs.API_KEY)}, api_url: {json.dumps(emu.url)},
              requests_per_minute: 6000, max_retries: 1, timeout: 5, page_rows: 4}}
    sinks: [out]
""")
            res = self.kit(plugin("gsheet"), "--config", cfg, "--dataset", "sheet1")
        finally:
            emu.stop()
        rows = self.assert_all_pass(res, ["read contract", "two reads identical",
                                          "missing source"],
                                    allowed_skips=("cursor round trip",))
        self.assertNotIn(gs.API_KEY, res.out + res.err)
        self.assertIn("rows in", rows["read contract"][1])

    # ---- broken plugins -------------------------------------------------------------------

    def test_rows_on_the_heap_fail_arena_use(self):
        res = self.kit(test_plugin_file("heap_rows_provider"), "--timeout", "30")
        rows = checks(res.out)
        self.assertEqual(rows["read contract"][0], "pass", res)  # the rows are valid
        result, detail = rows["arena use only"]
        if result == "skip":  # ASan/valgrind builds: the allocator reports no heap use
            self.assertIn("does not report heap use", detail)
            self.assertEqual(res.rc, 0, res)
        else:
            self.assertEqual(result, "FAIL", res)
            self.assertRegex(detail, r"^the heap grew by \d+ MiB over 100 batches \(100 rows\)")
            self.assertEqual(res.rc, 1, res)

    def test_crash_fails_the_check_not_the_kit(self):
        res = self.kit(test_plugin_file("crasher"), "--timeout", "20")
        self.assertEqual(res.rc, 1, res)
        rows = checks(res.out)
        self.assertEqual(rows["read contract"][0], "FAIL", res)
        self.assertIn("crashed with signal 6", rows["read contract"][1])
        self.assertEqual(rows["create/destroy"][0], "pass", res)
        self.assertRegex(res.out, r"(?m)^\d+ passed, [1-9]\d* failed, \d+ skipped$")

    def test_broken_providers_fail_the_read_contract(self):
        # the host's own protocol guards refuse these too (test_protocol_guards.py)
        res = self.kit(test_plugin_file("zero_rows_provider"), "--timeout", "20")
        self.assertEqual(res.rc, 1, res)
        rows = checks(res.out)
        self.assertEqual(rows["read contract"][0], "FAIL", res)
        self.assertIn("PS_OK with no rows", rows["read contract"][1])
        res = self.kit(test_plugin_file("null_cell_provider"), "--timeout", "20")
        self.assertEqual(res.rc, 1, res)
        rows = checks(res.out)
        self.assertEqual(rows["read contract"][0], "FAIL", res)
        self.assertIn("row 2 cell 3: text is NULL", rows["read contract"][1])

    def wrong_flags_fail(self, brk, message):
        cfg = self.config("""
sinks:
  out: {plugin: jsonl, path: out/payments.jsonl}
datasets:
  - name: ds1
    target: {level: project, id: site-1}
    source: {plugin: null_cell_provider, break: %s}
    sinks: [out]
""" % brk)
        res = self.kit(test_plugin_file("null_cell_provider"), "--config", cfg,
                       "--dataset", "ds1", "--timeout", "20")
        self.assertEqual(res.rc, 1, res)
        rows = checks(res.out)
        self.assertEqual(rows["read contract"][0], "FAIL", res)
        self.assertIn(message, rows["read contract"][1])

    def test_wrong_row_flags_fail_the_read_contract(self):
        # the core takes a row's PS_ROWF_PLAIN on trust (ABI 2.5: the jsonl sink then copies
        # the values unescaped), so the kit checks every flagged row against its cells
        self.wrong_flags_fail("flags",
                              "row 2 cell 8: row_flags says PS_ROWF_PLAIN but byte 4 is 0x22")

    def test_wrong_ascii_flag_fails_the_read_contract(self):
        # PS_ROWF_ASCII with NO_NUL (ABI 2.6) makes validation skip its UTF-8 check: the kit
        # refuses a row flagged so whose cell holds a byte above 0x7f
        self.wrong_flags_fail("ascii",
                              "row 2 cell 8: row_flags says PS_ROWF_ASCII but byte 2 is 0xc3")

    def test_hang_fails_within_the_time_limit(self):
        # slowpoke sleeps before every batch: with a 1 s limit the read check times out.
        res = self.kit(test_plugin_file("slowpoke"), "--timeout", "1")
        rows = checks(res.out)
        self.assertEqual(res.rc, 1, res)
        self.assertEqual(rows["read contract"][0], "FAIL", res)
        self.assertIn("did not finish within 1 s", rows["read contract"][1])

    def test_unloadable_plugin_exits_2(self):
        res = self.kit(test_plugin_file("bad_abi_major"))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("load: FAIL", res.out)
        self.assertIn("bad_abi_major.so", res.out)
        res = self.kit(self.path("nothing-here.so"))
        self.assertEqual(res.rc, 2, res)
        self.assertIn("cannot stat", res.out)

    def test_usage_errors(self):
        res = self.kit(plugin("stub"), "--dataset", "x")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("--dataset and --sink need --config", res.err)
        res = self.kit(plugin("stub"), "--timeout", "0")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("--timeout takes seconds", res.err)
        cfg = os.path.join(pslib.SOURCE_DIR, "config", "example.yaml")
        res = self.kit(plugin("stub"), "--config", cfg, "--dataset", "01_2024_Kuje")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("reads with plugin 'csvfile', not 'stub'", res.err)
        res = self.kit(plugin("jsonl"), "--config", cfg, "--sink", "nope")
        self.assertEqual(res.rc, 2, res)
        self.assertIn("has no sink 'nope'", res.err)


if __name__ == "__main__":
    pslib.main()
