// Incidents: their facts, culprits, rollback and MTTR, the timeline of their postmortem
// report, and the lifecycle steps (acknowledge, note, severity, resolve, close, reopen).
"use strict";

Bulwark.incidents = (function () {
  var api = Bulwark.api, ui = Bulwark.ui, el = ui.el;
  var opened = {}; // incident -> its timeline is shown
  var forms = {};  // incident -> its step form, kept across refreshes (what is typed stays)

  // Each step: its route, the label of its text field, and the body it sends.
  var STEPS = {
    acknowledge: {path: "acknowledge", text: "Note (optional)", body: function (t) {
      return t ? {note: t} : {}; }},
    note: {path: "notes", text: "Note", body: function (t) { return {text: t}; }},
    severity: {path: "severity", text: "Reason", body: function (t, sev) {
      return {severity: sev, reason: t}; }},
    resolve: {path: "resolve", text: "Resolution", body: function (t) { return {resolution: t}; }},
    close: {path: "close", text: "Resolution (optional once resolved)", body: function (t) {
      return t ? {resolution: t} : {}; }},
    reopen: {path: "reopen", text: "Reason", body: function (t) { return {reason: t}; }},
  };

  function stepForm(inc) {
    var id = inc.incident, key = id.slice(0, 12);
    if (forms[id])
      return forms[id];
    var stepId = "step-" + key, textId = "text-" + key, sevId = "sev-" + key;
    var textLabel = el("label", {for: textId, text: STEPS.acknowledge.text});
    var sevWrap = el("span", {hidden: true}, [
      el("label", {for: sevId, text: "Severity"}),
      el("select", {id: sevId, name: "severity"}, ["P0", "P1", "P2", "P3"].map(function (s) {
        return el("option", {value: s, text: s, selected: s === inc.severity});
      }))]);
    var select = el("select", {id: stepId, name: "step", onchange: function () {
      textLabel.textContent = STEPS[select.value].text;
      sevWrap.hidden = select.value !== "severity";
    }}, Object.keys(STEPS).map(function (s) { return el("option", {value: s, text: s}); }));
    var text = el("input", {type: "text", id: textId, name: "text", maxlength: 4096});
    var form = el("form", {class: "step-form", "aria-label": "Lifecycle step for incident " + id,
                           onsubmit: function (ev) {
      ev.preventDefault();
      var step = STEPS[select.value];
      var body = step.body(text.value, document.getElementById(sevId).value);
      Bulwark.panels.act(select.value + " incident " + key,
                         "/v1/incidents/" + id + "/" + step.path, body)
        .then(function (res) { if (res) text.value = ""; });
    }}, [el("label", {for: stepId, text: "Step"}), select, " ", sevWrap, " ", textLabel, text, " ",
         el("button", {type: "submit", text: "Apply"})]);
    forms[id] = form;
    return form;
  }

  function timeline(id, box) {
    api.get("/v1/incidents/" + id + "/report").then(function (res) {
      var r = res.report || {};
      ui.clear(box);
      box.appendChild(el("h4", {text: "Timeline"}));
      box.appendChild(el("ol", {class: "timeline"}, (r.timeline || []).map(function (t) {
        return el("li", {}, [el("time", {datetime: t.at, text: ui.when(t.at)}), " ",
                             el("strong", {text: t.what}), " by " + t.by + ": " + t.detail +
                             " (seq " + t.seq + ")"]);
      })));
      var changes = r.changes || [];
      if (changes.length) {
        box.appendChild(el("h4", {text: "Changes before the onset"}));
        box.appendChild(el("ul", {class: "plain"}, changes.map(function (c) {
          return el("li", {text: "seq " + c.seq + " " + c.resource + ": " + c.key + " " +
                                 (c.old_value === null ? "(none)" : c.old_value) + " → " + c.new_value +
                                 (c.culprit ? " — culprit, score " + c.score : "") +
                                 (c.reverted ? ", reverted" : "")});
        })));
      }
    }, function (e) {
      ui.clear(box).appendChild(el("p", {class: "error", text: "Timeline: " + e.toString()}));
    });
  }

  function card(inc) {
    var id = inc.incident;
    var heading = inc.service + "/" + inc.region + " — " + inc.severity + " — " + inc.status;
    var facts = [
      ["Incident", ui.digest(id)],
      ["Status", el("span", {class: "status status-" + inc.status, text: inc.status})],
      ["Severity", inc.severity],
      ["Acknowledged", inc.acknowledged ? "yes, owner " + (inc.owner || "—") : "no"],
      ["Onset", ui.when(inc.onset)],
      ["Respond by", ui.when(inc.respond_by)],
      ["Culprits", (inc.culprits || []).length ? "seq " + inc.culprits.join(", seq ") : "none named"],
      ["Rollback", inc.rollback ? ui.digest(inc.rollback) : "none"],
      ["MTTR", inc.mttr_ms ? ui.duration(inc.mttr_ms) : "not recovered yet"],
      ["Notes", String(inc.notes || 0)],
      ["Resolution", inc.resolution || "—"],
    ];
    var dl = el("dl", {class: "facts"}, []);
    facts.forEach(function (f) {
      dl.appendChild(el("dt", {text: f[0]}));
      dl.appendChild(el("dd", {}, [f[1]]));
    });
    var box = el("div", {class: "timeline-box"});
    var details = el("details", {open: !!opened[id]}, [el("summary", {text: "Timeline and changes"}), box]);
    details.addEventListener("toggle", function () {
      opened[id] = details.open;
      if (details.open)
        timeline(id, box);
    });
    if (opened[id])
      timeline(id, box);
    return el("article", {class: "incident", "data-incident": id, "data-status": inc.status,
                          "aria-label": "Incident " + heading},
              [el("h3", {text: heading}), dl, details, stepForm(inc)]);
  }

  function render(doc) {
    if (!ui.changed("incidents", doc))
      return;
    ui.redraw(document.getElementById("incidents-list"), function (list) { draw(list, doc); });
  }

  function draw(list, doc) {
    var xs = (doc && doc.incidents) || [];
    if (!xs.length)
      list.appendChild(el("p", {class: "empty", text: "No incidents."}));
    // Open ones first, newest onset first within each group.
    var order = {open: 0, escalated: 1, recovered: 2, resolved: 3, closed: 4};
    xs.slice().sort(function (a, b) {
      return (order[a.status] - order[b.status]) || String(b.onset).localeCompare(String(a.onset));
    }).forEach(function (inc) { list.appendChild(card(inc)); });
    var cands = (doc && doc.candidates) || [];
    if (cands.length) {
      list.appendChild(el("h3", {text: "Candidates"}));
      list.appendChild(ui.table("Incident candidates", [
        {head: "Candidate", cell: function (c) { return ui.digest(c.candidate); }},
        {head: "Where", cell: function (c) { return c.service + "/" + c.region; }},
        {head: "Verdict", cell: function (c) { return c.verdict; }},
        {head: "Error rate", cell: function (c) { return (c.error_ppm / 10000).toFixed(2) + " %"; }},
        {head: "Culprits", cell: function (c) { return (c.culprits || []).join(", ") || "none"; }},
      ], cands, ""));
    }
  }

  /// Signed out: nothing of the last session stays.
  function reset() {
    opened = {};
    forms = {};
  }

  return {render: render, reset: reset};
})();
