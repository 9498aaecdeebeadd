#include "actors/console/metrics.hpp"

#include <filesystem>
#include <map>
#include <sstream>
#include <system_error>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/console/health_json.hpp"
#include "actors/console/metrics_ops.hpp"
#include "actors/console/notify_json.hpp"

namespace bulwark {

std::string render_metrics(const fleet_state& st, const space_usage& space, uint64_t head,
                           size_t pending, size_t running,
                           const std::vector<std::pair<std::string, breaker_state>>& breakers) {
  std::ostringstream out;
  auto gauge = [&](const char* name, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n";
  };
  gauge("bulwark_journal_head_seq", "Newest committed journal sequence number.");
  out << "bulwark_journal_head_seq " << head << '\n';
  gauge("bulwark_journal_used_bytes", "Bytes of the LMDB map in use.");
  out << "bulwark_journal_used_bytes " << space.used_bytes << '\n';
  gauge("bulwark_journal_map_bytes", "Current LMDB map size in bytes.");
  out << "bulwark_journal_map_bytes " << space.map_bytes << '\n';
  gauge("bulwark_journal_max_map_bytes", "Growth limit of the LMDB map in bytes.");
  out << "bulwark_journal_max_map_bytes " << space.max_map_bytes << '\n';
  out << "# HELP bulwark_events_total Journaled events by type.\n"
         "# TYPE bulwark_events_total counter\n";
  for (auto& [type, n] : st.counts)
    out << "bulwark_events_total{type=\"" << to_string(static_cast<event_type>(type)) << "\"} "
        << n << '\n';
  std::map<std::string, uint64_t> outcomes{{"refused", 0}, {"succeeded", 0}, {"failed", 0},
                                           {"in_progress", 0}, {"compensation_failed", 0}};
  st.decided.each([&outcomes](const decided_proposal& p) {
    ++outcomes[p.status == decided::refused     ? "refused"
               : p.status == decided::running   ? "in_progress"
               : p.status == decided::succeeded || p.status == decided::read ? "succeeded"
               : p.status == decided::compensation_failed ? "compensation_failed"
                                                            : "failed"];
  });
  out << "# HELP bulwark_proposals Decided proposals by outcome.\n"
         "# TYPE bulwark_proposals gauge\n";
  for (auto& [k, n] : outcomes)
    out << "bulwark_proposals{outcome=\"" << k << "\"} " << n << '\n';
  gauge("bulwark_pending_approvals", "Proposals waiting for an approval.");
  out << "bulwark_pending_approvals " << pending << '\n';
  gauge("bulwark_running_proposals", "Proposals running.");
  out << "bulwark_running_proposals " << running << '\n';
  gauge("bulwark_halted", "1 while the halt is engaged.");
  out << "bulwark_halted " << (st.halted ? 1 : 0) << '\n';
  gauge("bulwark_breaker_state",
        "Breaker state per service: 0 closed, 1 open, 2 half-open, 3 forced-open, 4 forced-closed.");
  for (auto& [service, state] : breakers)
    out << "bulwark_breaker_state{service=\"" << service << "\"} "
        << static_cast<int>(state) << '\n';
  gauge("bulwark_resources", "Registered resources (retired ones excluded).");
  size_t active = 0;
  for (auto& [id, r] : st.resources)
    active += !r.retired;
  out << "bulwark_resources " << active << '\n';
  return out.str();
}

std::string render_append_metrics(const append_meter::summary& s) {
  std::ostringstream out;
  auto seconds = [](caf::timespan t) { return std::chrono::duration<double>(t).count(); };
  out << "# HELP bulwark_journal_appended_events_total Events acknowledged by the journal "
         "since start.\n# TYPE bulwark_journal_appended_events_total counter\n"
      << "bulwark_journal_appended_events_total " << s.events_total << '\n'
      << "# HELP bulwark_journal_appends_total Append requests acknowledged since start.\n"
         "# TYPE bulwark_journal_appends_total counter\n"
      << "bulwark_journal_appends_total " << s.appends_total << '\n'
      << "# HELP bulwark_journal_append_rate Events appended per second over the last "
      << append_meter::rate_seconds << " s.\n# TYPE bulwark_journal_append_rate gauge\n"
      << "bulwark_journal_append_rate " << s.events_per_second << '\n'
      << "# HELP bulwark_journal_append_latency_seconds Arrival at the journal to durable "
         "acknowledgement, over the last "
      << append_meter::latency_samples << " appends.\n"
         "# TYPE bulwark_journal_append_latency_seconds summary\n"
      << "bulwark_journal_append_latency_seconds{quantile=\"0.5\"} " << seconds(s.p50) << '\n'
      << "bulwark_journal_append_latency_seconds{quantile=\"0.99\"} " << seconds(s.p99) << '\n'
      << "bulwark_journal_append_latency_seconds_sum " << seconds(s.sum) << '\n'
      << "bulwark_journal_append_latency_seconds_count " << s.samples << '\n';
  return out.str();
}

std::string render_cluster_metrics(const cluster_gauges& g) {
  std::ostringstream out;
  auto gauge = [&](const char* name, const char* help, uint64_t value) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n"
        << name << ' ' << value << '\n';
  };
  gauge("bulwark_cluster_term", "Leadership term this node knows.", g.term);
  gauge("bulwark_cluster_leader", "1 while this node is the leader.", g.leader ? 1 : 0);
  gauge("bulwark_cluster_writable", "1 while this node accepts mutations.", g.writable ? 1 : 0);
  gauge("bulwark_cluster_peers_connected", "Peers connected (handshake passed).",
        g.peers_connected);
  gauge("bulwark_cluster_integrity_alerts", "Forks and records that did not link, seen.",
        g.forks);
  gauge("bulwark_cluster_refused_heads", "Gossiped heads refused (bad signature, unknown).",
        g.refused_heads);
  gauge("bulwark_cluster_replication_stopped", "1 while replication is stopped by an alert.",
        g.replication_stopped ? 1 : 0);
  gauge("bulwark_cluster_head_seq", "This node's journal head seq.", g.head);
  gauge("bulwark_cluster_lag", "Records this follower is behind its leader.", g.lag);
  gauge("bulwark_cluster_alerts_unreported",
        "Integrity alerts of this follower the leader has not journaled yet.",
        g.alerts_unreported);
  gauge("bulwark_cluster_peer_alerts", "Followers' integrity alerts this leader journaled.",
        g.peer_alerts);
  gauge("bulwark_cluster_access_unreported",
        "Console access records of this node its leader's journal does not hold yet.",
        g.access_unreported);
  gauge("bulwark_cluster_access_dropped",
        "Console access records of this node dropped because their queue was full.",
        g.access_dropped);
  gauge("bulwark_cluster_peer_access", "Followers' console access records this leader journaled.",
        g.peer_access);
  gauge("bulwark_cluster_sync_followers",
        "Followers that must hold an append before this leader acknowledges it.",
        g.sync_followers);
  gauge("bulwark_cluster_replicated_seq",
        "Highest seq sync_followers followers confirmed they hold durably (leader).",
        g.replicated);
  if (g.elected) {
    auto counter = [&](const char* name, const char* help, uint64_t value) {
      out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " counter\n"
          << name << ' ' << value << '\n';
    };
    gauge("bulwark_cluster_lease_held",
          "1 while this node leads under a lease in etcd whose deadline has not passed.",
          g.lease_held ? 1 : 0);
    counter("bulwark_cluster_lease_renewals_total", "Renewals of this node's lease in etcd.",
            g.lease_renewals);
    counter("bulwark_cluster_failovers_total",
            "Times this node took the leader key in etcd and was promoted.", g.failovers);
    counter("bulwark_cluster_fenced_total",
            "Times this node stopped leading (its lease lost or lapsed, or a higher term).",
            g.fenced);
    counter("bulwark_cluster_lower_term_batches_total",
            "Replica batches this node refused because they came from a lower term.",
            g.lower_terms);
  }
  return out.str();
}

