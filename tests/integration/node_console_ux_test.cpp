// A console that helps, against a real `bulwark node`: a proposal waiting for approval is
// answered at once and its outcome arrives as a notice; approvals and denials say what
// they decided; digest prefixes; every bad argument named at once; help as people type.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/make_event.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

json propose(int id, int level, const std::string& key, const std::string& resource) {
  return {{"id", id},
          {"cmd", "propose"},
          {"args",
           {{"idempotency_key", key},
            {"level", level},
            {"services", {"coaster"}},
            {"regions", {"north"}},
            {"changes", {{{"resource", resource}, {"key", "mode"}, {"value", "fast"}}}}}}};
}

/// Reads until the `outcome` notice of request `id` (answers to other lines are skipped).
json notice_for(client& c, int id) {
  for (int i = 0; i < 100; ++i) {
    auto msg = c.read();
    if (msg.is_null())
      return msg;
    if (msg.value("event", "") == "outcome" && msg["data"]["id"] == id)
      return msg["data"];
  }
  return json();
}

std::string message_of(const json& answer) {
  return answer["error"].value("message", "");
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a proposal waiting for approval is answered at once, its outcome is a notice") {
  node_process node;
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto waiting = op.call(propose(10, 1, "ux-approve", "coaster-north-01"));
  REQUIRE_MESSAGE(waiting["ok"] == true, waiting.dump());
  CHECK(waiting["result"]["status"] == "awaiting_approval");
  CHECK(waiting["result"]["message"] == "waiting for approval");
  CHECK(waiting["result"]["level"] == 1);
  CHECK(waiting["result"]["decided_seq"].get<uint64_t>() > 0);
  auto digest = waiting["result"]["proposal"].get<std::string>();
  REQUIRE(digest.size() == 64);
  // The connection is free: other commands run while the proposal waits.
  CHECK(op.call({{"id", 11}, {"cmd", "status"}})["ok"] == true);
  auto listed = op.call({{"id", 12}, {"cmd", "proposals"}});
  REQUIRE(listed["result"].size() == 1);
  CHECK(listed["result"][0]["proposal"] == digest);
  // Approved by a prefix of 8 hex digits; the answer names what it approved.
  auto approved = op.call({{"id", 13}, {"cmd", "approve"},
                           {"args", {{"proposal", digest.substr(0, 8)}, {"note", "fine"}}}});
  REQUIRE_MESSAGE(approved["ok"] == true, approved.dump());
  CHECK(approved["result"]["proposal"] == digest);
  CHECK(approved["result"]["decision"] == "approved");
  CHECK(approved["result"]["by"] == "op");
  CHECK(approved["result"]["seq"].get<uint64_t>() > waiting["result"]["decided_seq"].get<uint64_t>());
  auto outcome = notice_for(op, 10);
  REQUIRE_MESSAGE(!outcome.is_null(), "no outcome notice");
  CHECK(outcome["proposal"] == digest);
  CHECK(outcome["status"] == "succeeded");
  CHECK(outcome["applied"] == 1);
}

