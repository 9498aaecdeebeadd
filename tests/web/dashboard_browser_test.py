#!/usr/bin/env python3
"""The web dashboard in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by python3-selenium) against a real node with --simulate.

A viewer and an operator sign in with tokens. A waiting level-1 proposal shows; the
viewer's approve, an approve without a token and an approve of a rollback that already
finished are refused with the node's error in the page, and nothing changes; the
operator approves by keyboard and sees the proposal succeed; the bad firmware opens an
incident, which the operator acknowledges, notes and re-rates from the page; its rollback
(approved by another operator) brings recovery, shown with the MTTR; the operator
reopens, resolves and closes it from the page. A level-3 flight
shows its step and observation window and is interrupted. The journal browser
sends its filters as query parameters and shows the node's refusal. First paint and the
first data are read from the browser's performance API.

Usage: dashboard_browser_test.py --bulwark PATH --fleet FLEET.toml --out DIR
       [--journal DIR]   (measure first paint only, over an existing journal)
Screenshots go to DIR (01-signin.png ... 10-journal.png), figures to DIR/figures.json.
Exit 0: passed; 1: failed; 77: SKIP (no chromium, chromedriver or python3-selenium).
"""
import re
import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import time

# Debian's python3-selenium is on the system interpreter's path; another python3 first on
# PATH (a virtualenv, pyenv) does not see it.
try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
except ImportError:
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3") and not os.environ.get("BULWARK_REEXEC"):
        os.environ["BULWARK_REEXEC"] = "1"
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("SKIP: no python3-selenium (scripts/install-deps.sh installs it)")
    sys.exit(77)

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import dashboard_node as dn  # noqa: E402


class Failure(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok:", what)


def browser(out):
    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"
    if chromium is None or not os.path.exists(driver_path):
        print("SKIP: no chromium or chromedriver (scripts/install-deps.sh installs them)")
        sys.exit(77)
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1366,900", "--no-first-run", "--disable-extensions",
              "--disable-background-networking", "--user-data-dir=" + os.path.join(out, "profile")):
        opts.add_argument(a)
    service = webdriver.ChromeService(executable_path=driver_path) \
        if hasattr(webdriver, "ChromeService") else \
        __import__("selenium.webdriver.chrome.service", fromlist=["Service"]).Service(driver_path)
    return webdriver.Chrome(service=service, options=opts)


def wait(what, fn, budget=30.0, step=0.2):
    deadline = time.monotonic() + budget
    last = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as e:  # an element re-rendered under us: look again
            last = e
        time.sleep(step)
    raise Failure("timed out waiting for %s (last: %r)" % (what, last))


class Page:
    def __init__(self, drv, base, out):
        self.d, self.base, self.out, self.shots = drv, base, out, []

    def shot(self, name):
        """The whole page (beyond the window) as a PNG, through the DevTools protocol."""
        path = os.path.join(self.out, name)
        try:
            size = self.d.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
            png = self.d.execute_cdp_cmd("Page.captureScreenshot", {
                "format": "png", "captureBeyondViewport": True,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                         "scale": 1}})["data"]
            with open(path, "wb") as f:
                f.write(base64.b64decode(png))
        except Exception:  # the window alone, then
            self.d.save_screenshot(path)
        self.shots.append(path)

    def find(self, css):
        return self.d.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.d.find_elements(By.CSS_SELECTOR, css)

    def text(self, css):
        """The element's text, looked up again if a refresh replaced it meanwhile."""
        return wait("the text of " + css, lambda: self.find(css).text or " ", budget=10)

    def errors(self):
        return [e.text for e in self.finds("#messages .error")]

    def dismiss_errors(self):
        self.d.execute_script("document.getElementById('messages').textContent = '';")

    def wait_error(self, needle, budget=15):
        return wait("an error naming %r" % needle,
                    lambda: [t for t in self.errors() if needle in t], budget)

    def sign_in(self, token):
        if self.find("#signout-form").is_displayed():
            self.find("#signout").click()
        field = wait("the token field", lambda: self.find("#token").is_displayed() and
                     self.find("#token"))
        field.click()
        field.send_keys(token, Keys.ENTER)  # the keyboard alone signs in

    def wait_board(self):
        wait("the board", lambda: self.find("#board").is_displayed() and
             self.find("body").get_attribute("data-ready") == "true")

    def approve_button(self, digest):
        return self.find('button.approve[data-proposal="%s"]' % digest)

    def press(self, what, css, keyboard=False):
        """Clicks (or focuses and presses Enter on) the element, looking it up again if a
        refresh replaced it before the click reached it."""
        def go():
            e = self.find(css)
            if keyboard:
                e.send_keys(Keys.ENTER)
            else:
                e.click()
            return True
        wait(what, go, budget=15)

    def approve(self, digest, keyboard=False):
        self.press("the approve button of " + digest[:12],
                   'button.approve[data-proposal="%s"]' % digest, keyboard)

    def incident(self):
        cards = self.finds("article.incident")
        return cards[0] if cards else None


