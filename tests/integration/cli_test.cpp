// The `bulwark` program: verify, replay, log and demo, their exit codes and their
// refusals of bad input.

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <thread>
#include <fstream>
#include <functional>
#include <sstream>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <utility>

#include <nlohmann/json.hpp>

#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"
#include "persistence/projection.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using nlohmann::json;
using bulwark::test::run_command;
using bulwark::test::temp_dir;

namespace {

const std::string bulwark_bin = BULWARK_BINARY;

int run_bulwark(const std::string& args, std::string* out = nullptr) {
  return run_command(bulwark_bin + " " + args, out);
}

/// Writes a demo journal into `dir` and returns its directory.
std::string demo_journal(const temp_dir& dir, const std::string& seed = "1") {
  auto data = dir.sub("j");
  std::string out;
  REQUIRE_MESSAGE(run_bulwark("demo --seed " + seed + " --data " + data, &out) == 0, out);
  return data;
}

} // namespace

TEST_CASE("help and version exit 0, unknown commands and options exit 1") {
  std::string out;
  CHECK(run_bulwark("--help", &out) == 0);
  CHECK(out.find("verify") != std::string::npos);
  CHECK(run_bulwark("--version", &out) == 0);
  CHECK(run_bulwark("verify --help") == 0);
  CHECK(run_bulwark("") == 1);
  CHECK(run_bulwark("frobnicate") == 1);
  CHECK(run_bulwark("verify") == 1); // --data is required
  CHECK(run_bulwark("verify --data /x --threads 0") == 1);
  CHECK(run_bulwark("log --data /x --from 0") == 1);
}

TEST_CASE("the demo journals, verifies and replays, equal seeds give equal journals") {
  temp_dir a, b, c;
  std::string out;
  auto ja = demo_journal(a, "7");
  auto jb = demo_journal(b, "7");
  auto jc = demo_journal(c, "8");
  std::string ra, rb, rc;
  REQUIRE(run_bulwark("replay --data " + ja, &ra) == 0);
  REQUIRE(run_bulwark("replay --data " + jb, &rb) == 0);
  REQUIRE(run_bulwark("replay --data " + jc, &rc) == 0);
  CHECK(ra == rb);
  CHECK(ra != rc);
  CHECK(run_bulwark("verify --data " + ja, &out) == 0);
  CHECK(out.find("intact") != std::string::npos);
  CHECK(run_bulwark("demo --data " + ja, &out) == 2); // refuses a directory holding a journal
  CHECK(out.find("already holds a journal") != std::string::npos);
}

TEST_CASE("verify exits 3 and names the first bad seq of a tampered journal") {
  temp_dir dir;
  auto data = demo_journal(dir);
  test::tamper_value(data, 321, [](std::vector<uint8_t>& v) { v.back() ^= 0x20; });
  std::string out;
  CHECK(run_bulwark("verify --data " + data, &out) == 3);
  CHECK(out.find("seq 321") != std::string::npos);
  CHECK(run_bulwark("verify --json --data " + data, &out) == 3);
  CHECK(out.find("\"first_bad\":321") != std::string::npos);
  CHECK(run_bulwark("replay --data " + data, &out) == 3);
  CHECK(out.find("record 321") != std::string::npos);
}

TEST_CASE("verify exits 3 for a deleted record and for a truncated file") {
  temp_dir dir;
  auto data = demo_journal(dir);
  test::delete_record(data, 100);
  std::string out;
  CHECK(run_bulwark("verify --data " + data, &out) == 3);
  CHECK(out.find("seq 100") != std::string::npos);
  auto file = data + "/data.mdb";
  std::filesystem::resize_file(file, std::filesystem::file_size(file) / 3);
  CHECK(run_bulwark("verify --data " + data, &out) == 3);
  CHECK(out.find("truncated") != std::string::npos);
}

