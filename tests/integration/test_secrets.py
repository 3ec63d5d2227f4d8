"""Secrets never printed: every command runs with known test secrets (a Sheets API key, a
service-account private key made with `openssl genpkey`, the access tokens the emulator hands
out, serve API keys) at the most verbose log level, in text and JSON log formats, on success
and on failure (401/403/429/500/truncated answers), and all stdout/stderr, reports, logs and
written files are searched for them. The commands: run (also --dry-run), check, discover,
validate --config, status, plugins --config, export, daemon (until the dataset has run under
it), serve and hash-key. A config holding secrets that other users can read gets a warning;
insecure_skip_tls_verify warns on each run."""
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import pslib  # noqa: E402

from test_daemon import Daemon  # noqa: E402  (starts, watches and stops `paysync daemon`)

try:
    from test_gsheet_run import Emulator, fixture_sheet  # the emulator driver and its fixture
except Exception as e:  # noqa: BLE001
    Emulator = None
    IMPORT_ERROR = e

API_KEY = "AIzaSyHARDEN-test-secret-api-key-4242"
SERVE_KEY = "psk_live_HARDEN-serve-secret-0123456789abcdef"
SERVE_BAD_KEY = "psk_live_HARDEN-wrong-secret-fedcba9876543210"
SA_EMAIL = "harden@demo-project.iam.gserviceaccount.com"
TOKEN_PREFIX = "ya29.emu-"  # every access token the emulator issues starts with it
# The runs against failing servers retry with backoff and Retry-After. The test-only fake sleep
# of the core's clock (docs/plugin-abi.md, Clock) lets every retry that sleeps on that clock
# happen, with its messages, without the wait.
FAKE_SLEEP = {"PS_TEST_FAKE_SLEEP": "1"}
NOT_SECRET_FILES = {"emulator.log", "sheet.json", "sa.pem", "sa.pub.pem", "sa.json"}


def sha(s):
    import hashlib
    return hashlib.sha256(s.encode()).hexdigest()


