// The history readers' keys in bulwark.toml: defaults, values, and refusals naming the key.

#include <doctest/doctest.h>

#include <fstream>

#include "engine/node_config.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;

namespace {

caf::expected<node_config> load(const test::temp_dir& dir, const std::string& text) {
  auto path = dir.sub("bulwark.toml");
  std::ofstream{path} << text;
  return load_config(path);
}

} // namespace

TEST_CASE("config: the history readers' threads, queue and timeout") {
  test::temp_dir dir;
  auto defaults = load(dir, "");
  REQUIRE(defaults);
  CHECK(defaults->console.history_threads == 2);
  CHECK(defaults->console.history_queue == 16);
  CHECK(defaults->console.history_timeout == caf::timespan{std::chrono::seconds{30}});
  auto set = load(dir, "[console]\nhistory_threads = 4\nhistory_queue = 100\n"
                       "history_timeout_ms = 2500\n");
  REQUIRE(set);
  CHECK(set->console.history_threads == 4);
  CHECK(set->console.history_queue == 100);
  CHECK(set->console.history_timeout == caf::timespan{std::chrono::milliseconds{2500}});
  auto refused = [&](const std::string& text, const std::string& says) {
    auto cfg = load(dir, "[console]\n" + text + "\n");
    REQUIRE_FALSE(cfg);
    auto message = describe(cfg.error()).message;
    CHECK_MESSAGE(message.find(says) != std::string::npos, message);
  };
  refused("history_threads = 0", "console.history_threads: must be 1 to 16");
  refused("history_threads = 17", "console.history_threads: must be 1 to 16");
  refused("history_queue = 0", "console.history_queue: must be 1 to 1024");
  refused("history_queue = 5000", "console.history_queue: must be 1 to 1024");
  refused("history_timeout_ms = 0", "console.history_timeout_ms: must be greater than zero");
}
