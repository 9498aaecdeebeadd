// The incident lifecycle through a real node's console: a bad firmware change opens an
// incident (the simulated world of --simulate), operators acknowledge, note, change its
// severity, resolve, close and reopen it; viewers read its postmortem; wrong roles,
// unknown or closed incidents and steps out of order get clear errors that change nothing.

#include <doctest/doctest.h>

#include <thread>

#include <nlohmann/json.hpp>

#include "integration/node_process.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

/// A short warm-up and confirmation, so an incident opens within seconds.
const std::string fast_detection = "[incident]\nconfirmation_ms = 3000\nwarmup_samples = 3\n";

/// Applies the bad firmware to coaster-north-01 and waits for its incident.
std::string open_incident(client& op, client& viewer) {
  std::this_thread::sleep_for(5s); // the baselines warm up (one sample a second)
  auto done = op.call({{"id", 1},
                       {"cmd", "propose"},
                       {"args",
                        {{"idempotency_key", "bad-firmware"},
                         {"level", 4},
                         {"services", {"coaster"}},
                         {"regions", {"north"}},
                         {"changes", {{{"resource", "coaster-north-01"}, {"key", "firmware"},
                                       {"value", "2.0.0-rc1"}}}}}}});
  REQUIRE_MESSAGE(done["ok"] == true, done.dump());
  for (int i = 0; i < 150; ++i) {
    auto list = viewer.call({{"id", 2}, {"cmd", "incidents"}});
    if (list["ok"] == true && !list["result"]["incidents"].empty())
      return list["result"]["incidents"][0]["incident"].get<std::string>();
    std::this_thread::sleep_for(200ms);
  }
  FAIL("no incident opened");
  return {};
}

json incident(client& viewer, const std::string& id) {
  auto list = viewer.call({{"id", 3}, {"cmd", "incidents"}});
  for (auto& x : list["result"]["incidents"])
    if (x["incident"] == id)
      return x;
  FAIL("no incident " << id);
  return {};
}

std::string error_of(const json& answer) {
  return answer["ok"] == false ? answer["error"]["code"].get<std::string>() + ": "
                                   + answer["error"]["message"].get<std::string>()
                               : std::string{};
}

} // namespace

TEST_CASE("console: the incident lifecycle, its roles, its refusals and the report") {
  node_process node{fast_detection};
  client op{node.port}, viewer{node.port};
  REQUIRE(op.auth("operator-token")["ok"] == true);
  REQUIRE(viewer.auth("viewer-token")["ok"] == true);
  auto id = open_incident(op, viewer);
  auto step = [&](client& c, const std::string& cmd, json args) {
    args["incident"] = id;
    return c.call({{"id", 9}, {"cmd", cmd}, {"args", args}});
  };
  // Wrong role: a viewer may read but not work the incident.
  for (auto* cmd : {"incident-acknowledge", "incident-note", "incident-close"})
    CHECK(step(viewer, cmd, {{"text", "x"}, {"resolution", "x"}})["error"]["code"]
          == "AUTHORITY_DENIED");
  // Bad input and steps out of order: clear errors; nothing but the access trail changes.
  auto unknown = op.call({{"id", 5}, {"cmd", "incident-note"},
                          {"args", {{"incident", std::string(64, '0')}, {"text", "x"}}}});
  CHECK(error_of(unknown).find("INVALID_INPUT: unknown incident") == 0);
  CHECK(op.call({{"id", 6}, {"cmd", "incident-note"}, {"args", {{"incident", "zz"}, {"text", "x"}}}})
          ["error"]["code"] == "INVALID_INPUT");
  CHECK(error_of(step(op, "incident-note", json::object())).find("missing argument text")
        != std::string::npos);
  CHECK(error_of(step(op, "incident-severity", {{"severity", "P7"}, {"reason", "x"}}))
          .find("P0, P1, P2 or P3") != std::string::npos);
  CHECK(error_of(step(op, "incident-close", json::object())).find("never acknowledged")
        != std::string::npos);
  CHECK(error_of(step(op, "incident-resolve", {{"resolution", "x"}}))
          .find("acknowledge it before resolving") != std::string::npos);
  CHECK(error_of(step(op, "incident-reopen", {{"reason", "x"}})).find("only resolved or closed")
        != std::string::npos);
  auto before = incident(viewer, id);
  CHECK(before["acknowledged"] == false);
  CHECK(before["notes"] == 0);
  // The lifecycle, each step journaled.
  auto ack = step(op, "incident-acknowledge", {{"note", "on it"}});
  REQUIRE_MESSAGE(ack["ok"] == true, ack.dump());
  CHECK(ack["result"]["step"] == "acknowledge");
  CHECK(ack["result"]["seq"].get<uint64_t>() > 0);
  CHECK(incident(viewer, id)["owner"] == "op"); // the caller owns it unless another is named
  REQUIRE(step(op, "incident-note", {{"text", "bad firmware on coaster-north-01"}})["ok"] == true);
  REQUIRE(step(op, "incident-severity", {{"severity", "P1"}, {"reason", "riders waiting"}})["ok"]
          == true);
  REQUIRE(step(op, "incident-resolve", {{"resolution", "firmware rolled back"}})["ok"] == true);
  REQUIRE(step(op, "incident-close", json::object())["ok"] == true);
  auto closed = incident(viewer, id);
  CHECK(closed["status"] == "closed");
  CHECK(closed["severity"] == "P1");
  CHECK(closed["notes"] == 1);
  CHECK(closed["resolution"] == "firmware rolled back");
  // Closed: refused until reopened.
  CHECK(error_of(step(op, "incident-note", {{"text", "late"}})).find("reopen it first")
        != std::string::npos);
  CHECK(incident(viewer, id)["notes"] == 1);
  REQUIRE(step(op, "incident-reopen", {{"reason", "errors again"}})["ok"] == true);
  CHECK(incident(viewer, id)["status"] == "open");
  REQUIRE(step(op, "incident-close", {{"resolution", "firmware replaced"}})["ok"] == true);
  // The report, for viewers.
  auto report = step(viewer, "incident-report", json::object());
  REQUIRE_MESSAGE(report["ok"] == true, report.dump());
  auto md = report["result"]["markdown"].get<std::string>();
  CHECK(md.find("# Postmortem: incident " + id.substr(0, 16)) != std::string::npos);
  CHECK(md.find("firmware replaced") != std::string::npos);
  CHECK(md.find("| MTTR | ") != std::string::npos);
  auto& doc = report["result"]["report"];
  CHECK(doc["status"] == "closed");
  CHECK(doc["owner"] == "op");
  CHECK(doc["mttr_ms"].is_number());
  bool culprit = false;
  for (auto& c : doc["changes"])
    culprit |= c["resource"] == "coaster-north-01" && c["key"] == "firmware" && c["culprit"] == true;
  CHECK(culprit);
  CHECK(viewer.call({{"id", 7}, {"cmd", "incident-report"},
                     {"args", {{"incident", std::string(64, '0')}}}})["error"]["code"]
        == "INVALID_INPUT");
  auto log = viewer.call({{"id", 8}, {"cmd", "log"}, {"args", {{"from", 1}}}});
  std::map<std::string, int> types;
  for (auto& e : log["result"]["events"])
    ++types[e["type"].get<std::string>()];
  CHECK(types["incident_acknowledged"] == 1);
  CHECK(types["incident_noted"] == 1);
  CHECK(types["incident_severity_changed"] == 1);
  CHECK(types["incident_resolved"] == 1);
  CHECK(types["incident_closed_by_operator"] == 2);
  CHECK(types["incident_reopened"] == 1);
}
