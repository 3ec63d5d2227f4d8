"""A long path in a message is cut in the middle ("/head.../tail") so that the reason still
ends the message (issue 18 item 10; util/pathtext.h), for the store, the config file and
plugins as for output files (test_output_files.py). Each path here is about 1,500 bytes, more
than a whole error message (1,024 bytes) holds."""
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

CSV = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
       "CUSTOMER_NAME,CUSTOMER_CATEGORY\n"
       "P1,2024-03-05T10:00:00Z,100.50,NGN,FULL_PAYMENT,C1,M1,Ada,Residential\n")


class LongPaths(pslib.Case):
    def setUp(self):
        super().setUp()
        os.chmod(self.dir, 0o755)
        parts = ["d%02d_" % i + "x" * 90 for i in range(16)]  # 16 folders of 94 bytes
        self.deep = os.path.join(self.dir, *parts)
        os.makedirs(self.deep)
        self.assertGreater(len(self.deep), 1500)

    def assert_cut(self, text, reason):
        lines = [l for l in text.splitlines() if reason in l]
        self.assertTrue(lines, "the reason %r is not in the output:\n%s" % (reason, text[-3000:]))
        for line in lines:
            self.assertIn("...", line)
            self.assertNotIn(self.deep, line)  # never the whole path
            self.assertLess(len(line), 1200, line)

    def test_store_message_keeps_its_reason(self):
        """SQLite opens no path this long: the writer's message must still say so, and the
        reader's (export) that the store does not exist."""
        db = os.path.join(self.deep, "store.db")
        self.write("in.csv", CSV)
        cfg = self.config("sinks:\n  store: {plugin: sqlite, path: %s}\n"
                          "datasets:\n  - name: site\n    target: {level: project, id: p1}\n"
                          "    source: {plugin: csvfile, path: in.csv}\n    sinks: [store]\n"
                          % pslib.yaml_str(db))
        res = pslib.run("run", cfg)
        self.assertEqual(res.rc, 1, res)
        self.assert_cut(res.err, "cannot be written (permissions or read-only filesystem) "
                                 "while opening: unable to open database file")
        res = pslib.run("export", cfg, "--dataset", "site", "--format", "csv")
        self.assertEqual(res.rc, 1, res)
        self.assert_cut(res.err, "does not exist: run a sync with the sqlite sink first")
        res = pslib.run("status", cfg)
        self.assertIn(db[:40], res.out)

    def test_config_message_keeps_its_reason(self):
        cfg = os.path.join(self.deep, "paysync.yaml")
        with open(cfg, "w") as f:
            f.write("sinks: {}\ndatasets:\n  - name: site\n    schedule: {every: 5x}\n")
        res = pslib.run("check", cfg)
        self.assertEqual(res.rc, 2, res)
        self.assert_cut(res.err, "datasets[site]")
        with open(cfg, "w") as f:
            f.write("datasets: [\n")
        res = pslib.run("check", cfg)
        self.assertEqual(res.rc, 2, res)
        self.assertRegex(res.err, r"\.\.\.[^\n]*paysync\.yaml:\d+:\d+: ")

    def test_plugin_message_keeps_its_reason(self):
        if not pslib.TEST_PLUGIN_DIR:
            self.skipTest("PS_TEST_PLUGIN_DIR is not set")
        so = os.path.join(self.deep, "good_provider.so")
        shutil.copyfile(os.path.join(pslib.TEST_PLUGIN_DIR, "good_provider.so"), so)
        os.chmod(so, 0o755)
        os.chmod(self.deep, 0o777)
        res = pslib.run("test-plugin", so)
        self.assertEqual(res.rc, 2, res)
        self.assert_cut(res.out, "is writable by group or others (mode 777); fix with: chmod go-w")
        # too long to fit whole: the hint offers no cut path to paste
        self.assertIn("fix with: chmod go-w on it (its path is too long to show whole here)",
                      res.out)
        self.assertNotIn("chmod go-w '", res.out)
        # a trusted folder: the loader's own messages (a .so without an entry function)
        os.chmod(self.deep, 0o755)
        os.unlink(so)
        so = os.path.join(self.deep, "ctor_marker.so")
        shutil.copyfile(os.path.join(pslib.TEST_PLUGIN_DIR, "ctor_marker.so"), so)
        os.chmod(so, 0o755)
        res = pslib.run("test-plugin", so, env={"PS_CTOR_MARKER": self.path("marker")})
        self.assertEqual(res.rc, 2, res)
        self.assert_cut(res.out + res.err, "no entry function")

    def test_config_file_messages_and_unknown_dataset_cut(self):
        """The messages about the config file itself (not at a line) and the CLI's unknown
        dataset name the file cut too."""
        missing = os.path.join(self.deep, "missing.yaml")
        res = pslib.run("check", missing)
        self.assertEqual(res.rc, 2, res)
        self.assert_cut(res.err, "cannot open: No such file or directory")
        res = pslib.run("check", self.deep + "/")
        self.assertNotEqual(res.rc, 0, res)
        self.assert_cut(res.err, "not a regular file")
        cfg = os.path.join(self.deep, "paysync.yaml")
        with open(cfg, "w") as f:
            f.write("sinks:\n  out: {plugin: \"null\"}\ndatasets:\n  - name: site\n"
                    "    target: {level: project, id: p1}\n"
                    "    source: {plugin: csvfile, path: in.csv}\n    sinks: [out]\n")
        for argv in (("status", cfg, "--dataset", "nope"),
                     ("export", cfg, "--dataset", "nope", "--format", "csv")):
            res = pslib.run(*argv)
            self.assertEqual(res.rc, 2, res)
            self.assert_cut(res.err, "unknown dataset 'nope'")

    def test_plugin_hint_path_is_whole(self):
        """A path that fits: the file is named cut, the fix names the folder whole, ready to
        paste (quoted)."""
        if not pslib.TEST_PLUGIN_DIR:
            self.skipTest("PS_TEST_PLUGIN_DIR is not set")
        mid = os.path.join(self.dir, *["m%02d_" % i + "y" * 90 for i in range(4)])
        os.makedirs(mid)
        self.assertGreater(len(mid), 300)
        so = os.path.join(mid, "good_provider.so")
        shutil.copyfile(os.path.join(pslib.TEST_PLUGIN_DIR, "good_provider.so"), so)
        os.chmod(so, 0o755)
        os.chmod(mid, 0o777)
        res = pslib.run("test-plugin", so)
        self.assertEqual(res.rc, 2, res)
        line = [l for l in res.out.splitlines() if "load: FAIL" in l]
        self.assertEqual(len(line), 1, res.out)
        self.assertNotIn(so, line[0])  # the file itself is shown cut
        self.assertIn("...", line[0])
        self.assertIn("refusing to load: its directory is writable by group or others (mode "
                      "777); fix with: chmod go-w '%s'" % mid, res.out)

    def test_dlerror_text_cut(self):
        """dlopen's own message (here: a library the plugin needs, with a 250-byte name, is
        missing) is cut in the middle like a path, its reason kept."""
        cc = shutil.which("cc") or shutil.which("gcc")
        if not cc:
            self.skipTest("no C compiler")
        d = self.path("dl")
        os.makedirs(d)
        os.chmod(d, 0o755)
        name = "l" + "x" * 240
        with open(os.path.join(d, "lib.c"), "w") as f:
            f.write("int ps_dummy_lib(void) { return 1; }\n")
        with open(os.path.join(d, "plug.c"), "w") as f:
            f.write("int ps_dummy_lib(void);\nint ps_use(void) { return ps_dummy_lib(); }\n")
        lib = os.path.join(d, "lib%s.so" % name)
        subprocess.run([cc, "-shared", "-fPIC", "-o", lib, os.path.join(d, "lib.c"),
                        "-Wl,-soname,lib%s.so" % name], check=True)
        so = os.path.join(d, "needs_lib.so")
        subprocess.run([cc, "-shared", "-fPIC", "-o", so, os.path.join(d, "plug.c"), "-L" + d,
                        "-l" + name], check=True)
        os.unlink(lib)  # the library the plugin needs is gone
        os.chmod(so, 0o755)
        res = pslib.run("test-plugin", so)
        self.assertEqual(res.rc, 2, res)
        line = [l for l in res.out.splitlines() if "load: FAIL" in l]
        self.assertEqual(len(line), 1, res.out)
        self.assertIn("cannot open shared object file: No such file or directory", line[0])
        self.assertNotIn(name, line[0])  # cut in the middle
        self.assertIn("...", line[0])


if __name__ == "__main__":
    pslib.main()
