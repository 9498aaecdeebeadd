#!/usr/bin/env python3
"""A real node's /metrics: every figure is there with HELP and TYPE, and
`promtool check metrics` reports nothing (any finding fails the test). A verified backup
taken while the node runs shows as bulwark_backup_age_seconds.

Usage: node_metrics_test.py --bulwark PATH
Exit 0: passed; 1: failed; 77: SKIP (no promtool binary).
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

FIGURES = [
    "bulwark_incidents_open", "bulwark_incidents_unacknowledged", "bulwark_incidents_overdue",
    "bulwark_incident_mttr_seconds", "bulwark_detection_latency_seconds",
    "bulwark_rollbacks_requested_total",
    "bulwark_rollbacks_finished_total", "bulwark_dead_letters_total", "bulwark_dead_letters_open",
    "bulwark_audit_pending",
    "bulwark_admission_refused_total", "bulwark_quarantined_principals",
    "bulwark_telemetry_shed_total", "bulwark_breaker_window_calls",
    "bulwark_breaker_window_failures", "bulwark_breaker_window_slow_calls",
    "bulwark_breaker_refused_total", "bulwark_approval_oldest_age_seconds",
    "bulwark_approval_next_expiry_seconds", "bulwark_journal_verify_ok",
    "bulwark_backup_age_seconds",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_node(bulwark, work):
    """Starts a node with a one-service simulated fleet; returns (process, metrics URL)."""
    with open(os.path.join(work, "node.toml"), "w", encoding="utf-8") as f:
        f.write('[node]\nid = "metrics-test"\n')
    with open(os.path.join(work, "fleet.toml"), "w", encoding="utf-8") as f:
        f.write('[[resource]]\nid = "web-1"\nservice = "web"\nregion = "eu"\n')
    port = free_port()
    log = open(os.path.join(work, "node.log"), "wb")
    p = subprocess.Popen([bulwark, "node", "--config", os.path.join(work, "node.toml"),
                          "--data", os.path.join(work, "journal"), "--fleet",
                          os.path.join(work, "fleet.toml"), "--simulate", "--console",
                          "127.0.0.1:0", "--metrics", "127.0.0.1:%d" % port, "--http", "off"],
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return p, "http://127.0.0.1:%d/metrics" % port


def stop(p):
    if p.poll() is None:
        p.terminate()
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.wait()


def scrape(url, node, budget=20):
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline:
        if node.poll() is not None:
            raise SystemExit("FAIL: the node exited with %s" % node.returncode)
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.read().decode()
        except OSError:
            time.sleep(0.2)
    raise SystemExit("FAIL: no /metrics within %d s" % budget)


def check_text(text, promtool):
    failures = []
    for name in FIGURES:
        for kind in ("HELP", "TYPE"):
            if "# %s %s " % (kind, name) not in text:
                failures.append("no %s line for %s" % (kind, name))
    out = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                         capture_output=True)
    findings = (out.stdout + out.stderr).decode().strip()
    if out.returncode != 0 or findings:
        failures.append("promtool check metrics (exit %d): %s" % (out.returncode, findings))
    return failures


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulwark", required=True)
    args = ap.parse_args()
    promtool = shutil.which("promtool")
    if promtool is None:
        print("SKIP: no promtool (scripts/install-deps.sh installs Debian's prometheus)")
        return 77
    work = tempfile.mkdtemp(prefix="bulwark-metrics-")
    node = None
    try:
        node, url = start_node(os.path.abspath(args.bulwark), work)
        text = scrape(url, node)
        failures = check_text(text, promtool)
        if "\nbulwark_backup_age_seconds " in text:
            failures.append("a backup age before any backup was taken")
        if '\nbulwark_breaker_window_calls{service="web"} 0' not in text:
            failures.append("no window figures for the breaker of web")
        backup = subprocess.run([os.path.abspath(args.bulwark), "backup", "--data",
                                 os.path.join(work, "journal"), "--out",
                                 os.path.join(work, "backup.mdb")], capture_output=True)
        if backup.returncode != 0:
            failures.append("bulwark backup failed: %s" % backup.stderr.decode())
        text = scrape(url, node)
        failures += check_text(text, promtool)
        if "\nbulwark_backup_age_seconds " not in text:
            failures.append("no bulwark_backup_age_seconds after a verified backup")
        for f in failures:
            print("FAIL:", f)
        if not failures:
            print("ok: %d figures with HELP and TYPE, promtool check metrics clean, "
                  "backup age shown after a backup" % len(FIGURES))
        return 1 if failures else 0
    finally:
        if node is not None:
            stop(node)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
