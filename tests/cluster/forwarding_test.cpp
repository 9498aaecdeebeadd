// Mutating commands given to a follower: halt and release, grants, breaker
// overrides, registrations, quarantine releases, dead letters, audit acknowledgements,
// promotions, rollbacks and approvals run on the leader with the caller's principal and role, the follower answers
// with the leader's answer, the journal (replicated back) holds the effect once, and a
// follower cut off from its leader refuses them all with UNAVAILABLE.

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>

#include "actors/console/console_protocol.hpp"
#include "bulwark/engine.hpp"
#include "cluster/cluster_engines.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"
#include "messages/forwarding.hpp"
#include "persistence/journal_store.hpp"

using namespace bulwark;
using bulwark::test::cluster_plan;
using bulwark::test::count;
using bulwark::test::pair_fixture;
using bulwark::test::seqs_of;
using bulwark::test::start_engine;
using bulwark::test::temp_dir;
using bulwark::test::wait_until;
using bulwark::test::write_config;

namespace {

/// Checks that `a` (the follower's answer) equals `b` (the leader's to the same call).
void same_answer(const result& a, const result& b) {
  CHECK(a.ok == b.ok);
  CHECK(a.code == b.code);
  CHECK(a.message == b.message);
  CHECK(a.status == b.status);
}

proposal_request a_change(const std::string& key, const std::string& service,
                        const std::string& resource, const std::string& value) {
  proposal_request p;
  p.idempotency_key = key;
  p.principal = "agent";
  p.level = 4;
  p.services = {service};
  p.regions = {"north"};
  p.changes = {{resource, "mode", value}};
  p.justification = "forwarding test";
  return p;
}

} // namespace

TEST_CASE("halt, release and grant given to a follower run once on the leader") {
  pair_fixture f;
  f.leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  REQUIRE(f.leader->register_resource("coaster-1", "coaster", "north").ok);
  auto before = f.leader->head().first;
  // A principal that is not an admin: the leader's authority refuses it, as if asked there.
  auto denied = f.follower->halt("ops", "drill");
  CHECK(denied.code == "AUTHORITY_DENIED");
  same_answer(denied, f.leader->halt("ops", "drill"));
  CHECK(count(*f.leader, "halt_engaged") == 0); // nothing journaled
  auto h = f.follower->halt("admin", "drill");
  CHECK_MESSAGE(h.ok, h.code << ": " << h.message);
  CHECK(h.seq > before);
  f.synced();
  CHECK(count(*f.leader, "halt_engaged") == 1);
  CHECK(count(*f.follower, "halt_engaged") == 1);
  CHECK(seqs_of(*f.follower, "halt_engaged") == std::vector<uint64_t>{h.seq});
  // The halt holds on the leader: its proposals are refused there.
  auto p = f.leader->submit(a_change("k1", "coaster", "coaster-1", "slow")).get();
  CHECK(p.code == "HALTED");
  auto r = f.follower->release("admin", "drill over");
  CHECK_MESSAGE(r.ok, r.code << ": " << r.message);
  CHECK(r.seq > h.seq);
  // Grants: a bad level is refused before anything travels, a non-admin by the leader.
  CHECK(f.follower->grant("admin", "agent", 7).code == "INVALID_INPUT");
  auto g_denied = f.follower->grant("ops", "agent", 2);
  same_answer(g_denied, f.leader->grant("ops", "agent", 2));
  CHECK(g_denied.code == "AUTHORITY_DENIED");
  auto g = f.follower->grant("admin", "agent", 2, {}, "fewer powers");
  CHECK_MESSAGE(g.ok, g.code << ": " << g.message);
  f.synced();
  CHECK(count(*f.leader, "halt_released") == 1);
  CHECK(count(*f.leader, "grant_changed") == 1);
  CHECK(seqs_of(*f.follower, "grant_changed") == std::vector<uint64_t>{g.seq});
  // The leader enforces the new grant: level 4 is now over agent's grant.
  CHECK(f.leader->submit(a_change("k2", "coaster", "coaster-1", "slow")).get().code
        == "AUTHORITY_DENIED");
}

