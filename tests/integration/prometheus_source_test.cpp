// The prometheus source against a fake Prometheus (cpp-httplib on a loopback port) and an
// engine on the virtual clock: samples reach the detector and a high error rate raises a
// candidate; bad answers (empty, NaN, matrix, malformed, a PromQL error, a slow answer)
// give "no data" with their reason and feed nothing; an unreachable server is the
// SIGNAL-SOURCE indicator, warning after one failed round and critical after three.
// And `bulwark node` refuses an unknown placeholder at start, naming the key.

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <doctest/doctest.h>
#include <httplib.h>

#include "actors/console/metrics.hpp"
#include "integration/engine_fixture.hpp"
#include "messages/error.hpp"
#include "signals/prometheus_source.hpp"

using namespace bulwark;
using namespace std::chrono_literals;
using test::engine_fixture;

namespace {

/// A fake Prometheus: `/api/v1/query` answers each series with its mode ("0.25" is a
/// value; "empty", "nan", "matrix", "malformed", "bad_query", "down" (503), "slow"); the
/// mode of "latency", when set, answers every latency query.
struct fake_prometheus {
  httplib::Server svr;
  std::thread runner;
  int port = 0;
  std::mutex mtx;
  std::map<std::string, std::string> modes; ///< "service/region" -> mode
  size_t queries = 0;

  fake_prometheus() {
    svr.set_tcp_nodelay(true); // as Prometheus: no Nagle delay on small answers
    svr.Get("/api/v1/query", [this](const httplib::Request& req, httplib::Response& res) {
      auto q = req.get_param_value("query");
      std::string mode = "empty";
      {
        std::lock_guard<std::mutex> guard{mtx};
        ++queries;
        for (auto& [series, m] : modes) {
          auto slash = series.find('/');
          if (q.find("service=\"" + series.substr(0, slash) + "\"") != std::string::npos
              && q.find("region=\"" + series.substr(slash + 1) + "\"") != std::string::npos)
            mode = m;
        }
        if (auto l = modes.find("latency"); l != modes.end() && q.find("latency") != std::string::npos)
          mode = l->second; // the latency queries' own answer

      }
      res.set_content(body(mode, res), "application/json");
    });
    port = svr.bind_to_any_port("127.0.0.1");
    REQUIRE(port > 0);
    runner = std::thread{[this] { svr.listen_after_bind(); }};
    for (int i = 0; i < 200 && !svr.is_running(); ++i)
      std::this_thread::sleep_for(5ms);
  }

  ~fake_prometheus() {
    svr.stop();
    runner.join();
  }

  static std::string body(const std::string& mode, httplib::Response& res) {
    auto vec = [](const std::string& inner) {
      return R"({"status":"success","data":{"resultType":"vector","result":[)" + inner + "]}}";
    };
    if (mode == "empty")
      return vec("");
    if (mode == "nan")
      return vec(R"({"metric":{},"value":[1.5,"NaN"]})");
    if (mode == "matrix")
      return R"({"status":"success","data":{"resultType":"matrix","result":[]}})";
    if (mode == "malformed")
      return "<html>not json</html>";
    if (mode == "bad_query") {
      res.status = 400;
      return R"({"status":"error","errorType":"bad_data","error":"parse error"})";
    }
    if (mode == "down") {
      res.status = 503;
      return "unavailable";
    }
    if (mode == "slow") {
      std::this_thread::sleep_for(2500ms); // past the source's 1 s timeout
      return vec(R"({"metric":{},"value":[1.5,"0.01"]})");
    }
    return vec(R"({"metric":{},"value":[1.5,")" + mode + R"("]})");
  }

  void set(const std::string& series, const std::string& mode) {
    std::lock_guard<std::mutex> guard{mtx};
    modes[series] = mode;
  }

