// The console's broker when it ends: a request that reaches it after it stopped (as one a
// door forwarded in the moment of its death does) is answered at once, never left waiting.

#include <doctest/doctest.h>

#include <chrono>
#include <string>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/io/middleman.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/console/console.hpp"
#include "messages/type_ids.hpp"

using namespace bulwark;

TEST_CASE("console: a request sent to a console that was killed is answered with an error at "
          "once, not left to time out") {
  caf::actor_system_config cfg;
  cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  console_settings settings;
  settings.host = "127.0.0.1";
  settings.port = 0;
  caf::actor console;
  auto port = start_console(sys, settings, console_deps{}, console);
  REQUIRE(port);
  caf::scoped_actor self{sys};
  self->monitor(console);
  caf::anon_send_exit(console, caf::exit_reason::kill);
  bool down = false;
  self->receive([&](const caf::down_msg&) { down = true; },
                caf::after(std::chrono::seconds{10}) >> [] {});
  REQUIRE(down);
  for (int i = 0; i < 3; ++i) {
    caf::error got;
    bool answered = false;
    self
      ->request(console, std::chrono::seconds{20}, atom::command_v, std::string{"token"},
                std::string{"127.0.0.1:1"}, std::string{R"({"cmd":"status"})"}, std::string{})
      .receive([&](std::string&, bool) { answered = true; }, [&](caf::error& e) { got = e; });
    CHECK_FALSE(answered);
    CHECK(got == caf::sec::request_receiver_down);
  }
}