namespace {

std::string label(const std::string& v) {
  return prometheus_label(v);
}

/// Time since `bulwark backup` last wrote its note beside the journal in `dir`, if ever.
std::optional<caf::timespan> backup_age(const std::string& dir) {
  std::error_code ec;
  auto written = std::filesystem::last_write_time(
    std::filesystem::path{dir} / "last-verified-backup.json", ec);
  if (ec)
    return std::nullopt;
  return std::chrono::duration_cast<caf::timespan>(
    std::filesystem::file_time_type::clock::now() - written);
}

/// The operational figures the journal's state does not hold.
ops_figures gather_ops(caf::scoped_actor& self, const console_deps& deps,
                       const std::vector<pending_approval>& flights, caf::timespan timeout) {
  ops_figures f;
  f.now = caf::make_timestamp();
  f.approval_timeout = deps.approval_timeout;
  for (auto& p : flights)
    if (p.awaiting) {
      f.approval_expiries.push_back(p.expires);
      f.approval_windows.push_back(p.approval_window);
    }
  for (auto& s : deps.breakers->services()) {
    breaker_directory::entry e;
    if (deps.breakers->find(s, e) && e.handle)
      self->request(e.handle, timeout, atom::state_v)
        .receive([&](breaker_status& b) { f.breakers.push_back(std::move(b)); },
                 [](caf::error&) {});
  }
  if (deps.health) {
    bool ok = true;
    uint64_t first_bad = 0;
    if (auto at = deps.health->last_verified(ok, first_bad)) {
      f.verified_ok = ok;
      f.verified_age = std::max(caf::timespan{0}, f.now - *at);
    }
  }
  if (deps.store)
    f.backup_age = backup_age(deps.store->dir());
  if (deps.load)
    f.load = deps.load();
  return f;
}

} // namespace