  std::string address() const {
    return "http://127.0.0.1:" + std::to_string(port);
  }
};

prometheus_settings settings_for(const std::string& address) {
  prometheus_settings s;
  s.address = address;
  s.timeout = 1s;
  s.error_rate = "sum(err{service=\"{{service}}\",region=\"{{region}}\"})";
  s.series = {{"coaster", "north"}, {"coaster", "south"}, {"gates", "north"}};
  return s;
}

std::unique_ptr<prometheus_source> source_for(engine& eng, prometheus_settings s) {
  signal_sinks sinks{[&eng](const metric_sample& m) { return eng.feed_metric(m); },
                     [&eng] { return eng.now(); },
                     [&eng](double n) { REQUIRE(eng.set_indicator("prometheus_failed_rounds", n)); }};
  auto src = prometheus_source::make(std::move(s), std::move(sinks));
  REQUIRE(src);
  return std::move(*src);
}

const series_report& series(const source_report& r, const std::string& service,
                            const std::string& region) {
  for (auto& s : r.series)
    if (s.service == service && s.region == region)
      return s;
  FAIL("no series " << service << "/" << region);
  return r.series.front();
}

const health_indicator* indicator(const health_info& h, const std::string& id) {
  for (auto& i : h.indicators)
    if (i.id == id)
      return &i;
  return nullptr;
}

std::string mode_level(const health_info& h, const std::string& id) {
  for (auto& m : h.modes)
    if (m.id == id)
      return m.level;
  return "?";
}

} // namespace

TEST_CASE_FIXTURE(engine_fixture, "samples from Prometheus reach the detector, a high error "
                                  "rate raises a candidate") {
  fake_prometheus prom;
  for (auto* s : {"coaster/north", "coaster/south", "gates/north"})
    prom.set(s, "0.01");
  auto src = source_for(*eng, settings_for(prom.address()));
  CHECK(src->board()->get().series.size() == 3);
  CHECK(!src->board()->get().series[0].polled); // "waiting" until the first round
  for (int i = 0; i < 20; ++i) {
    eng->advance(1s);
    src->poll_once();
  }
  auto r = src->board()->get();
  CHECK(r.rounds == 20);
  CHECK(r.samples == 60);
  CHECK(r.refused == 0);
  CHECK(r.errors.empty());
  CHECK(eng->metric_stats().accepted == 60);
  CHECK(series(r, "coaster", "north").why == no_data::none);
  CHECK(series(r, "coaster", "north").error_rate == doctest::Approx(0.01));
  auto j = signals_json(r);
  CHECK(j["reachable"] == true);
  CHECK(j["series"][0]["detection"] == "ok");
  auto text = render_signal_metrics(j);
  CHECK(text.find("bulwark_signal_series_no_data{service=\"gates\",region=\"north\"} 0\n")
        != std::string::npos);
  CHECK(text.find("bulwark_signal_no_value_total{") == std::string::npos);
  CHECK(eng->candidates().empty());
  prom.set("coaster/north", "0.4");
  for (int i = 0; i < 40 && eng->candidates().empty(); ++i) {
    eng->advance(1s);
    src->poll_once();
  }
  auto cands = eng->candidates();
  REQUIRE(cands.size() == 1);
  CHECK(cands[0].service == "coaster");
  CHECK(cands[0].region == "north");
  CHECK(indicator(eng->health(), "prometheus_failed_rounds")->value == 0);
}

TEST_CASE_FIXTURE(engine_fixture, "a bad answer gives the series no data with its reason and "
                                  "feeds nothing") {
  fake_prometheus prom;
  auto s = settings_for(prom.address());
  s.latency_ms = "lat{service=\"{{service}}\",region=\"{{region}}\",q=\"latency\"}";
  auto src = source_for(*eng, s);
  struct row {
    std::string mode;
    no_data why;
  };
  for (auto& [mode, why] : {row{"empty", no_data::empty}, row{"nan", no_data::not_a_number},
                            row{"matrix", no_data::wrong_type},
                            row{"malformed", no_data::malformed},
                            row{"bad_query", no_data::http_status},
                            row{"slow", no_data::timeout}}) {
    CAPTURE(mode);
    prom.set("coaster/north", mode);
    prom.set("coaster/south", "0.02");
    prom.set("gates/north", "0.03");
    auto before = eng->metric_stats().accepted;
    eng->advance(1s);
    src->poll_once();
    auto r = src->board()->get();
    auto& bad = series(r, "coaster", "north");
    CHECK(bad.polled);
    CHECK(bad.why == why);
    CHECK(!bad.detail.empty());
    // A timeout is a round that did not reach the server: the other series are not asked
    // in that round and share its reason.
    bool timed_out = why == no_data::timeout;
    CHECK(r.errors[to_string(why)] == (timed_out ? 3u : 1u));
    auto fed = timed_out ? 0u : 2u;
    CHECK(eng->metric_stats().accepted == before + fed);
    auto j = signals_json(r);
    CHECK(j["series"][0]["detection"] == "no_data");
    CHECK(j["series"][0]["reason"] == to_string(why));
    CHECK(j["series"][0].count("error_rate") == 0); // no value is shown as healthy
    CHECK(j["reachable"] == !timed_out);
  }
  auto r = src->board()->get();
  auto text = render_signal_metrics(signals_json(r));
  CHECK(text.find("bulwark_signal_series_no_data{service=\"coaster\",region=\"north\"} 1\n")
        != std::string::npos);
  CHECK(text.find("bulwark_signal_failed_rounds 1\n") != std::string::npos); // the timeout
  CHECK(text.find("bulwark_signal_samples_total 10\n") != std::string::npos);
  CHECK(text.find("bulwark_signal_no_value_total{reason=\"wrong_type\"} 1\n") != std::string::npos);
  CHECK(text.find("bulwark_signal_no_value_total{reason=\"timeout\"} 3\n") != std::string::npos);
  CHECK(r.rounds == 6);
  CHECK(r.samples == 10);
  CHECK(series(r, "gates", "north").why == no_data::timeout);
  // The latency query's own bad answer is the series' reason too.
  prom.set("coaster/north", "0.01");
  prom.set("latency", "nan");
  eng->advance(1s);
  src->poll_once();
  r = src->board()->get();
  CHECK(series(r, "coaster", "north").why == no_data::not_a_number);
  CHECK(r.samples == 10);
  prom.set("latency", "12.5");
  eng->advance(1s);
  src->poll_once();
  r = src->board()->get();
  CHECK(series(r, "gates", "north").why == no_data::none);
  CHECK(series(r, "gates", "north").error_rate == doctest::Approx(0.03));
  CHECK(series(r, "gates", "north").latency_ms == doctest::Approx(12.5));
  CHECK(r.samples == 13);
}

