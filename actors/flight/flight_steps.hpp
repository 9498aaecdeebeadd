#pragma once

/// Internal to actors/flight/: how a flight moves (flight_steps.cpp), the steps the
/// machine's inputs (flight_machine.cpp) are made of. Pure, like the machine.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "actors/flight/flight_machine.hpp"

namespace bulwark::flight::detail {

using std::chrono::nanoseconds;

refusal no(ec code, std::string message);
/// Hands out the next token of a flight (a proposal's `state` or a rollback's
/// `compensation`) and awaits it.
template <class Flight>
uint64_t next_token(Flight& s) {
  s.awaited = ++s.tokens;
  return s.awaited;
}
/// Asks for `events` to be appended in one transaction, awaited by a new token.
template <class Flight>
void append(Flight& s, std::vector<event> events, std::vector<command>& out) {
  command c;
  c.kind = command_kind::append;
  c.token = next_token(s);
  c.events = std::move(events);
  out.push_back(std::move(c));
}
void arm(command_kind kind, nanoseconds after, std::vector<command>& out);
void over(state& s, std::vector<command>& out);
void fail_all(state& s, ec code, std::string message, caf::optional<caf::timespan> retry_after,
              std::vector<command>& out);
outcome outcome_of(const state& s);
std::string service_of(const context& cx, const mutation& m);
/// The `budget_charged` record of the flight's resources, from now for the budget window.
event budget_charge(const state& s, const context& cx);
std::optional<std::string> current_value(const state& s, const context& cx, const mutation& m);
bool halted(const context& cx);
/// Why the flight may start no further effect now: the journaled halt, or its proposer's
/// grant (journaled change in force, else the configured one) below its level; none: go on.
std::optional<std::pair<ec, std::string>> stop_reason(const state& s, const context& cx);
void finish(state& s, const context& cx, std::vector<command>& out);
void call(state& s, const mutation& m, bool compensation, std::optional<std::string> restore,
          std::string key, const context& cx, std::vector<command>& out);
void call_step(state& s, const context& cx, std::vector<command>& out);
void start_step(state& s, const context& cx, std::vector<command>& out);
void undo_next(state& s, const context& cx, std::vector<command>& out);
void compensate(state& s, const context& cx, std::vector<command>& out);
void not_run(state& s, uint32_t from, ec code, const std::string& why, const context& cx);
void halt_stop(state& s, const context& cx, std::vector<command>& out,
               const std::pair<ec, std::string>& why);
void run_next(state& s, const context& cx, std::vector<command>& out);
/// `window_of` with the context's settings.
nanoseconds approval_window_of(const state& s, const context& cx);
/// The window's length and whose it is, e.g. "2500 ms, the proposal's own: approval_window_ms".
std::string describe_window(const state& s, const context& cx);
void launch(state& s, const context& cx, std::vector<command>& out);
void record_failure(state& s, const effector_result& r, const context& cx);
void on_call_failed(state& s, const effector_result& r, const context& cx,
                    std::vector<command>& out);
void on_undone(state& s, const effector_result& r, const context& cx, std::vector<command>& out);
void on_applied(state& s, const context& cx, std::vector<command>& out);
bool awaits_commit(const state& s, uint64_t token);
refusal stale(const state& s, const char* what);

} // namespace bulwark::flight::detail
