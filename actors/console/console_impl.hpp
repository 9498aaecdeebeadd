#pragma once

/// Internal to actors/console/: shared between the connection handling (console.cpp)
/// and the commands (console_commands.cpp and the files of each group of commands).

#include "caf/io/broker.hpp"
#include "caf/timespan.hpp"
#include "caf/stateful_actor.hpp"

#include "actors/console/console.hpp"
#include "actors/console/console_protocol.hpp"
#include "messages/forwarding.hpp"
#include "persistence/history_query.hpp"

namespace bulwark::console_detail {

using broker_ptr = caf::io::stateful_broker<console_state>*;
using hdl_t = caf::io::connection_handle;

/// Writes one line (already ending in '\n') to a connection that is still open.
void send_line(broker_ptr self, hdl_t hdl, const std::string& line);

/// Journals one console access (who, what, from where, allowed) without waiting.
void record_access(broker_ptr self, const console_conn& c, const std::string& command,
                   bool allowed, const std::string& detail);

/// Checks the role a command needs, journals the access and runs it (a console line or
/// an HTTP request of an authenticated principal).
void dispatch(broker_ptr self, hdl_t hdl, console_conn& c, const console_request& req);

/// Resolves the request's digest prefixes to the digests this node knows, then runs it;
/// a prefix that names none or several is refused (console_digests.cpp).
void resolve_and_run(broker_ptr self, hdl_t hdl, const console_request& req);

/// Runs an authorized command and answers it (now or when its actor replies).
void run_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// Runs `propose`: answered at once with "waiting for approval" on a console connection
/// when the proposal waits for an approver, its outcome then pushed (console_propose.cpp).
void cmd_propose(broker_ptr self, hdl_t hdl, const console_request& req);

/// Answers the waiting proposals whose decision (awaiting an approver) is in `entries`.
void answer_waiting_proposals(broker_ptr self, const std::vector<journal_entry>& entries);

/// Subscribes the console to the journal's committed events (once).
void follow_journal(broker_ptr self);

/// Runs `incidents`, `promote` and `rollback`; false for any other command.
bool run_incident_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// Runs `attempts`; false for any other command (console_attempts.cpp).
bool run_attempt_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// Runs `dead-letters`, `requeue` and `discard`; false for any other command
/// (console_dead_letters.cpp).
bool run_dead_letter_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// Runs `audit-pending` and `audit-ack`; false for any other command (console_audit.cpp).
bool run_audit_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// Runs `grants`, `policy`, `halt`, `release` or `grant` (console_governance.cpp); false
/// for any other command.
bool run_governance_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// Approves or denies a pending rollback, else a pending proposal (console_incidents.cpp).
void approve_any(broker_ptr self, hdl_t hdl, const console_request& req, approval a);

/// The answer to an approval or denial of a proposal: what was decided, by whom, and the
/// seq of the journaled approval or denial.
nlohmann::json approval_json(const approval& a, seq_no s);

/// The JSON of a rollback's status, as `rollback` and `approve` answer it.
nlohmann::json rollback_json(const rollback_status& s);

/// A mutating command by this connection's principal with its console role.
operator_command connection_command(broker_ptr self, hdl_t hdl, command_kind kind);

/// Clustered: hands `cmd` to the cluster actor (run on the leader, or UNAVAILABLE) and
/// answers with the leader's answer, rendered as on the leader (console_cluster.cpp).
void forward_command(broker_ptr self, hdl_t hdl, const console_request& req,
                     operator_command cmd);

/// Sends a request and answers the connection with `render(reply)` or the error.
template <class Reply, class Handle, class Render, class... Ts>
void ask(broker_ptr self, hdl_t hdl, nlohmann::json id, const Handle& h, Render render,
         Ts&&... xs) {
  if (!h)
    return send_line(self, hdl, error_response(id, ec::governance_failure,
                                               "the actor for this command is not running"));
  self->request(h, caf::infinite, std::forward<Ts>(xs)...)
    .then([self, hdl, id, render](Reply& r) { send_line(self, hdl, ok_response(id, render(r))); },
          [self, hdl, id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

/// Answers a request whose arguments were refused.
void refuse_args(broker_ptr self, hdl_t hdl, const console_refusal& why);

/// A clustered node's role and freshness for `status` (null when not clustered).
nlohmann::json cluster_brief(broker_ptr self);

/// Runs `breakers`, `breaker-force` and `breaker-release`; false for any other command
/// (console_breakers.cpp).
bool run_breaker_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// Runs `cluster` and `cluster-promote`; false for any other command (console_cluster.cpp).
bool run_cluster_command(broker_ptr self, hdl_t hdl, const console_request& req);

/// The arguments `log` takes: its history filter (console_log.cpp).
extern const char* const log_arg_names[11];

/// Reads `log`'s arguments into a history filter; false (with `why`) on any bad one.
bool parse_log_args(const console_request& req, history_filter& out, console_refusal& why);

/// What a finished `log` query answers, and the operational event's detail when it was
/// stopped ("" when it was not).
struct log_outcome {
  std::string line;
  std::string stop_detail;
};

/// The answer of a `log` query: its page, its error, or (stopped: `stop_reason` 1 for the
/// deadline, 2 for a cancellation) TIMEOUT or UNAVAILABLE naming how far it read.
log_outcome log_answer(const nlohmann::json& id, const history_filter& f,
                       const caf::expected<history_page>& page, int stop_reason,
                       std::chrono::milliseconds timeout);

/// Runs `log` on the history readers: progress events, then one page (console_log.cpp).
void cmd_log(broker_ptr self, hdl_t hdl, const console_request& req);

/// Journals a history query that timed out or was cancelled as a console access.
void record_history_stop(broker_ptr self, const std::string& principal,
                         const std::string& remote, const std::string& detail);

/// Current time as the node sees it.
caf::timestamp now(broker_ptr self);

} // namespace bulwark::console_detail
