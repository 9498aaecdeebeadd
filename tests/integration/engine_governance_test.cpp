// The governance step: one request to the authority answers its verdict and blast
// radius's together; an allowed proposal asking for its charge is reserved in blast
// radius's window (the same one its actor releases), a refused one is not checked, and a
// check-only request reserves nothing.

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"

#include "actors/pipeline/validation.hpp"
#include "engine/engine_impl.hpp"
#include "integration/engine_fixture.hpp"
#include "messages/scope.hpp"
#include "messages/state.hpp"

using namespace bulwark;
using test::engine_fixture;

namespace {

struct step {
  bool answered = false;
  authority_verdict av;
  scope_verdict sv;
};

/// A level-4 proposal of `who` setting `mode` of the given coasters (all in the north).
proposal level4(const std::string& who, const std::vector<int>& coasters) {
  proposal p;
  p.idempotency_key = "gov-" + who + "-" + std::to_string(coasters.front());
  p.principal = principal_id{who};
  p.level = authority_level::enforce;
  p.services = {"coaster"};
  p.regions = {"north"};
  for (auto c : coasters)
    p.mutations.push_back(mutation{resource_id{"coaster-" + std::to_string(c)}, "mode", "x"});
  p.justification = "test";
  return p;
}

digest id_of(uint8_t n) {
  digest d;
  d.bytes[0] = n;
  return d;
}

/// Sends the governance step for `p` (reservation `id`) to the running authority.
step govern(engine::impl& d, const proposal& p, const digest& id, bool charge) {
  auto fleet = d.call<fleet_state>(d.journal, atom::state_v);
  REQUIRE(fleet);
  auto req = scope_of(p, id, *fleet, active_sizes(*fleet), charge);
  caf::scoped_actor self{*d.sys, true};
  self->send(d.authority->get(), atom::check_v, std::move(req));
  d.sched->run();
  step out;
  self->receive(
    [&](authority_verdict& av, scope_verdict& sv) {
      out.answered = true;
      out.av = std::move(av);
      out.sv = std::move(sv);
    },
    [&](caf::error&) {}, caf::after(std::chrono::seconds{0}) >> [] {});
  return out;
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "the governance step answers authority and scope in one request and reserves in blast radius's window") {
  auto& d = eng->internals();
  // 5 % of the coasters in the north: 2 resources.
  auto first = govern(d, level4("agent", {1, 2}), id_of(1), true);
  REQUIRE(first.answered);
  CHECK(first.av.allowed);
  CHECK(first.sv.allowed);
  CHECK(first.sv.allowed_count == 2);
  // The reservation counts against the budget of everyone.
  auto second = govern(d, level4("ops", {3}), id_of(2), true);
  REQUIRE(second.answered);
  CHECK(second.av.allowed);
  CHECK_FALSE(second.sv.allowed);
  CHECK(second.sv.dimension == "budget");
  // Blast radius's actor releases what the governance step reserved: the room is back.
  caf::anon_send(d.blast, atom::release_v, id_of(1));
  d.sched->run();
  auto third = govern(d, level4("ops", {3}), id_of(3), true);
  REQUIRE(third.answered);
  CHECK(third.av.allowed);
  CHECK(third.sv.allowed);
}

TEST_CASE_FIXTURE(engine_fixture, "a proposal the authority refuses is not checked for scope and reserves nothing, nor does a check-only step") {
  auto& d = eng->internals();
  auto refused = govern(d, level4("nobody", {1, 2}), id_of(1), true);
  REQUIRE(refused.answered);
  CHECK_FALSE(refused.av.allowed);
  CHECK(refused.av.code == ec::authority_denied);
  CHECK_FALSE(refused.sv.allowed);
  CHECK(refused.sv.dimension.empty()); // not checked
  auto check_only = govern(d, level4("agent", {3, 4}), id_of(2), false);
  REQUIRE(check_only.answered);
  CHECK(check_only.sv.allowed);
  // Neither left a reservation: the whole budget is still there.
  auto full = govern(d, level4("ops", {5, 6}), id_of(3), true);
  REQUIRE(full.answered);
  CHECK(full.av.allowed);
  CHECK(full.sv.allowed);
  CHECK(full.sv.allowed_count == 2);
}
