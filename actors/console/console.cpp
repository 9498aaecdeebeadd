// The console broker: connections, line framing with a length limit, authentication,
// roles, per-connection rate limits, idle timeouts and subscriptions.

#include "actors/console/console.hpp"

#include <utility>

#include <spdlog/spdlog.h>

#include "caf/actor_system.hpp"
#include "caf/detail/sync_request_bouncer.hpp"
#include "caf/io/all.hpp"
#include "caf/scoped_actor.hpp"

#include "actors/console/command_table.hpp"
#include "actors/console/console_impl.hpp"
#include "persistence/event_json.hpp"
#include "persistence/make_event.hpp"

namespace bulwark {

using namespace console_detail;

namespace console_detail {

caf::timestamp now(broker_ptr self) {
  return self->state.epoch + (self->clock().now() - self->state.start);
}

namespace {

/// Writes bytes as they go on the wire.
void write_raw(broker_ptr self, hdl_t hdl, const std::string& bytes) {
  if (bytes.empty())
    return;
  self->write(hdl, bytes.size(), bytes.data());
  self->flush(hdl);
}

/// Writes a line, through the connection's TLS session when it has one.
void write_line(broker_ptr self, hdl_t hdl, console_conn& c, const std::string& line) {
  if (!c.tls)
    return write_raw(self, hdl, line);
  if (c.tls->send(line))
    write_raw(self, hdl, c.tls->take_output());
}

} // namespace

void send_line(broker_ptr self, hdl_t hdl, const std::string& line) {
  auto& st = self->state;
  auto i = st.conns.find(hdl);
  if (i == st.conns.end())
    return;
  if (!i->second.http)
    return write_line(self, hdl, i->second, line);
  // An HTTP request has one answer; pushed progress lines are not part of it.
  if (line.rfind("{\"event\"", 0) == 0)
    return;
  st.http_open->erase(hdl.id());
  i->second.reply.deliver(line, true);
  st.conns.erase(i);
  --st.http_in_flight;
}

void record_access(broker_ptr self, const console_conn& c, const std::string& command,
                   bool allowed, const std::string& detail) {
  console_access x{c.principal.value.empty() ? principal_id{"anonymous"} : c.principal,
                   command.substr(0, 64), c.remote, allowed, detail.substr(0, 256)};
  auto ev = make_event(event_type::console_access, now(self), x);
  if (self->state.deps.cluster) // the leader's journal holds a cluster's trail
    caf::anon_send(self->state.deps.cluster, atom::access_v, std::move(ev));
  else
    caf::anon_send(self->state.deps.journal, atom::append_v, std::move(ev));
}

} // namespace console_detail

namespace {

void close_conn(broker_ptr self, hdl_t hdl, const std::string& why) {
  auto& st = self->state;
  auto i = st.conns.find(hdl);
  if (i == st.conns.end())
    return;
  auto& c = i->second;
  if (c.http)
    return send_line(self, hdl, error_response(nullptr, ec::unavailable, "console closing"));
  if (!why.empty())
    write_line(self, hdl, c, error_response(nullptr, ec::invalid_input, why));
  if (c.tls) { // close_notify, so the client knows nothing was cut off
    c.tls->shutdown();
    write_raw(self, hdl, c.tls->take_output());
  }
  st.conns.erase(i);
  self->close(hdl);
}

void handle_auth(broker_ptr self, hdl_t hdl, console_conn& c, const console_request& req) {
  std::string token;
  console_refusal why;
  if (!string_arg(req, "token", token, why))
    return send_line(self, hdl, error_response(req.id, why.code, why.message));
  auto found = self->state.deps.tokens->find(token);
  if (!found) {
    record_access(self, c, "auth", false, "bad token");
    send_line(self, hdl, error_response(req.id, ec::authority_denied, "unknown token"));
    if (++c.failed_auths >= 3)
      close_conn(self, hdl, "");
    return;
  }
  c.principal = found->principal;
  c.role = found->role;
  record_access(self, c, "auth", true, to_string(c.role));
  send_line(self, hdl, ok_response(req.id, {{"principal", c.principal.value},
                                            {"role", to_string(c.role)},
                                            {"node", self->state.settings.node_id}}));
}

void handle_line(broker_ptr self, hdl_t hdl, std::string_view line) {
  auto& st = self->state;
  auto& c = st.conns.at(hdl);
  ++st.requests;
  // Parsed first (a line is bounded by max_line_bytes), so that every answer, a rate
  // refusal included, echoes the request's id.
  console_request req;
  console_refusal why;
  bool parsed = parse_request(line, req, why);
  if (auto wait = c.bucket.take(now(self), st.settings.rate_per_second, st.settings.burst)) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*wait).count();
    return send_line(self, hdl, error_response(parsed ? req.id : why.id, ec::rate_limited,
                                               "connection over its request rate", 0, ms));
  }
  if (!parsed)
    return send_line(self, hdl, error_response(why.id, why.code, why.message));
  if (req.cmd == "auth")
    return handle_auth(self, hdl, c, req);
  if (c.role == console_role::none)
    return send_line(self, hdl, error_response(req.id, ec::authority_denied,
                                               "authenticate first: {\"cmd\":\"auth\"}"));
  dispatch(self, hdl, c, req);
}