class Secrets(pslib.Case):
    def setUp(self):
        super().setUp()
        if Emulator is None:
            self.skipTest("cannot import the emulator driver from test_gsheet_run.py: %s"
                          % IMPORT_ERROR)
        self.emu = None
        # (the PEM armour lines are not secret: messages may quote them as guidance)
        self.secrets = [API_KEY, SERVE_KEY, SERVE_BAD_KEY, TOKEN_PREFIX]
        self.outputs = []  # (what, text) of every command run

    def tearDown(self):
        if self.emu:
            self.emu.stop()
        super().tearDown()

    # ---- helpers --------------------------------------------------------------------------

    def start_emulator(self, *args):
        sheet = self.write("sheet.json", json.dumps(fixture_sheet()))
        self.emu = Emulator(self.dir, "--sheet", sheet, "--api-key", API_KEY, *args)
        return self.emu

    def faults(self, faults):
        self.emu.faults(faults)

    def service_account(self):
        if not shutil.which("openssl"):
            self.skipTest("openssl command not found")
        key, pub = self.path("sa.pem"), self.path("sa.pub.pem")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt",
                        "rsa_keygen_bits:2048", "-out", key], check=True, capture_output=True)
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True,
                       capture_output=True)
        with open(key) as f:
            pem = f.read()
        # every base64 line of the key body is a secret on its own
        self.secrets += [l for l in pem.splitlines() if l and not l.startswith("-----")]
        return pem, pub

    def key_json(self, pem):
        return json.dumps({"type": "service_account", "project_id": "demo-project",
                           "private_key_id": "0123abcd", "private_key": pem,
                           "client_email": SA_EMAIL, "client_id": "1",
                           "token_uri": self.emu.url + "/token"})

    def gsheet_config(self, source, mode=0o600, extra="", name="paysync.yaml"):
        src = ", ".join("%s: %s" % (k, json.dumps(v)) for k, v in source.items())
        p = self.config(f"""
sinks:
  out: {{plugin: jsonl, path: out/payments.jsonl}}
  store: {{plugin: sqlite, path: out/store.db}}
datasets:
  - name: sheet1
    target: {{level: project, id: site-1}}
    source: {{plugin: gsheet, {src}}}
    sinks: [out, store]
    schedule: {{every: 1s}}
    rejects: out/rejects.jsonl
    warnings: out/warnings.jsonl
{extra}""", name=name)
        os.chmod(p, mode)
        return p

    def api_source(self, **kw):
        s = {"spreadsheet_id": "1SheetID_abc-XYZ", "sheet": "424242",
             "api_url": self.emu.url, "requests_per_minute": 6000, "max_retries": 1,
             "timeout": 5, "page_rows": 4}
        s.update(kw)
        return s

    def cmd(self, *args, env=None):
        res = pslib.run(*args, env=env, timeout=120)
        self.outputs.append((" ".join(str(a) for a in args), res.out + res.err))
        self.assertNotIn("unknown command", res.err, res)
        return res

    def daemon_once(self, cfg, env=None):
        """Runs `paysync daemon` until the dataset has run once under it, then stops it;
        records the daemon's output (its own log lines and its runs')."""
        d = Daemon(self, cfg, "-v", "-v", env=env)
        try:
            d.wait_for("a run of sheet1 under the daemon",
                       lambda: re.search(r"sheet1: run (finished ok|failed)", d.log()))
            self.assertEqual(d.stop(), 0, d.log())
        finally:
            d.kill()
        text = d.log()
        with open(d.out_path, encoding="utf-8", errors="replace") as f:
            text += f.read()
        self.outputs.append(("daemon " + cfg, text))
        return text

    def every_command(self, cfg, env=None):
        """Runs each command that reads the config, verbosely, in both log formats."""
        report = self.path("report.json")
        for fmt in ("text", "json"):
            self.cmd("-v", "-v", "--log-format", fmt, "run", cfg, "--report", report, env=env)
            self.cmd("-v", "-v", "--log-format", fmt, "check", cfg, env=env)
            self.cmd("-v", "-v", "--log-format", fmt, "discover", cfg, "--dataset", "sheet1",
                     env=env)
        self.cmd("-v", "-v", "status", cfg, env=env)
        self.cmd("-v", "-v", "plugins", "--config", cfg, env=env)
        self.cmd("-v", "-v", "export", cfg, "--dataset", "sheet1", "--format", "jsonl",
                 "--output", self.path("out", "export.jsonl"), env=env)
        self.cmd("-v", "-v", "run", cfg, "--dry-run", env=env)
        csv = self.write("validate.csv", "ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,"
                         "TRANSACTION_TYPE,CUSTOMER_ID,METER_ID,CUSTOMER_NAME,CUSTOMER_CATEGORY\n"
                         "P1,2024-03-05T14:16:01Z,1500.50,NGN,FULL_PAYMENT,C1,M1,Ada,Residential\n")
        res = self.cmd("-v", "-v", "validate", csv, "--config", cfg, "--dataset", "sheet1",
                       env=env)
        self.assertEqual(res.rc, 0, res)
        self.assertIn("sheet1: run finished ok", self.daemon_once(cfg, env))

    def assert_no_secret(self):
        """No secret in any command output nor in any file written under the test folder."""
        for what, text in self.outputs:
            for s in self.secrets:
                self.assertNotIn(s, text, "secret %r printed by `paysync %s`:\n%s"
                                 % (s[:12] + "...", what, text[:3000]))
        for root, _, files in os.walk(self.dir):
            for f in files:
                if f in NOT_SECRET_FILES or f.endswith(".yaml"):
                    continue
                p = os.path.join(root, f)
                with open(p, "rb") as fh:
                    data = fh.read()
                for s in self.secrets:
                    self.assertNotIn(s.encode(), data, "secret %r written to %s"
                                     % (s[:12] + "...", os.path.relpath(p, self.dir)))

    # ---- gsheet credentials ---------------------------------------------------------------

    def test_api_key_every_command_success_and_failures(self):
        self.start_emulator()
        cfg = self.gsheet_config(self.api_source(api_key="${PS_TEST_SHEETS_KEY}"))
        env = {"PS_TEST_SHEETS_KEY": API_KEY}
        self.every_command(cfg, env)
        self.assertIn("sheet1: ok", self.outputs[0][1])  # the success path was exercised
        for kind in ("403", "401", "429", "500", "truncate", "cut", "html", "403api", "404"):
            self.faults([{"when": "any", "kind": kind, "count": -1}])
            res = self.cmd("-v", "-v", "run", cfg, "--report", self.path("report-%s.json" % kind),
                           env=dict(env, **FAKE_SLEEP))
            self.assertEqual(res.rc, 1, res)
        self.faults([])
        # a wrong key makes Google answer 400 "API key not valid": still never printed
        self.secrets.append("AIzaSyWRONG-key-that-is-also-secret-77")
        bad = self.gsheet_config(self.api_source(api_key="AIzaSyWRONG-key-that-is-also-secret-77"),
                                 name="bad.yaml")
        res = self.cmd("-v", "-v", "run", bad)
        self.assertEqual(res.rc, 1, res)
        self.assert_no_secret()

    def test_service_account_file_and_inline_json(self):
        self.start_emulator()
        pem, pub = self.service_account()
        self.emu.stop()
        self.start_emulator("--public-key", pub)
        kf = self.write("sa.json", self.key_json(pem))
        os.chmod(kf, 0o600)
        cfg = self.gsheet_config(self.api_source(service_account_file=kf))
        self.every_command(cfg)
        self.assertIn("sheet1: ok", self.outputs[0][1])
        inline = self.gsheet_config(self.api_source(service_account_json=self.key_json(pem)),
                                    name="inline.yaml")
        self.every_command(inline)
        for kind in ("401", "badgrant", "500"):
            self.faults([{"when": "token" if kind == "badgrant" else "any", "kind": kind,
                          "count": -1}])
            res = self.cmd("-v", "-v", "run", inline, env=FAKE_SLEEP)
            self.assertEqual(res.rc, 1, res)
        self.faults([])
        # a key that is not RSA / not PEM: the error names the problem, never the key
        broken = json.loads(self.key_json(pem))
        lines = pem.splitlines()
        broken["private_key"] = "\n".join(lines[:5] + lines[-3:]) + "\n"  # body cut: bad DER
        bcfg = self.gsheet_config(self.api_source(service_account_json=json.dumps(broken)),
                                  name="broken.yaml")
        res = self.cmd("-v", "-v", "run", bcfg)
        self.assertEqual(res.rc, 1, res)
        self.assert_no_secret()

    # ---- serve keys -----------------------------------------------------------------------

    def test_serve_keys_never_logged(self):
        csv = self.write("in.csv", "ID,TIMESTAMP,PAYMENT_AMOUNT,PAYMENT_CURRENCY,TRANSACTION_TYPE,"
                         "CUSTOMER_ID,METER_ID,CUSTOMER_NAME,CUSTOMER_CATEGORY,CUSTOMER_PHONE\n"
                         "P1,2024-03-05T14:16:01.350Z,1500.50,NGN,FULL_PAYMENT,C1,00042,Amina,"
                         "Residential,+2348031234567\n")
        cfg = self.config(f"""
sinks:
  store: {{plugin: sqlite, path: out/store.db}}
datasets:
  - name: ds1
    target: {{level: project, id: site-1}}
    source: {{plugin: csvfile, path: {pslib.yaml_str(csv)}}}
    sinks: [store]
serve:
  store: store
  keys:
    - {{name: platform, key_sha256: {sha(SERVE_KEY)}, datasets: ["*"]}}
""")
        self.assertEqual(self.cmd("run", cfg).rc, 0)
        p = subprocess.run([pslib.PAYSYNC, "hash-key"], input=(SERVE_KEY + "\n").encode(),
                           capture_output=True, timeout=60)
        out = (p.stdout + p.stderr).decode("utf-8", "replace")
        self.outputs.append(("hash-key", out))
        if p.returncode == 0:
            self.assertIn(sha(SERVE_KEY), out)
        log_path = self.path("serve.log")
        env = dict(os.environ)
        env.pop("PAYSYNC_PLUGIN_PATH", None)
        with open(log_path, "wb") as log:
            proc = subprocess.Popen([pslib.PAYSYNC, "-v", "-v", "serve", cfg, "--listen",
                                     "127.0.0.1:0"], stdout=log, stderr=subprocess.STDOUT,
                                    env=env)
        try:
            port = None
            deadline = time.monotonic() + 20
            import re
            while time.monotonic() < deadline and proc.poll() is None:
                with open(log_path, "rb") as f:
                    m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)", f.read())
                if m:
                    port = int(m.group(1))
                    break
                time.sleep(0.05)
            if port is None:
                with open(log_path, "rb") as f:
                    text = f.read().decode("utf-8", "replace")
                if "unknown command" in text or "not implemented" in text:
                    self.skipTest("serve is not implemented yet")
                self.fail("serve did not start:\n" + text)
            q = "/api/odyssey/payments?FROM=2024-03-05T00:00:00Z&TO=2024-03-05T23:59:59Z"
            codes = []
            for key, hdr in ((SERVE_KEY, "Bearer "), (SERVE_BAD_KEY, "Bearer "),
                             (SERVE_KEY, "Basic "), (SERVE_BAD_KEY, "")):
                req = urllib.request.Request("http://127.0.0.1:%d%s" % (port, q),
                                             headers={"Authorization": hdr + key})
                try:
                    with urllib.request.urlopen(req, timeout=30) as r:
                        body = r.read()
                        codes.append(r.status)
                except urllib.error.HTTPError as e:
                    body = e.read()
                    codes.append(e.code)
                self.outputs.append(("serve response", body.decode("utf-8", "replace")))
            self.assertEqual(codes, [200, 401, 401, 401])
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        with open(log_path, "rb") as f:
            self.outputs.append(("serve log", f.read().decode("utf-8", "replace")))
        self.assert_no_secret()

    # ---- warnings -------------------------------------------------------------------------

    def test_world_readable_config_with_secrets_warns(self):
        self.start_emulator()
        cases = [  # (file mode, holds a secret, warning expected)
            (0o644, True, True), (0o604, True, True), (0o600, True, False), (0o640, True, False),
            (0o644, False, False)]
        for i, (mode, secret, warn) in enumerate(cases):
            src = self.api_source(api_key=API_KEY) if secret else \
                self.api_source(public=True, export_url=self.emu.url)
            cfg = self.gsheet_config(src, mode=mode, name="c%d.yaml" % i)
            for command in (("check", cfg), ("run", cfg, "--dry-run")):
                res = self.cmd(*command)
                said = "readable by other users" in res.err
                self.assertEqual(said, warn, "mode %o secret=%s %s:\n%r"
                                 % (mode, secret, command[0], res))
                if warn:
                    self.assertIn("chmod o-rwx", res.err, res)
        # a secret through ${VAR} counts too: the file says where the secret lives
        cfg = self.gsheet_config(self.api_source(api_key="${PS_TEST_SHEETS_KEY}"), mode=0o644,
                                 name="env.yaml")
        res = self.cmd("check", cfg, env={"PS_TEST_SHEETS_KEY": API_KEY})
        self.assertIn("readable by other users", res.err, res)
        self.assert_no_secret()

    def test_insecure_skip_tls_verify_warns_every_run(self):
        self.start_emulator()
        cfg = self.gsheet_config(self.api_source(api_key=API_KEY, insecure_skip_tls_verify=True))
        for _ in range(2):
            res = self.cmd("run", cfg)
            self.assertEqual(res.rc, 0, res)
            self.assertIn("insecure_skip_tls_verify", res.err, res)
            self.assertIn("NOT checked", res.err, res)
        res = self.cmd("run", self.gsheet_config(self.api_source(api_key=API_KEY),
                                                 name="secure.yaml"))
        self.assertNotIn("insecure_skip_tls_verify", res.err, res)
        self.assert_no_secret()


if __name__ == "__main__":
    pslib.main()
