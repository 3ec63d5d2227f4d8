"""The progress line of `paysync run` (issue 17 item 4), on a real terminal (Python's pty):
percentage and time left when the provider knows the size (csvfile: the file's bytes), rows/s
when it does not (standard input); nothing when standard output or standard error is not a
terminal, with -q or with --no-progress; and the run's results are the same either way."""
import json
import os
import pty
import re
import select
import subprocess
import threading

import pslib

HEADER = ("ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,"
          "CUSTOMER_NAME,CUSTOMER_CATEGORY")
ROWS = 30000  # several batches of 4096 rows
PROGRESS = "\x1b[K"  # every progress line starts with "\r" and erase-line


def payments(n):
    return HEADER + "\n" + "".join(
        "P%d,2024-03-05T14:16:01Z,%d.50,NGN,FULL_PAYMENT,C%d,M%d,Name %d,Residential\n"
        % (i, 100 + i % 900, i % 500, i % 300, i) for i in range(n))


class Progress(pslib.Case):
    def setUp(self):
        super().setUp()
        self.write("p.csv", payments(ROWS))

    def cfg(self, path):
        return self.config(
            "sinks:\n  out: {plugin: jsonl, path: %s}\n"
            "datasets:\n  - name: big\n    target: {id: t}\n"
            "    source: {plugin: csvfile, path: %s}\n    sinks: [out]\n"
            % (pslib.yaml_str(self.path("out.jsonl")), pslib.yaml_str(path)))

    def run_tty(self, args, out_tty=True, err_tty=True, stdin=None):
        """Runs paysync with stdout and/or stderr on a pseudo-terminal; returns (rc, what the
        terminal got, stdout if piped, stderr if piped)."""
        master, slave = pty.openpty()
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        p = subprocess.Popen([pslib.PAYSYNC] + args, env=env,
                             stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                             stdout=slave if out_tty else subprocess.PIPE,
                             stderr=slave if err_tty else subprocess.PIPE)
        os.close(slave)
        feeder = None
        if stdin is not None:
            def feed(f=p.stdin, data=stdin.encode()):
                f.write(data)
                f.close()
            feeder = threading.Thread(target=feed)
            feeder.start()
            p.stdin = None  # closed by the feeder
        tty = b""
        piped_out = piped_err = b""
        pipes = [f for f in (p.stdout, p.stderr) if f]
        while True:
            r, _, _ = select.select([master] + pipes, [], [], 120)
            if not r:
                p.kill()
                self.fail("paysync did not finish")
            if master in r:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the terminal's other side is closed
                    chunk = b""
                if not chunk:
                    break
                tty += chunk
            for f in list(pipes):
                if f in r:
                    data = f.read1(65536)
                    if not data:
                        pipes.remove(f)
                    if f is p.stdout:
                        piped_out += data
                    else:
                        piped_err += data
            if not out_tty and not err_tty:
                break
        if feeder:
            feeder.join(120)
        rest_out, rest_err = p.communicate(timeout=120)
        os.close(master)
        return (p.returncode, tty.decode("utf-8", "replace"),
                piped_out + (rest_out or b""), piped_err + (rest_err or b""))

    def test_file_shows_percentage_and_eta(self):
        cfg = self.cfg(self.path("p.csv"))
        rc, tty, _, _ = self.run_tty(["run", cfg, "--report", self.path("r.json")])
        self.assertEqual(rc, 0, tty)
        lines = re.findall(r"\r\x1b\[K(big: [^\r\n\x1b]*)", tty)
        self.assertTrue(lines, repr(tty[:2000]))
        self.assertRegex(lines[0], r"^big: \d{1,3}% \(\d+ rows, \d+ rows/s\), ETA (--|\d+:\d\d)$")
        pct = [int(re.match(r"big: (\d+)%", ln).group(1)) for ln in lines]
        self.assertTrue(all(0 < v <= 100 for v in pct), pct)
        self.assertEqual(pct, sorted(pct))
        # the line is cleared before the summary: the summary's lines are whole
        self.assertIn("\r\x1b[K", tty)
        self.assertIn("big: ok", tty)
        with open(self.path("r.json")) as f:
            rep = json.load(f)["datasets"][0]
        self.assertEqual((rep["read"], rep["accepted"]), (ROWS, ROWS))
        self.assertEqual(len(pslib.read_jsonl(self.path("out.jsonl"))), ROWS)

    def test_stdin_shows_rows_per_second(self):
        cfg = self.cfg("-")
        with open(self.path("p.csv")) as f:
            data = f.read()
        rc, tty, _, _ = self.run_tty(["run", cfg], stdin=data)
        self.assertEqual(rc, 0, tty)
        lines = re.findall(r"\r\x1b\[K(big: [^\r\n\x1b]*)", tty)
        self.assertTrue(lines, repr(tty[:2000]))
        self.assertRegex(lines[0], r"^big: \d+ rows, \d+ rows/s$")
        self.assertNotIn("ETA", tty)

    def test_nothing_without_a_terminal_or_with_quiet(self):
        cfg = self.cfg(self.path("p.csv"))
        cases = [
            (["run", cfg], False, True),            # stdout piped
            (["run", cfg], True, False),            # stderr piped
            (["-q", "run", cfg], True, True),       # quiet
            (["run", cfg, "--no-progress"], True, True),
        ]
        for args, out_tty, err_tty in cases:
            rc, tty, out, err = self.run_tty(args, out_tty, err_tty)
            self.assertEqual(rc, 0, (args, tty, err))
            for text in (tty, out.decode(), err.decode()):
                self.assertNotIn(PROGRESS, text, (args, out_tty, err_tty))
                self.assertNotIn("rows/s)", text)
            self.assertEqual(len(pslib.read_jsonl(self.path("out.jsonl"))), ROWS)
        # plain pipes (what cron sees): no escape sequence at all
        r = pslib.run("run", cfg)
        self.assertEqual(r.rc, 0, r)
        self.assertNotIn("\x1b", r.out + r.err)


if __name__ == "__main__":
    pslib.main()