TEST_CASE("replay --to N gives the state at N, log prints the range as JSON lines") {
  temp_dir dir;
  auto data = demo_journal(dir);
  std::string full, at;
  REQUIRE(run_bulwark("replay --json --data " + data, &full) == 0);
  REQUIRE(run_bulwark("replay --json --to 200 --data " + data, &at) == 0);
  CHECK(at.find("\"seq\":200") != std::string::npos);
  CHECK(full != at);
  std::string g1, g2;
  REQUIRE(run_bulwark("replay --json --no-snapshot --data " + data, &g1) == 0);
  CHECK(g1.find("\"snapshot\":null") != std::string::npos);
  // Same state digest with and without snapshots.
  auto digest_of = [](const std::string& s) { return s.substr(s.find("state_digest"), 80); };
  CHECK(digest_of(g1) == digest_of(full));
  std::string log;
  REQUIRE(run_bulwark("log --json --from 399 --to 403 --data " + data, &log) == 0);
  CHECK(std::count(log.begin(), log.end(), '\n') == 5);
  CHECK(log.find("\"type\":\"resource_registered\"") != std::string::npos);
  CHECK(log.find("\"type\":\"proposal_decided\"") != std::string::npos);
  CHECK(run_bulwark("log --from 5 --to 2 --data " + data) == 1);
  CHECK(run_bulwark("replay --to 999999 --data " + data) == 1);
}

TEST_CASE("log filters by type, subject and time, stops at --limit naming the next seq") {
  temp_dir dir;
  auto data = demo_journal(dir);
  auto lines = [](const std::string& out) {
    std::vector<json> xs;
    std::istringstream in{out};
    for (std::string l; std::getline(in, l);)
      if (!l.empty() && l[0] == '{')
        xs.push_back(json::parse(l));
    return xs;
  };
  std::string out;
  auto run = [&](const std::string& args) { // run_command appends: one output per run
    out.clear();
    return run_bulwark(args, &out);
  };
  REQUIRE(run("log --json --type proposal_decided,proposal_finished --data " + data) == 0);
  auto decided = lines(out);
  REQUIRE(decided.size() >= 10);
  for (auto& e : decided)
    CHECK((e["type"] == "proposal_decided" || e["type"] == "proposal_finished"));
  // One proposal's story: every event naming it, in seq order (one that ran a change).
  std::string p;
  for (auto& e : decided)
    if (p.empty() && e["type"] == "proposal_decided" && e["payload"]["allowed"] == true
        && !e["payload"]["mutations"].empty())
      p = e["payload"]["proposal"].get<std::string>();
  REQUIRE(!p.empty());
  REQUIRE(run("log --json --proposal " + p + " --data " + data) == 0);
  auto story = lines(out);
  REQUIRE(story.size() >= 2);
  for (size_t i = 0; i < story.size(); ++i) {
    CHECK(story[i].dump().find(p) != std::string::npos);
    if (i > 0)
      CHECK(story[i]["seq"].get<uint64_t>() > story[i - 1]["seq"].get<uint64_t>());
  }
  // Service, then time: the millisecond of the first event selects only its own.
  REQUIRE(run("log --json --limit 3 --type resource_registered --service coaster --data "
                        + data) == 0);
  auto three = lines(out);
  REQUIRE(three.size() == 3);
  CHECK(out.find("more events match: continue with --from "
                 + std::to_string(three[2]["seq"].get<uint64_t>() + 1)) != std::string::npos);
  for (auto& e : three)
    CHECK(e["payload"]["service"] == "coaster");
  auto at = three[0]["at"].get<std::string>();
  REQUIRE(run("log --json --since " + at + " --until " + at + " --data " + data) == 0);
  for (auto& e : lines(out))
    CHECK(e["at"] == at);
  // Bad input: exit 1 with the argument named, nothing read.
  CHECK(run("log --type bogus --data " + data) == 1);
  CHECK(out.find("unknown event type 'bogus'") != std::string::npos);
  CHECK(run("log --since 2026-12-06T08:00:00Z --until 2026-12-06T07:00:00Z --data " + data) == 1);
  CHECK(out.find("inverted range: since is after until") != std::string::npos);
  CHECK(run("log --from 9 --to 3 --data " + data) == 1);
  CHECK(out.find("inverted range: from 9 is after to 3") != std::string::npos);
  CHECK(run("log --incident 12ab --data " + data) == 1);
  CHECK(out.find("incident must be a whole digest") != std::string::npos);
}