TEST_CASE_FIXTURE(engine_fixture, "an unreachable Prometheus warns after one failed round, is "
                                  "critical after three, and recovers") {
  // Each count of failed rounds is held for health.sustain_rounds (3) health rounds before
  // its level rises.
  fake_prometheus prom;
  for (auto* s : {"coaster/north", "coaster/south", "gates/north"})
    prom.set(s, "0.01");
  auto src = source_for(*eng, settings_for(prom.address()));
  eng->advance(1s);
  src->poll_once();
  eng->advance(1s);
  auto h = eng->health();
  CHECK(indicator(h, "prometheus_failed_rounds")->sampled);
  CHECK(indicator(h, "prometheus_failed_rounds")->level == "normal");
  CHECK(mode_level(h, "SIGNAL-SOURCE") == "normal");
  for (auto* s : {"coaster/north", "coaster/south", "gates/north"})
    prom.set(s, "down"); // HTTP 503: the server cannot answer
  size_t asked = prom.queries;
  src->poll_once();
  CHECK(prom.queries == asked + 1); // the round stops asking once the server is down
  eng->advance(1s);
  h = eng->health();
  CHECK(indicator(h, "prometheus_failed_rounds")->value == 1);
  CHECK(indicator(h, "prometheus_failed_rounds")->level == "normal"); // not sustained yet
  eng->advance(2s);
  h = eng->health();
  CHECK(indicator(h, "prometheus_failed_rounds")->value == 1);
  CHECK(indicator(h, "prometheus_failed_rounds")->level == "degraded");
  CHECK(mode_level(h, "SIGNAL-SOURCE") == "degraded");
  auto r = src->board()->get();
  CHECK(r.failed_rounds == 1);
  for (auto& s : r.series)
    CHECK(s.why == no_data::http_status);
  src->poll_once();
  src->poll_once();
  eng->advance(3s);
  h = eng->health();
  CHECK(indicator(h, "prometheus_failed_rounds")->value == 3);
  CHECK(indicator(h, "prometheus_failed_rounds")->level == "critical");
  CHECK(h.level == "critical");
  bool warned = false;
  for (auto& e : events)
    warned |= e.type == "early_warning" && e.json.find("\"SIGNAL-SOURCE\"") != std::string::npos;
  CHECK(warned);
  for (auto* s : {"coaster/north", "coaster/south", "gates/north"})
    prom.set(s, "0.01");
  src->poll_once();
  eng->advance(1s);
  h = eng->health();
  CHECK(indicator(h, "prometheus_failed_rounds")->value == 0);
  CHECK(mode_level(h, "SIGNAL-SOURCE") == "normal");
  CHECK(src->board()->get().series[0].why == no_data::none);
}

