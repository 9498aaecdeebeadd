// The 13 gates, each computed from its inputs: every gate passes with its evidence on a
// well-formed proposal and refuses when its input says so.

#include <doctest/doctest.h>

#include "actors/authority/authority_policy.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int64_t seconds) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000 + seconds}};
}

/// Four pumps in east, "mode" = "normal"; two valves in west.
fleet_state fleet() {
  fleet_state f;
  f.seq = 42;
  for (int i = 0; i < 4; ++i) {
    resource_state r;
    r.service = "pumps";
    r.region = "east";
    r.attributes["mode"] = "normal";
    f.resources["pump-" + std::to_string(i)] = r;
  }
  for (int i = 0; i < 2; ++i) {
    resource_state r;
    r.service = "valves";
    r.region = "west";
    f.resources["valve-" + std::to_string(i)] = r;
  }
  return f;
}

proposal make(authority_level level, size_t n, const std::string& value = "drain") {
  proposal p;
  p.principal = principal_id{"agent"};
  p.level = level;
  p.services = {"pumps"};
  p.regions = {"east"};
  for (size_t i = 0; i < n; ++i)
    p.mutations.push_back(mutation{resource_id{"pump-" + std::to_string(i)}, "mode", value});
  p.deadline = t(60);
  return p;
}

struct inputs {
  authority_config config;
  approval_policy approvals;
  fleet_state view = fleet();
  size_t audit_pending = 0;
  caf::timespan window = 5s;
  inputs() {
    config.enforce_enabled = true;
    approvals.operators = {"alice", "bob"};
    approvals.admins = {"root"};
  }
  std::vector<gate_result> of(const proposal& p) const {
    gate_inputs in;
    in.config = &config;
    in.approvals = &approvals;
    in.fleet = &view;
    in.now = t(0);
    in.observation_window = window;
    in.audit_pending = audit_pending;
    return evaluate_gates(p, in);
  }
  /// The verdict of gate `g` for `p`.
  gate_result gate_of(const proposal& p, gate g) const {
    for (auto& r : of(p))
      if (r.name == g)
        return r;
    FAIL("gate not evaluated");
    return {};
  }
};

} // namespace

TEST_CASE("gates: a well-formed proposal of each level passes every gate, with evidence") {
  inputs in;
  for (auto [level, n] : {std::pair{authority_level::read_only, size_t{0}},
                          {authority_level::assist, 1},
                          {authority_level::recommend, 3},
                          {authority_level::act, 3},
                          {authority_level::enforce, 2}}) {
    CAPTURE(static_cast<int>(level));
    auto gates = in.of(make(level, n));
    REQUIRE(gates.size() == gates_of(level).size());
    for (size_t i = 0; i < gates.size(); ++i) {
      CAPTURE(to_string(gates[i].name));
      CHECK(gates[i].name == gates_of(level)[i]);
      CHECK(gates[i].passed);
      CHECK_FALSE(gates[i].note.empty());
    }
  }
  CHECK(in.gate_of(make(authority_level::read_only, 0), gate::transaction_read_only).note
        == "read-only view of the journal at seq 42: 4 resources of the declared services");
  CHECK(in.gate_of(make(authority_level::assist, 1), gate::explicit_confirmation).note
        == "the approver confirms pump-0/mode: 'normal' -> 'drain'");
  CHECK(in.gate_of(make(authority_level::assist, 1), gate::human_approval).note
        == "one approval naming the digest, by a principal with the role operator: alice, "
           "bob, root; within 300 s");
  CHECK(in.gate_of(make(authority_level::act, 3), gate::interruptible_execution).note
        == "3 steps one by one, interruptible between them; their 15 s of windows fit the "
           "deadline's 60 s");
  CHECK(in.gate_of(make(authority_level::act, 3), gate::human_observation).note
        == "a 5 s window with analysis after each of 3 steps, the last included");
}

TEST_CASE("gates: TransactionReadOnly refuses a read of a service with nothing in view, "
          "NoStateMutation a level-0 mutation") {
  inputs in;
  auto p = make(authority_level::read_only, 0);
  p.services = {"turbines"};
  auto r = in.gate_of(p, gate::transaction_read_only);
  CHECK_FALSE(r.passed);
  CHECK(r.note == "nothing to read: service turbines has no resources in the declared regions "
                  "at journal seq 42");
  p = make(authority_level::read_only, 0);
  p.regions = {"west"}; // pumps exist, but none in west
  CHECK_FALSE(in.gate_of(p, gate::transaction_read_only).passed);
  auto m = make(authority_level::read_only, 1);
  CHECK_FALSE(in.gate_of(m, gate::no_state_mutation).passed);
  CHECK(in.gate_of(m, gate::no_state_mutation).note == "level 0 may not mutate");
}