TEST_CASE("a denial says what was denied, by whom, and the seq of its record") {
  node_process node;
  client op{node.port}, viewer{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  auto waiting = op.call(propose(20, 1, "ux-deny", "coaster-north-02"));
  REQUIRE(waiting["result"]["status"] == "awaiting_approval");
  auto digest = waiting["result"]["proposal"].get<std::string>();
  auto denied = op.call({{"id", 21}, {"cmd", "deny"},
                         {"args", {{"proposal", digest.substr(0, 12)}, {"note", "not now"}}}});
  REQUIRE_MESSAGE(denied["ok"] == true, denied.dump());
  CHECK(denied["result"]["proposal"] == digest);
  CHECK(denied["result"]["decision"] == "denied");
  auto seq = denied["result"]["seq"].get<uint64_t>();
  REQUIRE(seq > 0);
  auto log = viewer.call({{"id", 1}, {"cmd", "log"}, {"args", {{"from", seq}, {"to", seq}}}});
  REQUIRE(log["result"]["events"].size() == 1);
  CHECK(log["result"]["events"][0]["type"] == "approval_denied");
  auto outcome = notice_for(op, 20);
  REQUIRE(!outcome.is_null());
  CHECK(outcome["status"] == "denied");
  // Denied once: the digest names nothing pending any more.
  auto again = op.call({{"id", 22}, {"cmd", "deny"}, {"args", {{"proposal", digest.substr(0, 8)}}}});
  CHECK(again["error"]["code"] == "INVALID_INPUT");
  CHECK(has(message_of(again), "no digest this node knows starts with " + digest.substr(0, 8)));
}

TEST_CASE("proposals that need no approval are answered with their outcome, as before") {
  node_process node;
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto query = propose(30, 0, "ux-read", "coaster-north-01");
  query["args"]["changes"] = json::array(); // level 0 reads
  auto read = op.call(query);
  CHECK_MESSAGE(read["result"]["status"] == "read", read.dump());
  auto done = op.call(propose(31, 4, "ux-enforce", "coaster-north-01"));
  CHECK(done["result"]["status"] == "succeeded");
  // A refused one is still an error answer, not a notice.
  auto refused = op.call(propose(32, 1, "ux-bad", "no-such-resource"));
  CHECK(refused["ok"] == false);
  CHECK(op.read(300ms).is_null()); // and nothing follows
}

TEST_CASE("digest prefixes: at least 8 hex digits, unknown ones named, nothing changed") {
  node_process node;
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto waiting = op.call(propose(40, 1, "ux-prefix", "coaster-north-01"));
  auto digest = waiting["result"]["proposal"].get<std::string>();
  auto short_one = op.call({{"id", 41}, {"cmd", "approve"}, {"args", {{"proposal", digest.substr(0, 7)}}}});
  CHECK(short_one["error"]["code"] == "INVALID_INPUT");
  CHECK(has(message_of(short_one), "args.proposal is 7 hex digits: give at least 8"));
  auto not_hex = op.call({{"id", 42}, {"cmd", "approve"}, {"args", {{"proposal", "zzzzzzzz"}}}});
  CHECK(has(message_of(not_hex), "64 hex digits, or a unique prefix of at least 8"));
  auto incident = op.call({{"id", 43}, {"cmd", "incident-report"}, {"args", {{"incident", "deadbeef"}}}});
  CHECK(incident["error"]["code"] == "INVALID_INPUT");
  CHECK(has(message_of(incident), "args.incident: no digest this node knows starts with deadbeef"));
  auto candidate = op.call({{"id", 44}, {"cmd", "promote"}, {"args", {{"candidate", "DEADBEEF"}}}});
  CHECK(has(message_of(candidate), "args.candidate: no digest this node knows starts with deadbeef"));
  // Still waiting: none of these touched it.
  auto listed = op.call({{"id", 45}, {"cmd", "proposals"}});
  REQUIRE(listed["result"].size() == 1);
  CHECK(listed["result"][0]["awaiting_approval"] == true);
  // The full digest still works.
  auto approved = op.call({{"id", 46}, {"cmd", "approve"}, {"args", {{"proposal", digest}}}});
  CHECK(approved["result"]["decision"] == "approved");
}

TEST_CASE("unknown, missing and mistyped arguments are named, all at once") {
  node_process node;
  client admin{node.port};
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto r = admin.call({{"id", 1}, {"cmd", "grant"},
                       {"args", {{"princpal", "bob"}, {"levle", 2}, {"until_ms", "soon"}}}});
  REQUIRE(r["error"]["code"] == "INVALID_INPUT");
  auto msg = message_of(r);
  CHECK(has(msg, "unknown arguments levle, princpal (grant takes principal, level, until_ms, reason)"));
  CHECK(has(msg, "missing arguments principal, level"));
  CHECK(has(msg, "args.until_ms must be a non-negative integer"));
  CHECK(has(msg, "usage: grant principal=TEXT level=N [until_ms=N] [reason=TEXT]"));
  CHECK(r["id"] == 1);
  // Nothing changed: the grant was not set.
  auto grants = admin.call({{"id", 2}, {"cmd", "grants"}});
  CHECK_FALSE(grants["result"]["journaled"].contains("bob"));
  // `log` keeps its arguments; a stray one is named.
  CHECK(admin.call({{"id", 3}, {"cmd", "log"}, {"args", {{"from", 1}, {"to", 2}}}})["ok"] == true);
  CHECK(has(message_of(admin.call({{"id", 4}, {"cmd", "log"}, {"args", {{"form", 1}}}})),
            "unknown argument form (log takes from, to"));
}

TEST_CASE("help lists what the role may use, as typed, with one example each") {
  node_process node;
  client viewer{node.port}, op{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto help = viewer.call({{"id", 1}, {"cmd", "help"}});
  REQUIRE(help["ok"] == true);
  bool has_log = false;
  for (auto& c : help["result"]) {
    auto name = c["cmd"].get<std::string>();
    CHECK(name != "propose"); // an operator's command
    CHECK(name != "auth");    // the client signs in by itself
    CHECK(c["usage"].get<std::string>().rfind(name, 0) == 0);
    CHECK(c["example"].get<std::string>().rfind(name, 0) == 0);
    CHECK(c["args"].is_array());
    if (name == "log") {
      has_log = true;
      CHECK(c["usage"] == "log [from=N] [to=N] [since=VALUE] [until=VALUE] [type=VALUE] [principal=TEXT] "
                          "[resource=TEXT] [service=TEXT] [incident=TEXT] [proposal=TEXT] [limit=N]");
      CHECK(c["args"][0] == json{{"name", "from"}, {"required", false}, {"type", "count"},
                                 {"example", "1"}});
    }
  }
  CHECK(has_log);
  auto ops = op.call({{"id", 2}, {"cmd", "help"}});
  bool approve = false;
  for (auto& c : ops["result"])
    if (c["cmd"] == "approve") {
      approve = true;
      CHECK(c["usage"] == "approve proposal=DIGEST [note=TEXT]");
      CHECK(c["example"] == "approve proposal=3f2a9c1e note=\"looks right\"");
    }
  CHECK(approve);
}

TEST_CASE("separation of duties: the proposer's own approval or denial is refused by the "
          "engine, another operator's or an admin's is taken") {
  node_process node{"", false, {}, false}; // the product's default: no self-approval
  client op{node.port}, admin{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto waiting = op.call(propose(30, 1, "ux-duties", "coaster-north-03"));
  REQUIRE(waiting["result"]["status"] == "awaiting_approval");
  auto digest = waiting["result"]["proposal"].get<std::string>();
  for (auto* cmd : {"approve", "deny"}) {
    CAPTURE(cmd);
    auto own = op.call({{"id", 31}, {"cmd", cmd}, {"args", {{"proposal", digest}}}});
    CHECK(own["ok"] == false);
    CHECK(own["id"] == 31);
    CHECK(own["error"]["code"] == "AUTHORITY_DENIED");
    CHECK(own["error"]["message"].get<std::string>().find("allow_self_approval")
          != std::string::npos);
  }
  auto listed = admin.call({{"id", 32}, {"cmd", "proposals"}});
  REQUIRE(listed["result"].size() == 1); // still waiting: the refusals changed nothing
  auto approved = admin.call({{"id", 33}, {"cmd", "approve"}, {"args", {{"proposal", digest}}}});
  REQUIRE_MESSAGE(approved["ok"] == true, approved.dump());
  CHECK(approved["result"]["by"] == "root-admin");
  auto outcome = notice_for(op, 30);
  REQUIRE_MESSAGE(!outcome.is_null(), "no outcome notice");
  CHECK(outcome["status"] == "succeeded");
}

namespace {

/// Writes the journal of a node that stopped while its level-4 change of coaster-north-01
/// (mode to "fast", proposal `id` under `key`) was being applied: the start, no outcome.
void journal_in_doubt(const std::string& journal, const digest& id, const std::string& key) {
  std::filesystem::create_directories(journal);
  store_options o;
  o.dir = journal;
  o.create = true;
  auto s = journal_store::open(o);
  REQUIRE(s);
  mutation m{resource_id{"coaster-north-01"}, "mode", "fast"};
  proposal_decided d{id, key, principal_id{"op"}, authority_level::enforce, "coaster", "north",
                     true, ec::none, "allowed", 1, {}, {m}, "t"};
  auto at = caf::make_timestamp();
  REQUIRE((*s)->append({make_event(event_type::proposal_decided, at, d),
                        make_event(event_type::action_started, at, action_started{id, 0, m})}));
}

} // namespace

TEST_CASE("in-doubt lists an action whose start is journaled and whose outcome is not") {
  digest id;
  id.bytes[0] = 0xcd;
  node_process node{"", false, [&](const std::string& journal) {
    journal_in_doubt(journal, id, "ux-doubt");
  }};
  client viewer{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  auto r = viewer.call({{"id", 40}, {"cmd", "in-doubt"}});
  REQUIRE_MESSAGE(r["ok"] == true, r.dump());
  CHECK(r["id"] == 40);
  REQUIRE(r["result"].size() == 1);
  auto& a = r["result"][0];
  CHECK(a["proposal"] == to_hex(id));
  CHECK(a["principal"] == "op");
  CHECK(a["level"] == 4);
  CHECK(a["step"] == 0);
  CHECK(a["resource"] == "coaster-north-01");
  CHECK(a["key"] == "mode");
  CHECK(a["value"] == "fast");
  CHECK(a["started_seq"] == a["decided_seq"].get<uint64_t>() + 1);
  CHECK(a.contains("journaled_value"));
  CHECK(a["started_at"].get<std::string>().size() == 24);
  // A viewer may not settle it; an operator does, as not applied.
  auto denied = viewer.call({{"id", 41}, {"cmd", "resolve"},
                             {"args", {{"proposal", to_hex(id).substr(0, 8)},
                                       {"outcome", "not-applied"}, {"reason", "checked"}}}});
  CHECK(denied["ok"] == false);
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto bad = op.call({{"id", 42}, {"cmd", "resolve"},
                      {"args", {{"proposal", to_hex(id).substr(0, 8)}, {"outcome", "maybe"},
                                {"reason", "checked"}}}});
  CHECK(bad["ok"] == false);
  CHECK(bad["id"] == 42);
  CHECK(has(message_of(bad), "applied or not-applied"));
  auto done = op.call({{"id", 43}, {"cmd", "resolve"},
                       {"args", {{"proposal", to_hex(id).substr(0, 8)},
                                 {"outcome", "not-applied"},
                                 {"reason", "the controller still runs normal"}}}});
  REQUIRE_MESSAGE(done["ok"] == true, done.dump());
  CHECK(done["result"]["outcome"] == "not-applied");
  CHECK(done["result"]["seq"].get<uint64_t>() > 0);
  auto after = viewer.call({{"id", 44}, {"cmd", "in-doubt"}});
  CHECK(after["result"] == json::array());
}

namespace {

/// Writes an executable /bin/sh script `name` into `dir` and returns its path.
std::string shell_script(const test::temp_dir& dir, const std::string& name,
                         const std::string& body) {
  auto path = dir.sub(name);
  std::ofstream{path} << "#!/bin/sh\n" << body << "\n";
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

} // namespace

TEST_CASE("reconcile reads an action in doubt back through its probe and settles it") {
  digest id;
  id.bytes[0] = 0xce;
  test::temp_dir scripts;
  auto apply = shell_script(scripts, "apply.sh", "cat > /dev/null; exit 0");
  auto probe = shell_script(scripts, "probe.sh",
                                  "cat > /dev/null; echo '{\"value\": \"normal\"}'");
  node_process node{"[[effectors]]\nservice = \"coaster\"\nkind = \"exec\"\ncommand = [\""
                      + apply + "\"]\n[effectors.probe]\nkind = \"exec\"\ncommand = [\""
                      + probe + "\"]\n",
                    false, [&](const std::string& journal) {
    journal_in_doubt(journal, id, "ux-reconcile");
  }};
  client viewer{node.port};
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  auto denied = viewer.call({{"id", 50}, {"cmd", "reconcile"}});
  CHECK(denied["ok"] == false);
  CHECK(denied["id"] == 50);
  client op{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  auto bad = op.call({{"id", 51}, {"cmd", "reconcile"}, {"args", {{"timeout_ms", 0}}}});
  CHECK(bad["ok"] == false);
  CHECK(bad["id"] == 51);
  CHECK(has(message_of(bad), "timeout_ms"));
  REQUIRE(viewer.call({{"id", 52}, {"cmd", "in-doubt"}})["result"].size() == 1);
  auto done = op.call({{"id", 53}, {"cmd", "reconcile"}, {"args", {{"timeout_ms", 5000}}}});
  REQUIRE_MESSAGE(done["ok"] == true, done.dump());
  CHECK(done["id"] == 53);
  REQUIRE(done["result"]["proposals"].size() == 1);
  auto& r = done["result"]["proposals"][0];
  CHECK(r["proposal"] == to_hex(id));
  // The controller still holds the journal's value: the change did not apply.
  CHECK(r["outcome"] == "not-applied");
  CHECK(r["evidence"] == "probe: coaster-north-01/mode holds 'normal', the journal's value");
  CHECK(r["seq"].get<uint64_t>() > 0);
  CHECK(viewer.call({{"id", 54}, {"cmd", "in-doubt"}})["result"] == json::array());
}
