#!/usr/bin/env python3
"""The whole loop on real parts: a small fleet (fleet_server.py) scraped by a real
Prometheus, a `bulwark node` with an exec effector for the fleet (apply_release.py), the
`prometheus` signal source and an HTTP API, and a scripted agent. The agent makes a good
change and a bad one; the script checks that the anomaly is detected from Prometheus,
that root-cause analysis names the bad change, that the rollback runs through the exec
effector and restores the fleet's setting, that the incident closes with its MTTR, and
(with notifications switched on) that the webhook receiver got the notifications.

Usage: run_stack.py --bulwark PATH [--narrate] [--keep]
Exit 0: every check held; 1: a check failed; 77: SKIP (no prometheus binary).
Everything it starts is stopped at the end, also on failure or SIGTERM.
"""
import argparse
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))

FLEET = [  # resource, service, region
    ("web-eu-1", "web", "eu"),
    ("web-eu-2", "web", "eu"),
    ("web-us-1", "web", "us"),
    ("web-us-2", "web", "us"),
]
ERROR_RATE = ('sum(rate(http_errors_total{service="{{service}}",region="{{region}}"}[5s])) / '
              'sum(rate(http_requests_total{service="{{service}}",region="{{region}}"}[5s]))')
BUDGET_S = 60  # the loop, from the bad change to the incident's close


class Failed(Exception):
    pass


