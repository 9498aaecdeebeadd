#!/usr/bin/env python3
"""deploy/grafana/bulwark.json against a real Prometheus scraping a real node: every
panel's `expr` is evaluated through /api/v1/query without error, and every bulwark_ metric
it names is one the node exposes (HELP line, or a summary's _sum/_count); the
bulwark_cluster_ figures only a clustered node has are evaluated but not looked for.

Usage: dashboard_test.py --bulwark PATH --dashboard deploy/grafana/bulwark.json
Exit 0: passed; 1: failed; 77: SKIP (no prometheus binary).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from node_metrics_test import free_port, scrape, start_node, stop  # noqa: E402


def exprs_of(dashboard):
    out = []
    for panel in dashboard.get("panels", []):
        for target in panel.get("targets", []):
            if "expr" in target:
                out.append((panel.get("title", "?"), target["expr"]))
    return out


def query(prom_url, expr):
    url = "%s/api/v1/query?%s" % (prom_url, urllib.parse.urlencode({"query": expr}))
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        return json.loads(e.read() or b"{}") or {"status": "error", "error": str(e)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulwark", required=True)
    ap.add_argument("--dashboard", required=True)
    args = ap.parse_args()
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("SKIP: no prometheus binary (scripts/install-deps.sh installs it)")
        return 77
    with open(args.dashboard, encoding="utf-8") as f:
        exprs = exprs_of(json.load(f))
    if not exprs:
        print("FAIL: no expr in", args.dashboard)
        return 1
    work = tempfile.mkdtemp(prefix="bulwark-dashboard-")
    procs = []
    try:
        node, metrics_url = start_node(os.path.abspath(args.bulwark), work)
        procs.append(node)
        text = scrape(metrics_url, node)
        exposed = set(re.findall(r"^# HELP (\w+) ", text, re.M))
        port = free_port()
        prom_url = "http://127.0.0.1:%d" % port
        cfg = os.path.join(work, "prometheus.yml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
                    "scrape_configs: [{job_name: bulwark, static_configs: [{targets: ['%s']}]}]\n"
                    % urllib.parse.urlparse(metrics_url).netloc)
        log = open(os.path.join(work, "prometheus.log"), "wb")
        procs.append(subprocess.Popen(
            [prometheus, "--config.file=" + cfg, "--storage.tsdb.path=" + os.path.join(work, "tsdb"),
             "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        deadline = time.monotonic() + 30
        while True:
            try:
                r = query(prom_url, 'up{job="bulwark"} == 1')
                if r.get("data", {}).get("result"):
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or procs[-1].poll() is not None:
                print("FAIL: Prometheus did not scrape the node within 30 s")
                return 1
            time.sleep(0.2)
        failures = []
        with_data = 0
        for title, expr in exprs:
            for name in re.findall(r"\bbulwark_\w+", expr):
                base = re.sub(r"_(sum|count)$", "", name)
                if name.startswith("bulwark_cluster_"):
                    continue  # a clustered node's figures; this node has no [cluster]
                if name not in exposed and base not in exposed:
                    failures.append("%s: %s is not on the node's /metrics" % (title, name))
            r = query(prom_url, expr)
            if r.get("status") != "success":
                failures.append("%s: %s: %s" % (title, expr, r.get("error", r)))
            elif r["data"]["result"]:
                with_data += 1
        for f in failures:
            print("FAIL:", f)
        if not failures:
            print("ok: %d expressions evaluated without error (%d with data now)"
                  % (len(exprs), with_data))
        return 1 if failures else 0
    finally:
        for p in reversed(procs):
            stop(p)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
