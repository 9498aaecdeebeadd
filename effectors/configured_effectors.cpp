// Configured exec and http effectors and probes: the request as JSON, the outcome mapped
// to applied, retryable or failed with a reason fit for the journal.

#include "effectors/configured_effectors.hpp"

#include <csignal>
#include <cstring>
#include <memory>

#include "effectors/effect_json.hpp"
#include "effectors/exec_process.hpp"
#include "effectors/http_call.hpp"

namespace bulwark {

namespace {

constexpr size_t reason_tail = 512; ///< bytes of stderr or of a body a reason quotes

/// The call's timeout, capped by the configured one.
std::chrono::nanoseconds cap(const endpoint_spec& spec, std::chrono::nanoseconds timeout) {
  if (spec.timeout.count() > 0 && (timeout.count() <= 0 || spec.timeout < timeout))
    return spec.timeout;
  return timeout;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

int64_t to_ms(std::chrono::nanoseconds t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t).count();
}

std::string with_tail(std::string what, const std::string& text) {
  auto tail = printable_tail(text, reason_tail);
  if (!tail.empty())
    what += ": " + tail;
  return what;
}

/// The outcome of a process, as an effect: ok, retryable or failed.
effect_result judge(const process_outcome& p, std::chrono::nanoseconds timeout) {
  switch (p.end) {
    case process_end::exited:
      if (p.code == 0)
        return effect_result{true, "", false};
      if (p.code == 75)
        return effect_result{false, with_tail("exec: exit status 75 (retry later)", p.err), true};
      return effect_result{false, with_tail("exec: exit status " + std::to_string(p.code), p.err),
                           false};
    case process_end::signaled: {
      auto* name = ::sigabbrev_np(p.code);
      return effect_result{false,
                           with_tail("exec: ended by signal " + std::to_string(p.code) + " (SIG"
                                       + (name ? name : "?") + ")",
                                     p.err),
                           false};
    }
    case process_end::timed_out:
      return effect_result{false,
                           with_tail("exec: no exit within " + std::to_string(to_ms(timeout))
                                       + " ms: process group killed",
                                     p.err),
                           true};
    case process_end::overflowed:
      return effect_result{false, "exec: " + p.error + ": process group killed", false};
    case process_end::not_started:
      break;
  }
  return effect_result{false, "exec: " + p.error, false};
}

/// The outcome of a POST, as an effect: ok, retryable or failed.
effect_result judge(const http_outcome& h) {
  switch (h.end) {
    case http_end::answered: {
      auto s = h.status;
      if (s >= 200 && s < 300)
        return effect_result{true, "", false};
      auto what = "http: status " + std::to_string(s);
      if (s >= 300 && s < 400)
        return effect_result{false, what + ": redirect to " + printable_tail(h.location, 200)
                                      + " not followed", false};
      bool retry = s == 408 || s == 429 || (s >= 500 && s < 600);
      return effect_result{false, with_tail(what, h.body), retry};
    }
    case http_end::timed_out:
      return effect_result{false, "http: timed out: " + h.error, true};
    case http_end::unreachable:
      return effect_result{false, "http: unreachable: " + h.error, true};
    case http_end::not_http:
      return effect_result{false, "http: the answer is not HTTP: " + h.error, false};
    case http_end::tls:
      return effect_result{false, "http: TLS failed: " + h.error, false};
    case http_end::other:
      break;
  }
  return effect_result{false, "http: " + h.error, false};
}

probe_result to_probe(const effect_result& r, const std::string& answer) {
  probe_result out;
  if (!r.ok) {
    out.error = r.error;
    out.retryable = r.retryable;
    return out;
  }
  auto v = parse_probe_answer(answer, out.error);
  if (v) {
    out.ok = true;
    out.value = *v;
  }
  return out;
}

} // namespace

effector make_effector(const endpoint_spec& spec) {
  if (spec.kind == effector_kind::exec)
    return [s = spec](const effect_request& r) {
      auto t = cap(s, r.timeout);
      return judge(run_process(s.exec, effect_json(r, to_ms(t), now_ms()), t), t);
    };
  auto ep = std::make_shared<http_endpoint>(spec.http);
  return [s = spec, ep](const effect_request& r) {
    auto t = cap(s, r.timeout);
    return judge(ep->post(effect_json(r, to_ms(t), now_ms()), r.idempotency_key, t));
  };
}

prober make_probe(const endpoint_spec& spec) {
  if (spec.kind == effector_kind::exec)
    return [s = spec](const probe_request& r) {
      auto t = cap(s, r.timeout);
      auto p = run_process(s.exec, probe_json(r, to_ms(t), now_ms()), t);
      return to_probe(judge(p, t), p.out);
    };
  auto ep = std::make_shared<http_endpoint>(spec.http);
  return [s = spec, ep](const probe_request& r) {
    auto t = cap(s, r.timeout);
    auto h = ep->post(probe_json(r, to_ms(t), now_ms()), "", t);
    return to_probe(judge(h), h.body);
  };
}

void register_effectors(engine& eng, const std::vector<effector_spec>& specs) {
  for (auto& s : specs) {
    eng.register_effector(s.service, make_effector(s.effect));
    if (s.probe)
      eng.register_probe(s.service, make_probe(*s.probe));
  }
}

} // namespace bulwark
