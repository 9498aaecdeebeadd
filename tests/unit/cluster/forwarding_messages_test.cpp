// The messages of forwarded commands: every field survives CAF's binary
// serialization, and a command or answer with an undefined kind, role or level is refused
// on load.

#include <doctest/doctest.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"

#include "messages/forwarding.hpp"
#include "messages/register.hpp"

using namespace bulwark;

namespace {

operator_command sample_command() {
  operator_command c;
  c.kind = command_kind::rollback;
  c.by = principal_id{"ops"};
  c.role = 2;
  c.origin = "n2";
  c.hops = 1;
  c.target = "coaster";
  c.id.bytes[0] = 7;
  c.flag = true;
  c.level = 3;
  c.until = caf::timestamp{std::chrono::seconds{1700000000}};
  c.text = "undo";
  c.seqs = {seq_no{4}, seq_no{9}};
  c.letter = 12;
  c.deadline = caf::timestamp{std::chrono::seconds{1700000030}};
  c.enrollment = registration{resource_id{"coaster-1"}, "coaster", "north", {{"mode", "slow"}}};
  return c;
}

template <class T>
caf::error round_trip(caf::actor_system& sys, T& in, T& out) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = sink(in))
    return err;
  caf::binary_deserializer source{sys, buf};
  return source(out);
}

} // namespace

TEST_CASE("an operator command and its answer survive CAF's binary serialization") {
  caf::actor_system_config cfg;
  register_types(cfg);
  caf::actor_system sys{cfg};
  auto c = sample_command();
  operator_command back;
  REQUIRE(!round_trip(sys, c, back));
  CHECK(back.kind == c.kind);
  CHECK(back.by == c.by);
  CHECK(back.role == 2);
  CHECK(back.origin == "n2");
  CHECK(back.hops == 1);
  CHECK(back.target == "coaster");
  CHECK(back.id == c.id);
  CHECK(back.flag);
  CHECK(back.level == 3);
  CHECK(back.until == c.until);
  CHECK(back.text == "undo");
  CHECK(back.seqs == c.seqs);
  CHECK(back.letter == 12);
  CHECK(back.deadline == c.deadline);
  REQUIRE(back.enrollment);
  CHECK(back.enrollment->resource.value == "coaster-1");
  CHECK(back.enrollment->attributes.at("mode") == "slow");
  operator_answer a;
  a.kind = command_kind::approve;
  a.seq = seq_no{41};
  a.breaker = breaker_status{};
  a.breaker->service = "coaster";
  a.breaker->state = breaker_state::forced_open;
  a.run = outcome{};
  a.run->message = "requeued";
  a.promoted = incident_decision{};
  a.promoted->repeated = true;
  a.rollback = rollback_status{};
  a.rollback->status = "succeeded";
  a.rollback->reverted = 2;
  operator_answer b;
  REQUIRE(!round_trip(sys, a, b));
  CHECK(b.kind == command_kind::approve);
  CHECK(b.seq == seq_no{41});
  REQUIRE(b.breaker);
  CHECK(b.breaker->service == "coaster");
  CHECK(b.breaker->state == breaker_state::forced_open);
  REQUIRE(b.run);
  CHECK(b.run->message == "requeued");
  REQUIRE(b.promoted);
  CHECK(b.promoted->repeated);
  REQUIRE(b.rollback);
  CHECK(b.rollback->status == "succeeded");
  CHECK(b.rollback->reverted == 2);
  operator_answer empty, empty_back;
  REQUIRE(!round_trip(sys, empty, empty_back));
  CHECK(!empty_back.breaker);
  CHECK(!empty_back.rollback);
}

TEST_CASE("a forwarded command with an undefined kind, role or level is refused on load") {
  caf::actor_system_config cfg;
  register_types(cfg);
  caf::actor_system sys{cfg};
  auto refused = [&](operator_command c) {
    operator_command back;
    auto err = round_trip(sys, c, back);
    REQUIRE(err);
    CHECK(code_of(err) == ec::invalid_input);
  };
  for (uint8_t k : {0, 13, 255}) {
    auto c = sample_command();
    c.kind = static_cast<command_kind>(k);
    refused(c);
  }
  auto c = sample_command();
  c.role = 4;
  refused(c);
  c = sample_command();
  c.level = 5;
  refused(c);
  operator_answer a, back;
  a.kind = static_cast<command_kind>(0);
  auto err = round_trip(sys, a, back);
  REQUIRE(err);
  CHECK(code_of(err) == ec::invalid_input);
  for (uint8_t k = 1; k <= 12; ++k) {
    CHECK(valid(static_cast<command_kind>(k)));
    CHECK(std::string{to_string(static_cast<command_kind>(k))} != "?");
  }
}