TEST_CASE("bad data directories get a clear message and exit 2, and stay untouched") {
  temp_dir dir;
  std::string out;
  CHECK(run_bulwark("verify --data " + dir.sub("missing"), &out) == 2);
  CHECK(out.find(dir.sub("missing")) != std::string::npos);
  CHECK(run_bulwark("verify --data " + dir.path(), &out) == 2);
  CHECK(out.find("not a Bulwark journal") != std::string::npos);
  CHECK(std::filesystem::is_empty(dir.path()));
  {
    std::ofstream garbage{dir.sub("data.mdb")};
    for (int i = 0; i < 10000; ++i)
      garbage << "not lmdb";
  }
  CHECK(run_bulwark("replay --data " + dir.path(), &out) == 2);
  CHECK(!std::filesystem::exists(dir.sub("lock.mdb")));
}

TEST_CASE("a journal of a newer format version is refused with exit 2") {
  temp_dir dir;
  auto data = demo_journal(dir);
  test::set_meta(data, "format", {0, 0, 0, 9});
  std::string out;
  CHECK(run_bulwark("verify --data " + data, &out) == 2);
  CHECK(out.find("format version 9 is newer") != std::string::npos);
}

TEST_CASE("a directory the user may not read is refused with exit 2") {
  temp_dir dir;
  auto data = demo_journal(dir);
  std::filesystem::permissions(data, std::filesystem::perms::owner_all
                                       | std::filesystem::perms::group_all
                                       | std::filesystem::perms::others_all,
                               std::filesystem::perm_options::remove);
  std::string out;
  if (::geteuid() == 0) {
    // Root ignores permissions: run as an unprivileged user when setpriv exists.
    if (run_command("command -v setpriv") != 0)
      return;
    CHECK(run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + bulwark_bin
                        + " verify --data " + data,
                      &out)
          == 2);
  } else {
    CHECK(run_bulwark("verify --data " + data, &out) == 2);
  }
  CHECK(out.find(data) != std::string::npos);
}

TEST_CASE("an independent verifier written from docs/journal-format.md agrees with verify") {
  temp_dir dir;
  auto data = demo_journal(dir, "5");
  const std::string py = "/usr/bin/python3 " BULWARK_SOURCE_DIR "/tests/tools/verify_journal.py ";
  std::string ours, theirs;
  REQUIRE(run_bulwark("verify --json --data " + data, &ours) == 0);
  REQUIRE_MESSAGE(run_command(py + data, &theirs) == 0, theirs);
  auto chain = ours.substr(ours.find("\"chain\":\"") + 9, 64);
  CHECK(theirs.find(chain) != std::string::npos);
  // Both name the same first bad seq after tampering.
  test::tamper_value(data, 250, [](std::vector<uint8_t>& v) { v[40] ^= 0x04; });
  CHECK(run_command(py + data, &theirs) == 3);
  CHECK(theirs.find("BAD 250") != std::string::npos);
  CHECK(run_bulwark("verify --data " + data, &ours) == 3);
  CHECK(ours.find("seq 250") != std::string::npos);
}

TEST_CASE("a backup taken during a write load restores and verifies") {
  temp_dir dir;
  auto store = test::open_store(dir.sub("live"));
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> written{0};
  std::thread writer([&] {
    uint64_t seed = 1;
    while (!stop) {
      auto r = store->append(test::random_events(seed++, 200));
      if (r)
        written += r->size();
    }
  });
  while (written < 2000)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  std::string out;
  auto rc = run_bulwark("backup --json --data " + dir.sub("live") + " --out " + dir.sub("b.mdb"), &out);
  stop = true;
  writer.join();
  REQUIRE_MESSAGE(rc == 0, out);
  CHECK(out.find("\"verified\":true") != std::string::npos);
  REQUIRE(run_bulwark("restore --json --from " + dir.sub("b.mdb") + " --data " + dir.sub("r"), &out) == 0);
  CHECK(run_bulwark("verify --data " + dir.sub("r")) == 0);
  CHECK(run_bulwark("verify --data " + dir.sub("live")) == 0);
}

