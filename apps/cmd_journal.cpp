// `bulwark verify`, `bulwark replay` and `bulwark log`: offline reads of a journal.

#include <cstdio>
#include <iostream>
#include <limits>
#include <map>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "messages/error.hpp"
#include "persistence/event_json.hpp"
#include "persistence/history_query.hpp"
#include "persistence/replay.hpp"

namespace bulwark::cli {

namespace {

struct verify_args {
  std::string data;
  uint64_t from = 1;
  uint64_t to = std::numeric_limits<uint64_t>::max();
  unsigned threads = 2;
  bool json = false;
  std::string head;   ///< a signed head file to check against the journal
  std::string pubkey; ///< the signer's public key
};

int run_verify(const verify_args& args) {
  if (!args.head.empty() || !args.pubkey.empty()) {
    if (args.head.empty() || args.pubkey.empty()) {
      std::fprintf(stderr, "bulwark: INVALID_INPUT: --head and --pubkey go together\n");
      return exit_usage;
    }
    return run_verify_head(args.data, args.head, args.pubkey);
  }
  install_fault_handler();
  int code = exit_ok;
  auto store = open_read_only(args.data, code);
  if (!store)
    return code;
  progress_line progress{"verify"};
  auto report = store->verify(seq_no{args.from}, seq_no{args.to}, args.threads,
                              [&](uint64_t done, uint64_t total) { progress.update(done, total); });
  if (args.json) {
    nlohmann::json out{{"ok", report.ok}, {"checked", report.checked}};
    if (report.ok) {
      out["head"] = report.head.value;
      out["chain"] = to_hex(report.head_chain);
    } else {
      out["first_bad"] = report.first_bad.value;
      out["reason"] = report.reason;
    }
    std::cout << out.dump() << '\n';
  } else if (report.ok) {
    std::cout << "intact: " << report.checked << " records, head " << report.head.value
              << " chain " << to_hex(report.head_chain) << '\n';
  } else {
    std::cout << "INTEGRITY VIOLATION at seq " << report.first_bad.value << ": "
              << report.reason << '\n';
  }
  return report.ok ? exit_ok : exit_integrity;
}

struct replay_args {
  std::string data;
  uint64_t to = std::numeric_limits<uint64_t>::max();
  bool no_snapshot = false;
  bool json = false;
};

int run_replay(const replay_args& args) {
  install_fault_handler();
  int code = exit_ok;
  auto store = open_read_only(args.data, code);
  if (!store)
    return code;
  if (args.to != std::numeric_limits<uint64_t>::max() && args.to > store->head().value) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --to %llu is beyond the head %llu\n",
                 static_cast<unsigned long long>(args.to),
                 static_cast<unsigned long long>(store->head().value));
    return exit_usage;
  }
  // The whole prefix is verified too, so a replay never hides damage before a snapshot.
  auto result = replay(*store, replay_options{seq_no{args.to}, !args.no_snapshot, true});
  if (!result)
    return fail(result.error());
  auto& st = result->proj.state();
  if (args.json) {
    nlohmann::json out{{"seq", result->seq.value},
                       {"chain", to_hex(result->chain)},
                       {"state_digest", to_hex(result->state_digest)},
                       {"snapshot", result->snapshot ? nlohmann::json(result->snapshot->value)
                                                     : nlohmann::json(nullptr)},
                       {"resources", st.resources.size()},
                       {"proposals", st.decided.size()},
                       {"halted", st.halted}};
    std::cout << out.dump() << '\n';
  } else {
    std::cout << "seq " << result->seq.value << '\n'
              << "chain " << to_hex(result->chain) << '\n'
              << "state " << to_hex(result->state_digest) << '\n'
              << "snapshot "
              << (result->snapshot ? std::to_string(result->snapshot->value) : "none") << '\n'
              << "resources " << st.resources.size() << ", proposals "
              << st.decided.size() << ", halted " << (st.halted ? "yes" : "no") << '\n';
  }
  return exit_ok;
}

/// `bulwark log`'s history arguments, as given (the names of persistence/history_filter).
struct log_args {
  std::string data;
  std::vector<std::pair<std::string, std::string>> given; ///< (name, text), filled at parse
  std::map<std::string, std::string> text;                ///< bound to the options
  uint64_t limit = 0;                                     ///< 0: every match
  bool json = false;
};

/// The history options of `bulwark log` (each sets the filter argument of its name).
const char* const log_options[] = {"from",     "to",        "since",    "until",  "type",
                                   "principal", "resource", "service", "incident", "proposal"};

