// The audit queue of level-4 changes over the console of a real `bulwark node`:
// `audit-pending` lists it, `audit-ack` reviews an entry (by a digest prefix), the roles
// and the rule refuse what they must, and the metrics gauge follows the queue.

#include <doctest/doctest.h>

#include <algorithm>
#include <sstream>

#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;
using nlohmann::json;

namespace {

std::string message_of(const json& answer) {
  return answer["error"].value("message", "");
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The value of `name` in the node's `/metrics` text (-1 when it is absent).
double metric(uint16_t port, const std::string& name) {
  client c{port};
  auto text = c.http_get("/metrics");
  std::istringstream in{text.substr(text.find("\r\n\r\n") + 4)};
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + " ", 0) == 0)
      return std::stod(line.substr(name.size() + 1));
  return -1;
}

std::vector<std::string> commands_of(const json& help) {
  std::vector<std::string> out;
  for (auto& c : help["result"])
    out.push_back(c["cmd"].get<std::string>());
  return out;
}

bool lists(const std::vector<std::string>& xs, const std::string& x) {
  return std::find(xs.begin(), xs.end(), x) != xs.end();
}

} // namespace

TEST_CASE("console: a level-4 change waits in audit-pending until another operator's "
          "audit-ack") {
  node_process node{"", false, {}, false}; // the product's default: no self-approval
  client op{node.port}, viewer{node.port}, admin{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  REQUIRE(admin.auth("admin-token")["ok"] == true);
  auto empty = viewer.call({{"id", 1}, {"cmd", "audit-pending"}});
  REQUIRE_MESSAGE(empty["ok"] == true, empty.dump());
  CHECK(empty["result"] == json::array());
  CHECK(metric(node.metrics_port, "bulwark_audit_pending") == 0);

  auto ran = op.call({{"id", 2}, {"cmd", "propose"},
                      {"args", {{"idempotency_key", "audit-1"}, {"level", 4},
                                {"services", {"coaster"}}, {"regions", {"north"}},
                                {"changes", {{{"resource", "coaster-north-01"}, {"key", "mode"},
                                              {"value", "fast"}}}}}}});
  REQUIRE_MESSAGE(ran["ok"] == true, ran.dump());
  REQUIRE(ran["result"]["status"] == "succeeded");
  auto digest = ran["result"]["proposal"].get<std::string>();
  auto listed = viewer.call({{"id", 3}, {"cmd", "audit-pending"}});
  REQUIRE(listed["result"].size() == 1);
  auto& e = listed["result"][0];
  CHECK(e["proposal"] == digest);
  CHECK(e["principal"] == "op");
  CHECK(e["decided_seq"] == ran["result"]["decided_seq"]);
  CHECK(e["finished_seq"].get<uint64_t>() > e["decided_seq"].get<uint64_t>());
  CHECK(e["steps"] == 1);
  CHECK(e["applied"] == 1);
  CHECK(e["status"] == "succeeded");
  CHECK(e["code"].is_null());
  CHECK(metric(node.metrics_port, "bulwark_audit_pending") == 1);

  // The roles: a viewer reads the queue but may not acknowledge; help says so.
  CHECK(lists(commands_of(viewer.call({{"id", 4}, {"cmd", "help"}})), "audit-pending"));
  CHECK(!lists(commands_of(viewer.call({{"id", 5}, {"cmd", "help"}})), "audit-ack"));
  CHECK(lists(commands_of(op.call({{"id", 6}, {"cmd", "help"}})), "audit-ack"));
  auto prefix = digest.substr(0, 8);
  auto denied = viewer.call({{"id", 7}, {"cmd", "audit-ack"}, {"args", {{"proposal", prefix}}}});
  CHECK(denied["ok"] == false);
  CHECK(denied["error"]["code"] == "AUTHORITY_DENIED");
  // The rule: not the proposer's own; a prefix must name a proposal in the queue.
  auto own = op.call({{"id", 8}, {"cmd", "audit-ack"}, {"args", {{"proposal", prefix}}}});
  CHECK(own["error"]["code"] == "AUTHORITY_DENIED");
  CHECK(has(message_of(own), "allow_self_approval"));
  auto other = prefix;
  other[0] = prefix[0] == '0' ? '1' : '0';
  auto unknown = admin.call({{"id", 9}, {"cmd", "audit-ack"}, {"args", {{"proposal", other}}}});
  CHECK(unknown["error"]["code"] == "INVALID_INPUT");
  CHECK(has(message_of(unknown), "no digest this node knows starts with"));
  auto missing = admin.call({{"id", 10}, {"cmd", "audit-ack"}, {"args", json::object()}});
  CHECK(missing["error"]["code"] == "INVALID_INPUT");
  CHECK(has(message_of(missing), "missing argument proposal"));
  CHECK(viewer.call({{"id", 11}, {"cmd", "audit-pending"}})["result"].size() == 1);

  // Another operator (here the admin) reviews it by its prefix, with a note.
  auto acked = admin.call({{"id", 12}, {"cmd", "audit-ack"},
                           {"args", {{"proposal", prefix}, {"note", "dashboards look right"}}}});
  REQUIRE_MESSAGE(acked["ok"] == true, acked.dump());
  CHECK(acked["result"]["proposal"] == digest);
  CHECK(acked["result"]["by"] == "root-admin");
  auto seq = acked["result"]["seq"].get<uint64_t>();
  CHECK(viewer.call({{"id", 13}, {"cmd", "audit-pending"}})["result"] == json::array());
  CHECK(metric(node.metrics_port, "bulwark_audit_pending") == 0);
  auto log = viewer.call({{"id", 14}, {"cmd", "log"},
                          {"args", {{"type", "audit_acknowledged"}}}});
  REQUIRE(log["result"]["events"].size() == 1);
  auto& record = log["result"]["events"][0];
  CHECK(record["seq"] == seq);
  CHECK(record["payload"]["proposal"] == digest);
  CHECK(record["payload"]["by"] == "root-admin");
  CHECK(record["payload"]["note"] == "dashboards look right");
  // Once reviewed it is no longer in the queue: its prefix names nothing, its digest is
  // refused with the review it had.
  auto again = admin.call({{"id", 15}, {"cmd", "audit-ack"}, {"args", {{"proposal", prefix}}}});
  CHECK(has(message_of(again), "no digest this node knows starts with"));
  auto whole = admin.call({{"id", 16}, {"cmd", "audit-ack"}, {"args", {{"proposal", digest}}}});
  CHECK(whole["error"]["code"] == "INVALID_INPUT");
  CHECK(has(message_of(whole), "was acknowledged already, by root-admin"));
}
