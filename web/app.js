// Sign-in, the refresh of the panels, and live updates from the event stream.
"use strict";

Bulwark.app = (function () {
  var api = Bulwark.api, ui = Bulwark.ui, el = ui.el;
  var closeStream = null, retry = null, pending = null, backoff = 1000;
  var started = false;

  // Events that change what the panels show (console_access records do not: every read
  // of the page makes one, and refreshing on them would never stop).
  var QUIET = {console_access: true, notification_sent: true};

  function liveState(text) {
    document.getElementById("live-state").textContent = text;
  }

  function live() {
    return document.getElementById("live-toggle").checked;
  }

  function refreshPanels() {
    return Promise.all([api.get("/v1/proposals"), api.get("/v1/incidents"), api.get("/v1/breakers")])
      .then(function (r) {
        Bulwark.panels.approvals(r[0], r[1]);
        Bulwark.panels.flights(r[0]);
        Bulwark.panels.breakers(r[2]);
        Bulwark.incidents.render(r[1]);
      }, function (e) { ui.error("Refresh", e); });
  }

  function refreshOverview() {
    return Bulwark.panels.overview().catch(function (e) { ui.error("Overview", e); });
  }

  /// Everything again, soon (several events in a burst make one refresh).
  function refresh() {
    if (pending || !api.token())
      return;
    pending = setTimeout(function () {
      pending = null;
      refreshOverview();
      refreshPanels();
    }, 200);
  }

  function outcome(e) {
    var p = e.payload || {}, text = null, cls = "";
    if (e.type === "proposal_finished") {
      text = "Proposal " + p.proposal.slice(0, 12) + "… " + (p.succeeded ? "succeeded" : "failed") +
             ": " + p.applied + " applied, " + p.compensated + " compensated" +
             (p.message ? " — " + p.message : "");
      cls = p.succeeded ? "ok" : "bad";
    } else if (e.type === "rollback_finished") {
      text = "Rollback " + p.rollback.slice(0, 12) + "… " + (p.succeeded ? "succeeded" : "failed") +
             ": " + p.reverted + " reverted";
      cls = p.succeeded ? "ok" : "bad";
    } else if (e.type === "incident_opened") {
      text = "Incident " + p.incident.slice(0, 12) + "… opened on " + p.service + "/" + p.region;
      cls = "bad";
    } else if (e.type === "incident_closed" || e.type === "incident_closed_by_operator") {
      text = "Incident " + p.incident.slice(0, 12) + "… " +
             (e.type === "incident_closed" ? "recovered" : "closed by " + p.by);
      cls = "ok";
    } else if (e.type === "halt_engaged" || e.type === "halt_released") {
      text = (e.type === "halt_engaged" ? "Halt engaged by " : "Halt released by ") + p.by +
             ": " + p.reason;
    }
    if (!text)
      return;
    var list = document.getElementById("outcomes");
    list.insertBefore(el("li", {class: cls, "data-type": e.type,
                                "data-subject": p.proposal || p.incident || p.rollback || ""},
                            [el("time", {datetime: e.at, text: ui.when(e.at)}),
                             " " + text + " (seq " + e.seq + ")"]),
                      list.firstChild);
    while (list.children.length > 12)
      list.removeChild(list.lastChild);
  }

  function onEvent(e) {
    backoff = 1000;
    liveState("live: head seq " + e.seq);
    outcome(e);
    if (!QUIET[e.type])
      refresh();
  }

  function connect() {
    if (closeStream || !live() || !api.token())
      return;
    liveState("live: connecting…");
    closeStream = api.stream(function () {
      liveState("live: connected");
      refresh(); // whatever happened while the stream was down
    }, onEvent, function (why) {
      closeStream = null;
      liveState("live: disconnected (" + why + "), retrying");
      retry = setTimeout(function () { retry = null; connect(); }, backoff);
      backoff = Math.min(backoff * 2, 30000);
    });
  }

  function disconnect(text) {
    if (retry)
      clearTimeout(retry);
    retry = null;
    if (closeStream)
      closeStream();
    closeStream = null;
    liveState(text);
  }

  /// Signed out: the panels are emptied, so the next person sees only her own reads.
  function forget() {
    ["overview-list", "approvals-table", "flights-table", "breakers-table", "incidents-list",
     "journal-table", "outcomes", "journal-range", "notices", "node-name"].forEach(function (id) {
      ui.clear(document.getElementById(id));
    });
    Bulwark.incidents.reset();
    ui.forgetShown();
    document.body.removeAttribute("data-ready");
  }

  function show(signedIn) {
    document.getElementById("signin").hidden = signedIn;
    document.getElementById("board").hidden = !signedIn;
    document.getElementById("signout-form").hidden = !signedIn;
  }

  /// Signed in: the first screen (overview, panels, the newest journal page), then live.
  function start() {
    return api.get("/v1/status").then(function (status) {
      show(true);
      ui.clearErrors();
      return Promise.all([refreshOverview(), refreshPanels(), Bulwark.journal.newest(status.head)])
        .then(function () {
          if (!started) {
            started = true;
            performance.mark("bulwark-first-data");
          }
          document.body.setAttribute("data-ready", "true");
          connect();
        });
    }, function (e) {
      ui.error("Sign in", e);
      api.setToken("");
      show(false);
      document.getElementById("token").focus();
    });
  }

  function init() {
    show(false);
    Bulwark.journal.init();
    document.getElementById("signin-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = document.getElementById("token");
      api.setToken(input.value.trim());
      input.value = "";
      start();
    });
    document.getElementById("signout-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      api.setToken("");
      disconnect("signed out");
      forget();
      show(false);
      document.getElementById("token").focus();
    });
    document.getElementById("live-toggle").addEventListener("change", function () {
      if (live()) {
        connect();
      } else {
        disconnect("live updates paused");
      }
    });
    setInterval(Bulwark.panels.tick, 1000);
    if (api.token())
      start();
  }

  document.addEventListener("DOMContentLoaded", init);
  return {refresh: refresh};
})();
