// Round trips of every message type through CAF's binary serializer and through the
// canonical journal codec, plus the codec's refusals of malformed input.

#include <doctest/doctest.h>

#include <chrono>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"

#include "messages/commands.hpp"
#include "messages/events.hpp"
#include "messages/incidents.hpp"
#include "messages/register.hpp"
#include "messages/state.hpp"
#include "persistence/codec.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;

namespace {

struct caf_fixture {
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf_fixture() : sys((register_types(cfg), cfg)) {
  }
  template <class T>
  T round_trip(const T& x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    REQUIRE(!sink(const_cast<T&>(x)));
    T y;
    caf::binary_deserializer source{sys, buf};
    REQUIRE(!source(y));
    return y;
  }
};

caf::timestamp t0() {
  return caf::timestamp{std::chrono::nanoseconds{1'700'000'000'123'456'789}};
}

/// Encodes canonically, decodes, and re-encodes: the bytes must be identical.
template <class T>
void check_canonical(const T& x) {
  auto bytes = encode(x);
  T y;
  REQUIRE(!decode(bytes, y));
  CHECK(encode(y) == bytes);
  CHECK(encoded_size(x) == bytes.size()); // the size make_event reserves
}

proposal_decided sample_decision() {
  proposal_decided x;
  x.proposal.bytes[3] = 7;
  x.idempotency_key = "k-1";
  x.principal = principal_id{"agent"};
  x.level = authority_level::act;
  x.service = "coaster";
  x.region = "north";
  x.allowed = true;
  x.code = ec::none;
  x.reason = "ok";
  x.allowed_count = 3;
  x.gates = {{gate::interruptible_execution, true, ""}, {gate::human_observation, true, "5s"}};
  x.mutations = {{resource_id{"r1"}, "mode", "maintenance"}};
  x.justification = "test";
  return x;
}

} // namespace

TEST_CASE_FIXTURE(caf_fixture, "every payload survives a CAF binary round trip") {
  auto d = sample_decision();
  auto d2 = round_trip(d);
  CHECK(encode(d2) == encode(d));
  action_applied a{digest{}, 2, resource_id{"r1"}, "mode", std::string{"auto"}, "manual"};
  CHECK(encode(round_trip(a)) == encode(a));
  rollback_applied r{digest{}, seq_no{9}, resource_id{"r1"}, "mode", std::string{"manual"},
                     caf::none};
  CHECK(encode(round_trip(r)) == encode(r));
  grant_changed g{principal_id{"p"}, authority_level::enforce, t0(), principal_id{"admin"}, "why"};
  CHECK(encode(round_trip(g)) == encode(g));
  breaker_transition b{"pos", breaker_state::closed, breaker_state::open, "5 failures", 5, 9};
  CHECK(encode(round_trip(b)) == encode(b));
  auto ev = make_event(event_type::proposal_decided, t0(), d, trace_id{42});
  auto ev2 = round_trip(ev);
  CHECK(ev2.type == ev.type);
  CHECK(ev2.at == ev.at);
  CHECK(ev2.trace == ev.trace);
  CHECK(ev2.payload == ev.payload);
  fleet_state st;
  st.seq = 5;
  st.resources["r1"] = resource_state{"coaster", "north", {{"a", "b"}}, false, 3};
  st.halted = true;
  digest reviewed;
  reviewed.bytes[0] = 0x4a;
  st.audit.pending[reviewed] = audit_entry{principal_id{"agent"}, 2, 4, 3, 2, false,
                                           ec::effector_failed};
  st.audit.running[digest{}] = audit_flight{principal_id{"agent"}, 5, 1};
  CHECK(encode(round_trip(st)) == encode(st));
  audit_acknowledged ack{reviewed, principal_id{"ops"}, "checked the dashboards"};
  auto ack2 = round_trip(ack);
  CHECK(ack2.proposal == reviewed);
  CHECK(ack2.by.value == "ops");
  CHECK(encode(ack2) == encode(ack));
  check_canonical(ack);
  // Audited policy: the policy in the state, its records.
  st.policy_version = "v1";
  st.policy = {policy_entry{"authority.grant.agent", "4"}};
  st.quarantined["agent"] = 9;
  CHECK(encode(round_trip(st)) == encode(st));
  policy_changed pc{"v2", "v1", principal_id{"root"}, "reload",
                    {policy_change{"authority.grant.agent", std::string{"4"}, caf::none}},
                    {policy_entry{"authority.admins", "root"}}};
  auto pc2 = round_trip(pc);
  CHECK(pc2.changes.at(0).before == caf::optional<std::string>{"4"});
  CHECK(!pc2.changes.at(0).after);
  CHECK(encode(pc2) == encode(pc));
  check_canonical(pc);
  decision_basis basis{reviewed, "v2", {"coaster", "gates"}, {"north"},
                       caf::timespan{std::chrono::seconds{30}}};
  CHECK(encode(round_trip(basis)) == encode(basis));
  check_canonical(basis);
  quarantine_changed q{principal_id{"agent"}, true, principal_id{"admission"}, "20 failures"};
  CHECK(encode(round_trip(q)) == encode(q));
  check_canonical(q);
  policy_refused refused{principal_id{"root"}, "signal", "bad key"};
  CHECK(encode(round_trip(refused)) == encode(refused));
  compensation_failed cf{reviewed, 2, mutation{resource_id{"gate-1"}, "mode", "closed"},
                         caf::optional<std::string>{"open"}, ec::timeout, "no answer",
                         digest{}};
  auto cf2 = round_trip(cf);
  CHECK(cf2.step == 2);
  CHECK(cf2.restore == caf::optional<std::string>{"open"});
  CHECK(cf2.code == ec::timeout);
  CHECK(encode(cf2) == encode(cf));
  check_canonical(cf);
  approval_window w{reviewed, std::chrono::milliseconds{2500}};
  auto w2 = round_trip(w);
  CHECK(w2.proposal == reviewed);
  CHECK(w2.window == std::chrono::milliseconds{2500});
  check_canonical(w);
  proposal p;
  p.idempotency_key = "k";
  p.principal = principal_id{"ops"};
  p.approval_window = caf::timespan{std::chrono::seconds{3}};
  auto p2 = round_trip(p);
  REQUIRE(p2.approval_window);
  CHECK(*p2.approval_window == std::chrono::seconds{3});
  verify_report rep{false, seq_no{4}, "chain", 3, seq_no{3}, digest{}};
  auto rep2 = round_trip(rep);
  CHECK(rep2.first_bad == rep.first_bad);
  CHECK(rep2.reason == "chain");
}

