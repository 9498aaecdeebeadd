// `bulwark backup` and `bulwark restore`: hot, verified copies and point-in-time restores;
// `bulwark cluster-rejoin`: a stopped node's journal cut back to a seq, its tail set aside.

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "actors/cluster/cluster_policy.hpp"
#include "apps/cli.hpp"
#include "apps/commands.hpp"
#include "messages/error.hpp"
#include "persistence/event_json.hpp"
#include "persistence/replay.hpp"

namespace fs = std::filesystem;

namespace bulwark::cli {

namespace {

struct backup_args {
  std::string data;
  std::string out;
  std::string from;
  uint64_t to_seq = 0;
  bool json = false;
};

struct rejoin_args {
  std::string data;
  uint64_t seq = 0;
  bool seq_given = false;
  std::string aside;
  bool json = false;
};

std::string temp_dir_beside(const std::string& path) {
  auto parent = fs::absolute(path).parent_path();
  auto t = (parent / ".bulwark-tmp-XXXXXX").string();
  if (::mkdtemp(t.data()) == nullptr)
    return {};
  return t;
}

int say(const backup_args& args, const nlohmann::json& out, const std::string& text) {
  if (args.json)
    std::cout << out.dump() << '\n';
  else
    std::cout << text << '\n';
  return exit_ok;
}

int run_backup(const backup_args& args) {
  install_fault_handler();
  if (fs::exists(args.out)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: %s exists; backup never overwrites\n",
                 args.out.c_str());
    return exit_runtime;
  }
  int code = exit_ok;
  auto store = open_read_only(args.data, code);
  if (!store)
    return code;
  auto tmp = temp_dir_beside(args.out);
  if (tmp.empty()) {
    std::fprintf(stderr, "bulwark: UNAVAILABLE: cannot create a directory beside %s\n",
                 args.out.c_str());
    return exit_runtime;
  }
  // LMDB's own consistent copy (compacted) of a committed state; the node keeps writing.
  if (auto err = store->copy_to(tmp)) {
    fs::remove_all(tmp);
    return fail(err);
  }
  store.reset();
  auto copy = open_read_only(tmp, code);
  if (!copy) {
    fs::remove_all(tmp);
    return code;
  }
  auto report = copy->verify(seq_no{1}, seq_no{UINT64_MAX});
  copy.reset();
  if (!report.ok) {
    fs::remove_all(tmp);
    std::cout << "INTEGRITY VIOLATION in the copy at seq " << report.first_bad.value << ": "
              << report.reason << '\n';
    return exit_integrity;
  }
  std::error_code ec_fs;
  fs::rename(tmp + "/data.mdb", args.out, ec_fs);
  fs::remove_all(tmp);
  if (ec_fs) {
    std::fprintf(stderr, "bulwark: UNAVAILABLE: %s: %s\n", args.out.c_str(),
                 ec_fs.message().c_str());
    return exit_runtime;
  }
  // A note beside the journal, so a running node's `status` shows the backup's age.
  auto note = args.data + "/last-verified-backup.json";
  std::ofstream{note} << nlohmann::json{{"out", fs::absolute(args.out).string()},
                                        {"head", report.head.value},
                                        {"chain", to_hex(report.head_chain)}}
                           .dump()
                      << '\n';
  return say(args, {{"out", args.out}, {"head", report.head.value},
                    {"chain", to_hex(report.head_chain)}, {"verified", true}},
             "backup " + args.out + ": verified, head " + std::to_string(report.head.value)
               + " chain " + to_hex(report.head_chain));
}

/// Copies records 1..to from `src` into the new journal `dst`, verifying each link.
caf::error copy_prefix(journal_store& src, journal_store& dst, uint64_t to) {
  std::vector<std::vector<uint8_t>> batch;
  caf::error err;
  auto scan_err = src.scan(seq_no{1}, seq_no{to}, [&](seq_no, const uint8_t* chain,
                                                      const uint8_t* bytes, size_t size) {
    auto& v = batch.emplace_back(chain, chain + 32);
    v.insert(v.end(), bytes, bytes + size);
    if (batch.size() == 10000) {
      err = dst.import_records(batch);
      batch.clear();
    }
    return !err;
  });
  if (scan_err)
    return scan_err;
  if (!err && !batch.empty())
    err = dst.import_records(batch);
  return err;
}

int run_restore(const backup_args& args) {
  install_fault_handler();
  if (!fs::is_regular_file(args.from)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: %s: no such backup file\n", args.from.c_str());
    return exit_runtime;
  }
  if (fs::exists(args.data) && !(fs::is_directory(args.data) && fs::is_empty(args.data))) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: %s must be a new or empty directory\n",
                 args.data.c_str());
    return exit_runtime;
  }
  auto tmp = temp_dir_beside(args.data);
  std::error_code ec_fs;
  fs::copy_file(args.from, tmp + "/data.mdb", ec_fs);
  int code = exit_ok;
  auto src = ec_fs ? nullptr : open_read_only(tmp, code);
  if (!src) {
    fs::remove_all(tmp);
    if (ec_fs)
      std::fprintf(stderr, "bulwark: UNAVAILABLE: %s: %s\n", args.from.c_str(),
                   ec_fs.message().c_str());
    return ec_fs ? exit_runtime : code;
  }
  auto head = src->head().value;
  auto to = args.to_seq == 0 ? head : args.to_seq;
  if (to > head) {
    fs::remove_all(tmp);
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --to-seq %llu is beyond the backup's head %llu\n",
                 static_cast<unsigned long long>(to), static_cast<unsigned long long>(head));
    return exit_usage;
  }
  auto report = src->verify(seq_no{1}, seq_no{to});
  if (!report.ok) {
    fs::remove_all(tmp);
    std::cout << "INTEGRITY VIOLATION in the backup at seq " << report.first_bad.value << ": "
              << report.reason << '\n';
    return exit_integrity;
  }
  store_options opts;
  opts.dir = args.data;
  opts.create = true;
  auto dst = journal_store::open(opts);
  if (!dst) {
    fs::remove_all(tmp);
    return fail(dst.error());
  }
  auto err = copy_prefix(*src, **dst, to);
  src.reset();
  fs::remove_all(tmp);
  if (err)
    return fail(err);
  auto r = replay(**dst, replay_options{seq_no{to}, false, false});
  if (!r)
    return fail(r.error());
  return say(args, {{"data", args.data}, {"seq", r->seq.value}, {"chain", to_hex(r->chain)},
                    {"state_digest", to_hex(r->state_digest)}},
             "restored " + args.data + " to seq " + std::to_string(r->seq.value) + "\nchain "
               + to_hex(r->chain) + "\nstate " + to_hex(r->state_digest));
}

