"""Starts a CRM API emulator of tests/tools (sparkmeter_emulator.py, angaza_emulator.py) for a
test, as test_gsheet_run.Emulator does for Google Sheets: a random port read from the port
file, the control endpoints for faults, counters and data edits, stopped at the end."""
import json
import os
import subprocess
import sys
import time
import urllib.request

import pslib

TOOLS = os.path.join(pslib.SOURCE_DIR, "tests", "tools")


class Emulator:
    def __init__(self, name, workdir, *args):
        self.port_file = os.path.join(workdir, name + ".port")
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        self.log = open(os.path.join(workdir, name + ".log"), "w")
        self.proc = subprocess.Popen([sys.executable, os.path.join(TOOLS, name + "_emulator.py"),
                                      "--port-file", self.port_file] + [str(a) for a in args],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        for _ in range(200):
            if os.path.exists(self.port_file):
                break
            if self.proc.poll() is not None:
                raise RuntimeError("emulator exited with %s" % self.proc.returncode)
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d" % self.port

    def _post(self, path, obj):
        req = urllib.request.Request(self.url + path, data=json.dumps(obj).encode(),
                                     method="POST")
        with urllib.request.urlopen(req) as r:
            return json.load(r)

    def stats(self):
        with urllib.request.urlopen(self.url + "/_control/stats") as r:
            return json.load(r)

    def counts(self):
        return self.stats()["counts"]

    def faults(self, faults):
        self._post("/_control/faults", faults)

    def reset(self):
        self._post("/_control/reset", {})

    def data(self, add=(), update=()):
        self._post("/_control/data", {"add": list(add), "update": list(update)})

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