TEST_CASE_FIXTURE(caf_fixture, "an out-of-range enum is refused when CAF loads it") {
  auto g = grant_changed{principal_id{"p"}, authority_level::assist, caf::none,
                         principal_id{"a"}, ""};
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE(!sink(g));
  // The level is the first byte after the principal string (length-prefixed).
  bool patched = false;
  for (auto& c : buf)
    if (c == static_cast<char>(authority_level::assist) && !patched) {
      c = 9;
      patched = true;
    }
  REQUIRE(patched);
  grant_changed y;
  caf::binary_deserializer source{sys, buf};
  CHECK(source(y));
}

TEST_CASE("canonical encoding is stable and decodes to equal bytes") {
  check_canonical(sample_decision());
  check_canonical(action_applied{digest{}, 1, resource_id{"x"}, "k", caf::none, "v"});
  check_canonical(console_access{principal_id{"ops"}, "status", "127.0.0.1:5", true, ""});
  fleet_state st;
  st.grants["b"] = grant_state{authority_level::act, t0()};
  st.grants["a"] = grant_state{authority_level::assist, caf::none};
  check_canonical(st);
}

TEST_CASE("encoded_size counts exactly the bytes the writer produces") {
  candidate_raised c;
  c.service = "coaster";
  c.onset = t0();
  c.culprits = {culprit{seq_no{9}, digest{}, resource_id{"r1"}, "mode", 700,
                        std::chrono::seconds{3}},
                culprit{seq_no{4}, digest{}, resource_id{"r22"}, "", 10, {}}};
  check_canonical(c);
  check_canonical(rollback_applied{digest{}, seq_no{5}, resource_id{"r1"}, "mode",
                                   std::string{"new"}, caf::none});
  check_canonical(rollback_requested{digest{}, digest{}, principal_id{"ops"},
                                     authority_level::enforce,
                                     {seq_no{3}, seq_no{2}}, "why"});
  check_canonical(incident_outcome{digest{}, std::chrono::milliseconds{61'000}, 12, "ok"});
  check_canonical(early_warning{"JOURNAL-SPACE", "pct", degradation::critical, 0.5, 0.9, "grow"});
  check_canonical(grant_changed{principal_id{"a"}, authority_level::act, t0(),
                                principal_id{"b"}, "r"});
  // make_event's payload is the writer's bytes, in one allocation of exactly that size.
  auto ev = make_event(event_type::candidate_raised, t0(), c);
  CHECK(ev.payload == encode(c));
  CHECK(ev.payload.capacity() == ev.payload.size());
}

TEST_CASE("canonical integers are big-endian and strings length-prefixed") {
  CHECK(encode(uint32_t{0x01020304}) == std::vector<uint8_t>{1, 2, 3, 4});
  CHECK(encode(int64_t{-2}) == std::vector<uint8_t>{0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE});
  CHECK(encode(std::string{"ab"}) == std::vector<uint8_t>{0, 0, 0, 2, 'a', 'b'});
  CHECK(encode(caf::optional<std::string>{}) == std::vector<uint8_t>{0});
  CHECK(encode(true) == std::vector<uint8_t>{1});
}

TEST_CASE("the canonical reader refuses truncated, trailing and unordered input") {
  auto bytes = encode(sample_decision());
  proposal_decided y;
  auto cut = bytes;
  cut.pop_back();
  CHECK(decode(cut, y));
  auto longer = bytes;
  longer.push_back(0);
  CHECK(decode(longer, y));
  // A map whose keys are out of order is not canonical.
  std::map<std::string, std::string> m{{"a", "1"}, {"b", "2"}};
  auto mb = encode(m);
  std::swap(mb[7], mb[16]); // swap the single-char keys 'a' and 'b'
  std::map<std::string, std::string> m2;
  CHECK(decode(mb, m2));
  // A length prefix larger than the input is refused before allocating.
  std::vector<uint8_t> huge{0xFF, 0xFF, 0xFF, 0xFF};
  std::string s;
  CHECK(decode(huge, s));
  std::vector<uint8_t> bad_bool{2};
  bool b = false;
  CHECK(decode(bad_bool, b));
}

TEST_CASE("a payload with an unknown gate is refused by the canonical reader") {
  auto d = sample_decision();
  d.gates = {{gate::audit_only, true, ""}};
  auto bytes = encode(d);
  // Patch the gate byte: find the encoded gate count (1) followed by gate 13.
  bool patched = false;
  for (size_t i = 0; i + 4 < bytes.size(); ++i)
    if (bytes[i] == 0 && bytes[i + 1] == 0 && bytes[i + 2] == 0 && bytes[i + 3] == 1
        && bytes[i + 4] == 13) {
      bytes[i + 4] = 99;
      patched = true;
      break;
    }
  REQUIRE(patched);
  proposal_decided y;
  CHECK(decode(bytes, y));
}
