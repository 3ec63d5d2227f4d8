"""What the CRM API emulators (sparkmeter_emulator.py, angaza_emulator.py) share, in the
conventions of gsheet_emulator.py: 127.0.0.1 on a random port written to --port-file (and
printed), faults from --fault WHEN:KIND[:COUNT[:SKIP]] or POST /_control/faults (a JSON list of
{"when", "kind", "count", "skip"}; the first SKIP matching requests pass, the next COUNT (default
1, -1 = forever) get the fault), GET /_control/stats ({"counts": {kind: n, "total": n,
"fault:KIND": n}, "log": [request lines]}), POST /_control/reset (faults and counters, not the
data) and POST /_control/data (the emulator's own edits: add and update records).

Exact numbers: a value written {"number": "1500.50"} in the data is sent as the bare JSON number
1500.50, so tests control whether an amount arrives as a string or a number."""
import datetime
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def parse_ts(s):
    """An ISO 8601 text (Z, offsets, a date alone) as an aware datetime."""
    s = s.strip().replace(" ", "T")
    if s.endswith("Z") or s.endswith("z"):
        s = s[:-1] + "+00:00"
    if len(s) == 10:
        s += "T00:00:00+00:00"
    d = datetime.datetime.fromisoformat(s)
    if d.tzinfo is None:
        d = d.replace(tzinfo=datetime.timezone.utc)
    return d


def render(obj):
    """JSON bytes; {"number": "1500.50"} values become the bare number 1500.50."""
    def conv(o):
        if isinstance(o, dict):
            if set(o) == {"number"}:
                return "\x00NUM%s\x00" % o["number"]
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, list):
            return [conv(v) for v in o]
        return o
    text = json.dumps(conv(obj), ensure_ascii=False)
    out, i = [], 0
    while True:
        j = text.find('"\\u0000NUM', i)
        if j < 0:
            out.append(text[i:])
            break
        k = text.find('\\u0000"', j + 10)
        out.append(text[i:j])
        out.append(text[j + 10:k])
        i = k + 7
    return "".join(out).encode()


class State:
    """Faults, counters and the request log, shared by the handler threads."""

    def __init__(self, args, data):
        self.args = args
        self.lock = threading.Lock()
        self.data = data
        self.faults = []
        self.counts = {}
        self.log = []
        self.revoked = False  # the `expire` fault: credentials stop working until reset
        self.inserted = 0
        self.window = []  # request times for --burst-limit
        for f in args.fault or []:
            w, k, *rest = f.split(":")
            self.add_fault({"when": w, "kind": k, "count": int(rest[0]) if rest else 1,
                            "skip": int(rest[1]) if len(rest) > 1 else 0})

    def add_fault(self, spec):
        self.faults.append({"when": spec.get("when", "any"), "kind": str(spec["kind"]),
                            "count": int(spec.get("count", 1)), "skip": int(spec.get("skip", 0))})

    def take_fault(self, kind):
        with self.lock:
            for f in self.faults:
                if f["when"] not in (kind, "any") or f["count"] == 0:
                    continue
                if f["skip"] > 0:
                    f["skip"] -= 1
                    continue
                if f["count"] > 0:
                    f["count"] -= 1
                self.counts["fault:" + f["kind"]] = self.counts.get("fault:" + f["kind"], 0) + 1
                return f["kind"]
        return None

    def count(self, kind, line):
        with self.lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.counts["total"] = self.counts.get("total", 0) + 1
            self.log.append(line)

    def over_burst(self):
        """--burst-limit N/S: True when this request is the N+1th within S real seconds."""
        lim = getattr(self.args, "burst_limit", None)
        if not lim:
            return False
        n, secs = (float(x) for x in lim.split("/"))
        now = time.monotonic()
        with self.lock:
            self.window = [t for t in self.window if now - t < secs]
            if len(self.window) >= n:
                return True
            self.window.append(now)
        return False


class BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *a):
        if self.server.state.args.verbose:
            sys.stderr.write("emulator: " + (fmt % a) + "\n")

    def send(self, status, body, headers=None, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def send_json(self, obj, status=200, headers=None):
        self.send(status, render(obj), headers)

    def body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def transport_fault(self, f):
        """The faults every emulator answers alike, whatever its API: `stall` sends nothing for
        --stall-seconds and then closes; `503wait` answers 503 with Retry-After:
        --stall-seconds (a long wait before the retry). True when f was one of them."""
        secs = self.server.state.args.stall_seconds
        if f == "stall":
            time.sleep(secs)
            self.close_connection = True
            return True
        if f == "503wait":
            self.send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                      {"Retry-After": "%d" % secs}, ctype="text/html")
            return True
        return False

    def send_page(self, pending, body):
        """A 200 answer, cut in half under the `truncate` fault."""
        if pending == "truncate":
            return self.send(200, body[: len(body) // 2])
        return self.send(200, body)

    def control(self, path, raw):
        """Handles POST /_control/*; True when it did."""
        st = self.server.state
        if path == "/_control/faults":
            with st.lock:
                st.faults = []
            for spec in json.loads(raw or b"[]"):
                st.add_fault(spec)
        elif path == "/_control/reset":
            with st.lock:
                st.faults, st.counts, st.log, st.revoked = [], {}, [], False
        elif path == "/_control/data":
            self.edit_data(json.loads(raw or b"{}"))
        else:
            return False
        self.send_json({"ok": True})
        return True

    def control_get(self, path):
        st = self.server.state
        if path != "/_control/stats":
            return False
        with st.lock:
            self.send(200, json.dumps({"counts": st.counts, "log": st.log}).encode())
        return True


def serve(args, handler, state):
    srv = ThreadingHTTPServer(("127.0.0.1", args.port), handler)
    srv.daemon_threads = True
    srv.state = state
    port = srv.server_address[1]
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(str(port))
        os.replace(tmp, args.port_file)
    print(port, flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


def common_args(ap):
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file")
    ap.add_argument("--data", help="JSON file with the emulator's records")
    ap.add_argument("--fault", action="append", help="WHEN:KIND[:COUNT[:SKIP]]")
    ap.add_argument("--stall-seconds", type=float, default=30,
                    help="how long the stall and 503wait faults last")
    ap.add_argument("--verbose", action="store_true")
