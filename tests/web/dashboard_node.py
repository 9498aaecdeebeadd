"""A `bulwark node --simulate` on loopback for the dashboard's browser test: a viewer's and
an operator's token, short incident windows, and the HTTP API on a port of its own."""
import hashlib
import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request

# What a refused action must not have journaled (anything but its console_access record).
EFFECTS = {"approval_granted", "approval_denied", "action_started", "action_applied",
           "action_failed", "proposal_finished", "rollback_applied", "rollback_finished",
           "interrupted"}


def sha256(text):
    return hashlib.sha256(text.encode()).hexdigest()


class Node:
    def __init__(self, bulwark, fleet, work, journal=None):
        self.operator = "op-" + secrets.token_hex(16)
        self.viewer = "view-" + secrets.token_hex(16)
        self.work = work
        conf = os.path.join(work, "node.toml")
        with open(conf, "w", encoding="utf-8") as f:
            # One operator proposes and approves in the page: self-approval is allowed here.
            f.write('[node]\nid = "dash-1"\n\n[authority]\nallow_self_approval = true\n\n'
                    '[authority.grants]\n"ops-alice" = 3\n\n'
                    '[incident]\nconfirmation_ms = 3000\nverification_ms = 3000\n'
                    'warmup_samples = 3\n\n'
                    '[http]\nlisten = "127.0.0.1:0"\n\n'
                    '[[console.tokens]]\nsha256 = "%s"\nprincipal = "ops-alice"\nrole = "operator"\n\n'
                    '[[console.tokens]]\nsha256 = "%s"\nprincipal = "val-viewer"\nrole = "viewer"\n'
                    % (sha256(self.operator), sha256(self.viewer)))
        self.log_path = os.path.join(work, "node.log")
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [bulwark, "node", "--config", conf, "--data", journal or os.path.join(work, "journal"),
             "--fleet", fleet, "--simulate", "--console", "127.0.0.1:0", "--metrics", "off"],
            stdout=subprocess.PIPE, stderr=log, start_new_session=True)
        line = self.proc.stdout.readline().decode()
        if "http 127.0.0.1:" not in line:
            self.stop()
            raise RuntimeError("the node did not start: %r\n%s" % (line, self.log_tail()))
        port = int(line.split("http 127.0.0.1:")[1].split()[0].rstrip(","))
        self.base = "http://127.0.0.1:%d" % port
        self.started = time.monotonic()
        # Keep reading its output so the pipe never fills.
        threading.Thread(target=self._drain, daemon=True).start()

    def wait_warm(self, seconds=6.0):
        """Waits until the detector has had its warm-up samples (the simulated world
        reports every second): a bad change made earlier would enter the baseline."""
        left = self.started + seconds - time.monotonic()
        if left > 0:
            time.sleep(left)

    def _drain(self):
        for _ in self.proc.stdout:
            pass

    def api(self, method, path, token, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def head(self):
        return self.api("GET", "/v1/status", self.viewer)[1]["head"]

    def propose_in_background(self, key, resource, value, level=1, service="coaster",
                              setting="firmware"):
        """A change (level 1 waits for an approval, level 3 observes its step); .result is
        the answer."""
        t = threading.Thread(target=lambda: setattr(t, "result", self.api(
            "POST", "/v1/proposals", self.operator,
            {"idempotency_key": key, "level": level, "services": [service], "regions": ["north"],
             "changes": [{"resource": resource, "key": setting, "value": value}],
             "timeout_ms": 120000})[1]), daemon=True)
        t.result = {}
        t.start()
        return t

    def waiting_proposal(self):
        xs = self.api("GET", "/v1/proposals", self.viewer)[1]
        waiting = [x["proposal"] for x in xs if x.get("awaiting_approval")]
        return waiting[0] if waiting else None

    def awaiting(self, digest):
        status, body = self.api("GET", "/v1/proposals/" + digest, self.viewer)
        return status == 200 and body.get("awaiting_approval") is True

    def only_access_since(self, head):
        """Nothing but access-trail records (and no effect at all) after seq `head`."""
        now = self.head()
        if now <= head:
            return True
        events = self.api("GET", "/v1/events?from=%d&to=%d" % (head + 1, now), self.viewer)[1]
        return not [e for e in events["events"] if e["type"] in EFFECTS]

    def incident(self, iid):
        status, body = self.api("GET", "/v1/incidents/" + iid, self.viewer)
        return body if status == 200 else {}

    def log_tail(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-3000:].decode(errors="replace")
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
