// Small DOM helpers shared by the panels. Text always goes in as text, never as markup.
"use strict";

Bulwark.ui = (function () {
  /// el("td", {class: "x", "aria-label": "..."}, ["text", node, ...])
  function el(tag, attrs, children) {
    var n = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (v === null || v === undefined || v === false)
        return;
      if (k === "text")
        n.textContent = String(v);
      else if (k === "onclick")
        n.addEventListener("click", v);
      else if (k === "onsubmit")
        n.addEventListener("submit", v);
      else if (k === "onchange")
        n.addEventListener("change", v);
      else
        n.setAttribute(k, v === true ? "" : String(v));
    });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined)
        return;
      n.appendChild(typeof c === "string" || typeof c === "number"
                      ? document.createTextNode(String(c)) : c);
    });
    return n;
  }

  function clear(node) {
    while (node.firstChild)
      node.removeChild(node.firstChild);
    return node;
  }

  /// A digest shown short, whole in its title and to screen readers.
  function digest(hex) {
    if (!hex)
      return el("span", {text: "—"});
    return el("code", {title: hex, "aria-label": hex, "data-digest": hex}, [hex.slice(0, 12) + "…"]);
  }

  /// A table: columns [{head, cell(row) -> node or text}], rows; empty text when none.
  function table(caption, columns, rows, empty) {
    if (!rows.length)
      return el("p", {class: "empty", text: empty});
    var head = el("tr", {}, columns.map(function (c) {
      return el("th", {scope: "col", text: c.head});
    }));
    var body = rows.map(function (r) {
      return el("tr", {}, columns.map(function (c) {
        var v = c.cell(r);
        return el("td", {}, [v === null || v === undefined ? "—" : v]);
      }));
    });
    return el("table", {}, [el("caption", {class: "sr-only", text: caption}),
                            el("thead", {}, [head]), el("tbody", {}, body)]);
  }

  function two(n) {
    return (n < 10 ? "0" : "") + n;
  }

  /// A time as YYYY-MM-DD HH:MM:SS in the browser's time zone.
  function when(iso) {
    if (!iso)
      return "—";
    var d = new Date(iso);
    if (isNaN(d))
      return String(iso);
    return d.getFullYear() + "-" + two(d.getMonth() + 1) + "-" + two(d.getDate()) + " " +
           two(d.getHours()) + ":" + two(d.getMinutes()) + ":" + two(d.getSeconds());
  }

  function duration(ms) {
    if (ms === null || ms === undefined)
      return "—";
    if (ms < 1000)
      return ms + " ms";
    var s = Math.round(ms / 1000);
    if (s < 120)
      return s + " s";
    var m = Math.floor(s / 60);
    return m < 120 ? m + " min " + (s % 60) + " s" : Math.floor(m / 60) + " h " + (m % 60) + " min";
  }

  /// Errors in the alert region (read out at once); they stay until dismissed.
  function error(what, e) {
    var box = document.getElementById("messages");
    var text = what + ": " + (e && e.toString ? e.toString() : String(e));
    var item = el("p", {class: "error"}, [text, " "]);
    item.appendChild(el("button", {type: "button", class: "dismiss", "aria-label": "Dismiss",
                                   onclick: function () { item.remove(); }}, ["×"]));
    box.appendChild(item);
    while (box.children.length > 5)
      box.removeChild(box.firstChild);
  }

  /// A success, in the polite status region; replaced by the next one.
  function notice(text) {
    var box = clear(document.getElementById("notices"));
    box.appendChild(el("p", {class: "notice", text: text}));
  }

  function clearErrors() {
    clear(document.getElementById("messages"));
  }

  // What each panel last showed: a panel is redrawn only when its data changed, so focus,
  // an open <details> and what is being typed survive the refreshes live updates cause.
  var shown = {};

  function changed(panel, data) {
    var text = JSON.stringify(data);
    if (shown[panel] === text)
      return false;
    shown[panel] = text;
    return true;
  }

  /// Redraws `box` with `draw()` and gives the focus back to the element that had it, or
  /// to its new copy (same id, or same class and data-proposal).
  function redraw(box, draw) {
    var had = document.activeElement;
    var inside = had && had !== document.body && box.contains(had);
    var key = inside && had.getAttribute("data-proposal");
    var cls = inside && had.className;
    draw(clear(box));
    if (!inside)
      return;
    if (box.contains(had))
      return had.focus();
    var again = key ? box.querySelector("." + cls.split(" ")[0] + '[data-proposal="' + key + '"]')
                    : had.id ? document.getElementById(had.id) : null;
    if (again)
      again.focus();
  }

  function forgetShown() {
    shown = {};
  }

  return {el: el, clear: clear, changed: changed, redraw: redraw, forgetShown: forgetShown,
          digest: digest, table: table, when: when,
          duration: duration, error: error, notice: notice, clearErrors: clearErrors};
})();
