"""docs/plugin-abi.md stays true: every example in it is compiled and run.

A ```c block whose first line is `/* plugin-abi example: NAME.c */` is a complete plugin: it is
compiled with the build's C compiler against core/include only (-std=c11 -Wall -Wextra
-Werror -shared -fPIC -fvisibility=hidden) into NAME.so and must pass `paysync test-plugin`
with no failed check. A ```c block starting with `/* plugin-abi example test: NAME.c */` is a
unit test on the test host: it is linked with the build's libpaysync-testhost and run with the
plugin and input files its usage line names, and must exit 0. Any other fenced block preceded by the line
`<!-- plugin-abi example: FILE -->` is written to FILE next to the plugins: the example
config (a `.yaml`, which must name the examples' plugins), its input, and files marked
`<!-- plugin-abi example: expect out/F -->` hold what `paysync run` must write to out/F, and a
```text block starting "paysync test-plugin: plugins/NAME.so" is the kit's exact output for
that example with the example config.
The test fails when the page has fewer than two plugin examples, so it cannot pass
vacuously."""
import os
import re
import shutil
import subprocess
import unittest

import pslib

DOC = os.path.join(pslib.SOURCE_DIR, "docs", "plugin-abi.md")
INCLUDE = os.path.join(pslib.SOURCE_DIR, "core", "include")
CC = os.environ.get("PS_C_COMPILER") or shutil.which("cc") or "gcc"
CFLAGS = ["-std=c11", "-Wall", "-Wextra", "-Werror", "-shared", "-fPIC", "-fvisibility=hidden"]

C_MARK = re.compile(r"^/\* plugin-abi example: ([a-z0-9_]+)\.c \*/$")
TEST_MARK = re.compile(r"^/\* plugin-abi example test: ([a-z0-9_]+)\.c \*/$")
BUILD_DIR = os.environ.get("PS_BUILD_DIR", "")
FILE_MARK = re.compile(r"^<!-- plugin-abi example: (expect )?([A-Za-z0-9_./-]+) -->$")


def extract(text):
    """(plugins {name: source}, tests {name: source}, files {path: text},
    expected {path: text}) of the page."""
    plugins, tests, files, expected = {}, {}, {}, {}
    lines = text.split("\n")
    i = 0
    pending = None  # (is_expect, path) from a marker comment awaiting its block
    while i < len(lines):
        line = lines[i]
        m = FILE_MARK.match(line.strip())
        if m:
            pending = (bool(m.group(1)), m.group(2))
            i += 1
            continue
        if line.startswith("```"):
            lang = line[3:].strip()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body = "\n".join(lines[i + 1:j]) + "\n"
            first = lines[i + 1] if i + 1 < j else ""
            cm = C_MARK.match(first.strip())
            tm = TEST_MARK.match(first.strip())
            if lang == "c" and (cm or tm):
                into, name = (plugins, cm.group(1)) if cm else (tests, tm.group(1))
                if name in plugins or name in tests:
                    raise AssertionError("two examples named %s.c" % name)
                into[name] = body
            elif pending:
                (expected if pending[0] else files)[pending[1]] = body
            pending = None
            i = j + 1
            continue
        if line.strip():
            pending = None  # the marker must come right before its block
        i += 1
    return plugins, tests, files, expected


def kind_of(source):
    m = re.search(r"\.kind\s*=\s*(PS_PLUGIN_PROVIDER|PS_PLUGIN_SINK)", source)
    return {"PS_PLUGIN_PROVIDER": "provider", "PS_PLUGIN_SINK": "sink"}[m.group(1)] if m else None


def config_names(cfg_text, plugin):
    """Datasets whose source, and sinks, use `plugin` in a config written like the page's."""
    datasets, sinks = [], []
    current = None
    for line in cfg_text.split("\n"):
        m = re.match(r"^\s*-\s*name:\s*([A-Za-z0-9_.-]+)", line)
        if m:
            current = m.group(1)
        if current and re.search(r"source:\s*\{\s*plugin:\s*%s\b" % plugin, line):
            datasets.append(current)
        m = re.match(r"^\s+([A-Za-z0-9_.-]+):\s*\{\s*plugin:\s*%s\b" % plugin, line)
        if m and m.group(1) != "source":
            sinks.append(m.group(1))
    return datasets, sinks