int say_rejoin(const rejoin_args& args, const std::string& aside, const std::string& kept,
               uint64_t head, uint64_t set_aside) {
  nlohmann::json out{{"data", args.data}, {"seq", args.seq}, {"head_was", head},
                     {"set_aside", set_aside}, {"aside", aside}, {"kept", kept}};
  if (args.json) {
    std::cout << out.dump() << '\n';
    return exit_ok;
  }
  std::cout << args.data << " now ends at seq " << args.seq << "; records " << args.seq + 1
            << ".." << head << " (" << set_aside << ") are set aside in " << aside
            << "; the whole journal as it was is kept in " << kept
            << ".\nStart the node: it rejoins as a follower and pulls from the leader.\n";
  return exit_ok;
}

/// Whether a node holds `dir` (its lock file, engine.cpp).
bool node_runs_on(const std::string& dir) {
  int fd = ::open((dir + "/bulwark.lock").c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool held = ::flock(fd, LOCK_EX | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

int run_rejoin(const rejoin_args& args) {
  install_fault_handler();
  if (!args.seq_given) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --seq is required: the last seq this "
                         "journal shares with the leader (the seq before the fork the "
                         "alert names)\n");
    return exit_usage;
  }
  if (!fs::is_directory(args.data)) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: %s: no such journal directory\n",
                 args.data.c_str());
    return exit_usage;
  }
  if (node_runs_on(args.data)) {
    std::fprintf(stderr, "bulwark: UNAVAILABLE: a node runs on %s: stop it first\n",
                 args.data.c_str());
    return exit_runtime;
  }
  int code = exit_ok;
  auto src = open_read_only(args.data, code);
  if (!src)
    return code;
  auto head = src->head().value;
  if (args.seq >= head) {
    std::fprintf(stderr, "bulwark: INVALID_INPUT: --seq %llu: nothing to set aside, the "
                         "journal's head is %llu\n",
                 static_cast<unsigned long long>(args.seq), static_cast<unsigned long long>(head));
    return exit_usage;
  }
  auto aside = args.aside.empty() ? args.data + ".aside-" + std::to_string(args.seq + 1) + "-"
                                      + std::to_string(head) + ".jsonl"
                                  : args.aside;
  auto kept = args.data + ".diverged-" + std::to_string(head);
  for (auto& path : {aside, kept})
    if (fs::exists(path)) {
      std::fprintf(stderr, "bulwark: INVALID_INPUT: %s exists; cluster-rejoin never "
                           "overwrites\n",
                   path.c_str());
      return exit_usage;
    }
  auto report = src->verify(seq_no{1}, seq_no{head});
  if (!report.ok) {
    std::cout << "INTEGRITY VIOLATION at seq " << report.first_bad.value << ": " << report.reason
              << " (a damaged journal, not a divergent tail: restore it from a backup)\n";
    return exit_integrity;
  }
  // The tail, as `bulwark log --json` prints it, one record per line.
  {
    std::ofstream out{aside};
    caf::error err = src->read(seq_no{args.seq + 1}, seq_no{head}, [&](journal_entry&& e) {
      out << to_json(e).dump() << '\n';
      return true;
    });
    out.flush();
    if (err || !out) {
      fs::remove(aside);
      return err ? fail(err) : fail(refuse(ec::unavailable, "cannot write " + aside));
    }
  }
  // The prefix, in a new journal beside the old one; then the old one is kept aside whole.
  auto tmp = temp_dir_beside(args.data);
  store_options opts;
  opts.dir = tmp;
  opts.create = true;
  auto dst = journal_store::open(opts);
  if (!dst) {
    fs::remove_all(tmp);
    return fail(dst.error());
  }
  if (args.seq > 0)
    if (auto err = copy_prefix(*src, **dst, args.seq)) {
      dst->reset();
      fs::remove_all(tmp);
      return fail(err);
    }
  dst->reset();
  src.reset();
  std::error_code ec_fs;
  fs::rename(args.data, kept, ec_fs);
  if (!ec_fs)
    fs::rename(tmp, args.data, ec_fs);
  if (ec_fs) {
    std::fprintf(stderr, "bulwark: UNAVAILABLE: moving the journals: %s (the original is at "
                         "%s or %s)\n",
                 ec_fs.message().c_str(), args.data.c_str(), kept.c_str());
    return exit_runtime;
  }
  auto set_aside = head - args.seq;
  // The node reports what was set aside when it next runs: its leader journals it as an
  // integrity alert (docs/cluster.md, "Operating steps").
  {
    std::ofstream marker{args.data + "/" + set_aside_marker};
    marker << nlohmann::json{{"first", args.seq + 1}, {"last", head}, {"records", set_aside},
                             {"head_chain", to_hex(report.head_chain)}, {"aside", aside},
                             {"kept", kept}}
                .dump()
           << '\n';
  }
  return say_rejoin(args, aside, kept, head, set_aside);
}

} // namespace

