// `propose`: a proposal that waits for an approval does not hold its connection. The
// console answers as soon as the journal commits a decision that waits for an approver
// (the digest and "waiting for approval"), and pushes the outcome as an `outcome` notice
// when it arrives. Proposals that need no approval, and every proposal over HTTP (one
// answer per request), are answered with their outcome as before.

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/console_impl.hpp"
#include "persistence/make_event.hpp"

namespace bulwark::console_detail {

using nlohmann::json;

namespace {

/// About 31 years, longer than any node's approval window: a larger `approval_window_ms`
/// is taken as this, still refused by validation as longer than the node's.
constexpr uint64_t max_window_ms = 1'000'000'000'000;

bool string_list(const console_request& req, const char* name, std::vector<std::string>& out,
                 console_refusal& why) {
  auto i = req.args.find(name);
  if (i == req.args.end())
    return true;
  if (!i->is_array()) {
    why = console_refusal{ec::invalid_input, std::string{"args."} + name + " must be a list",
                          req.id};
    return false;
  }
  for (auto& x : *i) {
    if (!x.is_string()) {
      why = console_refusal{ec::invalid_input,
                            std::string{"args."} + name + " must hold strings", req.id};
      return false;
    }
    out.push_back(x.get<std::string>());
  }
  return true;
}

/// A level-0 read's resources: `{seq, total, truncated, resources: [{id, service, region,
/// attributes}]}`.
json read_json(const fleet_read& r) {
  json resources = json::array();
  for (auto& x : r.resources)
    resources.push_back({{"id", x.id.value}, {"service", x.service}, {"region", x.region},
                         {"attributes", x.attributes}});
  return json{{"seq", r.seq.value}, {"total", r.total}, {"truncated", r.truncated},
              {"resources", std::move(resources)}};
}

json outcome_json(const outcome& o) {
  return json{{"proposal", to_hex(o.proposal)}, {"status", to_string(o.status)},
              {"code", o.code == ec::none ? json(nullptr) : json(to_string(o.code))},
              {"message", o.message}, {"decided_seq", o.decided_seq.value},
              {"applied", o.applied}, {"compensated", o.compensated},
              {"read", o.read ? read_json(*o.read) : json(nullptr)}};
}

/// The proposal's outcome: the answer, or a notice when it was answered already.
void on_outcome(broker_ptr self, uint64_t token, hdl_t hdl, const json& id, json result) {
  auto& waiting = self->state.proposes;
  auto i = waiting.find(token);
  bool answered = i != waiting.end() && i->second.answered;
  if (i != waiting.end())
    waiting.erase(i);
  if (!answered)
    return send_line(self, hdl, ok_response(id, result));
  result["id"] = id;
  send_line(self, hdl, push_message("outcome", result));
}

/// The proposal failed without an outcome (refused before it was decided, unavailable).
void on_error(broker_ptr self, uint64_t token, hdl_t hdl, const json& id, const caf::error& err) {
  auto& waiting = self->state.proposes;
  auto i = waiting.find(token);
  bool answered = i != waiting.end() && i->second.answered;
  std::string proposal = i != waiting.end() ? i->second.proposal : "";
  if (i != waiting.end())
    waiting.erase(i);
  if (!answered)
    return send_line(self, hdl, error_response(id, err));
  auto info = describe(err);
  send_line(self, hdl, push_message("outcome", {{"id", id}, {"proposal", proposal},
                                                {"status", "failed"},
                                                {"code", to_string(info.code)},
                                                {"message", info.message}}));
}

} // namespace

void follow_journal(broker_ptr self) {
  auto& st = self->state;
  if (st.journal_subscribed || !st.deps.journal)
    return;
  st.journal_subscribed = true;
  self->send(st.deps.journal, atom::subscribe_v, caf::actor_cast<subscriber_actor>(self),
             st.deps.store->head());
}

void answer_waiting_proposals(broker_ptr self, const std::vector<journal_entry>& entries) {
  auto& waiting = self->state.proposes;
  if (waiting.empty())
    return;
  std::vector<std::pair<hdl_t, std::string>> lines;
  for (auto& e : entries) {
    if (e.ev.type != event_type::proposal_decided)
      continue;
    proposal_decided d;
    if (payload_of(e.ev, d))
      continue;
    // Levels 1 and 2 wait for an approver once their decision is durable.
    if (!d.allowed
        || (d.level != authority_level::assist && d.level != authority_level::recommend))
      continue;
    for (auto& [token, w] : waiting) {
      if (w.answered || w.principal != d.principal.value || w.key != d.idempotency_key)
        continue;
      w.answered = true;
      w.proposal = to_hex(d.proposal);
      lines.emplace_back(w.hdl, ok_response(w.id, {{"proposal", w.proposal},
                                                   {"status", "awaiting_approval"},
                                                   {"message", "waiting for approval"},
                                                   {"level", static_cast<int>(d.level)},
                                                   {"decided_seq", e.seq.value}}));
    }
  }
  if (lines.empty())
    return;
  // The journal tells its subscribers of a commit before it answers the appender (the
  // pipeline): an approval sent at once on this line could reach the pipeline before
  // the flight knows its decision is durable. One round trip to the journal first: its
  // answer comes after it answered the pipeline, so anything the client sends next
  // reaches the pipeline after that answer.
  auto send_all = [self, lines] {
    for (auto& [hdl, line] : lines)
      if (self->state.conns.count(hdl) != 0)
        send_line(self, hdl, line);
  };
  self->request(self->state.deps.journal, caf::infinite, atom::head_v)
    .then([send_all](seq_no, digest) { send_all(); },
          [send_all](caf::error&) { send_all(); });
}

void cmd_propose(broker_ptr self, hdl_t hdl, const console_request& req) {
  console_refusal why;
  proposal p;
  uint64_t level = 99, timeout_ms = 30000;
  if (!string_arg(req, "idempotency_key", p.idempotency_key, why)
      || !uint_arg(req, "level", level, why) || !uint_arg(req, "timeout_ms", timeout_ms, why)
      || !string_list(req, "services", p.services, why)
      || !string_list(req, "regions", p.regions, why))
    return refuse_args(self, hdl, why);
  auto changes = req.args.find("changes");
  if (changes != req.args.end() && !changes->is_array())
    return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                               "args.changes must be a list"));
  if (changes != req.args.end())
    for (auto& c : *changes) {
      if (!c.is_object() || !c.contains("resource") || !c["resource"].is_string()
          || !c.contains("key") || !c["key"].is_string() || !c.contains("value")
          || !c["value"].is_string())
        return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                                   "each change needs string resource, key "
                                                   "and value"));
      p.mutations.push_back(mutation{resource_id{c["resource"].get<std::string>()},
                                     c["key"].get<std::string>(), c["value"].get<std::string>()});
    }
  if (auto j = req.args.find("justification"); j != req.args.end() && j->is_string())
    p.justification = j->get<std::string>();
  p.level = static_cast<authority_level>(std::min<uint64_t>(level, 255));
  p.principal = self->state.conns.at(hdl).principal;
  p.deadline = now(self) + std::chrono::milliseconds{std::min<uint64_t>(timeout_ms, 86400000)};
  if (req.args.count("approval_window_ms") != 0) {
    uint64_t window_ms = 0;
    if (!uint_arg(req, "approval_window_ms", window_ms, why))
      return refuse_args(self, hdl, why);
    // Beyond any node's window (validation names it); capped so it stays a timespan.
    p.approval_window = caf::timespan{
      std::chrono::milliseconds{std::min<uint64_t>(window_ms, max_window_ms)}};
  }
  auto& st = self->state;
  auto token = ++st.propose_tokens;
  // A console connection hears at once of a wait for an approver (levels 1 and 2 only:
  // the others never wait, and need no watch on the journal).
  bool may_wait = level == 1 || level == 2;
  if (may_wait && !st.conns.at(hdl).http) {
    st.proposes[token] = console_waiting_propose{hdl, req.id, p.principal.value,
                                                 p.idempotency_key, false, ""};
    follow_journal(self);
  }
  auto id = req.id;
  auto done = [self, token, hdl, id](outcome& o) { on_outcome(self, token, hdl, id, outcome_json(o)); };
  auto failed = [self, token, hdl, id](caf::error& err) { on_error(self, token, hdl, id, err); };
  // Clustered, the cluster actor runs it on the leader or refuses it (fail closed), unless
  // this node leads now (its write window is open): then its own admission takes it.
  if (through_cluster(static_cast<bool>(st.deps.cluster), st.deps.local_writes.get())) {
    self->request(st.deps.cluster, caf::infinite, atom::submit_v, std::move(p),
                  static_cast<uint8_t>(admission_class::operator_))
      .then(done, failed);
    return;
  }
  // People's proposals: the operator class of admission, ahead of automation, bounded.
  if (st.deps.admission) {
    auto gate = st.deps.admission->get();
    if (!gate) { // fail closed while admission restarts
      st.proposes.erase(token);
      return send_line(self, hdl, error_response(id, ec::governance_failure,
                                                 "the actor for this command is not running"));
    }
    self->request(gate, caf::infinite, atom::submit_v, std::move(p),
                  static_cast<uint8_t>(admission_class::operator_))
      .then(done, failed);
    return;
  }
  if (!st.deps.pipeline) {
    st.proposes.erase(token);
    return send_line(self, hdl, error_response(id, ec::governance_failure,
                                               "the actor for this command is not running"));
  }
  self->request(st.deps.pipeline, caf::infinite, atom::submit_v, std::move(p)).then(done, failed);
}

} // namespace bulwark::console_detail
