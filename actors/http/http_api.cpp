// The HTTP API on cpp-httplib: each route becomes a console command run by the console
// broker (authentication, roles, rate limits and the access trail are the console's), the
// answer becomes a JSON response with a status code from the console's error code.

#include "actors/http/http_api.hpp"

#include <sys/socket.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <utility>

#include <httplib.h>
#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"
#include "caf/typed_event_based_actor.hpp"

#include "actors/console/metrics.hpp"
#include "actors/console/tls_session.hpp"
#include "actors/http/event_hub.hpp"
#include "actors/http/http_routes.hpp"
#include "actors/http/web_assets.hpp"
#include "persistence/event_json.hpp"

namespace bulwark {

using nlohmann::json;

namespace {

/// Receives the journal's committed entries for the hub.
subscriber_actor::behavior_type event_feed(subscriber_actor::pointer,
                                           std::shared_ptr<event_hub> hub) {
  return {
    [hub](atom::committed, const std::vector<journal_entry>& entries) { hub->publish(entries); },
  };
}

/// cpp-httplib listens with a backlog of 5; a burst of connects then waits a second.
template <class Base>
struct server_with_backlog : Base {
  using Base::Base;
  void set_backlog(int n) {
    ::listen(this->svr_sock_, n);
  }
};

using plain_server = server_with_backlog<httplib::Server>;
using tls_server = server_with_backlog<httplib::SSLServer>;

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace) + "\n",
                  "application/json");
}

void send_error(httplib::Response& res, int status, ec code, const std::string& message,
                int64_t retry_after_ms = -1) {
  if (retry_after_ms >= 0)
    res.set_header("Retry-After", std::to_string((retry_after_ms + 999) / 1000));
  send_json(res, status,
            json{{"error", {{"code", to_string(code)}, {"message", message}, {"trace_id", 0},
                            {"retry_after", retry_after_ms >= 0 ? json(retry_after_ms)
                                                                : json(nullptr)}}}});
}

std::string bearer_token(const httplib::Request& req) {
  auto value = req.get_header_value("Authorization");
  static const std::string scheme = "Bearer ";
  if (value.size() <= scheme.size() || value.compare(0, scheme.size(), scheme) != 0)
    return {};
  return value.substr(scheme.size());
}

/// The dashboard's page and files, built into the binary (actors/http/web_assets.hpp).
void serve_web(const httplib::Request& req, httplib::Response& res) {
  auto reply = web_response(req.path, req.matches.size() > 1 ? req.matches[1].str() : "");
  if (reply.status == 404)
    return send_error(res, 404, ec::invalid_input, "no such file in the dashboard");
  for (auto& [k, v] : web_headers())
    res.set_header(std::string{k}, std::string{v});
  res.status = reply.status;
  if (!reply.location.empty())
    return res.set_header("Location", std::string{reply.location});
  res.set_content(reply.body.data(), reply.body.size(), std::string{reply.type});
}

std::string route_regex(const std::string& path) {
  auto at = path.find('{');
  if (at == std::string::npos)
    return path;
  return path.substr(0, at) + "([^/]+)" + path.substr(path.find('}', at) + 1);
}

} // namespace

struct http_api::impl {
  caf::actor_system& sys;
  http_settings settings;
  caf::actor console;
  console_deps deps;
  std::unique_ptr<httplib::Server> server;
  std::function<void(int)> set_backlog;
  std::thread thread;
  std::shared_ptr<event_hub> hub = std::make_shared<event_hub>();
  /// The journal's feed of the event streams (scope api); changes when it is restarted.
  std::shared_ptr<handle_slot<subscriber_actor>> feed =
    std::make_shared<handle_slot<subscriber_actor>>();
  std::atomic<size_t> streams{0};
  uint16_t port = 0;
  bool stopped = false;

  impl(caf::actor_system& s, http_settings cfg, caf::actor c, console_deps d)
    : sys(s), settings(std::move(cfg)), console(std::move(c)), deps(std::move(d)) {
  }

  /// The console's answer to one request: the response line and whether the token was
  /// accepted; an error when the console does not answer.
  caf::expected<std::pair<std::string, bool>>
  ask_console(const std::string& token, const std::string& remote, const std::string& line,
              caf::timespan timeout, const std::string& refusal = {}, bool immediate = false) {
    caf::expected<std::pair<std::string, bool>> out{refuse(ec::unavailable, "no answer")};
    auto on_answer = [&](std::string& text, bool authed) {
      out = std::make_pair(std::move(text), authed);
    };
    auto on_error = [&](caf::error& err) { out = std::move(err); };
    if (immediate) {
      // The console answers these itself: a server thread keeps one actor for them (no
      // timeout message is left in its mailbox; it ends with the thread, before the
      // actor system, as stop() joins the pool).
      thread_local std::unique_ptr<caf::scoped_actor> mine;
      if (!mine)
        mine = std::make_unique<caf::scoped_actor>(sys);
      (*mine)->request(console, caf::infinite, atom::command_v, token, remote, line, refusal)
        .receive(on_answer, on_error);
      return out;
    }
    caf::scoped_actor self{sys}; // one per request: a reused one keeps timed-out replies
    self->request(console, timeout, atom::command_v, token, remote, line, refusal)
      .receive(on_answer, on_error);
    return out;
  }