void add_backup_commands(CLI::App& app, int& code) {
  auto b = std::make_shared<backup_args>();
  auto* backup = app.add_subcommand("backup", "Take a consistent, verified copy of a journal "
                                              "(also while a node writes it)");
  backup->add_option("--data", b->data, "Journal directory")->required();
  backup->add_option("--out", b->out, "Backup file to create (never overwritten)")->required();
  backup->add_flag("--json", b->json, "Machine-readable output");
  backup->callback([b, &code] { code = run_backup(*b); });
  auto r = std::make_shared<backup_args>();
  auto* restore = app.add_subcommand("restore", "Restore a backup into a new directory, "
                                                "optionally only up to a seq");
  restore->add_option("--from", r->from, "Backup file")->required();
  restore->add_option("--data", r->data, "New or empty journal directory")->required();
  restore->add_option("--to-seq", r->to_seq, "Restore records 1..N only (a verified prefix)")
    ->check(CLI::PositiveNumber);
  restore->add_flag("--json", r->json, "Machine-readable output");
  restore->callback([r, &code] { code = run_restore(*r); });
  auto j = std::make_shared<rejoin_args>();
  auto* rejoin = app.add_subcommand(
    "cluster-rejoin", "Cut a stopped node's journal back to the last seq it shares with the "
                      "leader: the records after it go to a file, the whole journal is kept "
                      "beside, and the node rejoins as a follower");
  rejoin->add_option("--data", j->data, "The stopped node's journal directory")->required();
  rejoin->add_option("--seq", j->seq, "The last seq it shares with the leader (the seq before "
                                      "the fork its alert names)")
    ->each([j](const std::string&) { j->seq_given = true; });
  rejoin->add_option("--aside", j->aside, "File for the records set aside (default: "
                                          "DATA.aside-FROM-TO.jsonl; never overwritten)");
  rejoin->add_flag("--json", j->json, "Machine-readable output");
  rejoin->callback([j, &code] { code = run_rejoin(*j); });
}

} // namespace bulwark::cli
