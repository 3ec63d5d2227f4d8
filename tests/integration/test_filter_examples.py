"""docs/examples/filters.md stays true: every worked example on it is run.

A fenced block right after `<!-- filters example: FILE -->` is written to FILE in a fresh
folder; `<!-- filters example: expect FILE -->` holds what FILE must contain after the runs;
`<!-- filters example: summary CONFIG.yaml -->` is what `paysync run CONFIG.yaml` prints, all
lines but the timing one. Every config on the page is run, and its report must satisfy
read = accepted + rejected + blank + duplicates + filtered. The page's CSV inputs must equal the
fixtures of tests/data/filters/. The test fails when the page has fewer than two configs, so it
cannot pass vacuously."""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

DOC = os.path.join(pslib.SOURCE_DIR, "docs", "examples", "filters.md")
FIXTURES = os.path.join(pslib.SOURCE_DIR, "tests", "data", "filters")
MARK = re.compile(r"^<!-- filters example: (?:(expect|summary) )?([A-Za-z0-9_./-]+) -->$")
TIMING = re.compile(r"^    \d+\.\d{3} s, \d+ rows/s$")


def extract(text):
    """({file: body}, {file: expected body}, {config: expected summary})"""
    files, expected, summaries = {}, {}, {}
    lines = text.split("\n")
    pending = None
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i].strip())
        if m:
            pending = (m.group(1), m.group(2))
            i += 1
            continue
        if lines[i].startswith("```"):
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            body = "\n".join(lines[i + 1:j]) + "\n"
            if pending:
                kind, name = pending
                into = {None: files, "expect": expected, "summary": summaries}[kind]
                if name in into:
                    raise AssertionError("two blocks for %s" % name)
                into[name] = body
            pending = None
            i = j + 1
            continue
        if lines[i].strip():
            pending = None
        i += 1
    return files, expected, summaries


class FilterExamples(pslib.Case):
    def setUp(self):
        super().setUp()
        with open(DOC, encoding="utf-8") as f:
            self.files, self.expected, self.summaries = extract(f.read())
        self.configs = sorted(p for p in self.files if p.endswith(".yaml"))
        self.assertGreaterEqual(len(self.configs), 2, "docs/examples/filters.md lost its examples")
        for name, body in self.files.items():
            self.write(name, body)

    def test_inputs_are_the_fixtures(self):
        csvs = [p for p in self.files if p.endswith(".csv")]
        self.assertEqual(len(csvs), 2, csvs)
        for name in csvs:
            with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
                self.assertEqual(self.files[name], f.read(), name)

    def test_examples_run_as_shown(self):
        self.assertEqual(set(self.summaries), set(self.configs))
        for cfg in self.configs:
            with self.subTest(config=cfg):
                report = self.path(cfg + ".report.json")
                res = pslib.run("run", cfg, "--report", report, cwd=self.dir)
                self.assertEqual(res.rc, 0, res)
                shown = [line for line in res.out.splitlines() if not TIMING.match(line)]
                self.assertEqual("\n".join(shown) + "\n", self.summaries[cfg], res)
                with open(report, encoding="utf-8") as f:
                    d = json.load(f)["datasets"][0]
                self.assertEqual(d["read"], d["accepted"] + d["rejected"] + d["blank"] +
                                 d["duplicates"] + d["filtered"], d)
                self.assertGreater(d["filtered"], 0, d)
        self.assertGreaterEqual(len(self.expected), 3)
        for name, body in self.expected.items():
            with self.subTest(output=name):
                with open(self.path(name), encoding="utf-8") as f:
                    self.assertEqual(f.read(), body, name)


if __name__ == "__main__":
    pslib.main()