  void serve_command(const http_route& r, const httplib::Request& req, httplib::Response& res) {
    std::map<std::string, std::string> query;
    for (auto& [k, v] : req.params)
      query.emplace(k, v);
    std::string param = req.matches.size() > 1 ? req.matches[1].str() : std::string{};
    console_request creq;
    console_refusal why;
    auto token = bearer_token(req);
    // A request refused here is answered by the console after the token check, so a bad
    // token is a 401 whatever the body.
    std::string refusal;
    if (!http_request(r, param, query, req.body, creq, why)) {
      refusal = why.message;
      creq.cmd = r.command;
      creq.args = json::object();
    }
    // The text of json{{"cmd", cmd}, {"args", args}}.dump() (keys in order), without
    // copying the arguments into a new document.
    auto line = "{\"args\":" + creq.args.dump(-1, ' ', false, json::error_handler_t::replace)
                + ",\"cmd\":" + json(creq.cmd).dump(-1, ' ', false, json::error_handler_t::replace)
                + "}";
    auto timeout = caf::timespan{settings.request_timeout};
    if (r.command == "propose" || r.command == "requeue") {
      uint64_t ms = 30000;
      if (auto t = creq.args.find("timeout_ms"); t != creq.args.end() && t->is_number_unsigned())
        ms = std::min<uint64_t>(t->get<uint64_t>(), 86400000);
      timeout += std::chrono::milliseconds{ms};
      // A proposal's own approval window: its expiry is answered, not a 504 before it.
      if (auto w = creq.args.find("approval_window_ms");
          w != creq.args.end() && w->is_number_unsigned())
        timeout += std::chrono::milliseconds{std::min<uint64_t>(w->get<uint64_t>(), 86400000)};
    }
    auto remote = req.remote_addr + ":" + std::to_string(req.remote_port);
    auto answer = ask_console(token, remote, line, timeout, refusal, r.immediate);
    if (!answer) {
      auto info = describe(answer.error());
      bool late = answer.error() == caf::sec::request_timeout;
      return send_error(res, late ? 504 : 503, late ? ec::timeout : ec::unavailable,
                        late ? "the command did not answer in time" : info.message);
    }
    if (r.immediate) { // a plain result goes out as the console rendered it
      if (auto text = http_ok_result(answer->first); !text.empty()) {
        res.status = 200;
        std::string content;
        content.reserve(text.size() + 1);
        content.append(text).push_back('\n');
        return res.set_content(std::move(content), "application/json");
      }
    }
    int status = 500;
    json body;
    if (!http_response(answer->first, answer->second, status, body))
      return send_error(res, 500, ec::unavailable, "unreadable answer from the console");
    if (status == 200 && !r.key.empty()) { // one item of a list
      auto item = http_select(r, body, param);
      if (item.is_null())
        return send_error(res, 404, ec::invalid_input, "no " + r.key + " " + param.substr(0, 80));
      body = std::move(item);
    }
    if (status != 200) {
      auto& retry = body["error"]["retry_after"];
      if (retry.is_number_unsigned() || retry.is_number_integer())
        res.set_header("Retry-After", std::to_string((retry.get<int64_t>() + 999) / 1000));
    }
    send_json(res, status, body);
  }