TEST_CASE("restore to seq N matches replay --to N, and refuses bad input") {
  temp_dir dir;
  auto data = demo_journal(dir, "3");
  std::string out, replayed;
  REQUIRE(run_bulwark("backup --data " + data + " --out " + dir.sub("b.mdb"), &out) == 0);
  REQUIRE(run_bulwark("restore --json --from " + dir.sub("b.mdb") + " --to-seq 300 --data "
                        + dir.sub("r300"), &out) == 0);
  REQUIRE(run_bulwark("replay --json --no-snapshot --to 300 --data " + data, &replayed) == 0);
  auto digest = [](const std::string& s) { return s.substr(s.find("\"state_digest\""), 81); };
  CHECK(digest(out) == digest(replayed));
  std::string head;
  REQUIRE(run_bulwark("verify --json --data " + dir.sub("r300"), &head) == 0);
  CHECK(head.find("\"head\":300") != std::string::npos);
  // Bad input: existing output, non-empty target, a seq beyond the head, a damaged backup.
  CHECK(run_bulwark("backup --data " + data + " --out " + dir.sub("b.mdb"), &out) == 2);
  CHECK(run_bulwark("restore --from " + dir.sub("b.mdb") + " --data " + dir.sub("r300"), &out) == 2);
  CHECK(run_bulwark("restore --from " + dir.sub("b.mdb") + " --to-seq 999999 --data "
                      + dir.sub("x"), &out) == 1);
  CHECK(run_bulwark("restore --from " + dir.sub("nothing") + " --data " + dir.sub("y"), &out) == 2);
}

