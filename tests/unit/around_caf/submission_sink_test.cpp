// The engine's submission sink: each submission's answer (an outcome, an error, a dead
// receiver's bounce) reaches its own callbacks exactly once, also from many threads at
// once; closing the sink answers what is still open, and a late answer after that is
// dropped, never delivered twice.

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/stateful_actor.hpp"

#include "around_caf/submission_sink.hpp"
#include "messages/commands.hpp"
#include "messages/register.hpp"

using namespace bulwark;

namespace {

/// Answers `(submit, p, cls, true)` with an outcome naming the proposal by its key in
/// `message`, and refuses keys starting with "bad".
caf::behavior echo(caf::event_based_actor*) {
  return {
    [](atom::submit, const proposal& p, uint8_t, bool) -> caf::result<outcome> {
      if (p.idempotency_key.rfind("bad", 0) == 0)
        return refuse(ec::invalid_input, "refused " + p.idempotency_key);
      outcome o;
      o.status = proposal_status::succeeded;
      o.message = p.idempotency_key;
      return o;
    },
  };
}

struct holder_state {
  std::vector<caf::response_promise> held;
};

/// Takes every submission and answers none until told `(atom::release)`.
caf::behavior holder(caf::stateful_actor<holder_state>* self) {
  return {
    [self](atom::submit, const proposal&, uint8_t, bool) -> caf::result<outcome> {
      self->state.held.push_back(self->make_response_promise());
      return caf::delegated<outcome>{};
    },
    [self](atom::release) {
      for (auto& rp : self->state.held)
        rp.deliver(outcome{});
      self->state.held.clear();
    },
    [self](atom::state) { return static_cast<int>(self->state.held.size()); },
  };
}

struct sink_fixture {
  caf::actor_system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  sink_fixture() {
    register_types(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
  }
};

proposal with_key(const std::string& key) {
  proposal p;
  p.idempotency_key = key;
  return p;
}

} // namespace

TEST_CASE_FIXTURE(sink_fixture, "every submission from many threads hears its own answer once") {
  auto receiver = caf::actor_cast<caf::strong_actor_ptr>(sys->spawn(echo));
  submission_sink sink{*sys};
  constexpr int threads = 8, each = 500;
  std::mutex mtx;
  std::vector<int> outcomes(threads * each, 0), errors(threads * each, 0);
  std::atomic<int> answered{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; ++t)
    ts.emplace_back([&, t] {
      for (int i = 0; i < each; ++i) {
        auto n = t * each + i;
        auto key = (n % 10 == 0 ? "bad-" : "k-") + std::to_string(n);
        sink.submit(receiver, with_key(key), 1,
                    submission_callbacks{[&, n, key](const outcome& o) {
                                           std::lock_guard<std::mutex> g{mtx};
                                           outcomes[n] += o.message == key;
                                           ++answered;
                                         },
                                         [&, n](const caf::error& err) {
                                           std::lock_guard<std::mutex> g{mtx};
                                           errors[n] += code_of(err) == ec::invalid_input;
                                           ++answered;
                                         }});
      }
    });
  for (auto& t : ts)
    t.join();
  for (int i = 0; i < 1000 && answered.load() < threads * each; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  REQUIRE(answered.load() == threads * each);
  CHECK(sink.open() == 0);
  for (int n = 0; n < threads * each; ++n) {
    CHECK(outcomes[n] == (n % 10 == 0 ? 0 : 1));
    CHECK(errors[n] == (n % 10 == 0 ? 1 : 0));
  }
  caf::anon_send_exit(receiver, caf::exit_reason::user_shutdown);
}

TEST_CASE_FIXTURE(sink_fixture, "a dead receiver bounces the submission to its error callback") {
  auto receiver = caf::actor_cast<caf::strong_actor_ptr>(sys->spawn(echo));
  caf::anon_send_exit(receiver, caf::exit_reason::kill);
  sys->await_all_actors_done();
  submission_sink sink{*sys};
  std::atomic<int> bounced{0}, other{0};
  sink.submit(receiver, with_key("k"), 1,
              submission_callbacks{[&](const outcome&) { ++other; },
                                   [&](const caf::error& err) {
                                     (err == caf::sec::request_receiver_down ? bounced : other)++;
                                   }});
  for (int i = 0; i < 500 && bounced.load() + other.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  CHECK(bounced.load() == 1);
  CHECK(other.load() == 0);
  CHECK(sink.open() == 0);
}

TEST_CASE_FIXTURE(sink_fixture, "closing answers the open submissions, a later answer is dropped") {
  auto h = sys->spawn(holder);
  auto receiver = caf::actor_cast<caf::strong_actor_ptr>(h);
  submission_sink sink{*sys};
  std::atomic<int> outcomes{0}, closed{0};
  for (int i = 0; i < 5; ++i)
    sink.submit(receiver, with_key("k-" + std::to_string(i)), 1,
                submission_callbacks{[&](const outcome&) { ++outcomes; },
                                     [&](const caf::error& err) {
                                       closed += code_of(err) == ec::unavailable;
                                     }});
  caf::scoped_actor self{*sys};
  auto held = [&] {
    int n = -1;
    self->request(h, caf::infinite, atom::state_v).receive([&](int x) { n = x; },
                                                           [](caf::error&) {});
    return n;
  };
  CHECK(held() == 5); // the holder took all five (they reached it before this request)
  CHECK(sink.open() == 5);
  sink.close(refuse(ec::unavailable, "closed"));
  CHECK(closed.load() == 5);
  CHECK(sink.open() == 0);
  // The holder answers now: the sink drops the late answers, nobody hears twice.
  self->send(h, atom::release_v);
  CHECK(held() == 0);
  CHECK(outcomes.load() == 0);
  CHECK(closed.load() == 5);
  caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
}