  void serve_stream(const http_route& r, const httplib::Request& req, httplib::Response& res) {
    auto remote = req.remote_addr + ":" + std::to_string(req.remote_port);
    auto answer = ask_console(bearer_token(req), remote, json{{"cmd", r.command}}.dump(),
                              caf::timespan{settings.request_timeout});
    int status = 500;
    json body;
    if (!answer)
      return send_error(res, 503, ec::unavailable, describe(answer.error()).message);
    if (!http_response(answer->first, answer->second, status, body) || status != 200)
      return send_json(res, status, body);
    if (streams.fetch_add(1) >= settings.max_streams) {
      --streams;
      return send_error(res, 503, ec::overloaded,
                        "at most " + std::to_string(settings.max_streams) + " event streams",
                        1000);
    }
    uint64_t after = body.value("from", uint64_t{1}) - 1;
    auto hub_ref = hub;
    auto heartbeat = settings.heartbeat;
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
      "text/event-stream",
      [hub_ref, heartbeat, after](size_t, httplib::DataSink& sink) mutable {
        std::pair<uint64_t, std::string> e;
        switch (hub_ref->next(after, heartbeat, e)) {
          case event_hub::next_result::event: {
            after = e.first;
            auto text = "id: " + std::to_string(e.first) + "\nevent: committed\ndata: "
                        + e.second + "\n\n";
            return sink.write(text.data(), text.size());
          }
          case event_hub::next_result::quiet: {
            static const std::string hb = ": heartbeat\n\n";
            return sink.write(hb.data(), hb.size());
          }
          case event_hub::next_result::behind: {
            static const std::string lost =
              "event: overflow\ndata: {\"message\":\"the stream fell behind; reconnect and read "
              "the gap from /v1/events\"}\n\n";
            sink.write(lost.data(), lost.size());
            return false;
          }
          case event_hub::next_result::closed:
            return false;
        }
        return false;
      },
      [this](bool) { --streams; });
  }

  void serve_readyz(httplib::Response& res) {
    json checks = json::object();
    bool journal = false;
    {
      caf::scoped_actor self{sys};
      self->request(deps.journal, std::chrono::seconds{2}, atom::head_v)
        .receive([&](seq_no&, digest&) { journal = true; }, [&](caf::error&) {});
    }
    if (journal && deps.store) {
      auto space = deps.store->space();
      journal = space.max_map_bytes == 0 || space.used_bytes < space.max_map_bytes;
    }
    if (journal && deps.cluster_figures && deps.cluster_figures->leader)
      journal = deps.cluster_figures->writable.load();
    bool governance = deps.authority && deps.authority->get() && deps.pipeline
                      && (!deps.admission || deps.admission->get());
    bool leader = !deps.cluster_figures || deps.cluster_figures->leader
                  || (deps.cluster_figures->term > 0 && deps.cluster_figures->peers_connected > 0);
    checks["journal_writable"] = journal;
    checks["governance_up"] = governance;
    checks["leader_known"] = leader;
    bool ready = journal && governance && leader;
    send_json(res, ready ? 200 : 503, json{{"ready", ready}, {"checks", checks}});
  }

  void serve_metrics(httplib::Response& res) {
    auto text = collect_metrics(sys, deps, std::chrono::seconds{10});
    if (!text) {
      res.status = 503;
      res.set_content(describe(text.error()).message + "\n", "text/plain");
      return;
    }
    res.set_content(*text, "text/plain; version=0.0.4");
  }

  void add_routes(scope what) {
    auto& svr = *server;
    for (auto& r : http_routes()) {
      if (what == scope::metrics_only && r.builtin != http_builtin::metrics)
        continue;
      httplib::Server::Handler h;
      switch (r.builtin) {
        case http_builtin::healthz:
          h = [](const httplib::Request&, httplib::Response& res) {
            send_json(res, 200, json{{"alive", true}});
          };
          break;
        case http_builtin::readyz:
          h = [this](const httplib::Request&, httplib::Response& res) { serve_readyz(res); };
          break;
        case http_builtin::metrics:
          h = [this](const httplib::Request&, httplib::Response& res) { serve_metrics(res); };
          break;
        case http_builtin::web:
          h = [](const httplib::Request& req, httplib::Response& res) { serve_web(req, res); };
          break;
        case http_builtin::stream:
          h = [this, &r](const httplib::Request& req, httplib::Response& res) {
            serve_stream(r, req, res);
          };
          break;
        case http_builtin::none:
          h = [this, &r](const httplib::Request& req, httplib::Response& res) {
            serve_command(r, req, res);
          };
          break;
      }
      if (r.method == "GET")
        svr.Get(route_regex(r.path), std::move(h));
      else
        svr.Post(route_regex(r.path), std::move(h));
    }
  }

  void configure() {
    auto& svr = *server;
    auto pool = std::max<size_t>(settings.pool, 2);
    svr.new_task_queue = [pool] { return new httplib::ThreadPool(pool); };
    svr.set_tcp_nodelay(true);
    svr.set_keep_alive_max_count(1000000);
    auto secs = [](std::chrono::milliseconds ms) {
      return std::max<time_t>(1, static_cast<time_t>((ms.count() + 999) / 1000));
    };
    svr.set_keep_alive_timeout(secs(settings.idle_timeout));
    svr.set_read_timeout(settings.read_timeout);
    svr.set_write_timeout(settings.write_timeout);
    svr.set_payload_max_length(settings.max_body);
    svr.set_exception_handler([](const httplib::Request&, httplib::Response& res,
                                 std::exception_ptr ep) {
      std::string what = "internal error";
      try {
        std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        spdlog::error("http: handler failed: {}", e.what());
      } catch (...) {
        spdlog::error("http: handler failed");
      }
      send_error(res, 500, ec::unavailable, what);
    });
    svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty())
        return;
      switch (res.status) {
        case 404:
          return send_error(res, 404, ec::invalid_input, "no such route (see /v1 in the docs)");
        case 413:
          return send_error(res, 413, ec::invalid_input, "request body too large");
        case 400:
          return send_error(res, 400, ec::invalid_input, "malformed HTTP request");
        default:
          return send_error(res, res.status, ec::invalid_input, "request refused");
      }
    });
  }
};

