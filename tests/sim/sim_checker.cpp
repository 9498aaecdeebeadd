#include "sim/sim_checker.hpp"

#include <cmath>
#include <cstdio>
#include <ctime>

#include <nlohmann/json.hpp>

namespace bulwark::sim {
namespace {

std::optional<std::string> opt_string(const nlohmann::json& j, const char* name) {
  auto i = j.find(name);
  if (i == j.end() || i->is_null())
    return std::nullopt;
  return i->get<std::string>();
}

std::string show(const std::optional<std::string>& v) {
  return v ? "'" + *v + "'" : std::string{"(none)"};
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

void sim_checker::fail(const std::string& invariant, const std::string& detail) {
  found_.push_back(violation{invariant, detail});
}

std::vector<violation> sim_checker::take() {
  auto out = std::move(found_);
  found_.clear();
  return out;
}

void sim_checker::record(uint64_t seq, const std::string& type, const nlohmann::json& p) {
  seen_ = seq;
  if (type == "resource_registered") {
    auto r = p.at("resource").get<std::string>();
    auto svc = p.at("service").get<std::string>();
    if (service_of_.emplace(r, svc).second) {
      ++active_[svc];
      ++active_[svc + "/" + p.at("region").get<std::string>()];
    }
  } else if (type == "action_started") {
    started_.emplace(std::pair{p.at("proposal").get<std::string>(), p.at("step").get<uint32_t>()},
                     seq);
  } else if (type == "action_applied") {
    applied_[seq] = applied_action{p.at("proposal").get<std::string>(),
                                   p.at("step").get<uint32_t>(), opt_string(p, "old_value")};
  } else if (type == "rollback_requested") {
    rollbacks_.emplace(p.at("rollback").get<std::string>(), seq);
    ++rollbacks_open_[p.at("rollback").get<std::string>()];
  } else if (type == "rollback_finished") {
    auto id = p.at("rollback").get<std::string>();
    if (--rollbacks_open_[id] < 0)
      fail("rollback-ends", "rollback " + id + " finished at seq " + std::to_string(seq)
                              + " more often than it was requested");
  } else if (type == "budget_charged") {
    check_budget(seq, p);
  } else if (type == "rollback_applied") {
    if (auto r = service_of_.find(p.at("resource").get<std::string>()); r != service_of_.end())
      budget_[r->second].erase(r->first);
    rollbacks_applied_.push_back(rollback_record{
      seq, p.at("rollback").get<std::string>(), p.at("reverts").get<uint64_t>(),
      p.at("resource").get<std::string>(), p.at("key").get<std::string>(),
      opt_string(p, "new_value")});
  } else if (type == "proposal_decided") {
    auto id = p.at("proposal").get<std::string>();
    auto& seqs = decided_[id];
    seqs.push_back(seq);
    if (seqs.size() > 1)
      fail("decided-once", "proposal " + id + " decided again at seq " + std::to_string(seq)
                             + " (first at seq " + std::to_string(seqs.front()) + ")");
    if (p.at("allowed").get<bool>())
      check_scope(seq, p);
    auto level = p.value("level", 0);
    if (p.at("allowed").get<bool>() && level >= 1 && level <= 3)
      flights_.emplace(id, seq);
    auto key = p.at("principal").get<std::string>() + "/" + p.at("idempotency_key").get<std::string>();
    if (!decided_keys_.insert(key).second && seqs.size() == 1)
      fail("decided-once", "idempotency key " + key + " decided a second proposal at seq "
                             + std::to_string(seq));
  } else if (type == "proposal_finished") {
    auto id = p.at("proposal").get<std::string>();
    if (p.value("applied", 0u) == p.value("compensated", 0u))
      for (auto& [svc, charges] : budget_)
        for (auto r = charges.begin(); r != charges.end();)
          r = r->second.proposal == id ? charges.erase(r) : std::next(r);
    if (!finished_.insert(id).second)
      fail("decided-once", "proposal " + id + " finished again at seq " + std::to_string(seq));
  } else if (type == "candidate_decided") {
    auto id = p.at("candidate").get<std::string>();
    if (!candidates_decided_.insert(id).second)
      fail("no-duplicate-incident",
           "candidate " + id + " decided again at seq " + std::to_string(seq));
  } else if (type == "incident_opened") {
    ++incidents;
    auto id = p.at("incident").get<std::string>();
    auto cand = p.at("candidate").get<std::string>();
    if (!incident_ids_.insert(id).second)
      fail("no-duplicate-incident", "incident " + id + " opened again at seq "
                                      + std::to_string(seq));
    // A failed compensation's incident has no candidate (all zero): one per flight.
    else if (cand != std::string(64, '0') && !incident_candidates_.insert(cand).second)
      fail("no-duplicate-incident", "candidate " + cand + " opened a second incident " + id
                                      + " at seq " + std::to_string(seq));
  }
}

void sim_checker::settled(const std::vector<std::string>& in_doubt,
                          const std::vector<std::string>& waiting_flights,
                          const std::vector<std::string>& waiting_rollbacks) {
  std::set<std::string> doubt(in_doubt.begin(), in_doubt.end());
  std::set<std::string> waiting(waiting_flights.begin(), waiting_flights.end());
  for (auto& [id, seq] : flights_)
    if (finished_.count(id) == 0 && doubt.count(id) == 0 && waiting.count(id) == 0)
      fail("flight-ends", "proposal " + id + " allowed at seq " + std::to_string(seq)
                            + " has no outcome, waits for no approval and is not in doubt");
  std::set<std::string> asked(waiting_rollbacks.begin(), waiting_rollbacks.end());
  for (auto& [id, open] : rollbacks_open_)
    if (open > 0 && asked.count(id) == 0)
      fail("rollback-ends", "rollback " + id + " requested at seq "
                              + std::to_string(rollbacks_.at(id))
                              + " has no rollback_finished and waits for no approval");
}

void sim_checker::check_scope(uint64_t seq, const nlohmann::json& p) {
  if (max_services_ == 0)
    return;
  std::map<std::string, std::set<std::string>> touched; // service -> resources
  for (auto& m : p.at("mutations")) {
    auto r = m.at("resource").get<std::string>();
    if (auto s = service_of_.find(r); s != service_of_.end())
      touched[s->second].insert(r);
  }
  auto at = "proposal " + p.at("proposal").get<std::string>() + " allowed at seq "
            + std::to_string(seq);
  if (touched.size() > max_services_)
    fail("blast-radius", at + " changes " + std::to_string(touched.size()) + " services, limit "
                           + std::to_string(max_services_));
  for (auto& [svc, rs] : touched) {
    auto limit = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::floor(active_[svc] * max_percent_ / 100.0)));
    if (rs.size() > limit)
      fail("blast-radius", at + " changes " + std::to_string(rs.size()) + " resources of "
                             + svc + ", limit " + std::to_string(limit));
  }
}

namespace {

/// Milliseconds since the epoch of a journal time ("2026-01-01T04:12:11.000Z").
int64_t ms_of(const std::string& iso) {
  std::tm tm{};
  int ms = 0;
  if (std::sscanf(iso.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
    return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + ms;
}

} // namespace

void sim_checker::check_budget(uint64_t seq, const nlohmann::json& p) {
  // The charge's time is the record's; the window is the configured one, which the
  // engine promised to run with.
  auto from = ms_of(p.at("until").get<std::string>()) - p.at("window_ms").get<int64_t>();
  auto until = from + window_ms_;
  auto id = p.at("proposal").get<std::string>();
  for (auto& [svc, charges] : budget_)
    for (auto r = charges.begin(); r != charges.end();)
      r = r->second.until <= from ? charges.erase(r) : std::next(r);
  ++budget_charges;
  std::set<std::string> scopes;
  for (auto& e : p.at("entries")) {
    auto svc = e.at("service").get<std::string>();
    auto region = e.at("region").get<std::string>();
    budget_[svc][e.at("resource").get<std::string>()] = charge{region, id, until};
    scopes.insert(svc);
    scopes.insert(svc + "/" + region);
  }
  // Every principal's live charges together, per service and per (service, region).
  for (auto& scope : scopes) {
    auto slash = scope.find('/');
    auto svc = scope.substr(0, slash);
    uint64_t live = 0;
    for (auto& [r, c] : budget_[svc])
      live += slash == std::string::npos || svc + "/" + c.region == scope;
    auto limit = std::max<uint64_t>(
      1, static_cast<uint64_t>(std::floor(active_[scope] * max_percent_ / 100.0 + 1e-9)));
    if (max_services_ != 0 && live > limit)
      fail("fleet-budget", "budget_charged at seq " + std::to_string(seq) + " makes "
                             + std::to_string(live) + " resources of " + scope
                             + " changed within the window by all principals, limit "
                             + std::to_string(limit));
  }
}

void sim_checker::answered(const result& r) {
  if (r.seq != 0 && !r.proposal.empty())
    answers_.push_back(r);
}

void sim_checker::repeated_later(const result& r) {
  if (r.code == "INVALID_INPUT" && r.message.find("another proposal") != std::string::npos)
    fail("idempotent-repeat", "a request repeated later was refused as another proposal: "
                                + r.message);
}

void sim_checker::check_call(const call_record& c) {
  ++effects_checked;
  auto& key = c.req.idempotency_key;
  auto what = std::string{c.req.compensation ? "compensation" : "effect"} + " " + key + " on "
              + c.req.resource + "/" + c.req.key;
  // A flight's call: "<proposal>/<step>" or "<proposal>/<step>/undo"; a rollback's:
  // "<rollback>/<n>" with compensation set, its plan journaled first.
  auto slash = key.find('/');
  if (slash == std::string::npos)
    return fail("write-ahead", what + ": an idempotency key the engine does not make");
  auto id = key.substr(0, slash);
  if (auto r = rollbacks_.find(id); c.req.compensation && r != rollbacks_.end()) {
    if (r->second > c.head)
      fail("write-ahead", what + " ran at head " + std::to_string(c.head)
                            + " before its rollback_requested (seq "
                            + std::to_string(r->second) + ") was durable");
    return;
  }
  auto rest = key.substr(slash + 1);
  auto step = static_cast<uint32_t>(std::stoul(rest));
  auto s = started_.find({id, step});
  if (s == started_.end())
    return fail("write-ahead", what + " ran at head " + std::to_string(c.head)
                                 + " with no action_started for step " + std::to_string(step));
  if (s->second > c.head)
    fail("write-ahead", what + " ran at head " + std::to_string(c.head)
                          + " before its action_started (seq " + std::to_string(s->second)
                          + ") was durable");
}

void sim_checker::check_rollback(const rollback_record& r, const std::vector<call_record>& calls) {
  ++rollback_mutations;
  auto at = "rollback_applied seq " + std::to_string(r.seq) + " (" + r.resource + "/" + r.key
            + " := " + show(r.restore) + ")";
  // A flight's compensation has an exact key; a rollback's n-th record of a key is its
  // n-th successful compensation call of that key (newest action first, one call each).
  auto a = applied_.find(r.reverts);
  bool flight = a != applied_.end() && a->second.proposal == r.rollback;
  auto exact = flight ? r.rollback + "/" + std::to_string(a->second.step) + "/undo" : "";
  auto nth = matched_[r.rollback + " " + r.resource + "/" + r.key]++;
  const call_record* last = nullptr;
  std::set<std::string> keys;
  for (auto& c : calls) {
    if (!c.ok || !c.req.compensation || c.req.resource != r.resource || c.req.key != r.key)
      continue;
    if (flight ? c.req.idempotency_key == exact
               : starts_with(c.req.idempotency_key, r.rollback + "/")
                   && keys.insert(c.req.idempotency_key).second && keys.size() == nth + 1)
      last = &c;
  }
  if (last == nullptr)
    return fail("rollback-restores", at + ": no successful compensation call made it");
  if (last->req.restore != r.restore)
    fail("rollback-restores", at + ": the effector was asked to restore "
                                + show(last->req.restore));
  if (last->after != r.restore)
    fail("rollback-restores", at + ": the world holds " + show(last->after) + " after it");
  if (flight && a->second.old_value != r.restore)
    fail("rollback-restores", at + ": step " + std::to_string(a->second.step)
                                + " had replaced " + show(a->second.old_value));
}

void sim_checker::check(const std::vector<call_record>& calls) {
  // Calls made at a head the checker has not read up to wait for the next round.
  while (calls_checked_ < calls.size() && calls[calls_checked_].head <= seen_)
    check_call(calls[calls_checked_++]);
  for (auto& r : rollbacks_applied_)
    check_rollback(r, calls);
  rollbacks_applied_.clear();
  std::vector<result> later;
  for (auto& r : answers_) {
    if (r.seq > seen_) {
      later.push_back(r);
      continue;
    }
    ++answers_checked;
    auto d = decided_.find(r.proposal);
    if (d == decided_.end())
      fail("decided-once", "proposal " + r.proposal + " was answered (" + r.status
                             + ") with decision seq " + std::to_string(r.seq)
                             + " but the journal holds no decision for it");
    else if (d->second.front() != r.seq)
      fail("decided-once", "proposal " + r.proposal + " was answered with decision seq "
                             + std::to_string(r.seq) + " but was decided at seq "
                             + std::to_string(d->second.front()));
  }
  answers_ = std::move(later);
}

} // namespace bulwark::sim
