#pragma once

/// The `[prometheus]` section of bulwark.toml: where the node's Prometheus is, how often
/// it is asked, and the PromQL queries (templated with {{service}} and {{region}}) that
/// give each (service, region) its error rate and, optionally, its latency.

#include <chrono>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "caf/expected.hpp"

namespace bulwark {

/// One (service, region) the source asks about.
using signal_series = std::pair<std::string, std::string>;

/// The prometheus source's settings.
struct prometheus_settings {
  std::string address;                      ///< http(s)://host:port[/prefix]
  std::chrono::milliseconds interval{1000}; ///< from the start of one round to the next
  std::chrono::milliseconds timeout{2000};  ///< per query
  std::string error_rate;                   ///< PromQL template (required)
  std::string latency_ms;                   ///< PromQL template ("": latency reported as 0)
  std::vector<signal_series> series;        ///< empty: every (service, region) of the fleet
};

/// Replaces {{service}} and {{region}} in `tmpl`; an unknown placeholder or an unclosed
/// `{{` is INVALID_INPUT naming `key` and the placeholder.
caf::expected<std::string> expand_query(const std::string& tmpl, const std::string& key,
                                        const signal_series& s);

/// The instant-query URL of `expr` on `address` (`/api/v1/query?query=`, percent-encoded).
std::string query_url(const std::string& address, const std::string& expr);

/// Reads `[prometheus]` from the file `path`: none when the section is absent. Every
/// error is INVALID_INPUT naming the file and the key (a missing error_rate, an address
/// that is not http(s), an interval or timeout out of range, a bad placeholder, a series
/// without service or region).
caf::expected<std::optional<prometheus_settings>> load_prometheus(const std::string& path);

} // namespace bulwark
