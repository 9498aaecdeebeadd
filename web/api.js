// The node's HTTP API from the page: the token, JSON requests, and the event stream.
// The token lives in this tab's sessionStorage and goes out as a bearer token.
"use strict";

var Bulwark = window.Bulwark || {};
window.Bulwark = Bulwark;

Bulwark.api = (function () {
  var KEY = "bulwark.token";

  function token() {
    try {
      return window.sessionStorage.getItem(KEY) || "";
    } catch (e) {
      return "";
    }
  }

  function setToken(t) {
    if (t)
      window.sessionStorage.setItem(KEY, t);
    else
      window.sessionStorage.removeItem(KEY);
  }

  /// An answer that is not a success: the API's error object, with the HTTP status.
  function ApiError(status, code, message) {
    this.status = status;
    this.code = code;
    this.message = message;
  }
  ApiError.prototype.toString = function () {
    return "HTTP " + this.status + " " + this.code + ": " + this.message;
  };

  function headers(withBody) {
    var h = {"Accept": "application/json"};
    var t = token();
    if (t)
      h["Authorization"] = "Bearer " + t; // no token: the node answers 401
    if (withBody)
      h["Content-Type"] = "application/json";
    return h;
  }

  /// One request; resolves with the parsed body, rejects with an ApiError.
  function request(method, path, body) {
    var init = {method: method, headers: headers(method === "POST"), cache: "no-store"};
    if (method === "POST")
      init.body = JSON.stringify(body || {});
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var doc = null;
        try {
          doc = text ? JSON.parse(text) : null;
        } catch (e) {
          throw new ApiError(res.status, "UNREADABLE", "the node's answer is not JSON");
        }
        if (res.ok)
          return doc;
        var err = doc && doc.error ? doc.error : {};
        throw new ApiError(res.status, err.code || "HTTP_" + res.status,
                           err.message || res.statusText || "request refused");
      });
    }, function (e) {
      throw new ApiError(0, "UNREACHABLE", "the node did not answer (" + e.message + ")");
    });
  }

  function get(path) {
    return request("GET", path);
  }

  function post(path, body) {
    return request("POST", path, body);
  }

  /// Reads /v1/events/stream with fetch (EventSource cannot send a token). Calls
  /// onEvent(entry) for every committed event; onEnd(reason) when the stream ends.
  /// Returns a function that closes the stream.
  function stream(onOpen, onEvent, onEnd) {
    var ctl = new AbortController();
    var closed = false;
    fetch("/v1/events/stream", {headers: headers(false), signal: ctl.signal, cache: "no-store"})
      .then(function (res) {
        if (!res.ok || !res.body)
          return res.text().then(function (text) {
            var msg = "HTTP " + res.status;
            try {
              msg += " " + JSON.parse(text).error.message;
            } catch (e) { /* not JSON */ }
            throw new Error(msg);
          });
        onOpen();
        var reader = res.body.getReader();
        var decoder = new TextDecoder();
        var buf = "";
        function pump() {
          return reader.read().then(function (r) {
            if (r.done)
              throw new Error("the stream ended");
            buf += decoder.decode(r.value, {stream: true});
            var at;
            while ((at = buf.indexOf("\n\n")) >= 0) {
              var block = buf.slice(0, at);
              buf = buf.slice(at + 2);
              var kind = "message", data = "";
              block.split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0)
                  kind = line.slice(7);
                else if (line.indexOf("data: ") === 0)
                  data += line.slice(6);
              });
              if (kind === "committed" && data)
                onEvent(JSON.parse(data));
              else if (kind === "overflow")
                throw new Error("the stream fell behind");
            }
            return pump();
          });
        }
        return pump();
      })
      .catch(function (e) {
        if (!closed)
          onEnd(e.message || String(e));
      });
    return function () {
      closed = true;
      ctl.abort();
    };
  }

  return {token: token, setToken: setToken, get: get, post: post, stream: stream,
          ApiError: ApiError};
})();