/// An HTTP API request: the bearer token authenticates this one request, the client
/// connection has its own request rate, and the command runs on a connection of its own
/// whose answer goes to the promise. Answers the response line and whether the token
/// was accepted (false: the line is the refusal of a missing or unknown token). A request
/// the HTTP API refused (`refusal`) is answered INVALID_INPUT once the token is accepted.
caf::response_promise handle_http(broker_ptr self, const std::string& token,
                                  const std::string& remote, std::string_view line,
                                  const std::string& refusal) {
  auto& st = self->state;
  auto rp = self->make_response_promise();
  ++st.requests;
  // Limits per client address: every connection from one address shares its rate.
  auto& client = st.http_clients[remote.substr(0, remote.rfind(':'))];
  client.last_seen = self->clock().now();
  console_request req;
  console_refusal why;
  bool parsed = parse_request(line, req, why);
  if (auto wait = client.bucket.take(now(self), st.settings.rate_per_second, st.settings.burst)) {
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(*wait).count();
    rp.deliver(error_response(parsed ? req.id : why.id, ec::rate_limited,
                              "connection over its request rate", 0, ms),
               true);
    return rp;
  }
  if (!parsed) {
    rp.deliver(error_response(why.id, why.code, why.message), true);
    return rp;
  }
  console_conn c;
  c.remote = remote;
  c.http = true;
  c.reply = rp;
  c.last_seen = client.last_seen;
  if (token.empty()) {
    rp.deliver(error_response(req.id, ec::authority_denied,
                              "authenticate first: Authorization: Bearer TOKEN"), false);
    return rp;
  }
  auto found = st.deps.tokens->find(token);
  if (!found) {
    record_access(self, c, "auth", false, "bad token");
    rp.deliver(error_response(req.id, ec::authority_denied, "unknown token"), false);
    return rp;
  }
  c.principal = found->principal;
  c.role = found->role;
  if (!refusal.empty()) { // the HTTP request was refused before it became a command
    rp.deliver(error_response(req.id, ec::invalid_input, refusal), true);
    return rp;
  }
  // Negative ids never name a socket of the broker.
  auto hdl = hdl_t::from_int(-(++st.http_requests));
  auto& conn = st.conns.emplace(hdl, std::move(c)).first->second;
  (*st.http_open)[hdl.id()] = rp;
  ++st.http_in_flight;
  dispatch(self, hdl, conn, req);
  return rp;
}

} // namespace

namespace console_detail {

void dispatch(broker_ptr self, hdl_t hdl, console_conn& c, const console_request& req) {
  if (required_role(req.cmd) > c.role) {
    record_access(self, c, req.cmd, false, "role " + std::string{to_string(c.role)});
    return send_line(self, hdl,
                     error_response(req.id, ec::authority_denied,
                                    req.cmd + " needs the "
                                      + to_string(required_role(req.cmd)) + " role"));
  }
  record_access(self, c, req.cmd, true, req.args.dump().substr(0, 200));
  auto checked = req;
  normalize_args(checked);
  console_refusal why;
  if (!check_args(checked, why)) // every unknown, missing or mistyped argument at once
    return refuse_args(self, hdl, why);
  resolve_and_run(self, hdl, checked);
}

} // namespace console_detail

