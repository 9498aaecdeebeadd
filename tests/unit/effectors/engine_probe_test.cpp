// A configured probe through the engine's probe call: the path that reads a value back
// to settle an action in doubt.

#include <doctest/doctest.h>

#include "effectors/configured_effectors.hpp"
#include "messages/error.hpp"
#include "unit/effectors/effector_test_util.hpp"

using namespace bulwark;
using namespace bulwark::test;
using namespace std::chrono_literals;

TEST_CASE("engine probe: a configured exec probe reads the world's value") {
  temp_dir dir;
  write_script(dir, "apply.sh", "cat > /dev/null");
  write_script(dir, "probe.sh", "cat > /dev/null; printf '{\"value\": \"%s\"}' \"$(cat value.txt)\"");
  write_file(dir, "value.txt", "fast");
  auto cfg = write_file(dir, "bulwark.toml",
                        "[[effectors]]\nservice = \"web\"\nkind = \"exec\"\n"
                        "command = [\"apply.sh\"]\n"
                        "[effectors.probe]\nkind = \"exec\"\ncommand = [\"probe.sh\"]\n"
                        "[[effectors]]\nservice = \"db\"\nkind = \"exec\"\n"
                        "command = [\"apply.sh\"]\n");
  auto specs = load_effectors(cfg);
  REQUIRE_MESSAGE(specs, describe(specs.error()).message);
  engine_options opts;
  opts.data_dir = dir.sub("journal");
  opts.virtual_clock = true;
  std::string err;
  auto eng = engine::start(opts, &err);
  REQUIRE_MESSAGE(eng, err);
  register_effectors(*eng, *specs);
  auto p = eng->probe("web", "web-01", "mode", 2000ms);
  CHECK(p.ok);
  REQUIRE(p.value);
  CHECK(*p.value == "fast");
  write_file(dir, "value.txt", "slow");
  p = eng->probe("web", "web-01", "mode", 2000ms);
  REQUIRE(p.value);
  CHECK(*p.value == "slow");
  // A service without a probe, and a timeout that is not positive, are refused.
  p = eng->probe("db", "db-01", "mode", 2000ms);
  CHECK_FALSE(p.ok);
  CHECK(p.error == "no probe is registered for service db");
  p = eng->probe("web", "web-01", "mode", 0ms);
  CHECK_FALSE(p.ok);
  CHECK(p.error == "the probe's timeout must be positive");
  eng->stop();
}
