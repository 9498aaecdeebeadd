// The journal browser: one page of GET /v1/events at a time (the newest first), with the
// filter fields sent as query parameters; a refused filter shows the node's message.
"use strict";

Bulwark.journal = (function () {
  var api = Bulwark.api, ui = Bulwark.ui, el = ui.el;
  var PAGE = 100;
  var FILTERS = ["type", "principal", "resource", "service", "incident", "proposal", "since", "until"];
  var page = {from: 0, to: 0, head: 0};

  function filters() {
    var q = [];
    FILTERS.forEach(function (name) {
      var v = document.getElementById("j-" + name).value.trim();
      if (v)
        q.push(encodeURIComponent(name) + "=" + encodeURIComponent(v));
    });
    return q;
  }

  function summary(e) {
    var p = e.payload || {};
    var parts = [];
    ["principal", "by", "approver", "command", "service", "region", "resource", "key",
     "new_value", "status", "reason", "detail", "message"].forEach(function (k) {
      if (p[k] !== undefined && p[k] !== null && p[k] !== "" && typeof p[k] !== "object")
        parts.push(k + "=" + String(p[k]).slice(0, 60));
    });
    ["proposal", "incident", "rollback", "candidate"].forEach(function (k) {
      if (typeof p[k] === "string")
        parts.push(k + "=" + p[k].slice(0, 12) + "…");
    });
    if (p.succeeded !== undefined)
      parts.push(p.succeeded ? "succeeded" : "failed");
    if (p.allowed !== undefined)
      parts.push(p.allowed ? "allowed" : "refused");
    return parts.join(" ");
  }

  function render(doc) {
    var events = (doc.events || []).slice().reverse(); // newest first
    var box = ui.clear(document.getElementById("journal-table"));
    box.appendChild(ui.table("Journal events, newest first", [
      {head: "Seq", cell: function (e) { return String(e.seq); }},
      {head: "At", cell: function (e) { return el("time", {datetime: e.at, text: ui.when(e.at)}); }},
      {head: "Type", cell: function (e) { return el("code", {text: e.type}); }},
      {head: "Summary", cell: function (e) { return summary(e); }},
      {head: "Record", cell: function (e) {
        return el("details", {}, [el("summary", {text: "payload"}),
                                  el("pre", {text: JSON.stringify(e.payload, null, 1)})]); }},
    ], events, "No events in this range."));
    var shown = doc.events || [];
    var range = shown.length ? "seq " + shown[0].seq + " to " + shown[shown.length - 1].seq
                             : "nothing";
    document.getElementById("journal-range").textContent =
      "Showing " + shown.length + " event(s), " + range + "; journal head " + doc.head + ".";
  }

  /// Loads seqs [from, to] with the filters; `why` names the action for an error.
  function load(from, to, why) {
    var q = ["from=" + from, "to=" + to].concat(filters());
    return api.get("/v1/events?" + q.join("&")).then(function (doc) {
      page = {from: from, to: to, head: doc.head};
      render(doc);
      return doc;
    }, function (e) {
      ui.error("Journal " + why, e);
    });
  }

  /// The newest page only: a journal of millions of events is never read whole.
  function newest(head) {
    var to = Math.max(1, head || page.head || 1);
    return load(Math.max(1, to - PAGE + 1), to, "newest page");
  }

  function older() {
    if (page.from <= 1)
      return ui.notice("This is the oldest page.");
    var to = page.from - 1;
    return load(Math.max(1, to - PAGE + 1), to, "older page");
  }

  function newer() {
    if (page.to >= page.head)
      return newest(page.head);
    var from = page.to + 1;
    return load(from, from + PAGE - 1, "newer page");
  }

  function search(ev) {
    ev.preventDefault();
    var from = document.getElementById("j-from").value.trim();
    if (from === "")
      return api.get("/v1/status").then(function (s) { return newest(s.head); },
                                         function (e) { ui.error("Journal search", e); });
    if (!/^[0-9]+$/.test(from))
      return ui.error("Journal search", "From seq must be a number");
    var f = Math.max(1, parseInt(from, 10));
    return load(f, f + PAGE - 1, "search");
  }

  function init() {
    document.getElementById("journal-form").addEventListener("submit", search);
    document.getElementById("journal-newest").addEventListener("click", function () {
      api.get("/v1/status").then(function (s) { newest(s.head); },
                                 function (e) { ui.error("Journal newest page", e); });
    });
    document.getElementById("journal-older").addEventListener("click", older);
    document.getElementById("journal-newer").addEventListener("click", newer);
  }

  return {init: init, newest: newest, filters: FILTERS};
})();
