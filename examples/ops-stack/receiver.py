#!/usr/bin/env python3
"""A webhook receiver for the node's notifications: every POST to /hook is appended, as
one JSON line, to the file given; GET /received answers them as a JSON list.

Usage: receiver.py --port N --out FILE
"""
import argparse
import http.server
import json
import threading


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", required=True, type=int)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            if self.path != "/hook":
                self.send_error(404)
                return
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                doc = json.loads(body)
            except ValueError:
                self.send_error(400, "not JSON")
                return
            with lock, open(args.out, "a", encoding="utf-8") as f:
                f.write(json.dumps(doc, sort_keys=True) + "\n")
            self.send_response(204)
            self.end_headers()

        def do_GET(self):
            if self.path != "/received":
                self.send_error(404)
                return
            with lock:
                try:
                    with open(args.out, encoding="utf-8") as f:
                        docs = [json.loads(line) for line in f if line.strip()]
                except FileNotFoundError:
                    docs = []
            body = json.dumps(docs).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
