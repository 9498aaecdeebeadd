// The flight families' shared registry and the route of each message to a family.

#include <doctest/doctest.h>

#include "caf/message.hpp"

#include "actors/pipeline/flight_router.hpp"
#include "messages/commands.hpp"
#include "messages/events.hpp"
#include "messages/type_ids.hpp"
#include "persistence/make_event.hpp"
#include "support/small_digest.hpp"

using namespace bulwark;

namespace {

using test::id;

size_t slot(flight_family f) {
  return static_cast<size_t>(f);
}

proposal at_level(authority_level level) {
  proposal p;
  p.level = level;
  return p;
}

} // namespace

TEST_CASE("each level belongs to one family") {
  CHECK(family_of(authority_level::read_only) == flight_family::read);
  CHECK(family_of(authority_level::assist) == flight_family::approved);
  CHECK(family_of(authority_level::recommend) == flight_family::approved);
  CHECK(family_of(authority_level::act) == flight_family::observed);
  CHECK(family_of(authority_level::enforce) == flight_family::autonomous);
  // Out of range: the read family, whose validation refuses it.
  CHECK(family_of(static_cast<authority_level>(9)) == flight_family::read);
  CHECK(actor_name(flight_family::observed) == "flights:observed");
}

TEST_CASE("a key is held by one proposal at a time, across families") {
  flight_registry r;
  CHECK(r.claim("agent/k1", id(1)) == id(1));
  CHECK(r.claim("agent/k1", id(2)) == id(1)); // another proposal: the holder stays
  CHECK(r.claim("agent/k1", id(1)) == id(1)); // its own again: unchanged
  r.release("agent/k1", id(2));               // not the holder: nothing changes
  CHECK(r.holder("agent/k1") == id(1));
  r.release("agent/k1", id(1));
  CHECK_FALSE(r.holder("agent/k1"));
  CHECK(r.claim("agent/k1", id(2)) == id(2));
  CHECK(r.keys() == 1);
  r.running(id(2), flight_family::observed);
  CHECK(r.runner(id(2)) == flight_family::observed);
  r.ended(id(2));
  CHECK_FALSE(r.runner(id(2)));
}

TEST_CASE("the pipeline's door routes each message to the family that takes it") {
  flight_registry flights;
  committed_view fleet;
  // Submissions: by their level.
  for (auto [level, family] : {std::pair{authority_level::read_only, flight_family::read},
                               std::pair{authority_level::assist, flight_family::approved},
                               std::pair{authority_level::recommend, flight_family::approved},
                               std::pair{authority_level::act, flight_family::observed},
                               std::pair{authority_level::enforce, flight_family::autonomous}})
    CHECK(route_flight(caf::make_message(atom::submit_v, at_level(level)), flights, fleet)
          == slot(family));
  // A message naming a running flight: its family; one naming none: the default family.
  approval a;
  a.proposal = id(7);
  interrupt x;
  x.proposal = id(7);
  doubt_resolution r;
  r.proposal = id(7);
  audit_acknowledged ack;
  ack.proposal = id(7);
  CHECK(route_flight(caf::make_message(atom::approve_v, a), flights, fleet)
        == slot(flight_family::approved));
  CHECK(route_flight(caf::make_message(atom::interrupt_v, x), flights, fleet)
        == slot(flight_family::observed));
  CHECK(route_flight(caf::make_message(atom::resolve_v, r), flights, fleet)
        == slot(flight_family::autonomous));
  CHECK(route_flight(caf::make_message(atom::audit_ack_v, ack), flights, fleet)
        == slot(flight_family::autonomous));
  flights.running(id(7), flight_family::read);
  for (auto msg : {caf::make_message(atom::approve_v, a), caf::make_message(atom::interrupt_v, x),
                   caf::make_message(atom::resolve_v, r),
                   caf::make_message(atom::audit_ack_v, ack)})
    CHECK(route_flight(msg, flights, fleet) == slot(flight_family::read));
  // A dead letter's requeue and discard: the family of the letter's level.
  dead_letter_command cmd;
  cmd.letter = 1;
  CHECK(route_flight(caf::make_message(atom::requeue_v, cmd), flights, fleet)
        == slot(flight_family::read)); // no such letter: refused by the read family
  dead_lettered letter;
  letter.proposal = id(8);
  letter.level = authority_level::act;
  letter.principal = principal_id{"agent"};
  letter.service = "gates";
  letter.change = mutation{resource_id{"gates-north-01"}, "mode", "closed"};
  letter.code = ec::timeout;
  fleet.write([&](projection& p) {
    REQUIRE(!p.apply(seq_no{1}, make_event(event_type::dead_lettered,
                                           caf::timestamp{std::chrono::seconds{1}}, letter)));
  });
  CHECK(route_flight(caf::make_message(atom::requeue_v, cmd), flights, fleet)
        == slot(flight_family::observed));
  CHECK(route_flight(caf::make_message(atom::discard_v, cmd), flights, fleet)
        == slot(flight_family::observed));
  // Everything else: the read family.
  CHECK(route_flight(caf::make_message(atom::in_doubt_v), flights, fleet)
        == slot(flight_family::read));
  CHECK(route_flight(caf::make_message(atom::enroll_v, registration{}), flights, fleet)
        == slot(flight_family::read));
}
