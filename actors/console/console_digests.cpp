// Digest prefixes: an argument that names a digest may give a unique prefix of at least 8
// hex digits; it is resolved against the digests this node knows for that argument
// (pending and running proposals and rollbacks awaiting approval for `proposal`, and for
// `resolve` the proposals in doubt; for `audit-ack` only the proposals in the audit queue;
// incidents for `incident`, candidates for `candidate`) before the command runs.

#include "caf/actor_system.hpp"
#include "caf/io/all.hpp"

#include "actors/console/command_table.hpp"
#include "actors/console/console_impl.hpp"

namespace bulwark::console_detail {

namespace {

using nlohmann::json;

/// What one request's resolution has gathered so far.
struct known_digests {
  std::vector<std::string> proposals; ///< pending or running proposals, pending rollbacks
  std::vector<std::string> incidents;
  std::vector<std::string> candidates;
};

/// The digest arguments of `req` given as a prefix.
std::vector<std::string> prefixed_args(const console_request& req) {
  std::vector<std::string> out;
  auto* c = find_command(req.cmd);
  if (c == nullptr)
    return out;
  for (auto& a : c->args)
    if (a.type == arg_type::digest)
      if (auto v = req.args.find(a.name); v != req.args.end() && v->is_string()
                                          && v->get_ref<const std::string&>().size() < 64)
        out.push_back(a.name);
  return out;
}

/// Rewrites each prefix to its digest and runs the command, or refuses the request.
void finish(broker_ptr self, hdl_t hdl, console_request req, const known_digests& known,
            const std::vector<std::string>& names) {
  if (self->state.conns.count(hdl) == 0)
    return; // the connection closed while its digests were gathered
  for (auto& name : names) {
    auto& pool = name == "incident"    ? known.incidents
                 : name == "candidate" ? known.candidates
                                       : known.proposals;
    std::string full, why;
    if (!resolve_digest(req.args[name].get<std::string>(), pool, full, why))
      return send_line(self, hdl, error_response(req.id, ec::invalid_input,
                                                 "args." + name + ": " + why));
    req.args[name] = full;
  }
  run_command(self, hdl, req);
}

/// Asks the journal for incidents and candidates when an argument needs them.
void gather_fleet(broker_ptr self, hdl_t hdl, console_request req, known_digests known,
                  std::vector<std::string> names) {
  // `resolve` names proposals in doubt and `audit-ack` proposals in the audit queue,
  // which only the journal's state lists.
  bool needs = req.cmd == "resolve" || req.cmd == "audit-ack"
               || std::any_of(names.begin(), names.end(), [](const std::string& n) {
                    return n == "incident" || n == "candidate";
                  });
  if (!needs || !self->state.deps.journal)
    return finish(self, hdl, std::move(req), known, names);
  self->request(self->state.deps.journal, caf::infinite, atom::state_v)
    .then(
      [self, hdl, req, known, names](fleet_state& st) mutable {
        for (auto& [id, n] : st.incidents)
          known.incidents.push_back(to_hex(id));
        for (auto& [id, c] : st.candidates)
          known.candidates.push_back(to_hex(id));
        if (req.cmd == "audit-ack") {
          for (auto& [id, e] : st.audit.pending)
            known.proposals.push_back(to_hex(id));
        } else {
          for (auto& [id, p] : st.proposals)
            if (p.started != 0) // in doubt
              known.proposals.push_back(to_hex(id));
        }
        finish(self, hdl, std::move(req), known, names);
      },
      [self, hdl, id = req.id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

/// Asks for rollbacks awaiting approval when a `proposal` prefix needs them.
void gather_rollbacks(broker_ptr self, hdl_t hdl, console_request req, known_digests known,
                      std::vector<std::string> names) {
  if (!self->state.deps.rollbacks)
    return gather_fleet(self, hdl, std::move(req), std::move(known), std::move(names));
  self->request(self->state.deps.rollbacks, caf::infinite, atom::pending_v)
    .then(
      [self, hdl, req, known, names](std::vector<digest>& xs) mutable {
        for (auto& x : xs)
          known.proposals.push_back(to_hex(x));
        gather_fleet(self, hdl, std::move(req), std::move(known), std::move(names));
      },
      [self, hdl, req, known, names](caf::error&) mutable {
        gather_fleet(self, hdl, std::move(req), std::move(known), std::move(names));
      });
}

} // namespace

void resolve_and_run(broker_ptr self, hdl_t hdl, const console_request& req) {
  auto names = prefixed_args(req);
  if (names.empty())
    return run_command(self, hdl, req);
  bool proposals = std::find(names.begin(), names.end(), "proposal") != names.end();
  // An audit acknowledgement names a finished proposal: only the queue is asked.
  if (!proposals || req.cmd == "audit-ack" || !self->state.deps.pipeline)
    return gather_fleet(self, hdl, req, {}, std::move(names));
  self->request(self->state.deps.pipeline, caf::infinite, atom::pending_v)
    .then(
      [self, hdl, req, names](std::vector<pending_approval>& xs) mutable {
        known_digests known;
        for (auto& x : xs)
          known.proposals.push_back(to_hex(x.proposal));
        gather_rollbacks(self, hdl, std::move(req), std::move(known), std::move(names));
      },
      [self, hdl, id = req.id](caf::error& err) { send_line(self, hdl, error_response(id, err)); });
}

} // namespace bulwark::console_detail
