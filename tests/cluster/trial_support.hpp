#pragma once

/// What the failover trials on real node processes share: a console client's level-4
/// proposals, its back-off on refusals, and what a journal shows as finished.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <vector>
#include <set>
#include <string>
#include <thread>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"
#include "messages/events.hpp"
#include "persistence/make_event.hpp"
#include "support/journal_fixture.hpp"

namespace bulwark::test::trials {

inline uint16_t console_port(const std::string& line) {
  auto at = line.find("console ");
  REQUIRE(at != std::string::npos);
  return static_cast<uint16_t>(std::stoi(line.substr(line.find(':', at) + 1)));
}

/// No answer: the connection closed (the leader is gone) or nothing came within 5 s.
inline bool gone(const nlohmann::json& r) {
  return r.is_null() || r.is_discarded();
}

/// Waits as a refusal asks (UNAVAILABLE, RATE_LIMITED and OVERLOADED carry retry_after);
/// returns whether the request is worth repeating.
inline bool back_off(const nlohmann::json& r) {
  if (gone(r) || r["ok"] == true || !r["error"]["retry_after"].is_number())
    return false;
  auto ms = r["error"]["retry_after"].get<int64_t>();
  std::this_thread::sleep_for(std::chrono::milliseconds{std::clamp<int64_t>(ms, 10, 1000)});
  return true;
}

/// A proposal the old leader acknowledged (answered ok).
struct acked {
  std::string key;
  std::string proposal; ///< hex digest
  uint64_t decided_seq = 0;
  nlohmann::json request;
};

inline nlohmann::json propose(uint64_t id, const std::string& key, int n) {
  char resource[32];
  std::snprintf(resource, sizeof resource, "coaster-north-%02d", 1 + n % 20);
  return {{"id", id},
          {"cmd", "propose"},
          {"args",
           {{"idempotency_key", key},
            {"level", 4},
            {"services", {"coaster"}},
            {"regions", {"north"}},
            {"changes", {{{"resource", resource}, {"key", "mode"},
                          {"value", n % 2 ? "slow" : "normal"}}}}}}};
}

/// Proposals whose `proposal_finished` the journal in `data` holds, by hex digest.
inline std::set<std::string> finished_in(const std::string& data) {
  std::set<std::string> out;
  auto store = test::open_store(data);
  REQUIRE(!store->read(seq_no{1}, seq_no{UINT64_MAX}, [&](journal_entry&& e) {
    proposal_finished f;
    if (e.ev.type == event_type::proposal_finished && !payload_of(e.ev, f))
      out.insert(to_hex(f.proposal));
    return true;
  }));
  return out;
}

/// Sets sync_followers, and governance limits wide enough that most proposals run (the
/// trial is about replication, not about the rate limit or the fleet's budget).
inline std::string with_sync(const std::string& config, int k) {
  std::ifstream in{config};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  text.replace(text.find("[cluster]\n"), 10,
               "[cluster]\nsync_followers = " + std::to_string(k) + "\n");
  text.replace(text.find("[authority]\n"), 12,
               "[blast_radius]\nmax_percent = 100.0\nwindow_ms = 1\n[authority]\n"
               "rate_per_second = 100000.0\nburst = 100000.0\naudit_backlog = 1000000\n");
  std::ofstream{config} << text;
  return config;
}

/// Repeats every acknowledged proposal on the console at `port` (backing off while it is
/// refused with retry_after); returns how many were answered otherwise than with their
/// journaled decision (each one ran again, or failed).
inline size_t repeats_differing(uint16_t port, const std::vector<acked>& acks) {
  size_t differing = 0;
  test::client conn{port};
  conn.call({{"id", 0}, {"cmd", "auth"}, {"args", {{"token", "root-token"}}}});
  for (auto& a : acks) {
    nlohmann::json r;
    // The new leader takes writes once its follower is in step (sync_followers).
    for (int tries = 0; tries < 100; ++tries) {
      r = conn.call(a.request);
      if (gone(r) || !back_off(r))
        break;
    }
    if (gone(r) || r["ok"] != true || r["result"]["decided_seq"] != a.decided_seq) {
      ++differing;
      MESSAGE("repeat of " << a.key << " (decided at seq " << a.decided_seq
                           << "): " << r.dump());
    }
  }
  return differing;
}

} // namespace bulwark::test::trials