TEST_CASE("breaker overrides, registrations and quarantine releases given to a follower") {
  pair_fixture f;
  // The effector and its breaker live where proposals run: on the leader.
  f.leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  auto reg = f.follower->register_resource("coaster-1", "coaster", "north", {{"mode", "normal"}});
  CHECK_MESSAGE(reg.ok, reg.code << ": " << reg.message);
  same_answer(f.follower->register_resource("coaster-1", "coaster", "north"),
              f.leader->register_resource("coaster-1", "coaster", "north"));
  CHECK(!f.follower->register_resource("coaster-1", "coaster", "north").ok); // registered already
  f.synced();
  CHECK(count(*f.leader, "resource_registered") == 1);
  CHECK(f.follower->attribute("coaster-1", "mode") == std::optional<std::string>{"normal"});
  // Breakers: unknown services and non-admins as on the leader; admins force and release.
  auto unknown = f.follower->breaker_force("admin", "teacups", true);
  CHECK(unknown.code == "INVALID_INPUT");
  same_answer(unknown, f.leader->breaker_force("admin", "teacups", true));
  auto not_admin = f.follower->breaker_force("ops", "coaster", true);
  CHECK(not_admin.code == "AUTHORITY_DENIED");
  same_answer(not_admin, f.leader->breaker_force("ops", "coaster", true));
  auto forced = f.follower->breaker_force("admin", "coaster", true);
  CHECK_MESSAGE(forced.ok, forced.code << ": " << forced.message);
  CHECK(forced.status == "forced-open");
  REQUIRE(f.leader->breakers().size() == 1);
  CHECK(f.leader->breakers()[0].state == "forced-open");
  auto p = f.follower->submit(a_change("k1", "coaster", "coaster-1", "slow")).get();
  CHECK(p.code == "CIRCUIT_OPEN"); // the leader's breaker refuses it
  auto released = f.follower->breaker_release("admin", "coaster");
  CHECK_MESSAGE(released.ok, released.code << ": " << released.message);
  CHECK(released.status == f.leader->breakers()[0].state);
  // The breaker journals its transitions after it answers (fire and forget): both come.
  CHECK(wait_until([&] { return count(*f.leader, "breaker_transition") >= 2; }));
  f.synced();
  CHECK(count(*f.follower, "breaker_transition") == count(*f.leader, "breaker_transition"));
  // Quarantine is the leader's admission's: refusals come from there.
  auto nobody = f.follower->release_principal("admin", "nobody");
  CHECK(nobody.code == "INVALID_INPUT");
  same_answer(nobody, f.leader->release_principal("admin", "nobody"));
  same_answer(f.follower->release_principal("ops", "nobody"),
              f.leader->release_principal("ops", "nobody"));
  CHECK(f.follower->release_principal("ops", "nobody").code == "AUTHORITY_DENIED");
}

TEST_CASE("dead letters given to a follower are requeued and discarded on the leader") {
  pair_fixture f{"[breaker]\nattempts = 2\nconsecutive_failures = 1000\n"
                 "[blast_radius]\nmax_percent = 100.0\n"};
  std::atomic<bool> down{true};
  std::mutex m;
  std::vector<std::string> applied;
  f.leader->register_effector("gates", [&](const effect_request& r) {
    if (down)
      return effect_result{false, "gate controller unavailable", true};
    std::lock_guard<std::mutex> lock{m};
    applied.push_back(r.resource + "=" + r.value);
    return effect_result{};
  });
  for (auto gate : {"gate-1", "gate-2"})
    REQUIRE(f.leader->register_resource(gate, "gates", "north").ok);
  for (auto gate : {"gate-1", "gate-2"}) {
    auto r = f.follower->submit(a_change(std::string{"k-"} + gate, "gates", gate, "closed")).get();
    CHECK(r.status == "failed");
  }
  f.synced();
  auto letters = f.follower->dead_letters(); // the replicated list
  REQUIRE(letters.size() == 2);
  CHECK(f.leader->dead_letters().size() == 2);
  auto first = letters[0].seq, second = letters[1].seq;
  // Only admins resolve dead letters through the embedding API, on either node.
  auto denied = f.follower->requeue("ops", first);
  CHECK(denied.code == "AUTHORITY_DENIED");
  same_answer(denied, f.leader->requeue("ops", first));
  same_answer(f.follower->discard("admin", 999999), f.leader->discard("admin", 999999));
  down = false;
  auto again = f.follower->requeue("admin", first, "controller back");
  CHECK_MESSAGE(again.ok, again.code << ": " << again.message);
  CHECK(again.status == "succeeded");
  auto dropped = f.follower->discard("admin", second, "not needed");
  CHECK_MESSAGE(dropped.ok, dropped.code << ": " << dropped.message);
  CHECK(dropped.seq > again.seq);
  same_answer(f.follower->discard("admin", second), f.leader->discard("admin", second));
  f.synced();
  CHECK(f.follower->dead_letters().empty());
  CHECK(f.leader->dead_letters().empty());
  CHECK(count(*f.leader, "dead_letter_resolved") == 2);
  CHECK(count(*f.follower, "dead_letter_resolved") == 2);
  std::lock_guard<std::mutex> lock{m};
  CHECK(applied == std::vector<std::string>{"gate-1=closed"}); // once, by the leader
}