http_api::http_api(std::unique_ptr<impl> d) : d_(std::move(d)) {
}

http_api::~http_api() {
  stop();
}

std::vector<child_spec> http_api::children() {
  std::vector<child_spec> out;
  if (!d_->feed->get())
    return out;
  // The first start takes the feed start() spawned; a restarted one subscribes after the
  // newest event the hub holds, so the streams miss nothing and see nothing twice.
  auto first = std::make_shared<bool>(true);
  out.push_back(child_spec{
    "http_feed", restart_kind::permanent,
    [slot = d_->feed, hub = d_->hub, journal = d_->deps.journal,
     first](caf::local_actor* sup) -> caf::actor {
      if (std::exchange(*first, false))
        return caf::actor_cast<caf::actor>(slot->get());
      auto feed = sup->home_system().spawn(event_feed, hub);
      slot->set(feed);
      caf::anon_send(journal, atom::subscribe_v, feed, seq_no{hub->last()});
      return caf::actor_cast<caf::actor>(feed);
    }});
  return out;
}

uint16_t http_api::port() const {
  return d_->port;
}

void http_api::stop() {
  if (!d_ || d_->stopped)
    return;
  d_->stopped = true;
  d_->hub->close(); // open streams end first, so stop() does not wait on them
  d_->server->stop();
  if (d_->thread.joinable())
    d_->thread.join();
  if (auto feed = d_->feed->get())
    caf::anon_send_exit(feed, caf::exit_reason::user_shutdown);
  d_->feed->set(subscriber_actor{});
  d_->console = nullptr;
  d_->deps = console_deps{};
}

caf::expected<std::unique_ptr<http_api>>
http_api::start(caf::actor_system& sys, const std::string& host, uint16_t port,
                http_settings settings, caf::actor console, console_deps deps, scope what) {
  auto d = std::make_unique<impl>(sys, settings, std::move(console), std::move(deps));
  int bound = -1;
  if (!settings.tls_cert.empty() || !settings.tls_key.empty()) {
    // The console's loader names the file and the problem; the server loads the same files.
    if (auto loaded = tls_context::load(settings.tls_cert, settings.tls_key); !loaded)
      return loaded.error();
    auto svr = std::make_unique<tls_server>(settings.tls_cert.c_str(), settings.tls_key.c_str());
    if (!svr->is_valid())
      return refuse(ec::invalid_input, "http: the TLS certificate or key did not load");
    auto* raw = svr.get();
    d->set_backlog = [raw](int n) { raw->set_backlog(n); };
    d->server = std::move(svr);
  } else {
    auto svr = std::make_unique<plain_server>();
    auto* raw = svr.get();
    d->set_backlog = [raw](int n) { raw->set_backlog(n); };
    d->server = std::move(svr);
  }
  d->configure();
  d->add_routes(what);
  if (port == 0)
    bound = d->server->bind_to_any_port(host);
  else if (d->server->bind_to_port(host, port))
    bound = port;
  if (bound <= 0)
    return refuse(ec::unavailable, "http: cannot listen on " + host + ":" + std::to_string(port));
  d->set_backlog(1024);
  d->port = static_cast<uint16_t>(bound);
  if (what == scope::api && d->deps.journal && d->deps.store) {
    auto head = d->deps.store->head();
    d->hub->start_at(head.value);
    auto feed = sys.spawn(event_feed, d->hub);
    d->feed->set(feed);
    caf::anon_send(d->deps.journal, atom::subscribe_v, feed, head);
  }
  auto* svr = d->server.get();
  d->thread = std::thread([svr] { svr->listen_after_bind(); });
  // cpp-httplib's stop() does nothing before its accept loop has marked itself running: a
  // server stopped that early would block in accept() for ever. Wait for the loop.
  for (int i = 0; i < 10000 && !svr->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds{1});
  return std::unique_ptr<http_api>(new http_api(std::move(d)));
}

} // namespace bulwark
