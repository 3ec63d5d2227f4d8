"""CLI commands other than run: help, version, config errors, plugins, check, validate,
discover, and the example config."""
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

# The real executable (PAYSYNC may be a valgrind wrapper script).
BINARY = (os.path.join(os.environ["PS_BUILD_DIR"], "paysync") if os.environ.get("PS_BUILD_DIR")
          else pslib.PAYSYNC)

HEADER = "ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,CUSTOMER_CATEGORY"
ROW = "P1,2024-03-05T14:16:01Z,1500.50,NGN,FULL_PAYMENT,C1,M1,Amina,Residential"


class Cli(pslib.Case):
    def good_config(self, csv):
        return self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/p.jsonl}}
datasets:
  - name: ds1
    target: {{level: program, id: prog-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}
    sinks: [out]
""")

    def test_version_and_help(self):
        r = pslib.run("--version")
        self.assertEqual(r.rc, 0, r)
        self.assertRegex(r.out, r"^paysync \d+\.\d+\.\d+ \(plugin ABI 2\.\d+\)")
        r = pslib.run("--help")
        self.assertEqual(r.rc, 0, r)
        for cmd in ("run", "check", "plugins", "validate", "discover", "exit codes"):
            self.assertIn(cmd, r.out)
        for cmd in ("run", "check", "plugins", "validate", "discover"):
            r = pslib.run(cmd, "--help")
            self.assertEqual(r.rc, 0, (cmd, r))
            self.assertIn("usage: paysync " + cmd, r.out)
        r = pslib.run("frobnicate")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("unknown command 'frobnicate'", r.err)
        r = pslib.run("run")
        self.assertEqual(r.rc, 2, r)
        self.assertIn("usage: paysync run", r.err)
        r = pslib.run("--log-format", "xml", "run", "x")
        self.assertEqual(r.rc, 2, r)

    def test_config_errors_name_location_and_suggest(self):
        csv = self.write("in.csv", HEADER + "\n" + ROW + "\n")
        cases = [
            # (yaml body, expected fragments)
            ("sinks:\n  out: {plugin: jsonl, pth: x.jsonl}\ndatasets: []\n",
             ["paysync.yaml:3:", "unknown option 'pth'", "did you mean 'path'"]),
            (f"sinks:\n  out: {{plugin: jsonl, path: x.jsonl}}\ndatasets:\n  - name: a\n    targt: {{level: project, id: s}}\n    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}\n    sinks: [out]\n",
             ["paysync.yaml:6:5", "targt", "did you mean 'target'"]),
            (f"sinks:\n  out: {{plugin: jsonl, path: x.jsonl}}\ndatasets:\n  - name: a\n    target: {{level: project, id: s}}\n    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}\n    sinks: [outt]\n",
             ["outt"]),
            (f"sinks:\n  out: {{plugin: jsonl, path: x.jsonl}}\ndatasets:\n  - name: a\n    target: {{level: project, id: s}}\n    source: {{plugin: nosuch, path: x}}\n    sinks: [out]\n",
             ["nosuch", "not found"]),
            (f"sinks:\n  out: {{plugin: jsonl}}\ndatasets:\n  - name: a\n    target: {{level: project, id: s}}\n    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}\n    sinks: [out]\n",
             ["path", "required"]),
            (f"sinks:\n  out: {{plugin: jsonl, path: x}}\ndatasets:\n  - name: a\n    target: {{level: project, id: s}}\n    source: {{plugin: csvfile, path: \"${{PAYSYNC_TEST_UNSET_VAR}}\"}}\n    sinks: [out]\n",
             ["PAYSYNC_TEST_UNSET_VAR"]),
            ("sinks: [\n", ["paysync.yaml:"]),
        ]
        for body, frags in cases:
            cfg = self.config(body)
            r = pslib.run("run", cfg)
            self.assertEqual(r.rc, 2, (body, r))
            for frag in frags:
                self.assertIn(frag, r.err, (body, r))
            self.assertFalse(os.path.exists(self.path("x.jsonl")))

    def test_env_substitution(self):
        csv = self.write("in.csv", HEADER + "\n" + ROW + "\n")
        cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: "${{PS_IT_OUT}}/p.jsonl"}}
datasets:
  - name: ds1
    target: {{level: project, id: s}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}
    sinks: [out]
""")
        r = pslib.run("run", cfg, env={"PS_IT_OUT": self.path("viaenv")})
        self.assertEqual(r.rc, 0, r)
        self.assertTrue(os.path.exists(self.path("viaenv", "p.jsonl")))

    def test_plugins_lists_kinds_and_options(self):
        cfg = self.good_config(self.write("in.csv", HEADER + "\n"))
        r = pslib.run("plugins", "--json", "--config", cfg)
        plugins = {p["name"]: p for p in json.loads(r.out) if "name" in p}
        for name, kind in (("csvfile", "provider"), ("stub", "provider"), ("jsonl", "sink"),
                           ("csv", "sink"), ("sqlite", "sink")):
            self.assertIn(name, plugins, r)
            self.assertEqual(plugins[name]["kind"], kind)
        opts = {o["name"]: o for o in plugins["csvfile"]["options"]}
        self.assertTrue(opts["path"]["required"])
        self.assertEqual(opts["header_row"]["type"], "int")
        self.assertTrue(plugins["sqlite"]["builtin"])
        self.assertIsNone(plugins["sqlite"]["file"])
        self.assertFalse(plugins["csvfile"]["builtin"])
        r = pslib.run("plugins", "--config", cfg)
        self.assertIn("csvfile (provider", r.out)
        self.assertIn("sqlite (sink 1.0.0) - SQLite store", r.out)
        self.assertIn("  built-in\n", r.out)
        # no path configured: the build tree's plugins, found next to the binary, and the
        # built-in store
        r = pslib.run("plugins", "--json")
        self.assertEqual(r.rc, 0, r)
        found = {p["name"]: p["file"] for p in json.loads(r.out)
                 if "name" in p and p["kind"] != "connector"}
        self.assertEqual(set(found), {f[:-3] for f in os.listdir(pslib.PLUGIN_DIR)
                                      if f.endswith(".so")} | {"sqlite", "postgres"}, r)
        self.assertIsNone(found["sqlite"])
        self.assertIsNone(found["postgres"])
        self.assertEqual(os.path.dirname(found["csvfile"]),
                         os.path.realpath(os.path.join(os.path.dirname(BINARY), "plugins")))
        # the connectors: the manifests next to the binary (build tree: connectors/), each
        # with where it was found; a manifest on PAYSYNC_CONNECTOR_PATH of a name found first
        # next to paysync is shadowed, and one of its own is listed
        conn_dir = os.path.realpath(os.path.join(os.path.dirname(BINARY), "connectors"))
        conns = {p["name"]: p for p in json.loads(r.out) if p.get("kind") == "connector"}
        self.assertEqual(set(conns), {f[:-5] for f in os.listdir(conn_dir)
                                      if f.endswith(".yaml")}, r)
        st = conns["steamaco"]
        self.assertEqual((st["provider"], st["from"], st["shadowed"], st["builtin"]),
                         ("rest", "next to paysync", False, False))
        self.assertEqual(st["file"], os.path.join(conn_dir, "steamaco.yaml"))
        self.assertEqual(st["description"],
                         "SteamaCo payments (https://api.steama.co, Django REST API)")
        own = self.path("conn")
        os.makedirs(own)
        self.write("conn/steamaco.yaml", "connector: steamaco\ndescription: my copy\n")
        self.write("conn/upya.yaml", "connector: upya\ndescription: 'Upya payments'\n")
        env = {"PAYSYNC_CONNECTOR_PATH": own}
        r = pslib.run("plugins", "--json", env=env)
        conns = [p for p in json.loads(r.out) if p.get("kind") == "connector"]
        by = {(p["name"], p["from"]): p for p in conns}
        self.assertTrue(by[("steamaco", "PAYSYNC_CONNECTOR_PATH")]["shadowed"])
        self.assertFalse(by[("steamaco", "next to paysync")]["shadowed"])
        self.assertEqual(by[("upya", "PAYSYNC_CONNECTOR_PATH")]["description"], "Upya payments")
        r = pslib.run("plugins", env=env)
        self.assertIn("connectors (manifests of the rest provider; a dataset's source takes "
                      "plugin: NAME):", r.out)
        self.assertIn("upya (connector) - Upya payments\n  file: %s/upya.yaml "
                      "(PAYSYNC_CONNECTOR_PATH)\n" % own, r.out)
        self.assertIn("steamaco (connector) - my copy\n  file: %s/steamaco.yaml "
                      "(PAYSYNC_CONNECTOR_PATH)\n  not used: plugin: NAME finds another plugin "
                      "or manifest first" % own, r.out)
        # a copy of the binary with no plugin folder next to it and no path configured: only
        # the built-in store
        lone = self.path("bin", "paysync")
        os.makedirs(os.path.dirname(lone))
        shutil.copy2(BINARY, lone)
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        p = subprocess.run([lone, "plugins"], capture_output=True, text=True, env=env)
        self.assertEqual(p.returncode, 0, p)
        self.assertIn("no plugins found: set plugin_path in a config (--config) or "
                      "PAYSYNC_PLUGIN_PATH", p.stderr)
        self.assertIn("sqlite (sink", p.stdout)
        self.assertIn("postgres (sink", p.stdout)

    def test_check(self):
        csv = self.write("in.csv", HEADER + "\n" + ROW + "\n")
        r = pslib.run("check", self.good_config(csv))
        self.assertEqual(r.rc, 0, r)
        self.assertIn(": ok", r.out)
        os.remove(csv)
        r = pslib.run("check", self.good_config(csv))
        self.assertEqual(r.rc, 1, r)
        self.assertIn("in.csv", r.err)

    def test_validate_prints_problems(self):
        csv = self.write("in.csv", HEADER + "\n" + ROW + "\n" + ROW.replace("P1,2024-03-05", "P2,2024-13-05") + "\n")
        env = {"PAYSYNC_PLUGIN_PATH": pslib.PLUGIN_DIR}
        r = pslib.run("validate", csv, env=env)
        self.assertEqual(r.rc, 1, r)
        self.assertIn("bad_timestamp", r.out)
        self.assertRegex(r.out, r"\n3\s+error\s+TIMESTAMP")
        self.assertIn("2 rows read, 1 valid, 1 rejected", r.out)
        ok = self.write("ok.csv", HEADER + "\n" + ROW + "\n")
        r = pslib.run("validate", ok)  # csvfile found next to the binary, no path set
        self.assertEqual(r.rc, 0, r)
        self.assertIn("no problems found", r.out)
        r = pslib.run("validate", ok, "--profile", "strict", env=env)
        self.assertEqual(r.rc, 1, r)  # strict requires CUSTOMER_PHONE: no column
        self.assertIn("CUSTOMER_PHONE", r.err)
        r = pslib.run("validate", ok, "--profile", "lax", env=env)
        self.assertEqual(r.rc, 2, r)

    def test_discover_csvfile(self):
        csv = self.write("in.csv", "Title,,\n" + HEADER + ",Region\n" + ROW + ",North\n")
        cfg = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/p.jsonl}}
