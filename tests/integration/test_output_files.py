"""One way to write a file (issue 18 item 1): every file paysync writes (run report, export
--output, rejects and warnings files, jsonl and csv sinks) is a temp file created exclusively
beside the target, never through a symlink, then renamed; a target that is not a regular file
(FIFO, directory, device) is refused with a message naming it and left as it was; a failed
write to standard output is exit 1 whatever the size."""
import os
import shutil
import stat
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE")
CSV = (HEADER + "\n"
       "P1,2024-03-05T14:16:01.350Z,1500.50,NGN,FULL_PAYMENT,C1,00001,Amina Bello,Residential,"
       "+2348031234567\n"
       "P2,bad,x,NGN,FULL_PAYMENT,C2,00002,Amina Bello,Residential,+2348031234567\n")
VICTIM = b"precious data, must never be overwritten\n"
# writer -> the target file's name in out/
WRITERS = {"report": "report.json", "export": "export.csv", "rejects": "rejects.jsonl",
           "warnings": "warnings.jsonl", "jsonl": "payments.jsonl", "csv": "payments.csv"}
IS_ROOT = os.geteuid() == 0


def last_pid():
    try:
        with open("/proc/sys/kernel/ns_last_pid") as f:
            return int(f.read())
    except (OSError, ValueError):
        return None