def unlabelled(page):
    """Form fields without a label: every input and select needs one."""
    return page.d.execute_script("""
        return Array.from(document.querySelectorAll('input, select')).filter(function (x) {
          if (x.type === 'hidden') return false;
          if (x.getAttribute('aria-label')) return false;
          if (x.labels && x.labels.length) return false;
          return true;
        }).map(function (x) { return x.id || x.name || x.outerHTML.slice(0, 60); });""")


def first_paint(page):
    return page.d.execute_script("""
        var p = performance.getEntriesByName('first-contentful-paint')[0];
        var m = performance.getEntriesByName('bulwark-first-data')[0];
        var n = performance.getEntriesByType('navigation')[0];
        return {first_contentful_paint_ms: p ? p.startTime : null,
                first_data_ms: m ? m.startTime : null,
                dom_content_loaded_ms: n ? n.domContentLoadedEventEnd : null};""")


def measure(page, token):
    """Loads the page signed in (token already in this tab) and reads the figures."""
    page.d.get(page.base + "/ui/")
    page.wait_board()
    return first_paint(page)


def scenario(page, node):
    api, base = node.api, page.base
    d = page.d
    # -- the page, from the node only --------------------------------------------------
    d.get(base + "/")
    wait("the page at /ui/", lambda: d.current_url.endswith("/ui/"))
    check(d.title == "Bulwark dashboard", "GET / leads to the dashboard page")
    foreign = d.execute_script("""return performance.getEntriesByType('resource')
        .map(function (r) { return r.name; })
        .filter(function (n) { return n.indexOf(location.origin + '/') !== 0; });""")
    check(foreign == [], "every file the page loads comes from the node (%s)" % foreign)
    check(unlabelled(page) == [], "every form field of the sign-in page has a label")
    page.shot("01-signin.png")

    # -- a bad token: refused in the page ------------------------------------------------
    page.sign_in("not-a-token")
    page.wait_error("HTTP 401 AUTHORITY_DENIED")
    check(page.find("#signin").is_displayed(), "a bad token leaves the page signed out")
    page.shot("02-bad-token.png")
    page.dismiss_errors()

    # -- a viewer sees a waiting proposal -------------------------------------------------
    page.sign_in(node.viewer)
    page.wait_board()
    check("normal" in page.text("#ov-degradation"), "the overview shows the degradation level")
    check("seq" in page.text("#ov-head"), "the overview shows the journal head")
    check(page.text("#ov-verified") != "", "the overview shows the last verification")
    check("not halted" in page.text("#ov-halt"), "the overview shows the halt state")
    check("single node" in page.text("#ov-cluster"), "the overview shows the cluster role")
    check(re.search(r"\b[0-9a-f]{64}\b", page.text("#ov-policy")) is not None,
          "the overview shows the policy version (a whole digest)")
    check(len(page.finds("#breakers-table tbody tr")) == 5, "the breakers of the fleet's 5 services show")
    check(unlabelled(page) == [], "every form field of the board has a label")
    proposer = node.propose_in_background("fw-1", "coaster-north-01", "2.0.0-rc1")
    digest = wait("the waiting proposal", node.waiting_proposal)
    wait("the proposal in the page (live update)", lambda: page.approve_button(digest))
    page.shot("03-waiting.png")

    # -- refused: a viewer's approve -----------------------------------------------------
    head = node.head()
    page.approve(digest)
    page.wait_error("Approve proposal %s: HTTP 403 AUTHORITY_DENIED: approve needs the operator role"
                    % digest[:12])
    check(node.awaiting(digest) and node.only_access_since(head),
          "a viewer's approve changes nothing (the proposal still waits; only the access trail grew)")
    page.shot("04-viewer-refused.png")
    page.dismiss_errors()

    # -- refused: an approve without a token (another tab signed out) ---------------------
    page.sign_in(node.operator)
    page.wait_board()
    wait("the proposal for the operator", lambda: page.approve_button(digest))
    d.execute_script("sessionStorage.removeItem('bulwark.token');")
    head = node.head()
    page.approve(digest)
    page.wait_error("Approve proposal %s: HTTP 401 AUTHORITY_DENIED" % digest[:12])
    check(node.awaiting(digest) and node.only_access_since(head),
          "an approve without a token changes nothing")
    page.dismiss_errors()

    # -- the operator approves, by keyboard, and sees it succeed --------------------------
    page.sign_in(node.operator)
    page.wait_board()
    wait("the approve button", lambda: page.approve_button(digest))
    node.wait_warm()
    page.approve(digest, keyboard=True)
    wait("the approval's notice", lambda: "done (journal seq" in page.text("#notices"))
    wait("the outcome in the page",
         lambda: [li for li in page.finds('#outcomes li[data-type="proposal_finished"]')
                  if li.get_attribute("data-subject") == digest and "succeeded" in li.text])
    proposer.join(30)
    check(proposer.result.get("status") == "succeeded", "the proposal succeeded (its submitter's answer)")
    page.shot("05-approved.png")

    # -- the incident appears, with its rollback waiting ----------------------------------
    card = wait("an open incident in the page", page.incident, budget=60)
    iid = card.get_attribute("data-incident")
    check(card.get_attribute("data-status") == "open", "the incident shows as open")
    text = page.text("article.incident")
    check("coaster/north" in text and "Culprits" in text and "seq" in text,
          "the incident names its service, region and culprits")
    rollback = wait("the rollback waiting", lambda: node.incident(iid).get("rollback"))
    wait("the rollback in the approvals", lambda: page.approve_button(rollback))
    page.find("#incidents details summary").click()
    wait("the incident's timeline", lambda: "incident_opened" in page.find(".timeline").text)
    page.shot("06-incident.png")

    def step(name, text, severity=None, expect=None):
        key = iid[:12]
        Select(d.find_element(By.ID, "step-" + key)).select_by_value(name)
        if severity:
            Select(d.find_element(By.ID, "sev-" + key)).select_by_value(severity)
        field = d.find_element(By.ID, "text-" + key)
        field.clear()
        if text:
            field.send_keys(text)
        field.send_keys(Keys.ENTER)
        wait("the %s step's notice" % name, lambda: ("%s incident %s done" % (name, key))
             in page.text("#notices"))
        if expect:
            wait("the incident %s" % expect,
                 lambda: page.incident().get_attribute("data-status") == expect)

    # -- the lifecycle while it is open: acknowledge, note, severity ----------------------
    step("acknowledge", "on it")
    wait("acknowledged", lambda: "yes, owner ops-alice" in page.text("article.incident"))
    step("note", "firmware 2.0.0-rc1 went to coaster-north-01 just before")
    step("severity", "riders stuck at the gate", severity="P1")
    wait("the new severity", lambda: "P1" in page.text("article.incident h3"))

    # -- refused: approving a rollback that already finished ------------------------------
    live = page.find("#live-toggle")
    live.click()  # paused: the page keeps showing what it showed
    check(not live.is_selected(), "live updates can be paused")
    res = api("POST", "/v1/proposals/%s/approve" % rollback, node.operator, {})
    check(res[0] == 200 and res[1].get("status") == "succeeded",
          "another operator approves the rollback (it succeeds)")
    head = node.head()
    page.approve(rollback)
    page.wait_error("Approve rollback %s: HTTP 400 INVALID_INPUT" % rollback[:12])
    check(node.only_access_since(head), "approving a finished rollback changes nothing")
    page.shot("07-already-finished.png")
    page.dismiss_errors()
    page.find("#live-toggle").click()

    # -- the detector verifies the recovery: the incident closes with its MTTR -------------
    wait("the incident recovered", lambda: page.incident().get_attribute("data-status") == "recovered",
         budget=60)
    text = page.text("article.incident")
    check("MTTR" in text and "not recovered yet" not in text,
          "the recovered incident shows its MTTR")
    page.shot("08-recovered.png")

    # -- reopen, resolve, close -------------------------------------------------------------
    step("reopen", "checking the other coasters", expect="open")
    step("resolve", "firmware 1.0.0 restored on coaster-north-01", expect="resolved")
    step("close", "", expect="closed")
    report = node.incident(iid)
    check(report.get("status") == "closed" and report.get("acknowledged") and
          report.get("severity") == "P1" and report.get("notes", 0) >= 1,
          "the node agrees: closed, acknowledged, P1, noted")

    # -- a running level-3 flight: its step and observation window; interrupted -----------
    flight = node.propose_in_background("gates-3", "gates-north-01", "closed", level=3,
                                        service="gates", setting="mode")
    row = wait("the flight observing its step", lambda: [
        r for r in page.finds("#flights-table tbody tr")
        if "observing" in r.text and "1 of 1 applied" in r.text and "s left" in r.text])
    check("gates:" in row[0].text, "the flight shows its phase, step and observation window")
    page.shot("09-flight.png")
    page.press("the interrupt button", "#flights-table button.interrupt")
    wait("the interrupt's notice", lambda: "Interrupt " in page.text("#notices") and
         "done" in page.text("#notices"))
    flight.join(30)
    check(flight.result.get("status") == "interrupted" and flight.result.get("compensated") == 1,
          "the interrupted flight is compensated (its submitter's answer)")
    wait("no flight running", lambda: "No flight is running." in page.text("#flights-table"))

    # -- the journal browser ---------------------------------------------------------------
    page.find("#journal-newest").click()
    wait("the newest page", lambda: "journal head" in page.text("#journal-range"))
    rows = page.finds("#journal-table tbody tr")
    check(0 < len(rows) <= 100, "the journal shows one page of at most 100 events")
    d.execute_script("performance.clearResourceTimings();")
    page.find("#j-type").send_keys("proposal_finished")
    page.find("#j-service").send_keys("coaster")
    page.find("#journal-search").click()
    sent = wait("the filtered request", lambda: [
        n for n in d.execute_script(
            "return performance.getEntriesByType('resource').map(function (r) { return r.name; });")
        if "/v1/events?" in n and "type=proposal_finished" in n and "service=coaster" in n])
    check(len(sent) >= 1, "the filters go to the node as query parameters: " + sent[-1])
    page.find("#j-from").send_keys("99999999999999999999")
    page.find("#journal-search").click()
    refusal = page.wait_error("Journal search: HTTP 400 INVALID_INPUT")
    print("ok: the node's refusal of a query shows in the page:", refusal[-1])
    page.shot("10-journal.png")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bulwark", required=True)
    ap.add_argument("--fleet", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--journal", help="measure first paint over this journal (copied)")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    work = tempfile.mkdtemp(prefix="bulwark-dashboard-")
    node = drv = None
    try:
        node = dn.Node(os.path.abspath(args.bulwark), os.path.abspath(args.fleet), work,
                       journal=args.journal)
        drv = browser(work)
        page = Page(drv, node.base, args.out)
        figures = {}
        if args.journal:
            drv.get(node.base + "/ui/")
            page.sign_in(node.viewer)
            page.wait_board()
            figures = measure(page, node.viewer)
            figures["journal_head"] = node.head()
            page.shot("first-paint.png")
        else:
            scenario(page, node)
            figures = measure(page, node.operator)
            figures["journal_head"] = node.head()
        with open(os.path.join(args.out, "figures.json"), "w", encoding="utf-8") as f:
            json.dump(figures, f, indent=1)
        print("first paint:", json.dumps(figures))
        print("screenshots:", ", ".join(sorted(os.listdir(args.out))))
        return 0
    except Exception as e:  # a Failure, or the browser's own error
        print("FAIL:", e if isinstance(e, Failure) else repr(e))
        if drv is not None:
            Page(drv, "", args.out).shot("failure.png")
            print("the page's errors:", drv.execute_script(
                "return document.getElementById('messages').innerText;"))
        if node is not None:
            print("node log tail:\n" + node.log_tail())
        return 1
    finally:
        if drv is not None:
            drv.quit()
        if node is not None:
            node.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