namespace {

/// Splits plaintext into lines (bounded by max_line) and handles each.
void on_plain(broker_ptr self, hdl_t hdl, const char* data, size_t size) {
  auto& st = self->state;
  st.conns.at(hdl).buffer.append(data, size);
  size_t pos;
  while (st.conns.count(hdl) != 0
         && (pos = st.conns.at(hdl).buffer.find('\n')) != std::string::npos) {
    auto& buf = st.conns.at(hdl).buffer;
    if (pos > st.settings.max_line)
      return close_conn(self, hdl, "line longer than " + std::to_string(st.settings.max_line)
                                     + " bytes");
    std::string line = buf.substr(0, pos);
    buf.erase(0, pos + 1);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (!line.empty())
      handle_line(self, hdl, line);
  }
  if (st.conns.count(hdl) != 0 && st.conns.at(hdl).buffer.size() > st.settings.max_line)
    close_conn(self, hdl, "line longer than " + std::to_string(st.settings.max_line) + " bytes");
}

void on_data(broker_ptr self, hdl_t hdl, const std::vector<char>& data) {
  auto i = self->state.conns.find(hdl);
  if (i == self->state.conns.end())
    return;
  auto& c = i->second;
  c.last_seen = self->clock().now();
  if (!c.tls)
    return on_plain(self, hdl, data.data(), data.size());
  std::string plain;
  bool ok = c.tls->receive(data.data(), data.size(), plain);
  write_raw(self, hdl, c.tls->take_output()); // handshake records, alerts
  if (!ok && !c.tls->error().empty())
    spdlog::info("console: TLS connection from {} closed: {}", c.remote, c.tls->error());
  if (!plain.empty())
    on_plain(self, hdl, plain.data(), plain.size());
  if (!ok)
    close_conn(self, hdl, "");
}

void on_tick(broker_ptr self) {
  auto& st = self->state;
  auto t = self->clock().now();
  std::vector<hdl_t> idle;
  for (auto& [hdl, c] : st.conns) // an HTTP request's wait is bounded by its server
    if (!c.http && t - c.last_seen > st.settings.idle_timeout)
      idle.push_back(hdl);
  for (auto& hdl : idle)
    close_conn(self, hdl, "idle timeout");
  for (auto i = st.http_clients.begin(); i != st.http_clients.end();)
    i = t - i->second.last_seen > st.settings.idle_timeout ? st.http_clients.erase(i) : ++i;
  self->delayed_send(self, std::chrono::seconds{1}, caf::tick_atom_v);
}

void on_committed(broker_ptr self, const std::vector<journal_entry>& entries) {
  answer_waiting_proposals(self, entries);
  auto& st = self->state;
  for (auto& [hdl, c] : st.conns)
    if (c.subscribed && !c.http)
      for (auto& e : entries)
        send_line(self, hdl, push_message("committed", to_json(e)));
}

caf::behavior console_server(broker_ptr self, caf::io::accept_handle, console_settings settings,
                             console_deps deps, std::shared_ptr<tls_context> tls) {
  self->state.tls = std::move(tls);
  self->state.settings = std::move(settings);
  self->state.deps = std::move(deps);
  if (!self->state.deps.tokens)
    self->state.deps.tokens = std::make_shared<token_book>(self->state.settings.tokens);
  self->state.history = std::make_shared<history_pool>(self->state.settings.history_threads,
                                                       self->state.settings.history_queue);
  self->state.epoch = caf::make_timestamp();
  self->state.start = self->clock().now();
  // Killed or stopped, it answers the HTTP requests it holds: the API says 503, not 504.
  self->attach_functor([open = self->state.http_open](const caf::error& why) {
    for (auto& [id, rp] : std::exchange(*open, {}))
      rp.deliver(error_response(nullptr, ec::unavailable,
                                "the console stopped before answering (" + to_string(why)
                                  + "); a proposal may have run: check before repeating"),
                 true);
  });
  self->delayed_send(self, std::chrono::seconds{1}, caf::tick_atom_v);
  return {
    [self](const caf::io::new_connection_msg& msg) {
      auto& st = self->state;
      if (st.conns.size() >= st.settings.max_connections) {
        if (st.tls) { // no plaintext on a TLS port
          self->close(msg.handle);
          return;
        }
        auto line = error_response(nullptr, ec::overloaded, "too many connections", 0, 1000);
        self->write(msg.handle, line.size(), line.data());
        self->flush(msg.handle);
        self->close(msg.handle);
        return;
      }
      auto& c = st.conns[msg.handle];
      c.remote = self->remote_addr(msg.handle) + ":" + std::to_string(self->remote_port(msg.handle));
      c.last_seen = self->clock().now();
      if (st.tls)
        c.tls = std::make_shared<tls_session>(st.tls);
      self->configure_read(msg.handle, caf::io::receive_policy::at_most(16 * 1024));
    },
    [self](const caf::io::new_data_msg& msg) { on_data(self, msg.handle, msg.buf); },
    [self](const caf::io::connection_closed_msg& msg) {
      self->state.conns.erase(msg.handle);
      auto& waiting = self->state.proposes;
      for (auto i = waiting.begin(); i != waiting.end();) // nobody to tell any more
        i = i->second.hdl == msg.handle ? waiting.erase(i) : std::next(i);
    },
    [](const caf::io::acceptor_closed_msg&) {},
    [self](caf::tick_atom) { on_tick(self); },
    [self](atom::committed, const std::vector<journal_entry>& entries) {
      on_committed(self, entries);
    },
    // A line produced off the broker's thread (verify runs on its own thread).
    [self](atom::verify, caf::io::connection_handle hdl, const std::string& line) {
      send_line(self, hdl, line);
    },
    // The verify worker's answer: the worker is free again.
    [self](atom::verify, atom::done, caf::io::connection_handle hdl, const std::string& line) {
      self->state.verify_running = false;
      send_line(self, hdl, line);
    },
    // A history query that timed out or was cancelled: the operational event.
    [self](atom::read, atom::access, const std::string& principal, const std::string& remote,
           const std::string& detail) { record_history_stop(self, principal, remote, detail); },
    [self](caf::get_atom) { return self->state.settings.port; },
    // The HTTP API: (bearer token, client "address:port", request line, refusal of the
    // request or "") -> (response line, token accepted).
    [self](atom::command, const std::string& token, const std::string& remote,
           const std::string& line, const std::string& refusal) {
      return handle_http(self, token, remote, line, refusal);
    },
  };
}

/// The console's broker. CAF 0.17's brokers never close their mailbox when they end (a
/// broker's cleanup skips the step that does it for other actors): a request in it, or
/// one that a door forwards after the broker died, would wait for ever, and the messages
/// it holds would keep their senders (the journal among them) alive. This one closes its
/// mailbox first and answers each request in it with the reason it ended.
class console_broker final : public caf::io::stateful_broker<console_state> {
public:
  using base = caf::io::stateful_broker<console_state>;
  explicit console_broker(caf::actor_config& cfg) : base(cfg) {
  }

