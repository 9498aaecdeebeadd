// A proposal's own approval window through the embedding API on the virtual clock (it
// expires at its own time naming itself, a window that cannot be honoured is refused before
// anything runs, it is part of the proposal's content), and what a level-0 read answers.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>

#include "integration/engine_fixture.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;
using test::set;

namespace {

size_t count_type(const std::vector<committed_event>& events, const std::string& type) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                           [&](auto& e) { return e.type == type; }));
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "a proposal's own approval window expires at its own time "
                                  "and the error names it") {
  auto p = make(1, {set(2, "slow")});
  p.approval_window = 5s; // the node's is 60 s
  auto f = eng->submit(p);
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  eng->advance(4s);
  CHECK(f.wait_for(0s) != std::future_status::ready);
  eng->advance(2s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.status == "expired");
  CHECK(r.code == "APPROVAL_EXPIRED");
  CHECK(r.message
        == "nobody approved within the approval window (5 s, the proposal's own: "
           "approval_window_ms)");
  CHECK(calls.empty());
  CHECK(eng->pending().empty());
  CHECK(count_type(events, "approval_window") == 1);
  CHECK(count_type(events, "approval_expired") == 1);
  // Approving now is too late: nothing waits.
  CHECK(eng->approve("ops", r.proposal).code == "INVALID_INPUT");
  CHECK(world.count("coaster-2/mode") == 0);
}

TEST_CASE_FIXTURE(engine_fixture, "without its own window a proposal waits the node's") {
  auto f = eng->submit(make(1, {set(2, "slow")}));
  eng->run();
  eng->advance(59s);
  CHECK(f.wait_for(0s) != std::future_status::ready);
  eng->advance(2s);
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.code == "APPROVAL_EXPIRED");
  CHECK(r.message
        == "nobody approved within the approval window (60 s, the node's: "
           "authority.approval_timeout_ms)");
  CHECK(count_type(events, "approval_window") == 0);
}

TEST_CASE_FIXTURE(engine_fixture, "an approval within the proposal's own window runs it") {
  auto p = make(1, {set(3, "slow")});
  p.approval_window = 10s;
  auto f = eng->submit(p);
  eng->run();
  eng->advance(9s);
  REQUIRE(eng->pending().size() == 1);
  CHECK(eng->approve("ops", eng->pending()[0].proposal).ok);
  eng->run();
  eng->advance(5s); // past its window: the approval stopped the clock
  REQUIRE(f.wait_for(0s) == std::future_status::ready);
  auto r = f.get();
  CHECK(r.status == "succeeded");
  CHECK(world["coaster-3/mode"] == "slow");
}

TEST_CASE_FIXTURE(engine_fixture, "a window that cannot be honoured is refused INVALID_INPUT "
                                  "naming it, and nothing runs") {
  struct bad {
    int level;
    std::chrono::milliseconds window;
    std::string message;
  };
  std::vector<bad> cases{
    {1, 0ms, "approval_window_ms must be longer than zero"},
    {2, -1000ms, "approval_window_ms must be longer than zero"},
    {1, 61000ms, "approval_window_ms (61000 ms) is longer than the node's approval window "
                 "(60000 ms, authority.approval_timeout_ms): it cannot be honoured"},
    {4, 1000ms, "approval_window_ms: a level-4 proposal waits for no approval (only levels 1 "
                "and 2 do)"},
  };
  for (auto& c : cases) {
    CAPTURE(c.message);
    auto p = make(c.level, {set(4, "x")});
    p.approval_window = c.window;
    auto r = submit_now(p);
    CHECK(r.code == "INVALID_INPUT");
    CHECK(r.message == c.message);
  }
  CHECK(calls.empty());
  CHECK(world.empty());
  CHECK(eng->pending().empty());
  // Refused like any invalid input: a refused decision, nothing started or charged.
  CHECK(count_type(events, "action_started") == 0);
  CHECK(count_type(events, "budget_charged") == 0);
  CHECK(count_type(events, "approval_window") == 0);
}

