// The overview, the approvals, the running flights and the breakers.
"use strict";

Bulwark.panels = (function () {
  var api = Bulwark.api, ui = Bulwark.ui, el = ui.el;

  function fact(term, value, id) {
    return [el("dt", {text: term}), el("dd", {id: id}, [value])];
  }

  function indicator(health, id) {
    var xs = (health && health.indicators) || [];
    for (var i = 0; i < xs.length; ++i)
      if (xs[i].id === id)
        return xs[i];
    return null;
  }

  /// The degradation level and the failure modes that put it there.
  function degradation(health, status) {
    var level = (health && health.degradation) || (status && status.degradation) || "unknown";
    var why = ((health && health.modes) || []).filter(function (m) {
      return m.level && m.level !== "normal";
    }).map(function (m) {
      return m.id + " " + m.name + " (" + m.level + "): " + (m.action || m.mitigation || "");
    });
    if (health && health.active_warnings)
      why.push(health.active_warnings + " active early warning(s)");
    return el("span", {}, [el("strong", {class: "level-" + level, text: level}),
                           why.length ? " — " + why.join("; ") : " — every failure mode normal"]);
  }

  function verification(health) {
    var age = indicator(health, "verification_age_s");
    var bad = indicator(health, "corrupt_records");
    if (!age || !age.sampled)
      return "not yet verified since the node started";
    return ui.duration(Math.round(age.value * 1000)) + " ago, " +
           (bad && bad.value > 0 ? bad.value + " bad record(s) found" : "no bad records");
  }

  function clusterText(cluster, err) {
    if (err)
      return err.code === "INVALID_INPUT" ? "single node (no [cluster])" : err.toString();
    return cluster.role + ", term " + cluster.term + ", leader " + (cluster.leader || "unknown") +
           ", " + cluster.lag + " record(s) behind the leader";
  }

  function settle(p) {
    return p.then(function (v) { return {value: v}; }, function (e) { return {error: e}; });
  }

  function overview() {
    return api.get("/v1/status").then(function (status) {
      // A single node has no cluster to ask about (its status says so).
      var cluster = status.cluster === null || status.cluster === undefined
        ? Promise.resolve({error: {code: "INVALID_INPUT"}}) : settle(api.get("/v1/cluster"));
      return Promise.all([status, settle(api.get("/v1/health")), settle(api.get("/v1/grants")),
                          cluster]);
    }).then(function (r) {
      var status = r[0], health = r[1].value, grants = r[2].value;
      document.getElementById("node-name").textContent = status.node || "";
      var list = ui.clear(document.getElementById("overview-list"));
      var facts = [].concat(
        fact("Degradation", degradation(health, status), "ov-degradation"),
        fact("Journal head", "seq " + status.head + ", chain " + String(status.chain).slice(0, 16) + "…",
             "ov-head"),
        fact("Last verification", health ? verification(health) : r[1].error.toString(),
             "ov-verified"),
        fact("Halt", grants ? (grants.halted ? "HALTED: changes are refused" : "not halted")
                            : r[2].error.toString(), "ov-halt"),
        fact("Policy version", typeof status.policy_version === "string" ? status.policy_version
                               : "not reported by this node", "ov-policy"),
        fact("Cluster", clusterText(r[3].value, r[3].error), "ov-cluster"),
        fact("Journal space", Math.round(status.journal_used_bytes / 1048576) + " MiB of " +
             Math.round(status.journal_map_bytes / 1048576) + " MiB", "ov-space"));
      facts.forEach(function (n) { list.appendChild(n); });
      return status;
    });
}

  function act(label, path, body) {
    return api.post(path, body).then(function (res) {
      var extra = res && res.status ? " — " + res.status + (res.message ? ": " + res.message : "")
                                    : res && res.seq ? " (journal seq " + res.seq + ")" : "";
      ui.notice(label + " done" + extra);
      Bulwark.app.refresh();
      return res;
    }, function (e) {
      ui.error(label, e);
      Bulwark.app.refresh();
    });
  }

  function decide(verb, id, kind) {
    var note = document.getElementById("approval-note").value;
    var label = (verb === "approve" ? "Approve " : "Deny ") + kind + " " + id.slice(0, 12);
    return act(label, "/v1/proposals/" + id + "/" + verb, note ? {note: note} : {});
  }

  function decisionButtons(id, kind) {
    return el("span", {class: "actions"}, [
      el("button", {type: "button", class: "approve", "data-proposal": id,
                    "aria-label": "Approve " + kind + " " + id,
                    onclick: function () { decide("approve", id, kind); }}, ["Approve"]),
      " ",
      el("button", {type: "button", class: "deny", "data-proposal": id,
                    "aria-label": "Deny " + kind + " " + id,
                    onclick: function () { decide("deny", id, kind); }}, ["Deny"])]);
  }

  function changes(muts) {
    return el("ul", {class: "plain"}, (muts || []).map(function (m) {
      return el("li", {text: m.resource + ": " + m.key + " = " + m.value});
    }));
  }

  function approvals(proposals, incidents) {
    var waiting = proposals.filter(function (p) { return p.awaiting_approval; });
    var rows = waiting.map(function (p) { return {kind: "proposal", p: p}; });
    ((incidents && incidents.rollbacks_awaiting_approval) || []).forEach(function (id) {
      rows.push({kind: "rollback", p: {proposal: id, principal: "incident response", level: null,
                                       mutations: []}});
    });
    if (!ui.changed("approvals", rows))
      return;
    ui.redraw(document.getElementById("approvals-table"), function (box) {
      box.appendChild(ui.table("Proposals and rollbacks waiting for approval", [
        {head: "Kind", cell: function (r) { return r.kind; }},
        {head: "Digest", cell: function (r) { return ui.digest(r.p.proposal); }},
        {head: "Principal", cell: function (r) { return r.p.principal; }},
        {head: "Level", cell: function (r) { return r.p.level; }},
        {head: "Changes", cell: function (r) { return r.kind === "rollback" ? "reverts an incident's culprits"
                                                                               : changes(r.p.mutations); }},
        {head: "Expires", cell: function (r) { return r.p.expires ? ui.when(r.p.expires) : null; }},
        {head: "Decision", cell: function (r) { return decisionButtons(r.p.proposal, r.kind); }},
      ], rows, "Nothing waits for approval."));
    });
  }

  function windowText(w) {
    if (!w)
      return null;
    var left = Math.max(0, Math.round((new Date(w.until) - Date.now()) / 1000));
    return el("span", {class: "window", "data-until": w.until},
              [w.service + ": " + ui.when(w.from) + " to " + ui.when(w.until) + " (" +
               ui.duration(w.ms) + ", ", el("span", {class: "left", text: left + " s left"}), ")"]);
  }

  function flights(proposals) {
    var running = proposals.filter(function (p) { return !p.awaiting_approval; });
    if (!ui.changed("flights", running))
      return;
    ui.redraw(document.getElementById("flights-table"), function (box) {
      box.appendChild(ui.table("Running flights", [
        {head: "Proposal", cell: function (p) { return ui.digest(p.proposal); }},
        {head: "Principal", cell: function (p) { return p.principal; }},
        {head: "Level", cell: function (p) { return p.level; }},
        {head: "Phase", cell: function (p) { return p.phase || "running"; }},
        {head: "Step", cell: function (p) {
          return (p.applied || 0) + " of " + (p.mutations || []).length + " applied"; }},
        {head: "Observation window", cell: function (p) { return windowText(p.window); }},
        {head: "Changes", cell: function (p) { return changes(p.mutations); }},
        {head: "Action", cell: function (p) {
          return el("button", {type: "button", class: "interrupt", "data-proposal": p.proposal,
                               "aria-label": "Interrupt proposal " + p.proposal,
                               onclick: function () {
                                 act("Interrupt " + p.proposal.slice(0, 12),
                                     "/v1/proposals/" + p.proposal + "/interrupt", {});
                               }}, ["Interrupt"]); }},
      ], running, "No flight is running."));
    });
  }

  /// Counts the observation windows down between refreshes.
  function tick() {
    Array.prototype.forEach.call(document.querySelectorAll(".window"), function (w) {
      var left = Math.max(0, Math.round((new Date(w.getAttribute("data-until")) - Date.now()) / 1000));
      w.querySelector(".left").textContent = left + " s left";
    });
  }

  function breakers(list) {
    if (!ui.changed("breakers", list))
      return;
    var box = ui.clear(document.getElementById("breakers-table"));
    box.appendChild(ui.table("Circuit breakers by service", [
      {head: "Service", cell: function (b) { return b.service; }},
      {head: "State", cell: function (b) { return el("span", {class: "state-" + b.state, text: b.state}); }},
      {head: "Window calls", cell: function (b) { return b.window_calls; }},
      {head: "Window failures", cell: function (b) { return b.window_failures; }},
      {head: "Consecutive failures", cell: function (b) { return b.consecutive_failures; }},
      {head: "In flight", cell: function (b) { return b.in_flight; }},
      {head: "Queued", cell: function (b) { return b.queued; }},
      {head: "Refused", cell: function (b) { return b.refused; }},
    ], list, "No breakers."));
  }

  return {overview: overview, approvals: approvals, flights: flights, breakers: breakers,
          tick: tick, act: act};
})();
