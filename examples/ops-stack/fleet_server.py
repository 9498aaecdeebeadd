#!/usr/bin/env python3
"""One instance of the example fleet: keeps its `release` setting in a file and serves
Prometheus text on /metrics. It takes about 100 requests a second; 1 % of them fail,
40 % while it runs the broken release.

Usage: fleet_server.py --port N --state DIR --resource ID --service S --region R
"""
import argparse
import http.server
import os
import threading
import time

BROKEN = "v2-broken"
DEFAULT = "v1.0"
REQUESTS_PER_SECOND = 100.0


class Instance:
    def __init__(self, args):
        self.args = args
        self.path = os.path.join(args.state, args.resource + ".release")
        self.lock = threading.Lock()
        self.requests = 0.0
        self.errors = 0.0
        self.last = time.monotonic()

    def release(self):
        try:
            with open(self.path, encoding="utf-8") as f:
                return f.read().strip() or DEFAULT
        except FileNotFoundError:
            return DEFAULT

    def metrics(self):
        release = self.release()
        share = 0.40 if release == BROKEN else 0.01
        with self.lock:
            now = time.monotonic()
            served = REQUESTS_PER_SECOND * (now - self.last)
            self.last = now
            self.requests += served
            self.errors += served * share
            requests, errors = self.requests, self.errors
        labels = 'service="%s",region="%s",instance_id="%s"' % (
            self.args.service, self.args.region, self.args.resource)
        return (
            "# HELP http_requests_total Requests served.\n"
            "# TYPE http_requests_total counter\n"
            "http_requests_total{%s} %.3f\n"
            "# HELP http_errors_total Requests that failed.\n"
            "# TYPE http_errors_total counter\n"
            "http_errors_total{%s} %.3f\n"
            "# HELP fleet_release_info The release this instance runs.\n"
            "# TYPE fleet_release_info gauge\n"
            'fleet_release_info{%s,release="%s"} 1\n'
        ) % (labels, requests, labels, errors, labels, release)


def main():
    p = argparse.ArgumentParser()
    for name in ("--port", "--state", "--resource", "--service", "--region"):
        p.add_argument(name, required=True)
    args = p.parse_args()
    instance = Instance(args)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            body = instance.metrics().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(args.port)), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