std::string render_signal_metrics(const nlohmann::json& signals) {
  std::ostringstream out;
  out << "# HELP bulwark_signal_series_no_data 1 while the signal source has no value for a "
         "series (its detection reports no data), else 0.\n"
         "# TYPE bulwark_signal_series_no_data gauge\n";
  auto series = signals.value("series", nlohmann::json::array());
  auto errors = signals.value("errors", nlohmann::json::object());
  for (auto& s : series)
    out << "bulwark_signal_series_no_data{service=\"" << label(s.value("service", ""))
        << "\",region=\"" << label(s.value("region", "")) << "\"} "
        << (s.value("detection", "") == "ok" ? 0 : 1) << '\n';
  out << "# HELP bulwark_signal_failed_rounds Consecutive rounds in which the signal source "
         "could not reach its server.\n"
         "# TYPE bulwark_signal_failed_rounds gauge\n"
      << "bulwark_signal_failed_rounds " << signals.value("failed_rounds", 0) << '\n'
      << "# HELP bulwark_signal_samples_total Samples the signal source handed to the "
         "detector.\n"
         "# TYPE bulwark_signal_samples_total counter\n"
      << "bulwark_signal_samples_total " << signals.value("samples", 0) << '\n'
      << "# HELP bulwark_signal_no_value_total Queries of the signal source that gave no "
         "value, by reason.\n"
         "# TYPE bulwark_signal_no_value_total counter\n";
  for (auto it = errors.begin(); it != errors.end(); ++it)
    out << "bulwark_signal_no_value_total{reason=\"" << label(it.key()) << "\"} "
        << it.value() << '\n';
  return out.str();
}

caf::expected<std::string> collect_metrics(caf::actor_system& sys, const console_deps& deps,
                                           caf::timespan timeout) {
  caf::scoped_actor self{sys}; // one per call: a reused one keeps timed-out replies
  caf::expected<std::string> out{refuse(ec::unavailable, "the journal did not answer")};
  // Without the committed view, a copy of the state from the journal.
  fleet_state copy;
  if (!deps.view) {
    bool have_state = false;
    self->request(deps.journal, timeout, atom::state_v)
      .receive([&](fleet_state& x) { copy = std::move(x), have_state = true; },
               [&](caf::error&) {});
    if (!have_state)
      return out;
  }
  out = refuse(ec::unavailable, "the pipeline did not answer");
  self->request(deps.pipeline, timeout, atom::pending_v)
    .receive(
      [&](std::vector<pending_approval>& flights) {
        size_t pending = 0;
        for (auto& f : flights)
          pending += f.awaiting;
        std::vector<std::pair<std::string, breaker_state>> breakers;
        for (auto& s : deps.breakers->services()) {
          breaker_directory::entry e;
          if (deps.breakers->find(s, e))
            breakers.emplace_back(s, e.state);
        }
        auto ops = gather_ops(self, deps, flights, timeout);
        std::string text;
        auto render = [&](const fleet_state& st) {
          text = render_metrics(st, deps.store->space(), deps.store->head().value, pending,
                                flights.size() - pending, breakers);
          text += render_ops_metrics(st, ops);
        };
        if (deps.view) { // read in place, after every request: no lock held across one
          auto fleet = deps.view->read();
          render(fleet.state());
        } else {
          render(copy);
        }
        if (deps.appends)
          text += render_append_metrics(deps.appends->summarize(sys.clock().now()));
        if (deps.health)
          text += render_health_metrics(deps.health->get());
        if (deps.cluster_figures)
          text += render_cluster_metrics(*deps.cluster_figures);
        if (deps.notifications)
          text += render_notify_metrics(deps.notifications());
        if (deps.signals)
          text += render_signal_metrics(deps.signals());
        out = std::move(text);
      },
      [&](caf::error&) {});
  return out;
}

} // namespace bulwark
