#pragma once

/// What the journal benchmark's two parts share: the report, 256-byte events, fresh stores.

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.hpp"
#include "messages/events.hpp"

namespace bulwark {
class journal_store;
} // namespace bulwark

namespace bulwark::bench {

[[noreturn]] inline void fail(const std::string& what) { throw std::runtime_error(what); }

/// An `action_applied` event of exactly 256 bytes as stored (ids from `i`).
event applied_256(uint64_t i);

/// One line of the table; `met` stays empty for rows without a target.
struct row {
  std::string what, result, target, met;
};

/// Everything measured, for the table and for --json.
struct report {
  std::vector<row> rows;
  nlohmann::ordered_json json;

  /// Adds a row; one with a target is judged against it (reported, never enforced).
  void add(std::string what, std::string result, std::string target = "", bool met = false) {
    if (!target.empty())
      json["targets"].push_back({{"what", what}, {"target", target}, {"met", met}});
    std::string verdict = target.empty() ? "" : met ? "met" : "MISSED";
    rows.push_back(row{std::move(what), std::move(result), std::move(target), verdict});
  }
  /// Adds p50/p99 of `lat` as `json[key]` and as a row.
  void latency(const char* key, const std::string& what, std::vector<double>& lat) {
    auto p50 = percentile(lat, 50), p99 = percentile(lat, 99);
    json[key] = {{"samples", lat.size()}, {"p50_us", p50}, {"p99_us", p99}};
    add(what + " (" + std::to_string(lat.size()) + " samples)",
        format("p50 %.0f us, p99 %.0f us", p50, p99));
  }
};

/// A fresh journal in `dir` (1 GiB initial map); fails the run if it cannot open.
std::shared_ptr<journal_store> open_store(const std::string& dir);

/// Durable append with `appenders` concurrent appenders on a fresh journal.
void bench_append(const temp_root& tmp, size_t appenders, uint64_t total, double fsync_p99,
                  report& rep);

} // namespace bulwark::bench
