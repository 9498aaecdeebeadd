// The command actor: runs a mutating operator command against this node's actors with
// the checks the embedding API and the console apply to a caller who asks this node
// directly, whichever node the caller spoke to. The cluster actor hands it commands only
// while this node writes.

#include "engine/engine_commands.hpp"

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/stateful_actor.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/console/console_protocol.hpp"
#include "engine/engine_impl.hpp"
#include "messages/error.hpp"

namespace bulwark {

namespace {

struct commands_state {
  std::shared_ptr<command_targets> targets;
  static inline const char* name = "commands";
};

using commands_ptr = command_actor::stateful_pointer<commands_state>;
using answer = caf::result<operator_answer>;

/// Asks `h` and answers with `fill(answer, reply)`; errors pass through unchanged.
template <class Reply, class Handle, class Fill, class... Ts>
answer ask(commands_ptr self, const Handle& h, command_kind kind, Fill fill, Ts&&... xs) {
  if (!h)
    return refuse(ec::governance_failure, "the actor for this command is not running", {},
                  caf::timespan{std::chrono::seconds{1}});
  auto rp = self->make_response_promise<operator_answer>();
  self->request(h, caf::infinite, std::forward<Ts>(xs)...)
    .then(
      [rp, kind, fill](Reply& r) mutable {
        operator_answer a;
        a.kind = kind;
        fill(a, r);
        rp.deliver(std::move(a));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

auto with_seq = [](operator_answer& a, seq_no& s) { a.seq = s; };
auto with_breaker = [](operator_answer& a, breaker_status& b) { a.breaker = std::move(b); };
auto with_rollback = [](operator_answer& a, rollback_status& r) { a.rollback = std::move(r); };

/// A console caller needs the role its command needs on the console; API callers have none.
caf::error role_refusal(const operator_command& cmd) {
  if (cmd.role == 0)
    return {};
  auto name = console_command_of(cmd);
  auto role = static_cast<console_role>(cmd.role);
  if (name.empty())
    return refuse(ec::authority_denied, std::string{to_string(cmd.kind)}
                                          + " is not a console command");
  if (required_role(name) > role)
    return refuse(ec::authority_denied,
                  name + " needs the " + to_string(required_role(name)) + " role");
  return {};
}

/// The embedding API lets only admins resolve dead letters and release principals.
caf::error admin_refusal(const commands_state& st, const operator_command& cmd) {
  if (cmd.role != 0 || st.targets->admins->count(cmd.by.value) != 0)
    return {};
  if (cmd.kind == command_kind::release_principal)
    return refuse(ec::authority_denied, cmd.by.value + " is not an admin");
  if (cmd.kind == command_kind::requeue || cmd.kind == command_kind::discard)
    return refuse(ec::authority_denied,
                  cmd.by.value + " is not an admin and may not resolve dead letters");
  return {};
}

answer run_breaker(commands_ptr self, const operator_command& cmd) {
  breaker_directory::entry e;
  if (!self->state.targets->breakers->find(cmd.target, e))
    return refuse(ec::invalid_input, "no breaker for service '" + cmd.target + "'");
  if (cmd.kind == command_kind::breaker_release)
    return ask<breaker_status>(self, e.handle, cmd.kind, with_breaker, atom::release_v, cmd.by);
  return ask<breaker_status>(self, e.handle, cmd.kind, with_breaker, atom::force_v, cmd.by,
                             cmd.flag);
}

answer run_release_principal(commands_ptr self, const operator_command& cmd) {
  auto target = cmd.target;
  auto rp = self->make_response_promise<operator_answer>();
  auto& slot = self->state.targets->admission;
  auto h = slot ? slot->get() : admission_actor{};
  if (!h)
    return refuse(ec::unavailable, "admission is not running yet", {},
                  caf::timespan{std::chrono::seconds{1}});
  self->request(h, caf::infinite, atom::release_v, principal_id{target}, cmd.by)
    .then(
      [rp, target](bool was) mutable {
        if (!was) {
          rp.deliver(refuse(ec::invalid_input, target + " is not quarantined"));
          return;
        }
        operator_answer a;
        a.kind = command_kind::release_principal;
        rp.deliver(std::move(a));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

answer run_promote(commands_ptr self, const operator_command& cmd) {
  auto o = self->state.targets->orchestrator->get();
  if (!o)
    return refuse(ec::unavailable, "the orchestrator is restarting; try again", {},
                  caf::timespan{std::chrono::seconds{1}});
  return ask<incident_decision>(
    self, o, cmd.kind, [](operator_answer& a, incident_decision& d) { a.promoted = std::move(d); },
    atom::promote_v, cmd.id, cmd.by, cmd.text);
}

/// The requester's own approval of a rollback that awaits one.
void approve_own(commands_ptr self, caf::typed_response_promise<operator_answer> rp,
                 const rollback_status& s, principal_id by, std::string note) {
  auto h = self->state.targets->rollbacks.get();
  self->request(h, caf::infinite, atom::approve_v, approval{by, s.rollback, true, note})
    .then(
      [rp](rollback_status& r) mutable {
        operator_answer a;
        a.kind = command_kind::rollback;
        a.rollback = std::move(r);
        rp.deliver(std::move(a));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
}

answer run_rollback(commands_ptr self, const operator_command& cmd) {
  auto h = self->state.targets->rollbacks.get();
  if (!h)
    return refuse(ec::unavailable, "the rollback executor is not running yet", {},
                  caf::timespan{std::chrono::seconds{1}});
  rollback_order o{cmd.id, cmd.seqs, cmd.by, authority_level::assist, cmd.text};
  auto rp = self->make_response_promise<operator_answer>();
  auto by = cmd.by;
  std::string note = cmd.role == 0 ? "" : "requested from the console";
  self->request(h, caf::infinite, atom::rollback_v, std::move(o))
    .then(
      [self, rp, by, note](rollback_status& s) mutable {
        if (s.status == "awaiting-approval")
          return approve_own(self, rp, s, by, note);
        operator_answer a;
        a.kind = command_kind::rollback;
        a.rollback = std::move(s);
        rp.deliver(std::move(a));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

/// Approves (or denies) the rollback awaiting approval with that digest, else the proposal.
void approve_either(commands_ptr self, caf::typed_response_promise<operator_answer> rp,
                    approval ap, bool is_rollback) {
  auto fail = [rp](caf::error& err) mutable { rp.deliver(std::move(err)); };
  if (is_rollback) {
    self->request(self->state.targets->rollbacks.get(), caf::infinite, atom::approve_v, ap)
      .then([rp](rollback_status& s) mutable {
              operator_answer a;
              a.kind = command_kind::approve;
              a.rollback = std::move(s);
              rp.deliver(std::move(a));
            },
            fail);
    return;
  }
  self->request(self->state.targets->pipeline, caf::infinite, atom::approve_v, ap)
    .then([rp](seq_no s) mutable {
            operator_answer a;
            a.kind = command_kind::approve;
            a.seq = s;
            rp.deliver(std::move(a));
          },
          fail);
}

answer run_approve(commands_ptr self, const operator_command& cmd) {
  approval ap{cmd.by, cmd.id, cmd.flag, cmd.text};
  auto rp = self->make_response_promise<operator_answer>();
  auto h = self->state.targets->rollbacks.get();
  if (!h) {
    approve_either(self, rp, ap, false);
    return rp;
  }
  self->request(h, caf::infinite, atom::pending_v)
    .then(
      [self, rp, ap](std::vector<digest>& pending) {
        bool is_rollback = std::find(pending.begin(), pending.end(), ap.proposal) != pending.end();
        approve_either(self, rp, ap, is_rollback);
      },
      [self, rp, ap](caf::error&) { approve_either(self, rp, ap, false); });
  return rp;
}

answer run(commands_ptr self, operator_command& cmd) {
  auto& t = *self->state.targets;
  auto authority = t.authority->get();
  switch (cmd.kind) {
    case command_kind::enroll:
      if (!cmd.enrollment)
        return refuse(ec::invalid_input, "enroll without a registration");
      return ask<seq_no>(self, t.pipeline, cmd.kind, with_seq, atom::enroll_v, *cmd.enrollment);
    case command_kind::halt:
      return ask<seq_no>(self, authority, cmd.kind, with_seq, atom::halt_v, cmd.by, cmd.text);
    case command_kind::release:
      return ask<seq_no>(self, authority, cmd.kind, with_seq, atom::release_v, cmd.by, cmd.text);
    case command_kind::grant:
      return ask<seq_no>(self, authority, cmd.kind, with_seq, atom::grant_v, cmd.by,
                         principal_id{cmd.target}, static_cast<authority_level>(cmd.level),
                         cmd.until, cmd.text);
    case command_kind::breaker_force:
    case command_kind::breaker_release:
      return run_breaker(self, cmd);
    case command_kind::requeue:
      return ask<outcome>(self, t.pipeline, cmd.kind,
                          [](operator_answer& a, outcome& o) { a.run = std::move(o); },
                          atom::requeue_v,
                          dead_letter_command{cmd.letter, cmd.by, cmd.text, cmd.deadline});
    case command_kind::discard:
      return ask<seq_no>(self, t.pipeline, cmd.kind, with_seq, atom::discard_v,
                         dead_letter_command{cmd.letter, cmd.by, cmd.text, cmd.deadline});
    case command_kind::release_principal:
      return run_release_principal(self, cmd);
    case command_kind::promote:
      return run_promote(self, cmd);
    case command_kind::rollback:
      return run_rollback(self, cmd);
    case command_kind::approve:
      return run_approve(self, cmd);
  }
  return refuse(ec::invalid_input, "unknown command kind");
}

command_actor::behavior_type commands(commands_ptr self, std::shared_ptr<command_targets> t) {
  self->state.targets = std::move(t);
  return {
    [self](atom::command, operator_command& cmd) -> answer {
      auto err = role_refusal(cmd);
      if (!err)
        err = admin_refusal(self->state, cmd);
      if (err) {
        spdlog::warn("commands: refused {} of {} (from {}): {}", to_string(cmd.kind),
                     cmd.by.value, cmd.origin, describe(err).message);
        return err;
      }
      return run(self, cmd);
    },
  };
}

} // namespace

command_actor spawn_commands(caf::actor_system& sys, std::shared_ptr<command_targets> targets) {
  return sys.spawn(commands, std::move(targets));
}

std::string console_command_of(const operator_command& cmd) {
  switch (cmd.kind) {
    case command_kind::halt: return "halt";
    case command_kind::release: return "release";
    case command_kind::grant: return "grant";
    case command_kind::breaker_force: return "breaker-force";
    case command_kind::breaker_release: return "breaker-release";
    case command_kind::requeue: return "requeue";
    case command_kind::discard: return "discard";
    case command_kind::promote: return "promote";
    case command_kind::rollback: return "rollback";
    case command_kind::approve: return cmd.flag ? "approve" : "deny";
    case command_kind::enroll:
    case command_kind::release_principal: return "";
  }
  return "";
}

} // namespace bulwark
