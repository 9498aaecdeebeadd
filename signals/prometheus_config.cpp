// Reads and checks `[prometheus]`; expands the query templates.

#include "signals/prometheus_config.hpp"

#include <cctype>

#include <toml++/toml.h>

#include "engine/config_check.hpp"
#include "messages/error.hpp"

namespace bulwark {

caf::expected<std::string> expand_query(const std::string& tmpl, const std::string& key,
                                        const signal_series& s) {
  std::string out;
  size_t at = 0;
  while (true) {
    auto open = tmpl.find("{{", at);
    out += tmpl.substr(at, open - at);
    if (open == std::string::npos)
      return out;
    auto close = tmpl.find("}}", open + 2);
    if (close == std::string::npos)
      return refuse(ec::invalid_input, key + ": unclosed {{ at offset " + std::to_string(open));
    auto name = tmpl.substr(open + 2, close - open - 2);
    if (name == "service")
      out += s.first;
    else if (name == "region")
      out += s.second;
    else
      return refuse(ec::invalid_input, key + ": unknown placeholder {{" + name
                                         + "}} (known: {{service}}, {{region}})");
    at = close + 2;
  }
}

std::string query_url(const std::string& address, const std::string& expr) {
  static const char* hex = "0123456789ABCDEF";
  std::string out = address;
  while (!out.empty() && out.back() == '/')
    out.pop_back();
  out += "/api/v1/query?query=";
  for (unsigned char c : expr) {
    if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

namespace {

caf::error bad(const std::string& path, const std::string& key, const std::string& what) {
  return refuse(ec::invalid_input, path + ": prometheus." + key + ": " + what);
}

/// Reads a duration in milliseconds within [low, high].
caf::error read_ms(const toml::table& t, const std::string& path, const char* key, int64_t low,
                   int64_t high, std::chrono::milliseconds& out) {
  if (!t.contains(key))
    return {};
  auto v = t[key].value<int64_t>();
  if (!v || *v < low || *v > high)
    return bad(path, key, "must be an integer from " + std::to_string(low) + " to "
                            + std::to_string(high));
  out = std::chrono::milliseconds{*v};
  return {};
}

caf::error read_series(const toml::table& t, const std::string& path,
                       std::vector<signal_series>& out) {
  if (!t.contains("series"))
    return {};
  auto* xs = t["series"].as_array();
  if (xs == nullptr)
    return bad(path, "series", "must be a list of { service = \"...\", region = \"...\" }");
  for (size_t i = 0; i < xs->size(); ++i) {
    auto where = "series[" + std::to_string(i) + "]";
    auto* s = (*xs)[i].as_table();
    if (s == nullptr)
      return bad(path, where, "must be { service = \"...\", region = \"...\" }");
    for (auto& [k, v] : *s)
      if (k.str() != "service" && k.str() != "region")
        return bad(path, where + "." + std::string{k.str()}, "unknown key (service, region)");
    auto service = (*s)["service"].value<std::string>();
    auto region = (*s)["region"].value<std::string>();
    if (!service || service->empty() || !region || region->empty())
      return bad(path, where, "needs a non-empty service and region");
    signal_series x{*service, *region};
    for (auto& y : out)
      if (y == x)
        return bad(path, where, "repeats " + x.first + "/" + x.second);
    out.push_back(std::move(x));
  }
  return {};
}

} // namespace

caf::expected<std::optional<prometheus_settings>> load_prometheus(const std::string& path) {
  auto root = read_toml(path);
  if (!root)
    return root.error();
  auto* t = (*root)["prometheus"].as_table();
  if (t == nullptr) {
    if (root->contains("prometheus"))
      return refuse(ec::invalid_input, path + ": prometheus: must be a table");
    return std::optional<prometheus_settings>{};
  }
  prometheus_settings s;
  auto address = (*t)["address"].value<std::string>();
  if (!address || (address->rfind("http://", 0) != 0 && address->rfind("https://", 0) != 0)
      || address->find_first_of(" \t\r\n?#") != std::string::npos)
    return bad(path, "address", "is required: the server's http:// or https:// address");
  s.address = *address;
  if (auto e = read_ms(*t, path, "interval_ms", 10, 3'600'000, s.interval))
    return e;
  if (auto e = read_ms(*t, path, "timeout_ms", 1, 600'000, s.timeout))
    return e;
  for (auto [key, out] : {std::pair{"error_rate", &s.error_rate},
                          std::pair{"latency_ms", &s.latency_ms}}) {
    if (!t->contains(key))
      continue;
    auto v = (*t)[key].value<std::string>();
    if (!v || v->empty())
      return bad(path, key, "must be a non-empty PromQL query");
    *out = *v;
    if (auto x = expand_query(*out, path + ": prometheus." + key, {"s", "r"}); !x)
      return x.error();
  }
  if (s.error_rate.empty())
    return bad(path, "error_rate", "is required: a PromQL query of a series' error rate "
                                   "(0 to 1), with {{service}} and {{region}}");
  if (auto e = read_series(*t, path, s.series))
    return e;
  return std::optional<prometheus_settings>{std::move(s)};
}

} // namespace bulwark
