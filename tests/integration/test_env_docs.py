"""Every environment variable the code reads is documented: each getenv("NAME") and each
`#define ..._ENV "NAME"` in core/, cli/ and plugins/ must appear in the table of
docs/operations.md's "Environment variables" section, and every name in that table must still
be read somewhere (no stale rows). Fails when the scan finds fewer than ten names, so it
cannot pass vacuously."""
import os
import re
import unittest

import pslib

ROOT = pslib.SOURCE_DIR
GETENV = re.compile(r'\bgetenv\("([A-Z][A-Z0-9_]*)"\)')
ENV_DEFINE = re.compile(r'#define\s+[A-Z0-9_]*_ENV\s+"([A-Z][A-Z0-9_]*)"')


def names_read():
    found = {}
    for top in ("core", "cli", "plugins"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, top)):
            for f in files:
                if not f.endswith((".c", ".h", ".cc")):
                    continue
                p = os.path.join(dirpath, f)
                with open(p, encoding="utf-8", errors="replace") as fh:
                    text = fh.read()
                for m in GETENV.finditer(text):
                    found.setdefault(m.group(1), os.path.relpath(p, ROOT))
                for m in ENV_DEFINE.finditer(text):
                    found.setdefault(m.group(1), os.path.relpath(p, ROOT))
    return found


def names_documented():
    with open(os.path.join(ROOT, "docs", "operations.md"), encoding="utf-8") as f:
        text = f.read()
    sec = text.split("## Environment variables", 1)
    if len(sec) != 2:
        return set()
    body = sec[1].split("\n## ", 1)[0]
    names = set()
    for line in body.splitlines():
        if line.startswith("| `"):
            first = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]*)`", first))
    return names


class EnvDocs(unittest.TestCase):
    def test_every_variable_read_is_documented(self):
        read = names_read()
        self.assertGreaterEqual(len(read), 10, read)
        documented = names_documented()
        missing = {n: where for n, where in read.items() if n not in documented}
        self.assertEqual(missing, {}, "read but not in docs/operations.md's table")

    def test_no_stale_rows(self):
        read = names_read()
        stale = sorted(n for n in names_documented() if n not in read)
        self.assertEqual(stale, [], "in docs/operations.md's table but read nowhere")


if __name__ == "__main__":
    unittest.main()
