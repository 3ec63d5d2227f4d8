"""The connector author's path, end to end: paysync installed into a prefix, `paysync
new-plugin` writes a provider and a sink out of tree, each builds against the installed SDK
with one command (./build.sh: configure, build, unit test on the test host), passes
`paysync test-plugin`, and runs from its example config, all with LD_LIBRARY_PATH unset."""
import os
import shutil
import subprocess
import sys

import pslib

BUILD_DIR = os.environ.get("PS_BUILD_DIR", "")


def clean_env():
    e = dict(os.environ)
    for k in ("LD_LIBRARY_PATH", "PAYSYNC_PLUGIN_PATH", "CMAKE_PREFIX_PATH", "PAYSYNC_PREFIX"):
        e.pop(k, None)
    return e


def sh(args, cwd=None, timeout=600):
    p = subprocess.run([str(a) for a in args], cwd=cwd, env=clean_env(), capture_output=True,
                       text=True, timeout=timeout)
    return p


class NewPlugin(pslib.Case):
    @classmethod
    def setUpClass(cls):
        if not BUILD_DIR or not shutil.which("cmake"):
            print("SKIP: needs PS_BUILD_DIR and cmake", file=sys.stderr)
            sys.exit(pslib.SKIP)

    def setUp(self):
        super().setUp()
        self.prefix = self.path("prefix")
        p = sh(["cmake", "--install", BUILD_DIR, "--prefix", self.prefix])
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.paysync = os.path.join(self.prefix, "bin", "paysync")

    def generate(self, name, kind, *extra):
        d = self.path(name)
        p = sh([self.paysync, "new-plugin", name, "--kind", kind, "--dir", d] + list(extra))
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("./build.sh", p.stdout)
        self.assertIn(self.prefix, p.stdout)
        return d

    def build(self, d, name):
        # As a connector author would, with the compiler (and sanitizers) paysync was built
        # with: a sanitizer build's test host links only into sanitizer programs.
        args = ["./build.sh"]
        if os.environ.get("PS_C_COMPILER"):
            args.append("-DCMAKE_C_COMPILER=" + os.environ["PS_C_COMPILER"])
        if os.environ.get("PS_SANITIZE", "").upper() in ("ON", "1", "TRUE", "YES"):
            args.append("-DCMAKE_C_FLAGS=-fsanitize=address,undefined")
        p = sh(args, cwd=d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("100% tests passed, 0 tests failed out of 1", p.stdout)
        so = os.path.join(d, "build", name + ".so")
        self.assertTrue(os.path.exists(so), p.stdout)
        # the unit test on the test host ran the conformance checks and its own
        args = [os.path.join(d, "build", "test_" + name), so]
        if os.path.exists(os.path.join(d, "fixture.csv")):
            args.append(os.path.join(d, "fixture.csv"))
        t = sh(args, cwd=d)
        self.assertEqual(t.returncode, 0, t.stdout + t.stderr)
        self.assertIn("test_%s: every check passed" % name, t.stdout)
        self.assertRegex(t.stdout, r"(?m)^\d+ passed, 0 failed, \d+ skipped$")
        return so

    def kit(self, so, *args, cwd=None):
        p = sh([self.paysync, "test-plugin", so] + list(args), cwd=cwd)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertRegex(p.stdout, r"(?m)^\d+ passed, 0 failed, \d+ skipped$")
        self.assertNotIn("FAIL", p.stdout)
        return p.stdout

    def test_provider_from_the_template(self):
        d = self.generate("acme_pay", "provider")
        so = self.build(d, "acme_pay")
        out = self.kit(so, "--config", "example.yaml", "--dataset", "acme_pay_demo", cwd=d)
        self.assertIn("3 rows in 1 batches", out)
        p = sh([self.paysync, "run", "example.yaml"], cwd=d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = pslib.read_jsonl(os.path.join(d, "out", "payments.jsonl"))
        self.assertEqual([r["ID"] for r in rows], ["P-0001", "P-0002", "P-0003"])
        with open(os.path.join(d, "out", "payments.jsonl")) as f:
            first = f.readline()
        self.assertIn('"PAYMENT_AMOUNT":1500.50,', first)  # the exact decimal text
        # the installed paysync lists its own plugins and the new one from the config
        p = sh([self.paysync, "plugins", "--config", "example.yaml"], cwd=d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        for name in ("acme_pay", "csvfile", "gsheet", "stub", "jsonl", "csv", "null", "sqlite"):
            self.assertIn(name, p.stdout)

    def test_record_provider_from_the_template(self):
        d = self.generate("acme_api", "provider", "--shape", "record")
        so = self.build(d, "acme_api")
        out = self.kit(so, "--config", "example.yaml", "--dataset", "acme_api_demo", cwd=d)
        self.assertIn("3 rows in 1 batches", out)
        p = sh([self.paysync, "run", "example.yaml"], cwd=d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        rows = pslib.read_jsonl(os.path.join(d, "out", "payments.jsonl"))
        self.assertEqual([r["ID"] for r in rows], ["TX-1001", "TX-1002", "TX-1003"])
        self.assertEqual(rows[1]["CUSTOMER_NAME"], "Amina Yusuf")
        self.assertEqual(rows[1]["TIMESTAMP"], "2024-01-05T10:30:00.000Z")
        self.assertEqual(rows[0]["CUSTOMER_PHONE"], "+2348031234567")
        self.assertNotIn("CUSTOMER_PHONE", rows[2])  # the key is absent in the third record
        with open(os.path.join(d, "out", "payments.jsonl")) as f:
            self.assertIn('"PAYMENT_AMOUNT":1500.50,', f.readline())

    def test_sink_from_the_template(self):
        d = self.generate("acme_out", "sink")
        so = self.build(d, "acme_out")
        self.kit(so)
        p = sh([self.paysync, "run", "example.yaml"], cwd=d)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        with open(os.path.join(d, "out", "payments.tsv")) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), 20)
        self.assertEqual(len(lines[0].split("\t")), 4)

    def test_refusals(self):
        d = self.generate("acme_twice", "provider")
        before = sorted(os.listdir(d))
        p = sh([self.paysync, "new-plugin", "acme_twice", "--kind", "provider", "--dir", d])
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertIn("nothing is overwritten", p.stderr)
        self.assertEqual(sorted(os.listdir(d)), before)
        for bad in ("Acme", "9lives", "a-b", "x" * 49, ""):
            p = sh([self.paysync, "new-plugin", bad, "--kind", "sink", "--dir", self.path("b")])
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
            self.assertFalse(os.path.exists(self.path("b")))
        p = sh([self.paysync, "new-plugin", "ok_name", "--kind", "transformer"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--kind is provider or sink", p.stderr)
        p = sh([self.paysync, "new-plugin", "ok_name", "--kind", "provider", "--shape", "graph"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--shape is tabular", p.stderr)
        p = sh([self.paysync, "new-plugin", "ok_name", "--kind", "sink", "--shape", "record"])
        self.assertEqual(p.returncode, 2)
        self.assertIn("--shape is for providers", p.stderr)
        self.assertFalse(os.path.exists(self.path("ok_name")))


if __name__ == "__main__":
    pslib.main()