TEST_CASE("gates: HumanApproval and HumanReview refuse when nobody but the proposer may "
          "approve") {
  inputs in;
  in.approvals.operators = {"agent"}; // only the proposer holds a role
  in.approvals.admins.clear();
  auto one = in.gate_of(make(authority_level::assist, 1), gate::human_approval);
  CHECK_FALSE(one.passed);
  CHECK(one.note.find("nobody may approve a level-1 proposal of agent") == 0);
  CHECK_FALSE(in.gate_of(make(authority_level::recommend, 2), gate::human_review).passed);
  in.approvals.allow_self_approval = true; // then the proposer may
  CHECK(in.gate_of(make(authority_level::assist, 1), gate::human_approval).passed);
  // A level that asks for an admin: operators do not count.
  inputs admin;
  admin.approvals.least[2] = approver_role::admin;
  admin.approvals.admins.clear();
  auto two = admin.gate_of(make(authority_level::recommend, 2), gate::human_review);
  CHECK_FALSE(two.passed);
  CHECK(two.note.find("holds the role admin") != std::string::npos);
}

TEST_CASE("gates: PerAction refuses two actions, ExplicitConfirmation a change to the value "
          "already there") {
  inputs in;
  auto two = in.gate_of(make(authority_level::assist, 2), gate::per_action);
  CHECK_FALSE(two.passed);
  auto same = in.gate_of(make(authority_level::assist, 1, "normal"), gate::explicit_confirmation);
  CHECK_FALSE(same.passed);
  CHECK(same.note == "pump-0/mode is 'normal' already: there is no change to confirm");
  // A key with no journaled value is a change: from unset.
  auto p = make(authority_level::assist, 1);
  p.services = {"valves"};
  p.regions = {"west"};
  p.mutations = {mutation{resource_id{"valve-0"}, "open", "yes"}};
  auto unset = in.gate_of(p, gate::explicit_confirmation);
  CHECK(unset.passed);
  CHECK(unset.note == "the approver confirms valve-0/open: (unset) -> 'yes'");
}

TEST_CASE("gates: AtomicBatch refuses a batch over the transaction's limit") {
  inputs in;
  in.config.max_batch = 3;
  CHECK(in.gate_of(make(authority_level::recommend, 3), gate::atomic_batch).note
        == "3 actions start in one transaction (at most 3, authority.max_batch)");
  auto r = in.gate_of(make(authority_level::recommend, 4), gate::atomic_batch);
  CHECK_FALSE(r.passed);
  CHECK(r.note == "a batch of 4 actions is over the 3 that start in one transaction "
                  "(authority.max_batch)");
}

TEST_CASE("gates: AllOrNothing and RollbackOnInterrupt refuse a resource another running "
          "proposal holds") {
  inputs in;
  digest other{};
  other.bytes[0] = 0xab;
  in.view.budget["pumps"]["pump-1"] = budget_charge{"east", other, t(3600)};
  // Charged by a proposal that finished: no conflict.
  CHECK(in.gate_of(make(authority_level::recommend, 2), gate::all_or_nothing).passed);
  in.view.proposals[other] = proposal_state{};
  auto batch = in.gate_of(make(authority_level::recommend, 2), gate::all_or_nothing);
  CHECK_FALSE(batch.passed);
  CHECK(batch.note.find("pump-1 is being changed by the running proposal ab00") == 0);
  CHECK_FALSE(in.gate_of(make(authority_level::act, 2), gate::rollback_on_interrupt).passed);
  // One that does not touch pump-1 passes.
  CHECK(in.gate_of(make(authority_level::act, 1), gate::rollback_on_interrupt).passed);
}

TEST_CASE("gates: InterruptibleExecution refuses steps whose windows do not fit the "
          "deadline, HumanObservation a zero window") {
  inputs in;
  in.window = 25s;
  auto r = in.gate_of(make(authority_level::act, 3), gate::interruptible_execution);
  CHECK_FALSE(r.passed);
  CHECK(r.note == "3 steps with a 25 s window each need 75 s; the deadline leaves 60 s");
  CHECK(in.gate_of(make(authority_level::act, 2), gate::interruptible_execution).passed);
  in.window = 0s;
  auto h = in.gate_of(make(authority_level::act, 1), gate::human_observation);
  CHECK_FALSE(h.passed);
  CHECK(h.note == "no observation window (authority.observation_window_ms is 0)");
}

TEST_CASE("gates: NoHumanIntervention refuses when level 4 is disabled, AuditOnly when the "
          "audit queue is full") {
  inputs in;
  in.config.enforce_enabled = false;
  CHECK_FALSE(in.gate_of(make(authority_level::enforce, 1), gate::no_human_intervention).passed);
  in.config.enforce_enabled = true;
  in.config.audit_backlog = 3;
  in.audit_pending = 2;
  auto room = in.gate_of(make(authority_level::enforce, 1), gate::audit_only);
  CHECK(room.passed);
  CHECK(room.note == "enters the audit queue (2 of 3 held: awaiting their audit or running)");
  in.audit_pending = 3;
  auto full = in.gate_of(make(authority_level::enforce, 1), gate::audit_only);
  CHECK_FALSE(full.passed);
  CHECK(full.note == "the audit queue is full: 3 level-4 proposals await their audit or run "
                     "(authority.audit_backlog 3)");
}
