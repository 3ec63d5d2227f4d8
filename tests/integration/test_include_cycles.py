"""scripts/check-cycles.py: the source tree has no dependency cycle between core files and the
CLI includes only public or subsystem headers; and the check itself fails on planted cycles
and bad includes in small scratch trees (include cycles, a call cycle through a shared public
header that only the objects reveal, a three-module ring, CLI includes reaching into plugins
or up with ../)."""
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

SCRIPT = os.path.join(pslib.SOURCE_DIR, "scripts", "check-cycles.py")
BUILD_DIR = os.environ.get("PS_BUILD_DIR", "")
CC = os.environ.get("CC") or "cc"

# Cycles that a branch in flight removes; each must name the branch (see --allow-cycle).
ALLOWED = [
    # "a/x.c,a/y.c",  # BRANCH: why, until when
]


def check(*args):
    p = subprocess.run([sys.executable, SCRIPT] + list(args), capture_output=True, text=True,
                       timeout=300)
    return p.returncode, p.stdout, p.stderr


class Scratch(unittest.TestCase):
    """A scratch tree laid out like paysync's (core/src, core/include, cli, plugins)."""

    def setUp(self):
        self.root = tempfile.mkdtemp(prefix="paysync-cycles-")
        self.write("core/include/paysync/pub.h",
                   "#ifndef PUB_H\n#define PUB_H\nint ps_p(int);\nint ps_q(int);\n"
                   "int ps_r(int);\n#endif\n")

    def tearDown(self):
        shutil.rmtree(self.root, ignore_errors=True)

    def write(self, rel, text):
        p = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)
        return p

    def compile_all(self):
        """Objects of every core .c in OBJ/<folder>/<name>.c.o, as CMake lays them out."""
        if not shutil.which(CC):
            self.skipTest("no C compiler (%s) to build the scratch objects" % CC)
        obj = os.path.join(self.root, "obj")
        src = os.path.join(self.root, "core", "src")
        for d, _, files in os.walk(src):
            for name in files:
                if name.endswith(".c"):
                    rel = os.path.relpath(os.path.join(d, name), src)
                    out = os.path.join(obj, rel + ".o")
                    os.makedirs(os.path.dirname(out), exist_ok=True)
                    subprocess.run([CC, "-c", "-I" + src, "-I" + os.path.join(
                        self.root, "core", "include"), os.path.join(d, name), "-o", out],
                        check=True)
        return obj

    def run_check(self, *args):
        return check("--root", self.root, *args)