TEST_CASE("an audit acknowledgement given to a follower is journaled once, by the leader") {
  pair_fixture f;
  f.leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  REQUIRE(f.leader->register_resource("coaster-1", "coaster", "north").ok);
  auto r = f.follower->submit(a_change("k-audit", "coaster", "coaster-1", "fast")).get();
  REQUIRE_MESSAGE(r.ok, r.code << ": " << r.message);
  f.synced();
  auto queued = f.follower->audit_pending(); // the replicated queue
  REQUIRE(queued.items.size() == 1);
  CHECK(queued.items[0].proposal == r.proposal);
  CHECK(f.leader->audit_pending().items.size() == 1);
  // The leader's rule answers, whichever node is asked.
  same_answer(f.follower->audit_ack("agent", r.proposal), f.leader->audit_ack("agent", r.proposal));
  CHECK(f.follower->audit_ack("agent", r.proposal).code == "AUTHORITY_DENIED");
  auto ack = f.follower->audit_ack("ops", r.proposal, "reviewed");
  REQUIRE_MESSAGE(ack.ok, ack.code << ": " << ack.message);
  same_answer(f.follower->audit_ack("ops", r.proposal), f.leader->audit_ack("ops", r.proposal));
  f.synced();
  CHECK(f.follower->audit_pending().items.empty());
  CHECK(f.leader->audit_pending().items.empty());
  CHECK(count(*f.leader, "audit_acknowledged") == 1);
  CHECK(count(*f.follower, "audit_acknowledged") == 1);
  CHECK(seqs_of(*f.leader, "audit_acknowledged") == std::vector<uint64_t>{ack.seq});
}

TEST_CASE("rollbacks and promotions given to a follower run on the leader") {
  pair_fixture f{"[blast_radius]\nmax_percent = 100.0\n"};
  std::mutex m;
  std::vector<std::string> calls;
  f.leader->register_effector("coaster", [&](const effect_request& r) {
    std::lock_guard<std::mutex> lock{m};
    calls.push_back(r.resource + (r.compensation ? " undo" : " do"));
    return effect_result{};
  });
  REQUIRE(f.leader->register_resource("coaster-1", "coaster", "north", {{"mode", "normal"}}).ok);
  auto p = f.follower->submit(a_change("k1", "coaster", "coaster-1", "slow")).get();
  REQUIRE(p.status == "succeeded");
  f.synced();
  auto applied = seqs_of(*f.follower, "action_applied");
  REQUIRE(applied.size() == 1);
  // Refusals as on the leader: a seq that is no applied action, an unknown incident.
  same_answer(f.follower->rollback_seqs("ops", {1}), f.leader->rollback_seqs("ops", {1}));
  CHECK(!f.follower->rollback_seqs("ops", {1}).ok);
  auto no_incident = f.follower->rollback("ops", std::string(64, 'c'));
  CHECK(!no_incident.ok);
  same_answer(no_incident, f.leader->rollback("ops", std::string(64, 'c')));
  CHECK(f.follower->rollback("ops", "zz").code == "INVALID_INPUT"); // refused locally
  // The operator's own request is its approval: the leader reverts the change.
  auto rb = f.follower->rollback_seqs("ops", applied, "undo from the follower");
  CHECK_MESSAGE(rb.ok, rb.code << ": " << rb.message);
  CHECK(rb.status == "succeeded");
  CHECK(rb.applied == 1);
  f.synced();
  CHECK(f.follower->attribute("coaster-1", "mode") == std::optional<std::string>{"normal"});
  CHECK(count(*f.leader, "rollback_finished") == 1);
  CHECK(count(*f.follower, "rollback_finished") == 1);
  {
    std::lock_guard<std::mutex> lock{m};
    CHECK(calls == std::vector<std::string>{"coaster-1 do", "coaster-1 undo"});
  }
  // Promotions: the leader's orchestrator holds the candidates.
  auto unknown = f.follower->promote("ops", std::string(64, 'd'));
  CHECK(!unknown.ok);
  CHECK(!unknown.code.empty());
  same_answer(unknown, f.leader->promote("ops", std::string(64, 'd')));
  // Approvals of something nobody waits for: the leader's answer.
  same_answer(f.follower->approve("ops", std::string(64, 'e')),
              f.leader->approve("ops", std::string(64, 'e')));
}