TEST_CASE_FIXTURE(engine_fixture, "a server that is not there: every series is unreachable") {
  int dead_port = 0;
  {
    fake_prometheus gone; // a port that was free a moment ago, nothing listens now
    dead_port = gone.port;
  }
  auto src = source_for(*eng, settings_for("http://127.0.0.1:" + std::to_string(dead_port)));
  src->poll_once();
  auto r = src->board()->get();
  CHECK(r.failed_rounds == 1);
  CHECK(r.errors["unreachable"] == 3);
  for (auto& s : r.series)
    CHECK(s.why == no_data::unreachable);
  CHECK(eng->metric_stats().accepted == 0);
  CHECK(!eng->set_indicator("no_such_indicator", 1));
}

TEST_CASE("the source runs on its own thread until stopped") {
  fake_prometheus prom;
  prom.set("coaster/north", "0.01");
  auto s = settings_for(prom.address());
  s.interval = 20ms;
  s.series = {{"coaster", "north"}};
  std::atomic<int> fed{0};
  signal_sinks sinks{[&fed](const metric_sample& m) { return m.error_rate == 0.01 && ++fed > 0; },
                     [] { return std::chrono::system_clock::now(); }, nullptr};
  auto made = prometheus_source::make(s, std::move(sinks));
  REQUIRE(made);
  auto src = std::move(*made);
  src->start();
  for (int i = 0; i < 500 && src->board()->get().rounds < 3; ++i)
    std::this_thread::sleep_for(10ms);
  src->stop();
  auto rounds = src->board()->get().rounds;
  CHECK(rounds >= 3);
  std::this_thread::sleep_for(60ms);
  CHECK(src->board()->get().rounds == rounds); // stopped: no round after stop
  CHECK(fed.load() == static_cast<int>(rounds));
}

TEST_CASE("prometheus_source::make refuses no series and names a bad template's key") {
  auto s = settings_for("http://127.0.0.1:1");
  s.series.clear();
  auto none = prometheus_source::make(s, {});
  REQUIRE(!none);
  CHECK(describe(none.error()).message.find("prometheus.series: no series") == 0);
  s = settings_for("http://127.0.0.1:1");
  s.latency_ms = "x{{host}}";
  auto bad = prometheus_source::make(s, {});
  REQUIRE(!bad);
  CHECK(describe(bad.error()).message.find("prometheus.latency_ms: unknown placeholder {{host}}")
        == 0);
}

TEST_CASE("node: an unknown placeholder or a source without series stops it at start") {
  test::temp_dir dir;
  auto cfg = dir.sub("bulwark.toml");
  std::ofstream{cfg} << "[console]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"off\"\n"
                        "[prometheus]\naddress = \"http://127.0.0.1:9\"\n"
                        "error_rate = 'e{s=\"{{service}}\",h=\"{{host}}\"}'\n";
  std::string out;
  auto node = std::string{"timeout -k 5 20 "} + BULWARK_BINARY + " node --config " + cfg
              + " --data " + dir.sub("journal");
  CHECK(test::run_command(node, &out) == 1);
  CHECK_MESSAGE(out.find(cfg + ": prometheus.error_rate: unknown placeholder {{host}}")
                  != std::string::npos, out);
  CHECK(!std::filesystem::exists(dir.sub("journal")));
  std::ofstream{cfg} << "[console]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"off\"\n"
                        "[prometheus]\naddress = \"http://127.0.0.1:9\"\nerror_rate = 'up'\n";
  CHECK(test::run_command(node, &out) == 1);
  CHECK_MESSAGE(out.find("prometheus.series: no series") != std::string::npos, out);
  CHECK(!std::filesystem::exists(dir.sub("journal")));
}

TEST_CASE("the signal metrics escape label values and show a series without data as 1") {
  nlohmann::json s{{"failed_rounds", 2},
                   {"samples", 0},
                   {"errors", {{"unreachable", 4}}},
                   {"series", {{{"service", "a\"b"}, {"region", "x\\y\nz"}, {"detection", "waiting"}}}}};
  auto text = render_signal_metrics(s);
  CHECK(text.find("bulwark_signal_series_no_data{service=\"a\\\"b\",region=\"x\\\\y\\nz\"} 1\n")
        != std::string::npos);
  CHECK(text.find("bulwark_signal_failed_rounds 2\n") != std::string::npos);
  CHECK(text.find("bulwark_signal_no_value_total{reason=\"unreachable\"} 4\n") != std::string::npos);
  CHECK(text.back() == '\n');
}
