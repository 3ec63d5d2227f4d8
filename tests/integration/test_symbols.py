"""Exported symbols: build/paysync exports no symbol of its own (no ps_*: the core is a
static library with hidden visibility) and every plugin in build/plugins exports only
paysync_plugin_entry, as listed in tests/data/exported-symbols.txt. An accidental export
fails with a diff against that list."""
import difflib
import fnmatch
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

BUILD = os.environ.get("PS_BUILD_DIR", "")
LIST = os.path.join(pslib.SOURCE_DIR, "tests", "data", "exported-symbols.txt")
LIST_NAME = "tests/data/exported-symbols.txt"


def parse_list(text):
    """{glob: [symbols]} in file order; raises ValueError on a malformed line."""
    sections, cur = {}, None
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            cur = line[1:-1]
            if cur in sections:
                raise ValueError("%s:%d: section [%s] appears twice" % (LIST_NAME, n, cur))
            sections[cur] = []
        elif cur is None or " " in line:
            raise ValueError("%s:%d: expected [GLOB] or one symbol name: %r" % (LIST_NAME, n, line))
        else:
            sections[cur].append(line)
    return sections


# Sanitizer builds (scripts/test-sanitizers.sh) export the sanitizer runtime's symbols: with
# clang's static runtime, every interceptor (malloc, printf, ...) too. In a file that exports
# one of these, only paysync's own namespaces (ps_*, paysync_*) are compared.
SANITIZER = re.compile(r"^__(asan|ubsan|lsan|tsan|msan|sanitizer)_")
OWN = re.compile(r"^(ps_|paysync)")


def exported(path):
    """Sorted dynamic symbols path defines itself (not name@VERSION copies; in a sanitizer
    build, only ps_* and paysync* names)."""
    out = subprocess.run(["nm", "-D", "--defined-only", path], capture_output=True, text=True,
                         check=True).stdout
    syms = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 3 and "@" not in parts[2]:
            syms.add(parts[2])
    if any(SANITIZER.match(s) for s in syms):
        syms = {s for s in syms if OWN.match(s)}
    return sorted(syms)


def check(build, sections):
    """Problems (strings; each a message or a unified diff) of the build against sections."""
    problems = []
    covered = set()
    for pattern, want in sections.items():
        files = sorted(glob.glob(os.path.join(build, pattern)))
        if not files:
            problems.append("[%s] of %s matches no file in %s" % (pattern, LIST_NAME, build))
        for f in files:
            rel = os.path.relpath(f, build)
            covered.add(rel)
            got = exported(f)
            if got != sorted(want):
                problems.append("".join(difflib.unified_diff(
                    [s + "\n" for s in sorted(want)], [s + "\n" for s in got],
                    "%s [%s]" % (LIST_NAME, pattern), "nm -D --defined-only " + rel)))
    for f in sorted(glob.glob(os.path.join(build, "plugins", "*.so"))) + [
            os.path.join(build, "paysync")]:
        rel = os.path.relpath(f, build)
        if rel not in covered:
            problems.append("%s: no section of %s covers it" % (rel, LIST_NAME))
    return problems


class Symbols(unittest.TestCase):
    def setUp(self):
        if not BUILD or not shutil.which("nm"):
            self.skipTest("needs PS_BUILD_DIR and nm")
        with open(LIST) as f:
            self.sections = parse_list(f.read())

    def test_exports_match_the_list(self):
        problems = check(BUILD, self.sections)
        self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_no_core_symbol_anywhere(self):
        for f in [os.path.join(BUILD, "paysync")] + glob.glob(os.path.join(BUILD, "plugins", "*.so")):
            leaked = [s for s in exported(f) if s.startswith("ps_")]
            self.assertEqual(leaked, [], f)

    def test_an_extra_export_fails_with_a_diff(self):
        # the checker itself: a plugin exporting one more symbol is reported as a diff
        tmp = tempfile.mkdtemp(prefix="paysync-sym-")
        try:
            os.makedirs(os.path.join(tmp, "plugins"))
            src = os.path.join(tmp, "leak.c")
            with open(src, "w") as f:
                f.write("int paysync_plugin_entry(void) { return 0; }\n"
                        "int ps_leaked_helper(void) { return 1; }\n")
            subprocess.run(["cc", "-shared", "-fPIC", "-o", os.path.join(tmp, "plugins", "leak.so"),
                            src], check=True)
            shutil.copy2(os.path.join(BUILD, "paysync"), os.path.join(tmp, "paysync"))
            sections = {k: v for k, v in self.sections.items() if k in ("paysync", "plugins/*.so")}
            problems = check(tmp, sections)
            self.assertEqual(len(problems), 1, problems)
            self.assertIn("+ps_leaked_helper", problems[0])
            self.assertIn("nm -D --defined-only plugins/leak.so", problems[0])
            # and a file no section covers
            del sections["plugins/*.so"]
            problems = check(tmp, sections)
            self.assertIn("plugins/leak.so: no section of %s covers it" % LIST_NAME, problems)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def test_list_syntax_errors_are_reported(self):
        with self.assertRaisesRegex(ValueError, r"exported-symbols.txt:2: expected \[GLOB\]"):
            parse_list("[paysync]\nfoo bar\n")
        with self.assertRaisesRegex(ValueError, r":3: section \[a\] appears twice"):
            parse_list("[a]\nx\n[a]\n")


if __name__ == "__main__":
    unittest.main(verbosity=2)