  bool cleanup(caf::error&& reason, caf::execution_unit* host) override {
    if (!mailbox().closed()) {
      mailbox().close();
      get_normal_queue().flush_cache();
      get_urgent_queue().flush_cache();
      caf::detail::sync_request_bouncer bounce{reason};
      while (mailbox().queue().new_round(1000, bounce).consumed_items)
        ; // answers every request left, drops the rest
    }
    return base::cleanup(std::move(reason), host);
  }
};

} // namespace

caf::actor spawn_console(caf::actor_system& sys, console_settings settings, console_deps deps,
                         caf::error* failed) {
  std::shared_ptr<tls_context> tls;
  if (!settings.tls_cert.empty() || !settings.tls_key.empty()) {
    auto loaded = tls_context::load(settings.tls_cert, settings.tls_key);
    if (!loaded) {
      if (failed != nullptr)
        *failed = loaded.error();
      return {};
    }
    tls = std::move(*loaded);
  }
  auto host = settings.host;
  auto port = settings.port;
  // A broker that cannot bind its port quits with the reason (its supervisor retries).
  return sys.middleman().spawn_broker(
    [host, port, settings = std::move(settings), deps = std::move(deps),
     tls = std::move(tls)](console_broker* self) mutable -> caf::behavior {
      auto acc = self->add_tcp_doorman(port, host.c_str(), true);
      if (!acc) {
        self->quit(acc.error());
        return {};
      }
      settings.port = acc->second;
      return console_server(self, acc->first, std::move(settings), std::move(deps),
                            std::move(tls));
    });
}

caf::expected<uint16_t> start_console(caf::actor_system& sys, console_settings settings,
                                      console_deps deps, caf::actor& handle) {
  auto host = settings.host;
  auto port = settings.port;
  caf::error failed;
  auto spawned = spawn_console(sys, std::move(settings), std::move(deps), &failed);
  if (!spawned)
    return failed;
  handle = spawned;
  // Ask the broker which port it bound (port 0 picks one).
  caf::scoped_actor self{sys};
  caf::expected<uint16_t> out{refuse(ec::unavailable, "console did not start on " + host + ":"
                                                        + std::to_string(port))};
  self->request(spawned, std::chrono::seconds{5}, caf::get_atom_v)
    .receive([&](uint16_t p) { out = p; }, [&](caf::error&) {});
  return out;
}

} // namespace bulwark