TEST_CASE("a follower cut off from its leader refuses every forwarded command") {
  temp_dir dir;
  auto plan = cluster_plan::make(2); // n1 never starts
  auto follower = start_engine(dir, write_config(dir, plan, "n2"), "d2");
  REQUIRE(follower);
  auto hex = std::string(64, 'a');
  std::vector<std::pair<std::string, result>> answers = {
    {"halt", follower->halt("admin", "drill")},
    {"release", follower->release("admin", "drill")},
    {"grant", follower->grant("admin", "agent", 1)},
    {"breaker_force", follower->breaker_force("admin", "coaster", true)},
    {"breaker_release", follower->breaker_release("admin", "coaster")},
    {"register", follower->register_resource("coaster-1", "coaster", "north")},
    {"requeue", follower->requeue("admin", 5)},
    {"discard", follower->discard("admin", 5)},
    {"release_principal", follower->release_principal("admin", "agent")},
    {"promote", follower->promote("ops", hex)},
    {"rollback", follower->rollback("ops", hex)},
    {"rollback_seqs", follower->rollback_seqs("ops", {3})},
    {"approve", follower->approve("ops", hex)},
    {"deny", follower->approve("ops", hex, false)},
  };
  for (auto& [name, r] : answers) {
    INFO(name << ": " << r.code << " " << r.message);
    CHECK(!r.ok);
    CHECK(r.code == "UNAVAILABLE");
    CHECK(r.message.find("cannot reach the leader n1") != std::string::npos);
    CHECK(r.retry_after);
  }
  CHECK(follower->head().first == 0); // nothing changed
  CHECK(follower->verify().ok);       // reads go on
}

TEST_CASE("forwarded commands keep the caller's console role and are forwarded only once") {
  pair_fixture f;
  auto& d = f.follower->internals();
  auto send = [&](operator_command cmd) {
    return d.call<operator_answer>(d.cluster, atom::command_v, std::move(cmd));
  };
  auto code_of_error = [](const caf::expected<operator_answer>& r) {
    return r ? std::string{"ok"} : engine::impl::to_result(r.error()).code;
  };
  auto before = f.leader->head().first;
  operator_command halt;
  halt.kind = command_kind::halt;
  halt.by = principal_id{"admin"}; // an admin principal, but a viewer's console session
  halt.text = "drill";
  halt.role = 1;
  auto viewer = send(halt);
  CHECK(code_of_error(viewer) == "AUTHORITY_DENIED");
  CHECK(engine::impl::to_result(viewer.error()).message == "halt needs the admin role");
  halt.role = 2; // an operator's session may not halt either
  CHECK(code_of_error(send(halt)) == "AUTHORITY_DENIED");
  auto approve = operator_command{};
  approve.kind = command_kind::approve;
  approve.by = principal_id{"ops"};
  approve.role = 1; // a viewer may not approve or deny
  CHECK(code_of_error(send(approve)) == "AUTHORITY_DENIED");
  auto enroll = operator_command{};
  enroll.kind = command_kind::enroll;
  enroll.role = 3; // registrations are not console commands
  enroll.enrollment = registration{resource_id{"x-1"}, "coaster", "north", {}};
  CHECK(code_of_error(send(enroll)) == "AUTHORITY_DENIED");
  CHECK(count(*f.leader, "halt_engaged") == 0); // none of them reached the journal
  CHECK(count(*f.leader, "resource_registered") == 0);
  halt.role = 3; // an admin's session: runs on the leader
  auto ok = send(halt);
  REQUIRE(ok);
  CHECK(ok->seq.value > before);
  // A command that was forwarded once is not forwarded again (a stale view of who leads),
  // and the leader takes forwarded commands only from its configured peers.
  halt.hops = 1;
  halt.origin = "n1";
  auto bounced = send(halt);
  CHECK(code_of_error(bounced) == "UNAVAILABLE");
  CHECK(engine::impl::to_result(bounced.error()).message.find("not forwarded again")
        != std::string::npos);
  auto& l = f.leader->internals();
  halt.origin = "n9";
  auto stranger = l.call<operator_answer>(l.cluster, atom::command_v, halt);
  CHECK(code_of_error(stranger) == "INVALID_INPUT");
  f.synced();
  CHECK(count(*f.leader, "halt_engaged") == 1);
}

