// The attempts store's pure rules: ids, retention by a given time, filters.

#include <doctest/doctest.h>

#include "actors/incident/attempt_policy.hpp"

using namespace bulwark;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

caf::timestamp at_s(int64_t s) {
  return caf::timestamp{std::chrono::duration_cast<caf::timespan>(std::chrono::seconds{s})};
}

digest some(uint8_t b) {
  digest d;
  d.bytes.fill(b);
  return d;
}

attempt_record record(uint8_t candidate, int64_t started_s, bool ok, std::string service = "coaster") {
  attempt_record x;
  x.candidate = some(candidate);
  x.service = std::move(service);
  x.region = "north";
  x.attempt = 1;
  x.started = at_s(started_s);
  x.id = attempt_id(x.candidate, x.attempt, x.started);
  x.succeeded = ok;
  x.code = ok ? ec::none : ec::unavailable;
  return x;
}

} // namespace

TEST_CASE("attempt policy: ids are deterministic and differ by candidate, number and start") {
  auto a = attempt_id(some(1), 1, at_s(100));
  CHECK(a == attempt_id(some(1), 1, at_s(100)));
  CHECK(a != attempt_id(some(2), 1, at_s(100)));
  CHECK(a != attempt_id(some(1), 2, at_s(100)));
  CHECK(a != attempt_id(some(1), 1, at_s(101)));
}

TEST_CASE("attempt policy: retention keeps what started within it at the given time") {
  caf::timespan days90 = std::chrono::hours{24 * 90};
  CHECK(default_attempt_retention == days90);
  auto now = at_s(1'000'000'000);
  CHECK(retention_cutoff(now, days90) == now - days90);
  auto old = record(1, 0, true);
  old.started = now - days90 - 1ns;
  auto edge = record(1, 0, true);
  edge.started = now - days90;
  auto young = record(1, 0, true);
  young.started = now - 1s;
  CHECK_FALSE(retained(old, now, days90));
  CHECK(retained(edge, now, days90));
  CHECK(retained(young, now, days90));
  // The same attempt an hour later is gone: time is an input, nothing reads a clock.
  CHECK_FALSE(retained(edge, now + 1h, days90));
}

TEST_CASE("attempt policy: filters are read and applied") {
  auto f = parse_attempt_filter(json::object());
  REQUIRE(f);
  CHECK(f->limit == 100);
  CHECK(matches(*f, record(1, 0, true)));
  CHECK(parse_attempt_filter(json(nullptr)));
  auto hex = to_hex(some(1));
  f = parse_attempt_filter(
    json{{"candidate", hex}, {"status", "failed"}, {"service", "coaster"}, {"limit", 5}});
  REQUIRE(f);
  CHECK(f->limit == 5);
  CHECK(matches(*f, record(1, 0, false)));
  CHECK_FALSE(matches(*f, record(1, 0, true)));           // status
  CHECK_FALSE(matches(*f, record(2, 0, false)));          // candidate
  CHECK_FALSE(matches(*f, record(1, 0, false, "gates"))); // service
  f = parse_attempt_filter(json{{"region", "south"}, {"status", "succeeded"}});
  REQUIRE(f);
  CHECK_FALSE(matches(*f, record(1, 0, true)));
  CHECK(parse_attempt_filter(json{{"limit", 1000}}));
}

TEST_CASE("attempt policy: bad filters are refused, naming the argument") {
  auto refused = [](const json& args, const std::string& says) {
    auto f = parse_attempt_filter(args);
    REQUIRE_FALSE(f);
    CHECK(code_of(f.error()) == ec::invalid_input);
    auto text = describe(f.error()).message;
    CHECK_MESSAGE(text.find(says) != std::string::npos, text);
  };
  refused(json::array(), "args must be an object");
  refused(json{{"candidate", "abc"}}, "args.candidate must be 64 hex characters");
  refused(json{{"candidate", 7}}, "args.candidate");
  refused(json{{"status", "maybe"}}, "args.status");
  refused(json{{"limit", 0}}, "args.limit must be a whole number from 1 to 1000");
  refused(json{{"limit", 1001}}, "args.limit");
  refused(json{{"limit", "10"}}, "args.limit");
  refused(json{{"limit", 2.5}}, "args.limit");
  refused(json{{"service", ""}}, "args.service");
  refused(json{{"region", 3}}, "args.region");
  refused(json{{"since", 3}}, "args.since is not a filter of attempts");
}

TEST_CASE("attempt policy: status names") {
  CHECK(std::string{status_of(record(1, 0, true))} == "succeeded");
  CHECK(std::string{status_of(record(1, 0, false))} == "failed");
}
