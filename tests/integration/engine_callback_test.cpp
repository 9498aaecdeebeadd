// A host's submission callback may block on the engine: a callback that submits another
// proposal and waits for its result gets it (the callback never runs where the answer it
// waits for would have to be computed).

#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <future>

#include "bulwark/engine.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;

namespace {

proposal_request a_change(const std::string& key, const std::string& resource) {
  proposal_request p;
  p.idempotency_key = key;
  p.principal = "agent";
  p.level = 4;
  p.services = {"coaster"};
  p.regions = {"north"};
  p.changes = {{resource, "mode", "slow"}};
  p.justification = "callback test";
  return p;
}

} // namespace

TEST_CASE("a submission callback that submits again and waits for the answer gets it") {
  test::temp_dir dir;
  auto config = dir.sub("bulwark.toml");
  std::ofstream{config} << "[blast_radius]\nmax_percent = 100.0\n"; // two of eight may change
  engine_options opts;
  opts.config_file = config;
  opts.data_dir = dir.sub("journal");
  opts.grants = {{"agent", 4}};
  opts.enforce_enabled = true;
  std::string err;
  auto eng = engine::start(opts, &err);
  REQUIRE_MESSAGE(eng, err);
  eng->register_effector("coaster", [](const effect_request&) { return effect_result{}; });
  for (int i = 0; i < 8; ++i)
    REQUIRE(eng->register_resource("coaster-" + std::to_string(i), "coaster", "north").ok);
  std::promise<std::string> nested;
  auto nested_status = nested.get_future();
  eng->submit(a_change("outer", "coaster-0"), [&](const result& r) {
    REQUIRE(r.ok);
    auto inner = eng->submit(a_change("inner", "coaster-1"));
    if (inner.wait_for(std::chrono::seconds{20}) != std::future_status::ready)
      nested.set_value("no answer within 20 s");
    else {
      auto r2 = inner.get();
      nested.set_value(r2.ok ? r2.status : r2.code + ": " + r2.message);
    }
  });
  REQUIRE(nested_status.wait_for(std::chrono::seconds{30}) == std::future_status::ready);
  CHECK(nested_status.get() == "succeeded");
}