int run_log(const log_args& args) {
  install_fault_handler();
  history_filter f;
  std::string why;
  for (auto& [name, value] : args.given)
    if (!set_history_arg(f, name, value, why)) {
      std::fprintf(stderr, "bulwark: INVALID_INPUT: --%s\n", why.c_str());
      return exit_usage;
    }
  if (!check_history_filter(f, why)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: %s\n", why.c_str());
    return exit_usage;
  }
  int code = exit_ok;
  auto store = open_read_only(args.data, code);
  if (!store)
    return code;
  progress_line progress{"log"};
  uint64_t printed = 0, scanned = 0, total = 0;
  history_control ctl;
  ctl.progress_every = 4096;
  ctl.progress = [&](uint64_t done, uint64_t all, uint64_t) {
    progress.update(scanned + done, total != 0 ? total : all);
  };
  // Page by page: each page is one bounded batch of matches, printed as it arrives.
  for (;;) {
    uint64_t want = args.limit == 0 ? history_max_page
                                    : std::min<uint64_t>(args.limit - printed, history_max_page);
    f.limit = static_cast<uint32_t>(want);
    auto page = read_history(*store, f, ctl);
    if (!page)
      return fail(page.error());
    if (total == 0)
      total = page->total;
    scanned += page->scanned;
    for (auto& e : page->events) {
      if (args.json)
        std::cout << to_json(e).dump() << '\n';
      else
        std::cout << e.seq.value << "  " << format_time(e.ev.at) << "  "
                  << to_string(e.ev.type) << "  " << summarize(e) << '\n';
    }
    printed += page->events.size();
    if (!std::cout)
      return exit_runtime;
    if (page->next == 0)
      break;
    if (args.limit != 0 && printed >= args.limit) {
      std::fprintf(stderr, "bulwark: more events match: continue with --from %llu\n",
                   static_cast<unsigned long long>(page->next));
      break;
    }
    f.from = page->next;
  }
  progress.update(scanned, total);
  return exit_ok;
}

} // namespace

void add_journal_commands(CLI::App& app, int& code) {
  auto va = std::make_shared<verify_args>();
  auto* verify = app.add_subcommand("verify", "Verify the journal's hash chain; exit 3 naming "
                                              "the first bad seq");
  verify->add_option("--data", va->data, "Journal directory")->required();
  verify->add_option("--from", va->from, "First seq to check")->check(CLI::PositiveNumber);
  verify->add_option("--to", va->to, "Last seq to check");
  verify->add_option("--threads", va->threads, "Parallel ranges")->check(CLI::Range(1, 64));
  verify->add_flag("--json", va->json, "Machine-readable output");
  verify->add_option("--head", va->head, "Check this signed head file (bulwark head) instead");
  verify->add_option("--pubkey", va->pubkey, "Public key of the head's signer (FILE.pub)");
  verify->callback([va, &code] { code = run_verify(*va); });

  auto ra = std::make_shared<replay_args>();
  auto* rep = app.add_subcommand("replay", "Rebuild the state from the journal and print "
                                           "its digest");
  rep->add_option("--data", ra->data, "Journal directory")->required();
  rep->add_option("--to", ra->to, "Replay up to this seq (default: the head)");
  rep->add_flag("--no-snapshot", ra->no_snapshot, "Replay from genesis, ignoring snapshots");
  rep->add_flag("--json", ra->json, "Machine-readable output");
  rep->callback([ra, &code] { code = run_replay(*ra); });

  auto la = std::make_shared<log_args>();
  auto* log = app.add_subcommand("log", "Print journal events: a seq or time range, filtered "
                                        "by type and subject");
  log->add_option("--data", la->data, "Journal directory")->required();
  std::map<std::string, std::string> help{
    {"from", "First seq"}, {"to", "Last seq"},
    {"since", "First time: 2026-12-06T07:00:00Z (or .123Z) or ms since the epoch"},
    {"until", "Last time (inclusive), as --since"},
    {"type", "Event types, separated by commas (e.g. proposal_decided,action_applied)"},
    {"principal", "Events naming this principal (proposer, approver, by, owner)"},
    {"resource", "Events naming this resource"},
    {"service", "Events naming this service"},
    {"incident", "Events of this incident (whole digest)"},
    {"proposal", "Events of this proposal (whole digest)"}};
  for (auto* name : log_options)
    log->add_option(std::string{"--"} + name, la->text[name], help[name]);
  log->add_option("--limit", la->limit, "Print at most N events (default: every match)")
    ->check(CLI::PositiveNumber);
  log->add_flag("--json", la->json, "One JSON object per line");
  log->preparse_callback([la](size_t) { la->given.clear(); });
  log->parse_complete_callback([la, log] {
    for (auto* name : log_options)
      if (log->get_option(std::string{"--"} + name)->count() > 0)
        la->given.emplace_back(name, la->text[name]);
  });
  log->callback([la, &code] { code = run_log(*la); });
}

} // namespace bulwark::cli
