// The embedding API's side of forwarded commands: a clustered node hands every
// mutating call to its cluster actor and turns the answer into the same result the call
// gives on the leader.

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"

namespace bulwark {

result to_result(const operator_answer& a) {
  if (a.rollback)
    return rollback_result(*a.rollback);
  if (a.run)
    return engine::impl::to_result(*a.run);
  result out;
  out.ok = true;
  out.seq = a.seq.value;
  if (a.breaker)
    out.status = to_string(a.breaker->state);
  if (a.promoted) {
    out.status = a.promoted->repeated ? "repeated" : "promoted";
    out.proposal = a.promoted->incident ? to_hex(*a.promoted->incident) : "";
  }
  return out;
}

operator_command api_command(command_kind kind, const std::string& by) {
  operator_command cmd;
  cmd.kind = kind;
  cmd.by = principal_id{by};
  return cmd;
}

result forward_command(engine::impl& d, operator_command cmd) {
  auto r = d.call<operator_answer>(d.cluster, atom::command_v, std::move(cmd));
  d.pump();
  return r ? to_result(*r) : engine::impl::to_result(r.error());
}

} // namespace bulwark