datasets:
  - name: ds1
    target: {{level: project, id: s}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}, header_row: 2}}
    sinks: [out]
""")
        r = pslib.run("discover", cfg, "--dataset", "ds1")
        self.assertEqual(r.rc, 0, r)
        self.assertIn("header row:  2", r.out)
        self.assertRegex(r.out, r"G\s+METER_ID\s+METER_ID")
        self.assertIn("'Region'", r.out)
        self.assertIn('"PAYMENT_AMOUNT":"1500.50"', r.out)
        self.assertFalse(os.path.exists(self.path("out")))

    def test_example_config_runs_twice_unchanged(self):
        src = pslib.SOURCE_DIR
        work = self.path("repo")
        os.makedirs(os.path.join(work, "config"))
        shutil.copytree(os.path.join(src, "config", "sample"), os.path.join(work, "config", "sample"))
        with open(os.path.join(src, "config", "example.yaml")) as f:
            text = f.read().replace("[../build/plugins]", "[%s]" % pslib.yaml_str(pslib.PLUGIN_DIR))
        with open(os.path.join(work, "config", "example.yaml"), "w") as f:
            f.write(text)
        r = pslib.run("run", "config/example.yaml", "--report", "r1.json", cwd=work)
        self.assertEqual(r.rc, 0, r)
        r = pslib.run("run", "config/example.yaml", "--report", "r2.json", cwd=work)
        self.assertEqual(r.rc, 0, r)
        rep = json.load(open(os.path.join(work, "r2.json")))["datasets"][0]
        self.assertGreater(rep["accepted"], 300)
        self.assertEqual(rep["changes"]["unchanged"], rep["accepted"], rep)
        self.assertEqual(rep["changes"]["new"] + rep["changes"]["changed"] + rep["changes"]["vanished"], 0)
        # Edit one row: exactly one changed.
        p = os.path.join(work, "config", "sample", "payments.csv")
        lines = open(p, encoding="utf-8").read().split("\n")
        lines[3] = lines[3].replace("Tunde Bakare", "Tunde Bakare-Ojo")
        open(p, "w", encoding="utf-8").write("\n".join(lines))
        r = pslib.run("run", "config/example.yaml", "--report", "r3.json", cwd=work)
        rep = json.load(open(os.path.join(work, "r3.json")))["datasets"][0]
        self.assertEqual(rep["changes"]["changed"], 1, rep)
        self.assertEqual(rep["changes"]["unchanged"], rep["accepted"] - 1, rep)
        self.assertTrue(os.path.exists(os.path.join(work, "var", "paysync.db")))
        self.assertTrue(os.path.exists(os.path.join(work, "out", "payments.jsonl")))


if __name__ == "__main__":
    pslib.main()