TEST_CASE("cluster-rejoin cuts a journal back to a seq, sets the tail aside and keeps the whole, and refuses bad input") {
  temp_dir dir;
  auto data = demo_journal(dir, "4");
  std::string out, before, replayed;
  auto run = [&](const std::string& args) { // `out` holds this command's output alone
    out.clear();
    return run_bulwark(args, &out);
  };
  REQUIRE(run_bulwark("verify --json --data " + data, &before) == 0);
  auto head = json::parse(before)["head"].get<uint64_t>();
  REQUIRE(head > 300);
  REQUIRE(run_bulwark("replay --json --no-snapshot --to 300 --data " + data, &replayed) == 0);
  // Bad input first: it changes nothing.
  CHECK(run("cluster-rejoin --data " + data) == 1); // no --seq
  CHECK(out.find("--seq is required") != std::string::npos);
  CHECK(run("cluster-rejoin --data " + data + " --seq " + std::to_string(head)) == 1);
  CHECK(out.find("nothing to set aside") != std::string::npos);
  CHECK(run("cluster-rejoin --data " + dir.sub("none") + " --seq 1") == 1);
  CHECK(run("cluster-rejoin --data " + data + " --seq x") == 1);
  { // a node holds the journal (its lock, as the engine takes it)
    int fd = ::open((data + "/bulwark.lock").c_str(), O_RDWR | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
    CHECK(run("cluster-rejoin --data " + data + " --seq 300") == 2);
    CHECK(out.find("a node runs on") != std::string::npos);
    ::close(fd);
  }
  std::ofstream{dir.sub("taken.jsonl")} << "x\n";
  CHECK(run("cluster-rejoin --data " + data + " --seq 300 --aside " + dir.sub("taken.jsonl"))
        == 1);
  CHECK(out.find("never overwrites") != std::string::npos);
  REQUIRE(run("verify --json --data " + data) == 0);
  CHECK(out == before);
  // Cut back to 300.
  REQUIRE_MESSAGE(run("cluster-rejoin --json --data " + data + " --seq 300") == 0, out);
  INFO(out);
  auto r = json::parse(out);
  CHECK(r["seq"] == 300);
  CHECK(r["head_was"] == head);
  CHECK(r["set_aside"] == head - 300);
  // The journal ends at 300 with the state replay gave at 300.
  std::string now;
  REQUIRE(run_bulwark("replay --json --no-snapshot --data " + data, &now) == 0);
  CHECK(json::parse(now)["state_digest"] == json::parse(replayed)["state_digest"]);
  CHECK(json::parse(now)["seq"] == 300);
  // The tail: one JSON record per line, seqs 301..head in order.
  std::ifstream aside{r["aside"].get<std::string>()};
  std::string line;
  uint64_t expect = 301;
  while (std::getline(aside, line))
    CHECK(json::parse(line)["seq"] == expect++);
  CHECK(expect == head + 1);
  // The whole journal as it was, beside.
  REQUIRE(run("verify --json --data " + r["kept"].get<std::string>()) == 0);
  CHECK(out == before);
}

namespace {

/// Writes the verifier printed in docs/journal-format.md ("A complete verifier in
/// Python") to `path`, so the test runs the page's own code.
void extract_doc_verifier(const std::string& path) {
  std::ifstream doc{BULWARK_SOURCE_DIR "/docs/journal-format.md"};
  std::string line, code;
  bool in_section = false, in_code = false;
  while (std::getline(doc, line)) {
    if (line.rfind("## ", 0) == 0)
      in_section = line == "## A complete verifier in Python";
    if (!in_section)
      continue;
    if (!in_code && line == "```python") {
      in_code = true;
    } else if (in_code && line == "```") {
      break;
    } else if (in_code) {
      code += line + '\n';
    }
  }
  REQUIRE_MESSAGE(code.find("def verify(path)") != std::string::npos, "no verifier in the page");
  std::ofstream{path} << code;
}

/// "BAD S REASON" or "INTEGRITY VIOLATION at seq S: REASON" as (S, REASON).
std::pair<std::string, std::string> verdict_of(std::string out, const std::string& prefix,
                                               const std::string& separator) {
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  auto at = out.rfind(prefix);
  if (at == std::string::npos)
    return {"?", out};
  auto rest = out.substr(at + prefix.size());
  auto sep = rest.find(separator);
  if (sep == std::string::npos)
    return {"?", out};
  return {rest.substr(0, sep), rest.substr(sep + separator.size())};
}

} // namespace

TEST_CASE("stray keys outside 1..N: verify, replay and both Python verifiers agree") {
  temp_dir dir;
  auto pristine = demo_journal(dir, "4");
  const std::string tool = "/usr/bin/python3 " BULWARK_SOURCE_DIR "/tests/tools/verify_journal.py ";
  const std::string sample = "/usr/bin/python3 " + dir.sub("sample.py") + " ";
  extract_doc_verifier(dir.sub("sample.py"));
  std::string out;
  // Untouched, all three agree that it is intact.
  REQUIRE(run_bulwark("verify --data " + pristine, &out) == 0);
  REQUIRE_MESSAGE(run_command(tool + pristine, &out) == 0, out);
  REQUIRE_MESSAGE(run_command(sample + pristine, &out) == 0, out);
  REQUIRE(run_bulwark("verify --json --data " + pristine, &out) == 0);
  auto head = std::stoull(out.substr(out.find("\"head\":") + 7));
  REQUIRE(head > 100);
  struct trial {
    std::vector<uint8_t> key;
    uint64_t seq;
    std::string reason;
  };
  std::vector<trial> trials{
    {std::vector<uint8_t>(8, 0), 1, "stray key 0000000000000000"},
    {{0x00}, 1, "stray key 00"}, // shorter than 8 bytes, sorts before every record
    {{0x00, 0x01}, 0, "stray key 0001"}, // sorts after every record here (head + 1)
    {{0, 0, 0, 0, 0, 0, 0, 100, 0xEE}, 101, "stray key 0000000000000064ee"},
    {{0xFF, 0xFF}, head + 1, "stray key ffff"},
  };
  int n = 0;
  for (auto& t : trials) {
    if (t.seq == 0)
      t.seq = head + 1;
    CAPTURE(t.reason);
    auto data = dir.sub("t" + std::to_string(n++));
    std::filesystem::copy(pristine, data);
    test::put_raw_event(data, t.key, test::raw_value(data, 1));
    auto place = std::to_string(t.seq);
    CHECK(run_bulwark("verify --data " + data, &out) == 3);
    CHECK(verdict_of(out, "INTEGRITY VIOLATION at seq ", ": ")
          == std::make_pair(place, t.reason));
    CHECK(run_bulwark("verify --json --data " + data, &out) == 3);
    CHECK(out.find("\"first_bad\":" + place + ",\"ok\":false,\"reason\":\"" + t.reason + "\"")
          != std::string::npos);
    CHECK(run_bulwark("replay --data " + data, &out) == 3);
    CHECK(out.find("INTEGRITY_VIOLATION: record " + place + ": " + t.reason) != std::string::npos);
    CHECK(run_command(tool + data, &out) == 3);
    CHECK(verdict_of(out, "BAD ", " ") == std::make_pair(place, t.reason));
    CHECK(run_command(sample + data, &out) == 3);
    CHECK(verdict_of(out, "BAD ", " ") == std::make_pair(place, t.reason));
  }
}

TEST_CASE("the page's sample verifier gives verify's seq and reason for each kind of damage") {
  temp_dir dir;
  auto pristine = demo_journal(dir, "6");
  const std::string sample = "/usr/bin/python3 " + dir.sub("sample.py") + " ";
  extract_doc_verifier(dir.sub("sample.py"));
  using change = std::function<void(const std::string&)>;
  auto edit = [](uint64_t seq, std::function<void(std::vector<uint8_t>&)> f) -> change {
    return [seq, f](const std::string& d) { test::tamper_value(d, seq, f); };
  };
  std::vector<change> damages{
    edit(40, [](std::vector<uint8_t>& v) { v[32] = 2; }),          // record version
    edit(41, [](std::vector<uint8_t>& v) { v[33] = 200; }),        // event type
    edit(42, [](std::vector<uint8_t>& v) { v[39] ^= 1; }),         // header seq
    edit(43, [](std::vector<uint8_t>& v) { v.push_back(0); }),     // payload length
    edit(44, [](std::vector<uint8_t>& v) { v.resize(61); }),       // too short
    edit(45, [](std::vector<uint8_t>& v) { v.back() ^= 1; }),      // chain
    [](const std::string& d) { test::delete_record(d, 46); },      // a gap
    [](const std::string& d) { test::set_meta(d, "head", {1, 2}); }, // head malformed
    [](const std::string& d) {                                      // head behind
      auto v = test::raw_value(d, 10);
      std::vector<uint8_t> h{0, 0, 0, 0, 0, 0, 0, 10};
      h.insert(h.end(), v.begin(), v.begin() + 32);
      test::set_meta(d, "head", h);
    },
  };
  int n = 0;
  for (auto& damage : damages) {
    CAPTURE(n);
    auto data = dir.sub("d" + std::to_string(n++));
    std::filesystem::copy(pristine, data);
    damage(data);
    std::string ours, theirs;
    CHECK(run_bulwark("verify --data " + data, &ours) == 3);
    CHECK(run_command(sample + data, &theirs) == 3);
    auto a = verdict_of(ours, "INTEGRITY VIOLATION at seq ", ": ");
    CHECK(a.first != "?");
    CHECK(a == verdict_of(theirs, "BAD ", " "));
  }
}

TEST_CASE("both Python verifiers take the audit and policy records (types 48 to 52), the full "
          "one its version-10 snapshot, and all refuse a type above 54") {
  temp_dir dir;
  auto data = dir.sub("audit");
  projection live;
  {
    auto store = test::open_store(data);
    auto at = caf::make_timestamp();
    std::vector<event> evs{make_event(event_type::resource_registered, at,
                                      resource_registered{resource_id{"c1"}, "coaster",
                                                          "north", {}})};
    for (uint8_t n : {1, 2}) {
      digest id;
      id.bytes[0] = n;
      mutation m{resource_id{"c1"}, "mode", "fast"};
      evs.push_back(make_event(event_type::proposal_decided, at,
                               proposal_decided{id, "k" + std::to_string(n),
                                                principal_id{"agent"}, authority_level::enforce,
                                                "coaster", "north", true, ec::none, "allowed",
                                                1, {}, {m}, ""}));
      evs.push_back(make_event(event_type::proposal_finished, at,
                               proposal_finished{id, true, ec::none, 1, 0, "done"}));
    }
    digest first;
    first.bytes[0] = 1;
    evs.push_back(make_event(event_type::audit_acknowledged, at,
                             audit_acknowledged{first, principal_id{"ops"}, "checked"}));
    std::vector<policy_entry> policy{{"authority.grant.agent", "4"}, {"blast_radius.max_percent", "5"}};
    evs.push_back(make_event(event_type::policy_changed, at,
                             policy_changed{"v2", "v1", principal_id{"admin"}, "reload",
                                            {policy_change{"authority.grant.agent", caf::none,
                                                           std::string{"4"}}},
                                            policy}));
    evs.push_back(make_event(event_type::policy_refused, at,
                             policy_refused{principal_id{"admin"}, "reload", "bad key"}));
    evs.push_back(make_event(event_type::decision_basis, at,
                             decision_basis{first, "v2", {"coaster", "gates"}, {"north"}, caf::none}));
    evs.push_back(make_event(event_type::quarantine_changed, at,
                             quarantine_changed{principal_id{"agent"}, true,
                                                principal_id{"admission"}, "3 failures"}));
    auto entries = store->append(evs);
    REQUIRE(entries);
    for (auto& e : *entries)
      REQUIRE(!live.apply(e.seq, e.ev));
    REQUIRE(live.state().audit.size() == 1);
    REQUIRE(live.state().policy.size() == 2);
    REQUIRE(live.state().quarantined.count("agent") == 1);
    REQUIRE(!store->write_snapshot(live));
  }
  const std::string tool = "/usr/bin/python3 " BULWARK_SOURCE_DIR "/tests/tools/verify_journal.py ";
  const std::string sample = "/usr/bin/python3 " + dir.sub("sample.py") + " ";
  extract_doc_verifier(dir.sub("sample.py"));
  std::string out;
  REQUIRE_MESSAGE(run_command(tool + "--json " + data, &out) == 0, out);
  auto verdict = json::parse(out.substr(out.find('{')), nullptr, false);
  REQUIRE(verdict.is_object());
  CHECK(verdict["types"]["audit_acknowledged"] == 1);
  for (auto* t : {"policy_changed", "policy_refused", "decision_basis", "quarantine_changed"})
    CHECK(verdict["types"][t] == 1);
  REQUIRE(verdict["snapshots"].size() == 1);
  CHECK(verdict["snapshots"][0]["usable"] == true);
  CHECK(verdict["snapshots"][0]["state_digest"] == to_hex(live.state_digest()));
  REQUIRE_MESSAGE(run_command(sample + data, &out) == 0, out);
  REQUIRE(run_bulwark("verify --data " + data, &out) == 0);
  // The acknowledgement's type byte set to 55, past the highest type defined.
  test::tamper_value(data, 6, [](std::vector<uint8_t>& v) { v[33] = 55; });
  CHECK(run_bulwark("verify --data " + data, &out) == 3);
  CHECK(out.find("INTEGRITY VIOLATION at seq 6: unknown event type 55") != std::string::npos);
  CHECK(run_command(tool + data, &out) == 3);
  CHECK(out.find("BAD 6 unknown event type 55") != std::string::npos);
  CHECK(run_command(sample + data, &out) == 3);
  CHECK(out.find("BAD 6 unknown event type 55") != std::string::npos);
}