class DocExamples(pslib.Case):
    def setUp(self):
        super().setUp()
        with open(DOC, encoding="utf-8") as f:
            page = f.read()
        self.plugins, self.tests, self.files, self.expected = extract(page)
        # Kit tables the page shows: ```text blocks starting "paysync test-plugin: plugins/X.so"
        self.kit_outputs = {
            m.group(1): m.group(0)[len("```text\n"):-len("```")]
            for m in re.finditer(r"```text\npaysync test-plugin: plugins/([a-z0-9_]+)\.so .*?```",
                                 page, re.S)}
        self.assertGreaterEqual(len(self.plugins), 2,
                                "docs/plugin-abi.md must hold at least two complete plugin "
                                "examples (a ```c block starting with "
                                "'/* plugin-abi example: NAME.c */')")
        os.makedirs(self.path("plugins"), mode=0o755)
        for name, src in self.plugins.items():
            c = self.write(name + ".c", src)
            so = self.path("plugins", name + ".so")
            p = subprocess.run([CC] + CFLAGS + ["-I", INCLUDE, "-o", so, c],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, "%s.c does not compile with %s:\n%s"
                             % (name, CC, p.stderr))
            os.chmod(so, 0o755)
        for path, body in self.files.items():
            self.write(path, body)

    def configs(self):
        return [p for p in self.files if p.endswith(".yaml")]

    def assert_conformant(self, res):
        self.assertEqual(res.rc, 0, res)
        m = re.search(r"^(\d+) passed, (\d+) failed, (\d+) skipped$", res.out, re.M)
        self.assertIsNotNone(m, res)
        self.assertEqual(m.group(2), "0", res)
        self.assertNotIn(" FAIL ", res.out, res)
        self.assertGreaterEqual(int(m.group(1)), 4, res)

    def test_every_plugin_passes_the_kit(self):
        compared = 0
        for name, src in self.plugins.items():
            kind = kind_of(src)
            self.assertIsNotNone(kind, "%s.c sets no .kind" % name)
            with self.subTest(plugin=name):
                so = self.path("plugins", name + ".so")
                ran = 0
                for cfg in self.configs():
                    with open(self.path(cfg), encoding="utf-8") as f:
                        datasets, sinks = config_names(f.read(), name)
                    for target in (datasets if kind == "provider" else sinks):
                        flag = "--dataset" if kind == "provider" else "--sink"
                        res = pslib.run("test-plugin", "plugins/%s.so" % name, "--config", cfg,
                                        flag, target, cwd=self.dir)
                        self.assert_conformant(res)
                        shown = self.kit_outputs.get(name)
                        if shown is not None:  # the page shows this run's table: exactly
                            self.assertEqual(res.out, shown)
                            compared += 1
                        if kind == "provider":
                            self.assertRegex(res.out, r"read contract\s+pass\s+[1-9]\d* rows", res)
                        ran += 1
                if ran == 0:  # no config names it: it must pass on its defaults
                    res = pslib.run("test-plugin", so, cwd=self.dir)
                    self.assert_conformant(res)
        self.assertEqual(compared, len(self.kit_outputs),
                         "a kit table on the page belongs to no example run")
        self.assertGreaterEqual(compared, 1, "the page shows no kit table of an example")

    def test_example_configs_run_and_write_what_the_page_shows(self):
        self.assertTrue(self.configs(), "the page shows no example config")
        for cfg in self.configs():
            with self.subTest(config=cfg):
                res = pslib.run("run", self.path(cfg), cwd=self.dir)
                self.assertEqual(res.rc, 0, res)
        self.assertTrue(self.expected, "the page shows no expected output")
        for path, body in self.expected.items():
            with self.subTest(output=path):
                with open(self.path(path), encoding="utf-8") as f:
                    self.assertEqual(f.read(), body)

    def test_unit_tests_on_the_test_host_pass(self):
        self.assertTrue(self.tests, "the page shows no unit test on the test host")
        libdir = os.path.join(BUILD_DIR, "core")
        if not os.path.exists(os.path.join(libdir, "libpaysync-testhost.so")):
            self.skipTest("no libpaysync-testhost.so in $PS_BUILD_DIR/core")
        flags = ["-fsanitize=address,undefined"] if os.environ.get("PS_SANITIZE") in (
            "ON", "1", "TRUE", "YES", "on", "true") else []
        for name, src in self.tests.items():
            with self.subTest(test=name):
                c = self.write(name + ".c", src)
                exe = self.path(name)
                p = subprocess.run([CC, "-std=c11", "-Wall", "-Wextra", "-Werror"] + flags +
                                   ["-I", INCLUDE, "-o", exe, c, "-L", libdir,
                                    "-lpaysync-testhost", "-Wl,-rpath," + libdir],
                                   capture_output=True, text=True)
                self.assertEqual(p.returncode, 0, "%s.c does not build:\n%s" % (name, p.stderr))
                # Its comment shows the command, run from the examples' folder.
                m = re.search(r"^ \*\s+%s ([^*]+?)\s*(?:\*/)?$" % name, src, re.M)
                self.assertIsNotNone(m, "%s.c shows no ' *     %s ARGS' command line"
                                     % (name, name))
                args = m.group(1).split()
                for a in args:
                    self.assertTrue(os.path.exists(self.path(a)), a)
                p = subprocess.run([exe] + args, capture_output=True, text=True, cwd=self.dir,
                                   timeout=300)
                self.assertEqual(p.returncode, 0, "%s failed:\n%s\n%s" % (name, p.stdout,
                                                                            p.stderr))
                self.assertIn("every check passed", p.stdout)

    def test_the_kit_catches_a_broken_copy(self):
        """The examples are checked for real: a provider example that returns PS_OK with no
        rows instead of PS_END fails the kit."""
        for name, src in self.plugins.items():
            if kind_of(src) != "provider" or "return PS_END;" not in src:
                continue
            broken = src.replace("return PS_END;", "{ batch->count = 0; return PS_OK; }")
            c = self.write("broken/%s.c" % name, broken)
            os.makedirs(self.path("broken", "plugins"), mode=0o755, exist_ok=True)
            so = self.path("broken", "plugins", name + ".so")
            p = subprocess.run([CC] + CFLAGS + ["-I", INCLUDE, "-o", so, c],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            for cfg in self.configs():
                with open(self.path(cfg), encoding="utf-8") as f:
                    datasets, _ = config_names(f.read(), name)
                for ds in datasets:
                    res = pslib.run("test-plugin", so, "--config", self.path(cfg), "--dataset",
                                    ds, "--timeout", "20", cwd=self.dir)
                    self.assertEqual(res.rc, 1, res)
                    self.assertIn("PS_OK with no rows", res.out, res)
                    return
        self.fail("no provider example with a config to break")


class Extract(unittest.TestCase):
    """The extractor itself: markers must sit right on their blocks."""

    def test_markers(self):
        page = ("x\n```c\n/* plugin-abi example: a.c */\nint a;\n```\n"
                "```c\nint not_an_example;\n```\n"
                "<!-- plugin-abi example: cfg.yaml -->\n```yaml\nk: v\n```\n"
                "<!-- plugin-abi example: expect out/o.txt -->\n```text\nline\n```\n"
                "<!-- plugin-abi example: lost.txt -->\ntext between\n```text\nno\n```\n"
                "```c\n/* plugin-abi example test: t.c */\nint t;\n```\n")
        plugins, tests, files, expected = extract(page)
        self.assertEqual(plugins, {"a": "/* plugin-abi example: a.c */\nint a;\n"})
        self.assertEqual(tests, {"t": "/* plugin-abi example test: t.c */\nint t;\n"})
        self.assertEqual(files, {"cfg.yaml": "k: v\n"})
        self.assertEqual(expected, {"out/o.txt": "line\n"})

    def test_config_names(self):
        cfg = ("sinks:\n  totals: {plugin: totals, path: out/t.tsv}\n"
               "  other: {plugin: jsonl, path: x}\n"
               "datasets:\n  - name: kuje\n    source: {plugin: fixedwidth, path: p.txt}\n")
        self.assertEqual(config_names(cfg, "fixedwidth"), (["kuje"], []))
        self.assertEqual(config_names(cfg, "totals"), ([], ["totals"]))


if __name__ == "__main__":
    pslib.main()
