// A failed compensation as the projection keeps it: the proposal's index entry reads
// compensation_failed (its type 53 comes before its outcome), a rollback's incident says
// so, the letter and the incident are there, and replay from the journal (and from the
// letter's store) gives the same state.

#include <doctest/doctest.h>

#include "persistence/compensation_letters.hpp"
#include "persistence/compensation_policy.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"
#include "persistence/replay.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;

namespace compensation_projection_test {

caf::timestamp at(int64_t seconds) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000 + seconds}};
}

digest named(uint8_t n) {
  digest d;
  d.bytes[0] = n;
  return d;
}

event decided_at3(uint8_t n) {
  proposal_decided d;
  d.proposal = named(n);
  d.idempotency_key = "k" + std::to_string(n);
  d.principal = principal_id{"agent"};
  d.level = authority_level::act;
  d.service = "coaster";
  d.region = "north";
  d.allowed = true;
  d.mutations = {mutation{resource_id{"c1"}, "mode", "fast"},
                 mutation{resource_id{"c2"}, "mode", "fast"}};
  return make_event(event_type::proposal_decided, at(n), d);
}

event finished_of(uint8_t n, uint32_t applied, uint32_t compensated) {
  return make_event(event_type::proposal_finished, at(n + 1),
                    proposal_finished{named(n), false, ec::effector_failed, applied,
                                      compensated, "step 1 failed"});
}

failed_compensation failure_of(const digest& proposal, uint32_t step) {
  failed_compensation f;
  f.proposal = proposal;
  f.step = step;
  f.principal = principal_id{"agent"};
  f.level = authority_level::act;
  f.service = "coaster";
  f.region = "north";
  f.change = mutation{resource_id{"c" + std::to_string(step + 1)}, "mode", "fast"};
  f.restore = std::string{"normal"};
  f.code = ec::timeout;
  f.message = "no answer";
  return f;
}

struct journal {
  projection p;
  uint64_t seq = 0;
  std::vector<event> all;
  uint64_t apply(const event& e) {
    REQUIRE_FALSE(p.apply(seq_no{++seq}, e));
    all.push_back(e);
    return seq;
  }
  uint8_t status_of(uint8_t n) const {
    auto d = p.state().decided.find(idempotency_digest(principal_id{"agent"},
                                                       "k" + std::to_string(n)));
    REQUIRE(d != nullptr);
    return d->status;
  }
};


TEST_CASE("projection: a failed compensation's proposal reads compensation_failed, a plain "
          "failure reads failed") {
  journal j;
  j.apply(decided_at3(1));
  auto f = failure_of(named(1), 0);
  auto incident = compensation_incident_id(f.proposal, f.step);
  uint64_t letter = 0;
  for (auto& ev : compensation_failure_records(f, incident, true, at(2)))
    if (auto seq = j.apply(ev); ev.type == event_type::dead_lettered)
      letter = seq;
  j.apply(finished_of(1, 2, 1));
  CHECK(j.status_of(1) == decided::compensation_failed);
  CHECK(j.p.state().proposals.count(named(1)) == 0); // finished
  REQUIRE(j.p.state().dead_letters.count(letter) == 1);
  CHECK(j.p.state().dead_letters.at(letter).change.value == "normal");
  REQUIRE(j.p.state().incidents.count(incident) == 1);
  CHECK(j.p.state().incidents.at(incident).level == severity::p1);
  CHECK(j.p.state().incidents.at(incident).status == 1);
  CHECK(j.p.state().counts.at(static_cast<uint8_t>(event_type::compensation_failed)) == 1);
  // The same outcome without a type 53 is a plain failure, as in journals before it.
  j.apply(decided_at3(2));
  j.apply(finished_of(2, 2, 1));
  CHECK(j.status_of(2) == decided::failed);

  // The journal replays to the same state, and the letter reads as a compensation's.
  test::temp_dir dir;
  auto store = test::open_store(dir.path());
  REQUIRE(store->append(j.all));
  auto again = replay(*store, replay_options{seq_no{UINT64_MAX}, false, false});
  REQUIRE(again);
  CHECK(again->proj.encode_state() == j.p.encode_state());
  auto comp = compensation_of(*store, letter, j.p.state().dead_letters.at(letter));
  REQUIRE(comp);
  REQUIRE(*comp);
  CHECK((*comp)->restore == caf::optional<std::string>{"normal"});
  CHECK((*comp)->incident == incident);
  // A letter of a forward action (no type 53 after it) is not a compensation's.
  dead_lettered other = j.p.state().dead_letters.at(letter);
  other.step = 7;
  auto plain = compensation_of(*store, letter, other);
  REQUIRE(plain);
  CHECK_FALSE(*plain);
  auto last = compensation_of(*store, j.seq, other); // nothing follows the head
  REQUIRE(last);
  CHECK_FALSE(*last);
}

TEST_CASE("projection: a rollback whose compensation failed marks its incident's rollback") {
  journal j;
  incident_opened io;
  io.incident = named(40);
  io.service = "coaster";
  io.region = "north";
  io.level = severity::p2;
  io.culprits = {seq_no{3}};
  j.apply(make_event(event_type::incident_opened, at(1), io));
  auto roll = [&j](uint8_t r, bool fails) {
    j.apply(make_event(event_type::rollback_requested, at(r),
                       rollback_requested{named(r), named(40), principal_id{"ops"},
                                          authority_level::enforce, {seq_no{3}}, "undo"}));
    if (fails) {
      auto f = failure_of(named(r), 0);
      for (auto& ev : compensation_failure_records(
             f, compensation_incident_id(f.proposal, 0), true, at(r)))
        j.apply(ev);
    }
    j.apply(make_event(event_type::rollback_finished, at(r),
                       rollback_finished{named(r), named(40), false, ec::timeout, 0, "failed"}));
    return j.p.state().incidents.at(named(40)).rollback_result;
  };
  CHECK(roll(50, true) == incident_rollback::compensation_failed);
  CHECK(roll(51, false) == incident_rollback::failed); // a later plain failure
  CHECK(j.p.state().incidents.size() == 2);            // the P1 of the failed compensation
}

} // namespace compensation_projection_test