TEST_CASE_FIXTURE(engine_fixture, "the same key and window return the original outcome, "
                                  "another window under the key is refused") {
  auto p = make(1, {set(5, "slow")}, {"coaster"}, {"north"}, "windowed-1");
  p.approval_window = 30s;
  auto first = eng->submit(p);
  eng->run();
  REQUIRE(eng->pending().size() == 1);
  auto digest = eng->pending()[0].proposal;
  // A repeat while it waits (another timeout: the deadline is not content) joins it.
  auto repeat = p;
  repeat.timeout = 3min;
  auto joined = eng->submit(repeat);
  eng->run();
  CHECK(eng->pending().size() == 1);
  CHECK(eng->approve("ops", digest).ok);
  eng->run();
  REQUIRE(first.wait_for(0s) == std::future_status::ready);
  REQUIRE(joined.wait_for(0s) == std::future_status::ready);
  auto a = first.get();
  auto b = joined.get();
  CHECK(a.status == "succeeded");
  CHECK(b.proposal == a.proposal);
  CHECK(b.seq == a.seq);
  // After it finished: the same outcome again, one decision in all.
  auto c = submit_now(repeat);
  CHECK(c.ok);
  CHECK(c.proposal == digest);
  CHECK(c.seq == a.seq);
  CHECK(c.status == "succeeded");
  CHECK(count_type(events, "proposal_decided") == 1);
  CHECK(calls.size() == 1);
  // Another window is other content under the same key.
  auto other = p;
  other.approval_window = 20s;
  auto d = submit_now(other);
  CHECK(d.code == "INVALID_INPUT");
  CHECK(d.message.find("windowed-1") != std::string::npos);
  CHECK(calls.size() == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "a level-0 read returns the declared services' resources as "
                                  "journaled") {
  CHECK(submit_now(make(4, {set(1, "fast")})).ok);
  auto r = submit_now(make(0, {}, {"coaster"}, {"north"}));
  REQUIRE_MESSAGE(r.ok, r.message);
  CHECK(r.status == "read");
  REQUIRE(r.read);
  CHECK(r.read->total == 40);
  CHECK(!r.read->truncated);
  REQUIRE(r.read->resources.size() == 40);
  CHECK(r.read->seq > 0);
  CHECK(r.read->seq < r.seq); // the view the gates read, before the decision
  std::map<std::string, std::string> modes;
  for (auto& x : r.read->resources) {
    CHECK(x.service == "coaster");
    CHECK(x.region == "north");
    modes[x.id] = x.attributes.at("mode");
  }
  CHECK(modes.at("coaster-1") == "fast"); // the applied change, as journaled
  CHECK(modes.at("coaster-2") == "normal");
  CHECK(modes.count("coaster-20") == 0); // the south is not declared
  // Two services, no region: every region.
  auto both = submit_now(make(0, {}, {"coaster", "gates"}, {}));
  REQUIRE(both.read);
  CHECK(both.read->total == 90);
  // A read of a service with nothing registered is refused by TransactionReadOnly.
  auto none = submit_now(make(0, {}, {"coaster"}, {"west"}));
  CHECK(none.code == "AUTHORITY_DENIED");
  CHECK(none.message.find("TransactionReadOnly") != std::string::npos);
  CHECK(!none.read);
  // A level-0 mutation is refused NoStateMutation and changes nothing.
  auto write = submit_now(make(0, {set(2, "x")}));
  CHECK(write.code == "AUTHORITY_DENIED");
  CHECK(write.message.find("NoStateMutation") != std::string::npos);
  CHECK(!write.read);
  CHECK(world.count("coaster-2/mode") == 0);
  CHECK(calls.size() == 1);
}

TEST_CASE_FIXTURE(engine_fixture, "a read of more than 1000 resources returns the first 1000 "
                                  "by id, flagged truncated") {
  for (int i = 0; i < 1005; ++i) {
    char id[16];
    std::snprintf(id, sizeof id, "lamp-%04d", i);
    REQUIRE(eng->register_resource(id, "lamps", "east", {{"on", "yes"}}).ok);
  }
  auto r = submit_now(make(0, {}, {"lamps"}, {"east"}));
  REQUIRE_MESSAGE(r.ok, r.message);
  REQUIRE(r.read);
  CHECK(r.read->total == 1005);
  CHECK(r.read->truncated);
  REQUIRE(r.read->resources.size() == 1000);
  CHECK(r.read->resources.front().id == "lamp-0000");
  CHECK(r.read->resources.back().id == "lamp-0999");
}
