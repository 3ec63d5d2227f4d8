#!/usr/bin/env python3
"""A small HTTP server with faults, for the host HTTP client's unit tests
(tests/unit/http/test_http_client.c). Stdlib only; listens on 127.0.0.1 and a random port,
printed as "PORT n" on the first line of stdout. Exits when its stdin closes (the test that
started it ended), so it never outlives the test.

Routes (GET, POST and the other methods alike; the query says what to do):
    /ok                         200 text/plain "hello"
    /echo                       200 (or ?code=N) with the request line and headers as body
    /fail?key=K&code=C&times=N  the first N requests with key K answer C (default 503) with
                                a short body, later ones 200 "ok after N"; N=-1: forever.
                                &retry_after=V adds "Retry-After: V" to the failures
    /reset?key=K&times=N        the first N requests with key K get a TCP RST (SO_LINGER 0)
                                before any answer, later ones 200
    /slow?secs=S                200 with Content-Length 10: 1 byte, S seconds of silence,
                                then the rest
    /big?bytes=N[&chunked=1]    200 with N bytes of "x" (chunked: no Content-Length)
    /count?key=K                200 with the number of requests seen with key K
"""
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

COUNTS = {}
LOCK = threading.Lock()


def bump(key):
    with LOCK:
        COUNTS[key] = COUNTS.get(key, 0) + 1
        return COUNTS[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def send(self, code, body, ctype="text/plain", extra=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def handle_any(self):
        u = urllib.parse.urlsplit(self.path)
        q = dict(urllib.parse.parse_qsl(u.query, keep_blank_values=True))
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        key = q.get("key", "")
        if u.path == "/ok":
            return self.send(200, "hello")
        if u.path == "/echo":
            lines = [self.requestline] + ["%s: %s" % kv for kv in self.headers.items()]
            return self.send(int(q.get("code", 200)), "\n".join(lines))
        if u.path == "/count":
            with LOCK:
                return self.send(200, str(COUNTS.get(q.get("of", ""), 0)))
        if u.path == "/fail":
            seen = bump(key)
            times = int(q.get("times", 1))
            if times < 0 or seen <= times:
                extra = [("Retry-After", q["retry_after"])] if "retry_after" in q else []
                return self.send(int(q.get("code", 503)), "failure %d of %s" % (seen, key),
                                 extra=extra)
            return self.send(200, "ok after %d" % times)
        if u.path == "/reset":
            seen = bump(key)
            times = int(q.get("times", 1))
            if times < 0 or seen <= times:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True
                return None
            return self.send(200, "ok after reset")
        if u.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.write(b"x")
            self.wfile.flush()
            time.sleep(float(q.get("secs", 5)))
            try:
                self.wfile.write(b"xxxxxxxxx")
            except OSError:
                pass
            return None
        if u.path == "/big":
            size = int(q.get("bytes", 0))
            if q.get("chunked"):
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                left = size
                try:
                    while left > 0:
                        k = min(left, 4096)
                        self.wfile.write(b"%x\r\n" % k + b"x" * k + b"\r\n")
                        left -= k
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass
                return None
            return self.send(200, b"x" * size)
        return self.send(404, "no route %s" % u.path)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients hang up on purpose (timeouts, oversized bodies, TLS to plain HTTP)


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    print("PORT %d" % srv.server_address[1], flush=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    sys.stdin.read()  # returns when the test closes our stdin or dies


if __name__ == "__main__":
    main()
