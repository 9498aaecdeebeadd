// The dead-letter part of the embedding API: list, requeue and discard (admins only).

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "bulwark/engine.hpp"
#include "engine/engine_commands.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/compensation_letters.hpp"

namespace bulwark {

namespace {

caf::error not_admin(const std::string& by) {
  return refuse(ec::authority_denied, by + " is not an admin and may not resolve dead letters");
}

} // namespace

std::vector<dead_letter_info> engine::dead_letters() {
  auto& d = *impl_;
  std::vector<dead_letter_info> out;
  auto view = d.committed();
  if (!view)
    return out;
  auto* st = &view->state();
  for (auto& [seq, x] : st->dead_letters) {
    dead_letter_info info{seq,
                          to_hex(x.proposal),
                          x.step,
                          x.principal.value,
                          static_cast<int>(x.level),
                          x.service,
                          x.change.resource.value,
                          x.change.key,
                          x.change.value,
                          to_string(x.code),
                          x.message,
                          wall_clock(x.failed_at),
                          false,
                          std::nullopt};
    if (d.store)
      if (auto comp = compensation_of(*d.store, seq, x); comp && *comp) {
        info.compensation = true;
        if ((*comp)->restore)
          info.restore = *(*comp)->restore;
      }
    out.push_back(std::move(info));
  }
  return out;
}

result engine::requeue(const std::string& by, uint64_t seq, const std::string& reason,
                       std::chrono::milliseconds timeout) {
  auto& d = *impl_;
  if (d.cluster) { // the leader checks the admin and runs it
    auto fw = api_command(command_kind::requeue, by);
    fw.letter = seq;
    fw.text = reason;
    fw.deadline = d.now() + timeout;
    return forward_command(d, std::move(fw));
  }
  if (d.admins->count(by) == 0)
    return impl::to_result(not_admin(by));
  dead_letter_command cmd{seq, principal_id{by}, reason, d.now() + timeout};
  auto r = d.call<outcome>(d.pipeline, atom::requeue_v, cmd);
  d.pump();
  return r ? impl::to_result(*r) : impl::to_result(r.error());
}

result engine::discard(const std::string& by, uint64_t seq, const std::string& reason) {
  auto& d = *impl_;
  if (d.cluster) {
    auto fw = api_command(command_kind::discard, by);
    fw.letter = seq;
    fw.text = reason;
    fw.deadline = d.now();
    return forward_command(d, std::move(fw));
  }
  if (d.admins->count(by) == 0)
    return impl::to_result(not_admin(by));
  auto r = d.call<seq_no>(d.pipeline, atom::discard_v,
                          dead_letter_command{seq, principal_id{by}, reason, d.now()});
  d.pump();
  if (!r)
    return impl::to_result(r.error());
  result out;
  out.ok = true;
  out.seq = r->value;
  return out;
}

} // namespace bulwark
