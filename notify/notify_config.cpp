// Reads `[notify]` and `[[notifications]]` of bulwark.toml, naming the file and key of any
// error; the HTTP keys are read as an http effector's are.

#include "notify/notify_config.hpp"

#include <cctype>

#include "engine/config_check.hpp"
#include "messages/error.hpp"

namespace bulwark {

const char* to_string(notify_format f) noexcept {
  return f == notify_format::slack ? "slack" : "json";
}

namespace {

const std::set<std::string> webhook_keys{"name",         "url",        "format",  "events",
                                         "timeout_ms",   "max_attempts", "backoff_ms",
                                         "ca_file",      "token_file"};

/// A name that is safe as a metrics label and in a header: [A-Za-z0-9._-]{1,64}.
bool is_webhook_name(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  return true;
}

/// Reads one table; remembers the first error with the file and key.
struct webhook_reader {
  std::string path;
  std::string error;

  void fail(const std::string& where, const std::string& key, const std::string& problem) {
    if (error.empty())
      error = path + ": " + where + "." + key + ": " + problem;
  }

  /// A whole number from `lo` to `hi`, when the key is there.
  void read_int(const toml::table& t, const std::string& where, const char* key, int64_t lo,
                int64_t hi, int64_t& out) {
    if (!t.contains(key))
      return;
    auto v = t[key].value<int64_t>();
    if (!v || *v < lo || *v > hi)
      fail(where, key, "must be a whole number from " + std::to_string(lo) + " to "
                         + std::to_string(hi));
    else
      out = *v;
  }

  void read(const toml::table& t, const std::string& where, webhook_spec& w) {
    for (auto& [name, node] : t)
      if (!webhook_keys.count(std::string{name.str()}))
        fail(where, std::string{name.str()}, "is not a notifications key");
    auto name = t["name"].value<std::string>();
    if (!t.contains("name"))
      return fail(where, "name", "is required: a name for the webhook");
    if (!name || !is_webhook_name(*name))
      return fail(where, "name", "must be 1 to 64 letters, digits, '-', '_' or '.'");
    w.name = *name;
    auto http_error = read_http_endpoint(t, path, where, w.http);
    if (!http_error.empty() && error.empty())
      error = http_error;
    if (t.contains("format")) {
      auto f = t["format"].value<std::string>();
      if (f && *f == "json")
        w.format = notify_format::json;
      else if (f && *f == "slack")
        w.format = notify_format::slack;
      else
        fail(where, "format", "must be json or slack");
    }
    if (t.contains("events")) {
      auto list = t["events"].as_array();
      if (!list || list->empty())
        fail(where, "events", "must be a non-empty list of event kinds");
      else
        for (auto& x : *list) {
          auto s = x.value<std::string>();
          notify_kind k{};
          if (!s || !parse(*s, k)) {
            std::string known;
            for (auto kind : all_notify_kinds())
              known += (known.empty() ? "" : ", ") + std::string{to_string(kind)};
            fail(where, "events", (s ? "\"" + *s + "\"" : std::string{"a value"})
                                    + " is not an event kind (one of " + known + ")");
            break;
          }
          w.kinds.insert(k);
        }
    } else {
      w.kinds.insert(all_notify_kinds().begin(), all_notify_kinds().end());
    }
    int64_t timeout = w.timeout.count(), attempts = w.max_attempts, backoff = w.backoff.count();
    read_int(t, where, "timeout_ms", 1, 600000, timeout);
    read_int(t, where, "max_attempts", 1, 100, attempts);
    read_int(t, where, "backoff_ms", 1, 600000, backoff);
    w.timeout = std::chrono::milliseconds{timeout};
    w.max_attempts = static_cast<uint32_t>(attempts);
    w.backoff = std::chrono::milliseconds{backoff};
    w.http.connect_timeout = w.timeout;
    w.http.max_output = 4096;
  }
};

} // namespace

caf::expected<notify_settings> load_notifications(const std::string& path) {
  auto parsed = read_toml(path);
  if (!parsed)
    return std::move(parsed.error());
  auto& root = *parsed;
  notify_settings out;
  if (root.contains("notify")) {
    auto n = root["notify"].as_table();
    if (!n)
      return refuse(ec::invalid_input, path + ": notify: must be a table");
    for (auto& [name, node] : *n)
      if (name.str() != "queue")
        return refuse(ec::invalid_input,
                      path + ": notify." + std::string{name.str()} + ": is not a notify key");
    if (n->contains("queue")) {
      auto q = (*n)["queue"].value<int64_t>();
      if (!q || *q < 1 || *q > 1048576)
        return refuse(ec::invalid_input,
                      path + ": notify.queue: must be a whole number from 1 to 1048576");
      out.queue = static_cast<size_t>(*q);
    }
  }
  if (!root.contains("notifications"))
    return out;
  auto list = root["notifications"].as_array();
  if (!list)
    return refuse(ec::invalid_input, path + ": notifications: must be [[notifications]] tables");
  webhook_reader r{path, {}};
  for (size_t i = 0; i < list->size() && r.error.empty(); ++i) {
    auto where = "notifications[" + std::to_string(i) + "]";
    auto t = (*list)[i].as_table();
    if (!t)
      return refuse(ec::invalid_input, path + ": " + where + ": must be a table");
    webhook_spec w;
    r.read(*t, where, w);
    for (size_t j = 0; j < out.webhooks.size() && r.error.empty(); ++j)
      if (out.webhooks[j].name == w.name)
        r.fail(where, "name", w.name + " names notifications[" + std::to_string(j) + "] already");
    out.webhooks.push_back(std::move(w));
  }
  if (!r.error.empty())
    return refuse(ec::invalid_input, r.error);
  return out;
}

} // namespace bulwark