TEST_CASE("each forwarded kind needs the role its console command needs") {
  std::map<std::string, console_role> expected = {
    {"halt", console_role::admin},          {"release", console_role::admin},
    {"grant", console_role::admin},         {"breaker-force", console_role::admin},
    {"breaker-release", console_role::admin}, {"requeue", console_role::operator_},
    {"discard", console_role::operator_},   {"promote", console_role::operator_},
    {"rollback", console_role::operator_},  {"approve", console_role::operator_},
    {"deny", console_role::operator_}};
  std::set<std::string> seen;
  for (uint8_t k = 1; k <= 12; ++k)
    for (bool flag : {true, false}) {
      operator_command cmd;
      cmd.kind = static_cast<command_kind>(k);
      cmd.flag = flag;
      auto name = console_command_of(cmd);
      INFO(to_string(cmd.kind) << " -> " << name);
      if (cmd.kind == command_kind::enroll || cmd.kind == command_kind::release_principal) {
        CHECK(name.empty()); // the embedding API's only
        continue;
      }
      REQUIRE(expected.count(name) == 1);
      CHECK(required_role(name) == expected.at(name));
      seen.insert(name);
    }
  CHECK(seen.size() == expected.size()); // every mutating console command is forwarded
}

TEST_CASE("a forwarded command whose leader goes away before answering is UNAVAILABLE") {
  pair_fixture f{"[breaker]\nattempts = 2\nconsecutive_failures = 1000\n"
                 "[blast_radius]\nmax_percent = 100.0\n"};
  f.leader->register_effector("gates", [](const effect_request&) {
    return effect_result{false, "gate controller unavailable", true};
  });
  REQUIRE(f.leader->register_resource("gate-1", "gates", "north").ok);
  // A level-1 change, approved, that exhausts its retries: a dead letter of level 1.
  auto p = a_change("k1", "gates", "gate-1", "closed");
  p.level = 1;
  auto done = f.follower->submit(p);
  REQUIRE(wait_until([&] { return f.leader->pending().size() == 1; }));
  REQUIRE(f.follower->approve("ops", f.leader->pending().at(0).proposal).ok);
  REQUIRE(done.get().status == "failed");
  f.synced();
  auto letters = f.follower->dead_letters();
  REQUIRE(letters.size() == 1);
  // Its requeue waits on the leader for an approval nobody gives; the leader goes away.
  auto requeue = std::async(std::launch::async, [&] {
    return f.follower->requeue("admin", letters[0].seq, "retry", std::chrono::seconds{20});
  });
  REQUIRE(wait_until([&] { return f.leader->pending().size() == 1; }));
  f.leader.reset();
  REQUIRE(requeue.wait_for(std::chrono::seconds{25}) == std::future_status::ready);
  auto r = requeue.get();
  INFO(r.code << ": " << r.message);
  CHECK(!r.ok);
  CHECK(r.code == "UNAVAILABLE");
  CHECK(r.message.find("the command may have run") != std::string::npos);
  CHECK(r.retry_after);
  // The follower still refuses every mutation and serves reads.
  CHECK(f.follower->halt("admin", "drill").code == "UNAVAILABLE");
  CHECK(f.follower->verify().ok);
}

TEST_CASE("a proposal forwarded to a leader that goes away before answering is UNAVAILABLE") {
  pair_fixture f;
  f.leader->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  REQUIRE(f.leader->register_resource("coaster-1", "coaster", "north").ok);
  auto p = a_change("k1", "coaster", "coaster-1", "slow");
  p.level = 1; // waits on the leader for an approval nobody gives
  auto waiting = f.follower->submit(p);
  REQUIRE(wait_until([&] { return f.leader->pending().size() == 1; }));
  f.leader.reset();
  REQUIRE(waiting.wait_for(std::chrono::seconds{25}) == std::future_status::ready);
  auto r = waiting.get();
  INFO(r.code << ": " << r.message);
  CHECK(r.code == "UNAVAILABLE");
  CHECK(r.message.find("may have run") != std::string::npos);
  CHECK(r.retry_after);
}