class OutputFiles(pslib.Case):
    def setUp(self):
        super().setUp()
        self.out = self.path("out")
        os.makedirs(self.out)
        self.csv = self.write("in.csv", CSV)

    def make_config(self, name="paysync.yaml", target_of=None):
        """Config whose file writers write out/NAME (target_of: writer -> other file name)."""
        t = dict(WRITERS)
        t.update(target_of or {})
        p = {k: pslib.yaml_str(os.path.join(self.out, v)) for k, v in t.items()}
        db = pslib.yaml_str(self.path("db", "paysync.db"))
        return self.config(f"""
sinks:
  db: {{plugin: sqlite, path: {db}}}
  j: {{plugin: jsonl, path: {p["jsonl"]}}}
  c: {{plugin: csv, path: {p["csv"]}}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    profile: standard
    source: {{plugin: csvfile, path: {pslib.yaml_str(self.csv)}}}
    sinks: [db, j, c]
    rejects: {p["rejects"]}
    warnings: {p["warnings"]}
""", name=name)

    def run_writer(self, writer, target):
        """Runs the command that makes `writer` write `target`; returns the result."""
        if writer == "report":
            return pslib.run("-q", "run", self.make_config(), "--report", target)
        if writer == "export":
            cfg = self.make_config()
            r = pslib.run("-q", "run", cfg)
            self.assertEqual(r.rc, 0, r)
            return pslib.run("export", cfg, "--dataset", "ds1", "--format", "csv",
                             "--output", target)
        name = os.path.basename(target)
        self.assertEqual(os.path.dirname(os.path.abspath(target)), self.out)
        return pslib.run("-q", "run", self.make_config(target_of={writer: name}))

    def fresh(self):
        """Empty out/ and no store: each writer's case starts alone."""
        shutil.rmtree(self.out)
        shutil.rmtree(self.path("db"), ignore_errors=True)
        os.makedirs(self.out)

    def victim(self, name="victim.txt"):
        p = self.path(name)
        with open(p, "wb") as f:
            f.write(VICTIM)
        return p

    def assert_victim(self, p, ctx):
        with open(p, "rb") as f:
            self.assertEqual(f.read(), VICTIM, "written through a symlink: %s" % ctx)

    # ---- symlinks --------------------------------------------------------------------------

    def test_symlink_at_temp_names_not_followed(self):
        """Symlinks planted at every temp name a writer used or uses (F.tmp, F.tmp.PID,
        F.tmp-PID, .F.tmp-PID for the next PIDs) are never written through."""
        base = last_pid()
        if base is None:
            self.skipTest("no /proc/sys/kernel/ns_last_pid")
        for writer, name in WRITERS.items():
            with self.subTest(writer=writer):
                self.fresh()
                v = self.victim("victim-%s" % writer)
                target = os.path.join(self.out, name)
                planted = [target + ".tmp"]
                for pid in range(last_pid() + 1, last_pid() + 400):
                    planted += ["%s.tmp.%d" % (target, pid), "%s.tmp-%d" % (target, pid),
                                os.path.join(self.out, ".%s.tmp-%d" % (name, pid))]
                for p in planted:
                    os.symlink(v, p)
                res = self.run_writer(writer, target)
                self.assertEqual(res.rc, 0, res)
                self.assert_victim(v, writer)
                st = os.lstat(target)
                self.assertTrue(stat.S_ISREG(st.st_mode), writer)
                if writer != "warnings":  # no row has a warning: that file is empty
                    self.assertGreater(os.path.getsize(target), 0, writer)
                for p in planted:
                    if os.path.islink(p):
                        os.unlink(p)

    def test_symlink_at_target_replaced_not_followed(self):
        for writer, name in WRITERS.items():
            with self.subTest(writer=writer):
                self.fresh()
                v = self.victim("victim-%s" % writer)
                target = os.path.join(self.out, name)
                os.symlink(v, target)
                res = self.run_writer(writer, target)
                self.assertEqual(res.rc, 0, res)
                self.assert_victim(v, writer)
                self.assertTrue(stat.S_ISREG(os.lstat(target).st_mode), writer)

    # ---- targets that are not regular files ----------------------------------------------

    def check_refused(self, writer, target, kind, is_kind):
        res = self.run_writer(writer, target)
        self.assertIn(res.rc, (1, 2), res)
        self.assertIn("refusing to replace '%s'" % target, res.err, res)
        self.assertIn(kind, res.err, res)
        self.assertTrue(is_kind(os.lstat(target).st_mode), "%s replaced: %r" % (target, res))
        leftovers = [f for f in os.listdir(self.out) if ".tmp" in f]
        self.assertEqual(leftovers, [], "temporary files left behind")

    def test_fifo_refused(self):
        for writer, name in WRITERS.items():
            with self.subTest(writer=writer):
                self.fresh()
                target = os.path.join(self.out, name)
                os.mkfifo(target)
                self.check_refused(writer, target, "a FIFO", stat.S_ISFIFO)
                os.unlink(target)

    def test_directory_refused(self):
        for writer, name in WRITERS.items():
            with self.subTest(writer=writer):
                self.fresh()
                target = os.path.join(self.out, name)
                os.mkdir(target)
                self.check_refused(writer, target, "a directory", stat.S_ISDIR)
                os.rmdir(target)

    def test_report_refused_before_the_run(self):
        target = os.path.join(self.out, "report.json")
        os.mkfifo(target)
        res = pslib.run("-q", "run", self.make_config(), "--report", target)
        self.assertEqual(res.rc, 2, res)
        self.assertIn("--report: refusing to replace '%s': it is a FIFO" % target, res.err)
        self.assertFalse(os.path.exists(self.path("db", "paysync.db")), "the run ran anyway")

    def test_character_device_refused(self):
        """A character device (a copy of /dev/null made with mknod, root only) is refused;
        then /dev/null itself, only once the copy proved the binary refuses devices."""
        if not IS_ROOT:
            self.skipTest("mknod needs root")
        for writer, name in WRITERS.items():  # no subTest: the first failure must stop here
            self.fresh()
            target = os.path.join(self.out, name)
            try:
                os.mknod(target, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
            except OSError as e:
                self.skipTest("mknod not permitted here: %s" % e)
            self.check_refused(writer, target, "a character device", stat.S_ISCHR)
            os.unlink(target)
        # Every writer refused a device: /dev/null is safe to name (never replaced).
        self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode))
        for args in (["-q", "run", self.make_config(), "--report", "/dev/null"],
                     ["export", self.make_config(), "--dataset", "ds1", "--format", "csv",
                      "--output", "/dev/null"]):
            res = pslib.run(*args)
            self.assertIn(res.rc, (1, 2), res)
            self.assertIn("refusing to replace '/dev/null': it is a character device", res.err)
            self.assertTrue(stat.S_ISCHR(os.stat("/dev/null").st_mode), "/dev/null replaced!")

    def test_long_path_message_keeps_its_reason(self):
        """Issue 18 item 10: a long path is cut in the middle, the reason stays at the end."""
        deep = os.path.join(self.out, *(["d" * 200] * 5))
        os.makedirs(deep)
        target = os.path.join(deep, "rejects.jsonl")
        os.mkfifo(target)
        res = pslib.run("-q", "run", self.long_config(target))
        self.assertEqual(res.rc, 1, res)
        line = [l for l in res.err.splitlines() if "refusing to replace" in l]
        self.assertTrue(line, res)
        self.assertTrue(line[0].endswith("it is a FIFO, not a regular file (name a file path)"),
                        res)
        self.assertIn("...", line[0])
        self.assertTrue(stat.S_ISFIFO(os.lstat(target).st_mode))

    def long_config(self, rejects):
        cfg = self.make_config()
        with open(cfg) as f:
            text = f.read()
        text = text.replace(pslib.yaml_str(os.path.join(self.out, "rejects.jsonl")),
                            pslib.yaml_str(rejects))
        with open(cfg, "w") as f:
            f.write(text)
        return cfg

    # ---- full disk on standard output -----------------------------------------------------

    def full(self, *args):
        if not os.path.exists("/dev/full"):
            self.skipTest("no /dev/full")
        with open("/dev/full", "w") as f:
            p = subprocess.run([pslib.PAYSYNC] + list(args), stdout=f, stderr=subprocess.PIPE,
                               timeout=60)
        return p.returncode, p.stderr.decode("utf-8", "replace")

    def test_export_to_dev_full_is_exit_1(self):
        cfg = self.make_config()
        self.assertEqual(pslib.run("-q", "run", cfg).rc, 0)
        rc, err = self.full("export", cfg, "--dataset", "ds1", "--format", "csv")
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot write to standard output: No space left on device", err)

    def test_small_stdout_to_dev_full_is_exit_1(self):
        rc, err = self.full("--version")
        self.assertEqual(rc, 1, err)
        self.assertIn("cannot write to standard output: No space left on device", err)
        rc, err = self.full("-q", "run", self.make_config(), "--report", "-")
        self.assertEqual(rc, 1, err)
        self.assertIn("No space left on device", err)