class PlantedCycles(Scratch):
    def test_include_cycle_between_two_modules(self):
        self.write("core/src/a/x.h", '#include "a/y.h"\n')
        self.write("core/src/a/x.c", '#include "a/x.h"\n')
        self.write("core/src/a/y.h", "int y;\n")
        self.write("core/src/a/y.c", '#include "a/y.h"\n#include "a/x.h"\n')
        rc, out, err = self.run_check("--no-symbols")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("cycle: a/x.c -> a/y.c -> a/x.c", out)
        self.assertIn("a/y.c -> a/x.c: includes a/x.h", out)
        self.assertIn("1 cycle(s)", err)

    def test_header_only_modules_and_sibling_includes(self):
        # kv.h <-> opts.h, the second include written relative to the including file
        self.write("core/src/cfg/kv.h", '#include "cfg/opts.h"\n')
        self.write("core/src/cfg/opts.h", '#include "kv.h"\n')
        rc, out, _ = self.run_check("--no-symbols")
        self.assertEqual(rc, 1, out)
        self.assertIn("cycle: cfg/kv.h -> cfg/opts.h -> cfg/kv.h", out)

    def test_commented_include_is_no_edge(self):
        self.write("core/src/a/x.c", '/* see "*/N" */\n#include "a/y.h"\n')
        self.write("core/src/a/y.h", "/* not here:\n#include \"a/x.h\"\n*/\n"
                   "// #include \"a/x.h\"\nint y;\n")
        self.write("core/src/a/x.h", '#include "a/y.h"\n')
        rc, out, err = self.run_check("--no-symbols")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("no cycle among 2 modules", out)

    def test_call_cycle_through_a_public_header_needs_the_objects(self):
        # timestamp.c/tz.c shape: both include only the public header and call each other.
        self.write("core/src/m/p.c", '#include "paysync/pub.h"\n'
                   "int ps_p(int v) { return v > 0 ? ps_q(v - 1) : 0; }\n")
        self.write("core/src/m/q.c", '#include "paysync/pub.h"\n'
                   "int ps_q(int v) { return v > 0 ? ps_p(v - 1) : 1; }\n")
        rc, out, err = self.run_check("--no-symbols")
        self.assertEqual(rc, 0, out + err)  # invisible to includes alone
        obj = self.compile_all()
        rc, out, err = self.run_check("--objdir", obj)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("cycle: m/p.c -> m/q.c -> m/p.c", out)
        self.assertIn("m/p.c -> m/q.c: uses ps_q", out)
        self.assertIn("m/q.c -> m/p.c: uses ps_p", out)
        # the cure used for model/civil.c: the shared helper in a third file
        self.write("core/src/m/q.c", '#include "paysync/pub.h"\n'
                   "int ps_q(int v) { return ps_r(v); }\n")
        self.write("core/src/m/r.c", '#include "paysync/pub.h"\n'
                   "int ps_r(int v) { return v; }\n")
        obj = self.compile_all()
        rc, out, err = self.run_check("--objdir", obj)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("no cycle among 4 modules", out)

    def test_three_module_ring_of_mixed_edges(self):
        self.write("core/src/a/a.h", "int ps_a(void);\n")
        self.write("core/src/a/a.c", '#include "b/b.h"\nint ps_a(void) { return 1; }\n')
        self.write("core/src/b/b.h", "int ps_b(void);\n")
        self.write("core/src/b/b.c", '#include "paysync/pub.h"\n'
                   "int ps_b(void) { return ps_r(2); }\n")
        self.write("core/src/c/c.c", '#include "a/a.h"\nint ps_r(int v) { return v + ps_a(); }\n')
        obj = self.compile_all()
        rc, out, err = self.run_check("--objdir", obj)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("cycle: a/a.c -> b/b.c -> c/c.c -> a/a.c", out)
        self.assertIn("b/b.c -> c/c.c: uses ps_r", out)
        self.assertIn("c/c.c -> a/a.c: includes a/a.h; uses ps_a", out)
        rc, out, err = self.run_check("--objdir", obj, "--allow-cycle", "a/a.c,b/b.c,c/c.c")
        self.assertEqual(rc, 0, out + err)
        self.assertIn("allowed cycle: a/a.c -> b/b.c -> c/c.c -> a/a.c", out)
        rc, out, err = self.run_check("--objdir", obj, "--allow-cycle", "a/a.c,b/b.c")
        self.assertEqual(rc, 1, out + err)  # an allowance must cover the whole cycle
        self.assertIn("matches no cycle any more", out)

    def test_missing_or_stale_objects_are_errors_not_passes(self):
        self.write("core/src/a/x.c", "int ps_x(void) { return 0; }\n")
        rc, out, err = self.run_check("--objdir", os.path.join(self.root, "nowhere"))
        self.assertEqual(rc, 2, out + err)
        self.assertIn("no such object folder", err)
        obj = self.compile_all()
        self.write("core/src/a/y.c", "int ps_y(void) { return 0; }\n")
        rc, out, err = self.run_check("--objdir", obj)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("core/src/a/y.c has no object", err)
        obj = self.compile_all()
        later = os.path.getmtime(os.path.join(obj, "a", "x.c.o")) + 10
        os.utime(os.path.join(self.root, "core/src/a/x.c"), (later, later))
        rc, out, err = self.run_check("--objdir", obj)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("is older than core/src/a/x.c: build first", err)


    def test_build_dir_uses_the_newest_core_object_folder(self):
        # an incremental tree keeps the folder of a renamed target (paysync -> paysync_core)
        self.write("core/src/m/p.c", '#include "paysync/pub.h"\n'
                   "int ps_p(int v) { return ps_q(v); }\n")
        self.write("core/src/m/q.c", '#include "paysync/pub.h"\n'
                   "int ps_q(int v) { return ps_p(v); }\n")
        obj = self.compile_all()
        build = os.path.join(self.root, "build")
        cmf = os.path.join(build, "core", "CMakeFiles")
        os.makedirs(os.path.join(cmf, "paysync.dir", "src", "m"))
        stale = os.path.join(cmf, "paysync.dir", "src", "m", "p.c.o")
        shutil.copy(os.path.join(obj, "m", "p.c.o"), stale)
        os.utime(stale, (1000, 1000))
        shutil.copytree(obj, os.path.join(cmf, "paysync_core.dir", "src"))
        rc, out, err = self.run_check("--build-dir", build)
        self.assertEqual(rc, 1, out + err)  # read paysync_core.dir (complete), not the stale one
        self.assertIn("cycle: m/p.c -> m/q.c -> m/p.c", out)
        shutil.rmtree(cmf)
        os.makedirs(cmf)
        rc, out, err = self.run_check("--build-dir", build)
        self.assertEqual(rc, 2, out + err)
        self.assertIn("no core objects", err)