class Stack:
    def __init__(self, bulwark, narrate, keep):
        self.bulwark = bulwark
        self.narrate_on = narrate
        self.keep = keep
        self.work = tempfile.mkdtemp(prefix="bulwark-ops-stack-")
        self.procs = []  # (name, Popen), stopped newest first
        self.token = secrets.token_hex(32)

    # -- helpers ---------------------------------------------------------------------

    def say(self, text):
        if self.narrate_on:
            print(text, flush=True)

    def log(self, text):
        if not self.narrate_on:
            print("ops-stack: " + text, flush=True)

    def check(self, ok, what):
        if not ok:
            raise Failed(what)
        self.log("ok: " + what)

    @staticmethod
    def free_port():
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def start(self, name, argv, **kw):
        out = open(os.path.join(self.work, name + ".log"), "wb")
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True, **kw)
        self.procs.append((name, p))
        return p

    def stop_all(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.terminate()
        for name, p in reversed(self.procs):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.procs.clear()
        if not self.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def get(self, url, token=None, timeout=5):
        req = urllib.request.Request(url)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())

    def api(self, method, path, body=None, timeout=30):
        req = urllib.request.Request(self.node_url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Authorization", "Bearer " + self.token)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise Failed("%s %s: HTTP %d %s" % (method, path, e.code, e.read().decode()))

    def wait_for(self, what, probe, budget):
        deadline = time.monotonic() + budget
        last = None
        while time.monotonic() < deadline:
            for name, p in self.procs:
                if p.poll() is not None:
                    raise Failed("%s exited with %s while waiting for %s (see %s.log)"
                                 % (name, p.returncode, what, name))
            try:
                got = probe()
                if got:
                    return got
            except (OSError, ValueError, urllib.error.URLError) as e:
                last = e
            time.sleep(0.2)
        raise Failed("%s: not within %d s (last error: %s)" % (what, budget, last))

    def promql(self, expr):
        url = "%s/api/v1/query?%s" % (self.prom_url, urllib.parse.urlencode({"query": expr}))
        return self.get(url)["data"]["result"]

    def release(self, resource):
        try:
            with open(os.path.join(self.state, resource + ".release"), encoding="utf-8") as f:
                return f.read().strip()
        except FileNotFoundError:
            return "v1.0 (default)"

    # -- the parts -------------------------------------------------------------------

    def start_fleet(self):
        self.state = os.path.join(self.work, "fleet-state")
        os.makedirs(self.state)
        self.fleet_ports = []
        for resource, service, region in FLEET:
            port = self.free_port()
            self.fleet_ports.append(port)
            self.start(resource, [sys.executable, os.path.join(HERE, "fleet_server.py"),
                                  "--port", str(port), "--state", self.state,
                                  "--resource", resource, "--service", service,
                                  "--region", region])
        self.say("fleet: %d instances of web (eu, us) serving /metrics, each keeping its "
                 "release in a file" % len(FLEET))

    def start_prometheus(self, prometheus):
        port = self.free_port()
        self.prom_url = "http://127.0.0.1:%d" % port
        targets = ", ".join("'127.0.0.1:%d'" % p for p in self.fleet_ports)
        cfg = os.path.join(self.work, "prometheus.yml")
        with open(cfg, "w", encoding="utf-8") as f:
            f.write("global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n"
                    "scrape_configs: [{job_name: fleet, static_configs: [{targets: [%s]}]}]\n"
                    % targets)
        promtool = shutil.which("promtool")
        if promtool:
            subprocess.run([promtool, "check", "config", cfg], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.start("prometheus", [prometheus, "--config.file=" + cfg,
                                  "--storage.tsdb.path=" + os.path.join(self.work, "tsdb"),
                                  "--storage.tsdb.retention.time=1h",
                                  "--web.listen-address=127.0.0.1:%d" % port,
                                  "--log.level=warn"])
        self.say("prometheus: %s scraping them every second" % self.prom_url)
        started = time.monotonic()
        self.wait_for("every fleet target up in Prometheus", lambda: any(
            float(r["value"][1]) == len(FLEET)
            for r in self.promql('count(up{job="fleet"} == 1)')), 30)
        self.wait_for("an error rate for web/eu", lambda: self.promql(
            ERROR_RATE.replace("{{service}}", "web").replace("{{region}}", "eu")), 20)
        self.say("prometheus: every target scraped, error rates queryable after %.1f s"
                 % (time.monotonic() - started))

    def start_receiver(self):
        self.receiver_port = self.free_port()
        self.start("receiver", [sys.executable, os.path.join(HERE, "receiver.py"),
                                "--port", str(self.receiver_port),
                                "--out", os.path.join(self.work, "received.jsonl")])

    def write_node_config(self):
        fleet = os.path.join(self.work, "fleet.toml")
        with open(fleet, "w", encoding="utf-8") as f:
            for resource, service, region in FLEET:
                f.write('[[resource]]\nid = "%s"\nservice = "%s"\nregion = "%s"\n'
                        'attributes = { release = "v1.0" }\n\n' % (resource, service, region))
        self.http_port = self.free_port()
        self.node_url = "http://127.0.0.1:%d" % self.http_port
        with open(os.path.join(HERE, "bulwark.toml.in"), encoding="utf-8") as f:
            text = f.read()
        digest = hashlib.sha256(self.token.encode()).hexdigest()
        for key, value in {"@HTTP_PORT@": str(self.http_port),
                           "@PROMETHEUS@": self.prom_url,
                           "@ERROR_RATE@": ERROR_RATE,
                           "@TOKEN_SHA256@": digest,
                           "@APPLY@": os.path.join(HERE, "apply_release.py"),
                           "@FLEET_STATE@": self.state}.items():
            text = text.replace(key, value)
        with open(os.path.join(HERE, "notifications.toml.in"), encoding="utf-8") as f:
            text += "\n" + f.read().replace("@RECEIVER_PORT@", str(self.receiver_port))
        config = os.path.join(self.work, "bulwark.toml")
        with open(config, "w", encoding="utf-8") as f:
            f.write(text)
        return config, fleet

    def start_node(self):
        config, fleet = self.write_node_config()
        self.data = os.path.join(self.work, "journal")
        self.node = self.start("node", [self.bulwark, "node", "--config", config, "--data",
                                        self.data, "--fleet", fleet, "--console",
                                        "127.0.0.1:0", "--metrics", "off"])
        self.wait_for("the node's HTTP API", lambda: self.get(self.node_url + "/healthz"), 20)
        self.say("node: bulwark node on %s, the prometheus source asking %s every second, "
                 "an exec effector for web" % (self.node_url, self.prom_url))

    def signals(self):
        return self.api("GET", "/v1/status").get("signals")

    # -- the scenario ----------------------------------------------------------------

    def propose(self, key, region, resource, value):
        return self.api("POST", "/v1/proposals", {
            "idempotency_key": key, "level": 4, "services": ["web"], "regions": [region],
            "changes": [{"resource": resource, "key": "release", "value": value}],
            "justification": "rollout by the scripted agent"})

    def events(self):
        """Every journaled event, page by page (GET /v1/events)."""
        start = 1
        while start is not None:
            page = self.api("GET", "/v1/events?from=%d" % start)
            yield from page["events"]
            start = page.get("next")

    def applied_seqs(self, proposal):
        return [e["seq"] for e in self.events()
                if e.get("type") == "action_applied" and proposal in json.dumps(e)]

    def run(self):
        self.start_fleet()
        self.start_prometheus(self.prometheus)
        self.start_receiver()
        self.start_node()
        # The detector's baselines warm up on the first samples from Prometheus.
        sig = self.wait_for("every series with data from Prometheus, baselines warm", lambda: (
            lambda s: s if s and s["samples"] >= 4 * len({(sv, rg) for _, sv, rg in FLEET})
            and all(x["detection"] == "ok" for x in s["series"]) else None)(self.signals()), 30)
        self.check(sig["reachable"] and sig["failed_rounds"] == 0,
                   "the node reaches Prometheus: %d rounds, %d samples, detection ok for %s"
                   % (sig["rounds"], sig["samples"],
                      ", ".join("%s/%s" % (x["service"], x["region"]) for x in sig["series"])))
        self.say("detection: %s" % ", ".join(
            "%s/%s error rate %.3f" % (x["service"], x["region"], x["error_rate"])
            for x in sig["series"]))

        good = self.propose("agent-good-1", "us", "web-us-1", "v1.1")
        self.check(good.get("status") == "succeeded" and good.get("applied") == 1,
                   "the agent's good change (web-us-1 release v1.1, level 4) succeeded")
        self.check(self.release("web-us-1") == "v1.1",
                   "the exec effector wrote web-us-1's release: v1.1")
        self.say("agent: web-us-1 -> v1.1 (level 4): %s, the file says %s"
                 % (good["status"], self.release("web-us-1")))
        time.sleep(2)
        bad = self.propose("agent-bad-1", "eu", "web-eu-2", "v2-broken")
        changed_at = time.monotonic()
        self.check(bad.get("status") == "succeeded" and self.release("web-eu-2") == "v2-broken",
                   "the agent's bad change (web-eu-2 release v2-broken) was applied")
        self.say("agent: web-eu-2 -> v2-broken (level 4): %s; its instance now fails 40 %% of "
                 "its requests" % bad["status"])

        def incident(status=None):
            doc = self.api("GET", "/v1/incidents")
            for i in doc["incidents"]:
                if i["service"] == "web" and i["region"] == "eu" and (
                        status is None or i["status"] == status):
                    return i
            return None

        opened = self.wait_for("an incident for web/eu", incident, BUDGET_S)
        self.say("detector: web/eu error rate over its threshold, confirmed after %.1f s: "
                 "incident %s... opened (%s)" % (time.monotonic() - changed_at,
                                                 opened["incident"][:12], opened["severity"]))
        bad_seqs = self.applied_seqs(bad["proposal"])
        good_seqs = self.applied_seqs(good["proposal"])
        self.check(bad_seqs and sorted(opened["culprits"]) == sorted(bad_seqs),
                   "root-cause analysis names the bad change: culprits %s are its applied "
                   "actions" % opened["culprits"])
        self.check(not set(good_seqs) & set(opened["culprits"]),
                   "the good change (seq %s) is not a culprit" % good_seqs)
        self.say("rca: culprit seq %s, the action of proposal %s... (v2-broken on web-eu-2)"
                 % (opened["culprits"], bad["proposal"][:12]))
        closed = self.wait_for("the incident closed as recovered",
                               lambda: incident("recovered"), BUDGET_S)
        loop_s = time.monotonic() - changed_at
        self.check(self.release("web-eu-2") in ("v1.0", "v1.0 (default)"),
                   "the rollback ran through the exec effector: web-eu-2's release is "
                   + self.release("web-eu-2"))
        self.check(self.release("web-us-1") == "v1.1", "the good change stands: web-us-1 v1.1")
        self.say("rollback: web-eu-2's release restored to %s by apply_release.py (level 4, "
                 "no person)" % self.release("web-eu-2"))
        self.check(closed["mttr_ms"] > 0, "the incident closed with its MTTR: %d ms"
                   % closed["mttr_ms"])
        self.say("incident: recovered, verified from Prometheus; MTTR %.1f s (the whole loop "
                 "%.1f s after the bad change)" % (closed["mttr_ms"] / 1000.0, loop_s))
        types = [e.get("type") for e in self.events()]
        for t in ("candidate_raised", "incident_opened", "rollback_requested",
                  "rollback_applied", "rollback_finished", "incident_closed"):
            self.check(t in types, "the journal holds %s" % t)
        sig = self.signals()
        self.check(sig["reachable"] and all(x["detection"] == "ok" for x in sig["series"]),
                   "the source still reads every series")
        self.check_metrics()
        self.check_notifications()
        return loop_s, closed

    def check_metrics(self):
        """The node's /metrics shows the source's series, and promtool accepts the text."""
        with urllib.request.urlopen(self.node_url + "/metrics", timeout=5) as r:
            text = r.read()
        for region in ("eu", "us"):
            line = 'bulwark_signal_series_no_data{service="web",region="%s"} 0' % region
            self.check(line.encode() in text, "/metrics shows " + line)
        self.check(b"bulwark_signal_failed_rounds 0" in text,
                   "/metrics shows bulwark_signal_failed_rounds 0")
        promtool = shutil.which("promtool")
        if promtool:
            out = subprocess.run([promtool, "check", "metrics"], input=text,
                                 capture_output=True)
            # 0: clean; 3: lint findings only (names the node already used); 1: parse error
            self.check(out.returncode in (0, 3) and b"bulwark_signal" not in out.stderr,
                       "promtool check metrics parses the node's /metrics (exit %d)"
                       % out.returncode)

    def check_notifications(self):
        def received():
            docs = self.get("http://127.0.0.1:%d/received" % self.receiver_port)
            kinds = [d.get("kind") for d in docs]
            return docs if "incident_opened" in kinds and "incident_closed" in kinds else None

        docs = self.wait_for("the receiver's incident_opened and incident_closed", received, 15)
        for d in docs:
            self.check(isinstance(d.get("seq"), int) and isinstance(d.get("event"), dict)
                       and "node" in d, "notification %s carries seq, event and node"
                       % d.get("kind"))
        self.say("notifications: the receiver got %s" % ", ".join(d["kind"] for d in docs))

    def verify(self):
        out = subprocess.run([self.bulwark, "verify", "--data", self.data],
                             capture_output=True, text=True)
        self.check(out.returncode == 0, "the journal verifies: " + out.stdout.strip())
        self.say("journal: " + out.stdout.strip())


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bulwark", required=True, help="the bulwark program")
    p.add_argument("--narrate", action="store_true", help="tell the story for a person")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    prometheus = shutil.which("prometheus")
    if prometheus is None:
        print("SKIP: no prometheus binary (Debian: apt-get install prometheus, or "
              "scripts/install-deps.sh)")
        return 77
    stack = Stack(os.path.abspath(args.bulwark), args.narrate, args.keep)
    stack.prometheus = prometheus
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        loop_s, _ = stack.run()
        stack.node.terminate()  # a clean stop, then the journal is verified
        stack.node.wait(timeout=20)
        stack.verify()
        print("ops-stack: PASS: bad change to closed incident in %.1f s" % loop_s)
        return 0
    except Failed as e:
        print("ops-stack: FAIL: %s (logs in %s)" % (e, stack.work), file=sys.stderr)
        stack.keep = True
        return 1
    finally:
        stack.stop_all()


if __name__ == "__main__":
    sys.exit(main())