class TerminalText(pslib.Case):
    """Issue 18 item 10: high bytes of a garbage header never reach the terminal; valid UTF-8
    names are kept."""

    def test_garbage_header_bytes_escaped(self):
        header = HEADER.encode() + b",X\x9b2J\xff\xfe,\xe1\xbb\x8cj\xc2\x9b\n"
        rows = b"".join(line.encode() + b",a,b\n" for line in CSV.splitlines()[1:])
        csv = self.write("g.csv", header + rows, mode="wb")
        cfg = self.config(f"""
sinks:
  db: {{plugin: sqlite, path: {pslib.yaml_str(self.path("p.db"))}}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}
    sinks: [db]
""")
        p = subprocess.run([pslib.PAYSYNC, "run", cfg], capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p)
        for name, text in (("stdout", p.stdout), ("stderr", p.stderr)):
            self.assertIn("'X?2J??'".encode(), text, name)
            self.assertIn("'\u1ecc\x6a??'".encode("utf-8"), text, name)  # valid UTF-8 kept
            text.decode("utf-8")  # what reaches the terminal is valid UTF-8
            for bad in (b"\x9b", b"\xff", b"\xfe", b"\xc2\x9b"):
                self.assertNotIn(bad, text.replace("\u1ecc".encode(), b""), name)


if __name__ == "__main__":
    pslib.main()
