"""Typed plugin options and serve settings through the real binary: bounds, enums, durations
and sizes are checked by the core's one option engine (exit 2, file:line:column, the instance,
the option, the value and what is allowed), and `paysync plugins` shows them."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402
from test_run_csv import HEADER, good_row  # noqa: E402

CSV = HEADER + "\n" + good_row(1) + "\n"


class Options(pslib.Case):
    def cfg(self, source_opts="", sink_opts="", serve=""):
        csv = self.write("in.csv", CSV)
        return self.config(f"""
sinks:
  store: {{plugin: sqlite, path: out/p.db{sink_opts}}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}{source_opts}}}
    sinks: [store]
{serve}""")

    def test_bad_plugin_options_exit_2(self):
        cases = [
            (", header_row: 0", "", "paysync.yaml:8:", "dataset 'ds1' source",
             "option 'header_row' must be a whole number of at least 1, got '0'"),
            (", max_field_bytes: 65MiB", "", "paysync.yaml:8:", "",
             "option 'max_field_bytes' must be a size from 1B to 64MiB (bytes, or with a unit: "
             "64KiB or 64k = 64x1024, 10MB = 10x1000000), got '65MiB'"),
            ("", ", busy_timeout_ms: 2h", "paysync.yaml:4:", "sink 'store'",
             "option 'busy_timeout_ms' must be a duration from 0s to 1h (units ms, s, m, h, d, "
             "e.g. 500ms, 90s, 1h30m; a plain number means milliseconds), got '2h'"),
            ("", ", busy_timeout_ms: 5x", "paysync.yaml:4:", "sink 'store'",
             "got '5x' (unknown unit: use ms, s, m, h or d"),
        ]
        for src, sink, where, inst, msg in cases:
            cfg = self.cfg(src, sink)
            for cmd in ("check", "run"):
                res = pslib.run(cmd, cfg, timeout=60)
                self.assertEqual(res.rc, 2, res)
                self.assertIn_(msg, res.err, res)
                self.assertIn_(where, res.err, res)
                self.assertIn_(inst, res.err, res)
            self.assertFalse(os.path.exists(self.path("out", "p.db")))

    def test_duration_and_size_forms_accepted(self):
        for src, sink in ((", max_field_bytes: 64KiB", ", busy_timeout_ms: 5000"),
                          (", max_field_bytes: 1M", ", busy_timeout_ms: 2s"),
                          (", max_field_bytes: 100000", ", busy_timeout_ms: 250ms")):
            res = pslib.run("run", self.cfg(src, sink), timeout=60)
            self.assertEqual(res.rc, 0, res)

    def test_bad_serve_setting_exit_2(self):
        serve = ("serve:\n  store: store\n  keys:\n    - {name: p, key_sha256: " + "0" * 64 +
                 ", datasets: [\"*\"]}\n  shutdown_timeout: 11m\n")
        res = pslib.run("serve", self.cfg(serve=serve), "--listen", "127.0.0.1:0", timeout=30)
        self.assertEqual(res.rc, 2, res)
        self.assertIn_("paysync.yaml:14:3: serve: setting 'shutdown_timeout' must be a duration "
                       "from 0s to 10m (units ms, s, m, h, d, e.g. 500ms, 90s, 1h30m; a plain "
                       "number means seconds), got '11m'", res.err, res)

    def test_plugins_lists_types_and_bounds(self):
        env = dict(os.environ, PAYSYNC_PLUGIN_PATH=pslib.PLUGIN_DIR)
        res = pslib.run("plugins", env=env)
        self.assertEqual(res.rc, 0, res)
        self.assertRegex(res.out, r"max_field_bytes +size +optional, default 64MiB, range "
                                  r"1B\.\.64MiB")
        self.assertRegex(res.out, r"busy_timeout_ms +duration +optional, default 5s, range "
                                  r"0s\.\.1h")
        self.assertRegex(res.out, r"page_rows +int +optional, default 5000, range 1\.\.50000")
        res = pslib.run("plugins", "--json", env=env)
        self.assertEqual(res.rc, 0, res)
        opts = {p["name"]: {o["name"]: o for o in p["options"]} for p in json.loads(res.out)
                if "options" in p}
        t = opts["gsheet"]["timeout"]
        self.assertEqual((t["type"], t["default"], t["min"], t["max"]),
                         ("duration", "120s", 1000, 3600000))
        self.assertIn("a plain number means seconds", t["accepts"])
        self.assertNotIn("min", opts["gsheet"]["api_key"])


if __name__ == "__main__":
    pslib.main()
