// The supervisor's pure core: strategies, restart kinds, intensity and backoff.

#include <doctest/doctest.h>

#include "supervision/restart_policy.hpp"

using namespace bulwark;
using namespace std::chrono_literals;

namespace {

caf::timestamp t(int64_t ms) {
  return caf::timestamp{std::chrono::milliseconds{1'700'000'000'000 + ms}};
}

supervisor_limits with(restart_strategy s) {
  supervisor_limits l;
  l.strategy = s;
  return l;
}

} // namespace

TEST_CASE("strategies pick the children to restart") {
  restart_policy one{with(restart_strategy::one_for_one)};
  CHECK(one.on_exit(1, 3, restart_kind::permanent, true, t(0)).restart == std::vector<size_t>{1});
  restart_policy all{with(restart_strategy::one_for_all)};
  CHECK(all.on_exit(1, 3, restart_kind::permanent, true, t(0)).restart
        == std::vector<size_t>{0, 1, 2});
  restart_policy rest{with(restart_strategy::rest_for_one)};
  CHECK(rest.on_exit(1, 3, restart_kind::permanent, true, t(0)).restart
        == std::vector<size_t>{1, 2});
}

TEST_CASE("restart kinds: permanent always, transient after failures, temporary never") {
  restart_policy p;
  CHECK(!p.on_exit(0, 1, restart_kind::permanent, false, t(0)).restart.empty());
  CHECK(p.on_exit(0, 1, restart_kind::transient, false, t(1)).restart.empty());
  CHECK(!p.on_exit(0, 1, restart_kind::transient, true, t(2)).restart.empty());
  CHECK(p.on_exit(0, 1, restart_kind::temporary, true, t(3)).restart.empty());
}

TEST_CASE("more than R restarts within T escalate, the window slides") {
  supervisor_limits l;
  l.max_restarts = 3;
  l.window = 10s;
  restart_policy p{l};
  for (int i = 0; i < 3; ++i)
    CHECK(!p.on_exit(0, 1, restart_kind::permanent, true, t(i * 1000)).escalate);
  CHECK(p.on_exit(0, 1, restart_kind::permanent, true, t(3000)).escalate);
  // Ten seconds after the first restart, room again.
  CHECK(!p.on_exit(0, 1, restart_kind::permanent, true, t(10'001)).escalate);
}

TEST_CASE("backoff doubles per recent restart up to the cap") {
  supervisor_limits l;
  l.max_restarts = 10;
  l.backoff_base = 50ms;
  l.backoff_cap = 300ms;
  restart_policy p{l};
  std::vector<int64_t> delays;
  for (int i = 0; i < 5; ++i)
    delays.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
                       p.on_exit(0, 1, restart_kind::permanent, true, t(i)).delay)
                       .count());
  CHECK(delays == std::vector<int64_t>{50, 100, 200, 300, 300});
}
