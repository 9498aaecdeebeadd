#include "actors/incident/postmortem_render.hpp"

#include <sstream>

#include "persistence/event_json.hpp"
#include "persistence/journal_store.hpp"

namespace bulwark {

using nlohmann::json;

namespace {

int64_t ms(caf::timespan d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

json time_or_null(const caf::optional<caf::timestamp>& t) {
  return t ? json(format_time(*t)) : json(nullptr);
}

std::string cell(const std::string& text) {
  std::string out;
  for (char c : text)
    out += c == '|' ? std::string{"\\|"} : c == '\n' ? std::string{" "} : std::string(1, c);
  return out.empty() ? "-" : out;
}

std::string mttr_text(const postmortem_report& r) {
  if (!r.mttr)
    return "not closed yet";
  auto total = ms(*r.mttr);
  std::ostringstream out;
  out << total / 60000 << " min " << (total % 60000) / 1000 << " s (" << total << " ms)";
  return out.str();
}

} // namespace

std::string to_markdown(const postmortem_report& r) {
  std::ostringstream md;
  md << "# Postmortem: incident " << to_hex(r.incident).substr(0, 16) << "\n\n";
  md << "| | |\n| --- | --- |\n";
  md << "| incident | `" << to_hex(r.incident) << "` |\n";
  md << "| series | " << cell(r.service) << " / " << cell(r.region) << " |\n";
  md << "| severity | " << r.severity;
  if (r.severity != r.opened_severity)
    md << " (opened as " << r.opened_severity << ")";
  md << " |\n| status | " << r.status << " |\n";
  md << "| onset | " << format_time(r.onset) << " |\n";
  md << "| opened | " << format_time(r.opened) << " |\n";
  md << "| respond by | " << format_time(r.respond_by) << " |\n";
  md << "| acknowledged | "
     << (r.acknowledged ? format_time(*r.acknowledged) + " (owner " + cell(r.owner) + ")"
                        : std::string{"never"})
     << " |\n";
  md << "| escalations | " << r.escalations << " |\n";
  md << "| closed | " << (r.closed ? format_time(*r.closed) : std::string{"-"}) << " |\n";
  md << "| MTTR | " << mttr_text(r) << " |\n";
  md << "| resolution | " << cell(r.resolution) << " |\n\n";

  md << "## Changes in the look-back\n\n"
     << "Applied to " << r.service << "/" << r.region << " in the " << ms(r.lookback) / 1000
     << " s before the onset.\n\n";
  if (r.changes.empty()) {
    md << "None.\n\n";
  } else {
    md << "| seq | at | resource | key | old | new | culprit | reverted |\n"
       << "| --- | --- | --- | --- | --- | --- | --- | --- |\n";
    for (auto& c : r.changes)
      md << "| " << c.seq << " | " << format_time(c.at) << " | " << cell(c.resource) << " | "
         << cell(c.key) << " | " << cell(c.old_value ? *c.old_value : "") << " | "
         << cell(c.new_value) << " | "
         << (c.culprit ? "yes (score " + std::to_string(c.score) + ")" : std::string{"no"})
         << " | " << (c.reverted ? "yes" : "no") << " |\n";
    md << "\n";
  }

  md << "## Detection\n\n";
  if (r.detected)
    md << "Candidate `" << to_hex(r.candidate).substr(0, 16) << "` raised by " << r.raised_by
       << ", confirmed " << format_time(r.confirmed) << ": error rate " << r.error_ppm
       << " ppm (baseline " << r.baseline_ppm << " ppm, threshold " << r.threshold_ppm
       << " ppm), policy " << cell(r.policy) << ".\n\n";
  else
    md << "The candidate's record was not found.\n\n";

  md << "## Decision\n\n";
  if (r.verdict.empty())
    md << "No decision was found.\n\n";
  else
    md << r.verdict << " by " << r.decided_by << (r.manual ? " (manual)" : "") << ": "
       << cell(r.justification) << "\n\n";

  md << "## Rollback\n\n";
  if (r.rollbacks.empty())
    md << "None requested.\n\n";
  for (auto& rb : r.rollbacks) {
    md << "- `" << to_hex(rb.rollback).substr(0, 16) << "` requested " << format_time(rb.requested)
       << " by " << rb.by << ", " << rb.reverts.size() << " change(s): ";
    if (!rb.finished)
      md << "not finished\n";
    else
      md << (rb.succeeded ? "succeeded" : "failed " + rb.code) << " at "
         << format_time(rb.finished_at) << ", " << rb.reverted << " reverted\n";
  }
  if (!r.rollbacks.empty())
    md << "\n";

  md << "## Recovery\n\n";
  if (r.recovered)
    md << "Recovery verified " << format_time(*r.recovered) << ".\n\n";
  else
    md << "No verified recovery.\n\n";

  md << "## Timeline\n\n| seq | at | what | by | detail |\n| --- | --- | --- | --- | --- |\n";
  for (auto& s : r.timeline)
    md << "| " << s.seq << " | " << format_time(s.at) << " | " << s.what << " | "
       << cell(s.by.empty() ? "bulwark" : s.by) << " | " << cell(s.detail) << " |\n";
  return md.str();
}

json to_json(const postmortem_report& r) {
  json changes = json::array(), rollbacks = json::array(), timeline = json::array();
  for (auto& c : r.changes)
    changes.push_back({{"seq", c.seq}, {"at", format_time(c.at)}, {"proposal", to_hex(c.proposal)},
                       {"resource", c.resource}, {"key", c.key},
                       {"old_value", c.old_value ? json(*c.old_value) : json(nullptr)},
                       {"new_value", c.new_value}, {"culprit", c.culprit}, {"score", c.score},
                       {"reverted", c.reverted}});
  for (auto& rb : r.rollbacks)
    rollbacks.push_back({{"rollback", to_hex(rb.rollback)}, {"seq", rb.seq},
                         {"requested", format_time(rb.requested)}, {"by", rb.by},
                         {"reverts", rb.reverts}, {"finished", rb.finished},
                         {"succeeded", rb.succeeded},
                         {"code", rb.code.empty() ? json(nullptr) : json(rb.code)},
                         {"reverted", rb.reverted},
                         {"finished_at", rb.finished ? json(format_time(rb.finished_at)) : json(nullptr)}});
  for (auto& s : r.timeline)
    timeline.push_back({{"seq", s.seq}, {"at", format_time(s.at)}, {"what", s.what},
                        {"by", s.by.empty() ? json(nullptr) : json(s.by)}, {"detail", s.detail}});
  json detection = nullptr;
  if (r.detected)
    detection = {{"candidate", to_hex(r.candidate)}, {"raised_by", r.raised_by},
                 {"confirmed", format_time(r.confirmed)}, {"error_ppm", r.error_ppm},
                 {"baseline_ppm", r.baseline_ppm}, {"threshold_ppm", r.threshold_ppm},
                 {"policy", r.policy}};
  json decision = nullptr;
  if (!r.verdict.empty())
    decision = {{"verdict", r.verdict}, {"by", r.decided_by}, {"manual", r.manual},
                {"justification", r.justification}};
  return {{"incident", to_hex(r.incident)}, {"candidate", to_hex(r.candidate)},
          {"service", r.service}, {"region", r.region}, {"severity", r.severity},
          {"opened_severity", r.opened_severity}, {"status", r.status},
          {"onset", format_time(r.onset)}, {"opened", format_time(r.opened)},
          {"respond_by", format_time(r.respond_by)},
          {"acknowledged", time_or_null(r.acknowledged)},
          {"owner", r.owner.empty() ? json(nullptr) : json(r.owner)},
          {"resolution", r.resolution.empty() ? json(nullptr) : json(r.resolution)},
          {"escalations", r.escalations}, {"notes", r.notes},
          {"recovered", time_or_null(r.recovered)}, {"closed", time_or_null(r.closed)},
          {"mttr_ms", r.mttr ? json(ms(*r.mttr)) : json(nullptr)},
          {"lookback_ms", ms(r.lookback)}, {"changes", changes}, {"detection", detection},
          {"decision", decision}, {"rollbacks", rollbacks}, {"timeline", timeline}};
}

caf::expected<postmortem_report> read_postmortem(journal_store& store, const digest& id,
                                                 caf::timespan lookback) {
  postmortem_builder b{id, lookback};
  auto head = store.head();
  if (head.value == 0)
    return refuse(ec::invalid_input, "unknown incident " + to_hex(id).substr(0, 16)
                                       + ": the journal is empty");
  if (auto err = store.read(seq_no{1}, head, [&](journal_entry&& e) {
        b.scan(e);
        return !b.found();
      }))
    return err;
  if (!b.found())
    return refuse(ec::invalid_input, "unknown incident " + to_hex(id).substr(0, 16));
  if (auto err = store.read(seq_no{1}, head, [&](journal_entry&& e) {
        b.collect(e);
        return true;
      }))
    return err;
  return b.finish();
}

} // namespace bulwark