class IncludeRules(Scratch):
    def test_cli_includes(self):
        self.write("core/src/a/x.h", "int x;\n")
        self.write("core/src/a/deep/z.h", "int z;\n")
        self.write("core/src/top.h", "int t;\n")
        self.write("plugins/gsheet/gs_http.h", "int g;\n")
        self.write("cli/local.h", "int l;\n")
        self.write("cli/ok.c", '#include "local.h"\n#include "paysync/pub.h"\n'
                   '#include "a/x.h"\n#include <stdio.h>\n#include <paysync/pub.h>\n')
        self.write("cli/bad.c", "\n".join([
            '#include "../core/src/a/x.h"',
            '#include "gs_http.h"',
            '#include "plugins/gsheet/gs_http.h"',
            '#include "a/deep/z.h"',
            '#include "top.h"',
            '#include "nosuch.h"',
            '#include "/usr/include/stdio.h"',
        ]) + "\n")
        rc, out, err = self.run_check("--no-symbols")
        self.assertEqual(rc, 1, out + err)
        self.assertNotIn("cli/ok.c", out)
        expect = [
            'cli/bad.c:1: #include "../core/src/a/x.h": a relative \'../\' path',
            'cli/bad.c:2: #include "gs_http.h": reaches into a plugin\'s folder '
            '(plugins/gsheet/gs_http.h)',
            'cli/bad.c:3: #include "plugins/gsheet/gs_http.h": a path into plugins/',
            'cli/bad.c:4: #include "a/deep/z.h": the CLI includes only public headers',
            'cli/bad.c:5: #include "top.h": the CLI includes only public headers',
            'cli/bad.c:6: #include "nosuch.h": no such header',
            'cli/bad.c:7: #include "/usr/include/stdio.h": an absolute path',
        ]
        for e in expect:
            self.assertIn("include: " + e, out)
        self.assertIn("7 include violation(s)", err)

    def test_core_includes_stay_in_the_core(self):
        self.write("plugins/sqlite/schema.h", "int s;\n")
        self.write("core/src/store/store.c", '#include "schema.h"\n#include "../x.h"\n')
        self.write("core/x.h", "int x;\n")
        rc, out, err = self.run_check("--no-symbols")
        self.assertEqual(rc, 1, out + err)
        self.assertIn('core/src/store/store.c:1: #include "schema.h": reaches into a plugin\'s '
                      'folder (plugins/sqlite/schema.h)', out)
        self.assertIn('core/src/store/store.c:2: #include "../x.h": a relative', out)


class SourceTree(unittest.TestCase):
    def test_paysync_has_no_cycle(self):
        if not BUILD_DIR:
            self.skipTest("PS_BUILD_DIR is not set (run through ctest)")
        args = ["--build-dir", BUILD_DIR]
        for a in ALLOWED:
            args += ["--allow-cycle", a]
        rc, out, err = check(*args)
        self.assertEqual(rc, 0, out + err)
        self.assertIn("no cycle among", out)


if __name__ == "__main__":
    unittest.main(verbosity=2)
