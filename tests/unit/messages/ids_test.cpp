#include <doctest/doctest.h>

#include <vector>

#include "messages/enums.hpp"
#include "messages/error.hpp"
#include "messages/ids.hpp"
#include "persistence/sha256.hpp"

using namespace bulwark;

TEST_CASE("a digest renders as hex and parses back, bad hex is refused") {
  const char abc[] = "abc";
  auto d = sha256(reinterpret_cast<const uint8_t*>(abc), 3);
  CHECK(to_hex(d) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  digest back;
  REQUIRE(parse_digest(to_hex(d), back));
  CHECK(back == d);
  CHECK(!parse_digest("abc", back));
  CHECK(!parse_digest(std::string(64, 'g'), back));
  CHECK(!parse_digest(std::string(63, '0'), back));
  CHECK(parse_digest(std::string(64, 'F'), back));
}

TEST_CASE("digest equality sees a single differing bit") {
  digest a, b;
  CHECK(a == b);
  CHECK(a.is_zero());
  b.bytes[31] = 1;
  CHECK(a != b);
  CHECK(!b.is_zero());
}

TEST_CASE("digests order bytewise, as their byte arrays do") {
  std::vector<digest> xs;
  for (int i = 0; i < 200; ++i) {
    auto d = sha256(reinterpret_cast<const uint8_t*>(&i), sizeof i);
    xs.push_back(d);
    auto tail = d; // equal in the first words, different further on
    tail.bytes[8 + i % 24] ^= static_cast<uint8_t>(1 + i % 255);
    xs.push_back(tail);
  }
  xs.push_back(digest{});
  size_t pairs = 0, disagree = 0, before = 0;
  for (auto& a : xs)
    for (auto& b : xs) {
      ++pairs;
      disagree += (a < b) != (a.bytes < b.bytes) ? 1 : 0;
      before += a < b ? 1 : 0;
    }
  CHECK(pairs == xs.size() * xs.size());
  CHECK(disagree == 0);
  CHECK(before == xs.size() * (xs.size() - 1) / 2); // a strict order of distinct digests
  CHECK_FALSE(xs[0] < xs[0]);
}

TEST_CASE("the chain hash is SHA-256 of previous chain followed by the bytes") {
  sha256_hasher h;
  digest prev;
  prev.bytes.fill(0xAB);
  uint8_t data[5] = {1, 2, 3, 4, 5};
  std::vector<uint8_t> joined(37, 0xAB);
  for (int i = 0; i < 5; ++i)
    joined[32 + i] = data[i];
  CHECK(h.chain(prev, data, 5) == sha256(joined.data(), joined.size()));
}

TEST_CASE("enum names parse back to their values") {
  for (uint8_t v = 1; v <= max_event_type; ++v) {
    auto t = static_cast<event_type>(v);
    if (!valid(t))
      continue; // a gap reserved for another area
    event_type back{};
    REQUIRE(parse(to_string(t), back));
    CHECK(back == t);
  }
  gate g{};
  CHECK(parse("HumanApproval", g));
  CHECK(g == gate::human_approval);
  CHECK(!parse("Nope", g));
  ec code{};
  CHECK(parse("AUDIT_UNAVAILABLE", code));
  CHECK(code == ec::audit_unavailable);
  CHECK(!valid(static_cast<event_type>(0)));
  CHECK(!valid(static_cast<event_type>(max_event_type + 1)));
  // Reserved but undefined numbers (31-34, 49-52, 54+) are invalid, not a range hole accepted.
  CHECK(valid(static_cast<event_type>(19)));
  CHECK(valid(static_cast<event_type>(26)));
  CHECK(valid(event_type::orchestration_failed));
  CHECK(valid(static_cast<event_type>(29)));
  CHECK(valid(static_cast<event_type>(30)));
  CHECK(!valid(static_cast<event_type>(31)));
  CHECK(!valid(static_cast<event_type>(34)));
  CHECK(valid(event_type::early_warning));
  CHECK(valid(event_type::degradation_changed));
  event_type none{};
  CHECK(parse("incident_opened", none));
  CHECK(none == event_type::incident_opened);
  CHECK(!parse("incident_reborn", none));
  CHECK(parse("incident_reopened", none));
  CHECK(none == event_type::incident_reopened);
  degradation d{};
  CHECK(parse("degraded", d));
  CHECK(d == degradation::degraded);
  CHECK(!parse("panic", d));
  CHECK(!valid(static_cast<degradation>(3)));
  CHECK(!valid(static_cast<event_type>(255)));
  for (uint8_t v : {1, 18, 35, 36, 37})
    CHECK(valid(static_cast<event_type>(v)));
  event_type back{};
  CHECK(parse("integrity_alert", back));
  CHECK(back == event_type::integrity_alert);
  for (uint8_t v = 38; v <= 43; ++v) // the incident lifecycle
    CHECK(valid(static_cast<event_type>(v)));
  // notifications, level-3 analysis, the blast budget, approval evidence
  for (uint8_t v = 44; v <= 47; ++v)
    CHECK(valid(static_cast<event_type>(v)));
  CHECK(valid(static_cast<event_type>(48))); // the audit queue
  for (uint8_t v = 49; v <= 54; ++v) // audited policy, failed compensations, own windows
    CHECK(valid(static_cast<event_type>(v)));
  CHECK(!parse("unknown", back));
  CHECK(parse("budget_charged", back));
  CHECK(static_cast<int>(back) == 46);
  CHECK(parse("approval_checked", back));
  CHECK(static_cast<int>(back) == 47);
  CHECK(parse("audit_acknowledged", back));
  CHECK(static_cast<int>(back) == 48);
  CHECK(max_event_type == 54);
  CHECK(parse("policy_changed", back));
  CHECK(static_cast<int>(back) == 49);
  CHECK(parse("quarantine_changed", back));
  CHECK(static_cast<int>(back) == 52);
  CHECK(parse("compensation_failed", back));
  CHECK(static_cast<int>(back) == 53);
  CHECK(parse("approval_window", back));
  CHECK(static_cast<int>(back) == 54);
  CHECK(!valid(static_cast<event_type>(55)));
  CHECK(parse("incident_acknowledged", back));
  CHECK(static_cast<int>(back) == 38);
}

TEST_CASE("identifiers must be short printable words") {
  CHECK(is_valid_id("coaster-eu-01"));
  CHECK(!is_valid_id(""));
  CHECK(!is_valid_id("has space"));
  CHECK(!is_valid_id(std::string(129, 'a')));
  CHECK(!is_valid_id("bell\x07"));
}

TEST_CASE("refusals carry code, message, trace and retry_after") {
  auto err = refuse(ec::rate_limited, "too fast", trace_id{7}, caf::timespan{std::chrono::seconds{2}});
  CHECK(is(err, ec::rate_limited));
  CHECK(code_of(err) == ec::rate_limited);
  auto info = describe(err);
  CHECK(info.message == "too fast");
  CHECK(info.trace == trace_id{7});
  REQUIRE(info.retry_after);
  CHECK(*info.retry_after == caf::timespan{std::chrono::seconds{2}});
  CHECK(render_error(static_cast<uint8_t>(ec::rate_limited), caf::atom_value{}, err.context())
        == "RATE_LIMITED: too fast (trace 7) (retry after 2000 ms)");
}
