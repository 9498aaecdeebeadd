// The notifier's pure core and bodies: which events are notified as which kind, the retry
// delays, the verdict on an answer, and the JSON and Slack bodies.

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include "messages/incidents.hpp"
#include "messages/lifecycle.hpp"
#include "messages/notifications.hpp"
#include "notify/notify_body.hpp"
#include "notify/notify_policy.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

template <class Payload>
event ev(event_type type, const Payload& x) {
  return make_event(type, caf::timestamp{std::chrono::seconds{1'700'000'000}}, x);
}

std::string kind(const event& e) {
  auto k = notify_kind_of(e);
  return k ? to_string(*k) : "none";
}

proposal_decided decided(authority_level level, bool allowed) {
  proposal_decided x;
  x.principal = principal_id{"ops"};
  x.level = level;
  x.allowed = allowed;
  return x;
}

} // namespace

TEST_CASE("notify policy: each notified event type maps to its kind") {
  incident_opened opened;
  opened.service = "coaster";
  CHECK(kind(ev(event_type::incident_opened, opened)) == "incident_opened");
  CHECK(kind(ev(event_type::incident_escalated, incident_outcome{})) == "incident_escalated");
  CHECK(kind(ev(event_type::incident_closed, incident_outcome{})) == "incident_closed");
  CHECK(kind(ev(event_type::approval_expired, approval_recorded{})) == "approval_expired");
  CHECK(kind(ev(event_type::halt_engaged, halt_changed{principal_id{"a"}, "r"})) == "halt_engaged");
  CHECK(kind(ev(event_type::halt_released, halt_changed{principal_id{"a"}, "r"})) == "halt_released");
  CHECK(kind(ev(event_type::grant_changed, grant_changed{})) == "policy_changed");
  CHECK(kind(ev(event_type::dead_lettered, dead_lettered{})) == "dead_letter");
  CHECK(kind(ev(event_type::incident_acknowledged, incident_acknowledged{}))
        == "incident_acknowledged");
  CHECK(kind(ev(event_type::incident_closed_by_operator, incident_closure{}))
        == "incident_closed");
}

TEST_CASE("notify policy: a breaker counts only when it opens") {
  auto transition = [](breaker_state from, breaker_state to) {
    return kind(ev(event_type::breaker_transition, breaker_transition{"web", from, to, "", 0, 0}));
  };
  CHECK(transition(breaker_state::closed, breaker_state::open) == "breaker_opened");
  CHECK(transition(breaker_state::half_open, breaker_state::open) == "breaker_opened");
  CHECK(transition(breaker_state::open, breaker_state::half_open) == "none");
  CHECK(transition(breaker_state::half_open, breaker_state::closed) == "none");
  CHECK(transition(breaker_state::closed, breaker_state::forced_open) == "none");
}

TEST_CASE("notify policy: approval_waiting is an allowed decision at level 1 or 2 only") {
  CHECK(kind(ev(event_type::proposal_decided, decided(authority_level::assist, true)))
        == "approval_waiting");
  CHECK(kind(ev(event_type::proposal_decided, decided(authority_level::recommend, true)))
        == "approval_waiting");
  CHECK(kind(ev(event_type::proposal_decided, decided(authority_level::assist, false))) == "none");
  CHECK(kind(ev(event_type::proposal_decided, decided(authority_level::read_only, true))) == "none");
  CHECK(kind(ev(event_type::proposal_decided, decided(authority_level::act, true))) == "none");
  CHECK(kind(ev(event_type::proposal_decided, decided(authority_level::enforce, true))) == "none");
  // A payload that does not decode is not notified.
  event bad;
  bad.type = event_type::proposal_decided;
  bad.payload = {1, 2, 3};
  CHECK(kind(bad) == "none");
}

TEST_CASE("notify policy: a rollback waiting for its approval is approval_waiting") {
  auto requested = [](authority_level level, std::vector<seq_no> reverts) {
    rollback_requested x;
    x.by = principal_id{"policy:default"};
    x.level = level;
    x.reverts = std::move(reverts);
    return kind(ev(event_type::rollback_requested, x));
  };
  CHECK(requested(authority_level::assist, {seq_no{12}}) == "approval_waiting");
  CHECK(requested(authority_level::act, {seq_no{12}, seq_no{11}}) == "approval_waiting");
  CHECK(requested(authority_level::enforce, {seq_no{12}}) == "none"); // runs on its own
  CHECK(requested(authority_level::assist, {}) == "none");            // nothing to wait for
}

TEST_CASE("notify policy: other events, its own records included, are not notified") {
  notification_sent own{"ops", "halt_engaged", 7, delivery_status::delivered, 1, ""};
  CHECK(kind(ev(event_type::notification_sent, own)) == "none");
  CHECK(kind(ev(event_type::approval_granted, approval_recorded{})) == "none");
  CHECK(kind(ev(event_type::action_applied, action_applied{})) == "none");
  CHECK(kind(ev(event_type::console_access, console_access{})) == "none");
}

TEST_CASE("notify policy: kind names parse back, unknown names do not") {
  for (auto k : all_notify_kinds()) {
    notify_kind back{};
    REQUIRE(parse(to_string(k), back));
    CHECK(back == k);
  }
  notify_kind k{};
  CHECK(parse("incident_acknowledged", k));
  CHECK(k == notify_kind::incident_acknowledged);
  CHECK_FALSE(parse("breaker_closed", k));
  CHECK_FALSE(parse("", k));
  CHECK(all_notify_kinds().size() == 11);
}

TEST_CASE("notify policy: the retry delay doubles, adds up to half in jitter, and is capped") {
  CHECK(retry_delay(200ms, 1, 0.0) == 200ms);
  CHECK(retry_delay(200ms, 2, 0.0) == 400ms);
  CHECK(retry_delay(200ms, 3, 0.0) == 800ms);
  CHECK(retry_delay(200ms, 3, 1.0) == 1200ms);
  CHECK(retry_delay(200ms, 1, 0.5) == 250ms);
  CHECK(retry_delay(200ms, 1, 7.0) == 300ms); // jitter outside 0..1 is clamped
  CHECK(retry_delay(200ms, 1, -1.0) == 200ms);
  CHECK(retry_delay(200ms, 60, 0.0) == max_retry_delay);
  CHECK(retry_delay(200ms, 4'000'000'000u, 1.0) == max_retry_delay * 3 / 2);
}

TEST_CASE("notify policy: 2xx delivers, other answers and no answer are retried with a reason") {
  CHECK(judge_attempt(true, 200, "").delivered);
  CHECK(judge_attempt(true, 204, "").delivered);
  auto v = judge_attempt(true, 500, "");
  CHECK_FALSE(v.delivered);
  CHECK(v.reason == "HTTP 500");
  CHECK(judge_attempt(true, 302, "").reason == "HTTP 302");
  CHECK(judge_attempt(false, 0, "Connection refused").reason == "Connection refused");
  CHECK(judge_attempt(false, 0, "").reason == "no answer");
}

TEST_CASE("notify body: generic JSON carries kind, seq, node and the event as the API renders it") {
  journal_entry e{seq_no{42}, digest{},
                  ev(event_type::halt_engaged, halt_changed{principal_id{"ops-alice"}, "storm"})};
  auto body = nlohmann::json::parse(notify_body(notify_format::json, notify_kind::halt_engaged, e,
                                                "park-1"));
  CHECK(body["kind"] == "halt_engaged");
  CHECK(body["seq"] == 42);
  CHECK(body["node"] == "park-1");
  CHECK(body["event"]["seq"] == 42);
  CHECK(body["event"]["type"] == "halt_engaged");
  CHECK(body["event"]["payload"]["by"] == "ops-alice");
  CHECK(body["event"]["payload"]["reason"] == "storm");
  CHECK(body.size() == 4);
}

TEST_CASE("notify body: the Slack body is one readable line under \"text\"") {
  journal_entry e{seq_no{42}, digest{},
                  ev(event_type::halt_engaged, halt_changed{principal_id{"ops-alice"}, "storm"})};
  auto body = nlohmann::json::parse(notify_body(notify_format::slack, notify_kind::halt_engaged, e,
                                                "park-1"));
  REQUIRE(body.size() == 1);
  auto text = body["text"].get<std::string>();
  CHECK(text == "bulwark park-1: halt engaged (seq 42): by=ops-alice reason=storm");
  CHECK(text.find('\n') == std::string::npos);
}
