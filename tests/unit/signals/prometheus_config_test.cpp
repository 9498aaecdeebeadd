// The prometheus source's pure parts: reading an instant-query answer, expanding the
// query templates, the query URL, and `[prometheus]` with every error naming its key.

#include <fstream>

#include <doctest/doctest.h>

#include "engine/config_keys.hpp"
#include "messages/error.hpp"
#include "signals/prometheus_answer.hpp"
#include "signals/prometheus_config.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

namespace {

std::string vector_of(const std::string& values) {
  return R"({"status":"success","data":{"resultType":"vector","result":[)" + values + "]}}";
}

std::string sample(const std::string& v) {
  return R"({"metric":{"service":"web"},"value":[1700000000.5,")" + v + R"("]})";
}

std::string write(const temp_dir& dir, const std::string& text) {
  auto path = dir.sub("bulwark.toml");
  std::ofstream{path} << text;
  return path;
}

/// The error `[prometheus]` of `text` gives ("" when it loads).
std::string error_of(const temp_dir& dir, const std::string& text) {
  auto s = load_prometheus(write(dir, text));
  return s ? "" : describe(s.error()).message;
}

const std::string good = "[prometheus]\naddress = \"http://127.0.0.1:9090\"\n"
                         "error_rate = 'rate(e{service=\"{{service}}\",region=\"{{region}}\"}[10s])'\n";

} // namespace

TEST_CASE("an instant vector with one sample gives its value") {
  auto v = read_query_answer(200, vector_of(sample("0.25")));
  CHECK(v.why == no_data::none);
  CHECK(v.value == 0.25);
  CHECK(read_query_answer(200, vector_of(sample("0"))).value == 0);
  CHECK(read_query_answer(200, vector_of(sample("1e-3"))).value == doctest::Approx(0.001));
}

TEST_CASE("every other answer gives no data and says why") {
  struct row {
    long status;
    std::string body;
    no_data why;
    std::string detail;
  };
  std::vector<row> rows{
    {200, vector_of(""), no_data::empty, "no sample"},
    {200, vector_of(sample("NaN")), no_data::not_a_number, "NaN"},
    {200, vector_of(sample("+Inf")), no_data::not_a_number, "+Inf"},
    {200, vector_of(sample("abc")), no_data::malformed, "\"abc\" is not a number"},
    {200, vector_of(sample("1") + "," + sample("2")), no_data::several, "2 samples"},
    {200, R"({"status":"success","data":{"resultType":"matrix","result":[]}})",
     no_data::wrong_type, "matrix"},
    {200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"2"]}})",
     no_data::wrong_type, "scalar"},
    {200, R"({"status":"success","data":{"resultType":"string","result":[1,"x"]}})",
     no_data::wrong_type, "string"},
    {200, "{\"status\":\"succ", no_data::malformed, "not a Prometheus API answer"},
    {200, "", no_data::malformed, "not a Prometheus API answer"},
    {200, "[1,2]", no_data::malformed, "not a Prometheus API answer"},
    {200, R"({"status":"success"})", no_data::malformed, "no data.resultType"},
    {200, R"({"status":"success","data":{"resultType":"vector","result":{}}})",
     no_data::malformed, "not a list"},
    {200, vector_of(R"({"metric":{},"value":[1]})"), no_data::malformed, "[time, \"value\"]"},
    {200, vector_of(R"({"metric":{},"value":[1, 0.5]})"), no_data::malformed, "[time, \"value\"]"},
    {200, R"({"status":"error","errorType":"execution","error":"too many samples"})",
     no_data::query_error, "execution: too many samples"},
    {400, R"({"status":"error","errorType":"bad_data","error":"parse error at char 5"})",
     no_data::http_status, "HTTP 400 (bad_data: parse error at char 5)"},
    {503, "Service Unavailable", no_data::http_status, "HTTP 503"},
  };
  for (auto& r : rows) {
    auto v = read_query_answer(r.status, r.body);
    CHECK_MESSAGE(v.why == r.why, r.body << " gave " << to_string(v.why));
    CHECK_MESSAGE(v.detail.find(r.detail) != std::string::npos, r.body << ": " << v.detail);
    CHECK(v.value == 0);
  }
  CHECK(std::string{to_string(no_data::not_a_number)} == "not_a_number");
}

TEST_CASE("templates take {{service}} and {{region}} and refuse any other placeholder") {
  auto q = expand_query("sum(x{service=\"{{service}}\",region=\"{{region}}\"})", "k", {"web", "eu"});
  REQUIRE(q);
  CHECK(*q == "sum(x{service=\"web\",region=\"eu\"})");
  CHECK(*expand_query("up", "k", {"web", "eu"}) == "up");
  auto bad = expand_query("x{s=\"{{svc}}\"}", "prometheus.error_rate", {"web", "eu"});
  REQUIRE(!bad);
  CHECK(describe(bad.error()).message
        == "prometheus.error_rate: unknown placeholder {{svc}} (known: {{service}}, {{region}})");
  auto open = expand_query("x{s=\"{{service\"}", "k", {"web", "eu"});
  REQUIRE(!open);
  CHECK(describe(open.error()).message.find("unclosed {{") != std::string::npos);
}

TEST_CASE("the query URL percent-encodes the expression") {
  CHECK(query_url("http://127.0.0.1:9090/", "sum(rate(x{a=\"b c\"}[10s]))")
        == "http://127.0.0.1:9090/api/v1/query?query=sum%28rate%28x%7Ba%3D%22b%20c%22%7D%5B10s%5D%29%29");
  CHECK(query_url("http://h/prom", "a/b+c") == "http://h/prom/api/v1/query?query=a%2Fb%2Bc");
}

TEST_CASE("[prometheus] loads with its defaults, and is absent without the section") {
  temp_dir dir;
  auto none = load_prometheus(write(dir, "[node]\nid = \"n\"\n"));
  REQUIRE(none);
  CHECK(!*none);
  auto s = load_prometheus(write(dir, good));
  REQUIRE(s);
  REQUIRE(*s);
  CHECK((*s)->address == "http://127.0.0.1:9090");
  CHECK((*s)->interval == std::chrono::milliseconds{1000});
  CHECK((*s)->timeout == std::chrono::milliseconds{2000});
  CHECK((*s)->latency_ms.empty());
  CHECK((*s)->series.empty());
  auto full = load_prometheus(write(dir, good + "interval_ms = 250\ntimeout_ms = 100\n"
                                              "latency_ms = 'l{s=\"{{service}}\"}'\n"
                                              "series = [ { service = \"web\", region = \"eu\" },"
                                              " { service = \"web\", region = \"us\" } ]\n"));
  REQUIRE(full);
  CHECK((*full)->interval == std::chrono::milliseconds{250});
  CHECK((*full)->timeout == std::chrono::milliseconds{100});
  CHECK((*full)->latency_ms == "l{s=\"{{service}}\"}");
  REQUIRE((*full)->series.size() == 2);
  CHECK((*full)->series[1] == signal_series{"web", "us"});
}

TEST_CASE("[prometheus] errors name the file and the key") {
  temp_dir dir;
  auto path = dir.sub("bulwark.toml");
  CHECK(error_of(dir, "[prometheus]\nerror_rate = 'up'\n")
        == path + ": prometheus.address: is required: the server's http:// or https:// address");
  CHECK(error_of(dir, "[prometheus]\naddress = \"ftp://h\"\nerror_rate = 'up'\n").find(
          "prometheus.address") != std::string::npos);
  CHECK(error_of(dir, "[prometheus]\naddress = \"http://h\"\n").find(
          path + ": prometheus.error_rate: is required") == 0);
  CHECK(error_of(dir, good + "interval_ms = 0\n")
        == path + ": prometheus.interval_ms: must be an integer from 10 to 3600000");
  CHECK(error_of(dir, good + "timeout_ms = \"1s\"\n")
        == path + ": prometheus.timeout_ms: must be an integer from 1 to 600000");
  CHECK(error_of(dir, good + "latency_ms = 'l{r=\"{{zone}}\"}'\n")
        == path + ": prometheus.latency_ms: unknown placeholder {{zone}} (known: {{service}}, "
                  "{{region}})");
  CHECK(error_of(dir, good + "series = [ { service = \"web\" } ]\n")
        == path + ": prometheus.series[0]: needs a non-empty service and region");
  CHECK(error_of(dir, good + "series = [ { service = \"web\", region = \"eu\", zone = 1 } ]\n")
        == path + ": prometheus.series[0].zone: unknown key (service, region)");
  CHECK(error_of(dir, good + "series = [ { service = \"a\", region = \"b\" }, "
                             "{ service = \"a\", region = \"b\" } ]\n")
        == path + ": prometheus.series[1]: repeats a/b");
  CHECK(error_of(dir, "prometheus = 3\n") == path + ": prometheus: must be a table");
  CHECK(error_of(dir, "[prometheus\n").find(path + ":1:") == 0);
}

TEST_CASE("every [prometheus] key of the table is read: a wrong type is refused naming it") {
  temp_dir dir;
  size_t checked = 0;
  for (auto& k : expanded_config_keys()) {
    if (k.kind != key_kind::value || k.path.rfind("prometheus.", 0) != 0)
      continue;
    auto key = k.path.substr(k.path.rfind('.') + 1);
    std::string text = k.path.rfind("prometheus.series.", 0) == 0
                         ? good + "series = [ { " + key + " = { wrong = 1 } } ]\n"
                         : "[prometheus]\naddress = \"http://h\"\nerror_rate = 'up'\n" + key
                             + " = { wrong = 1 }\n";
    if (key == "address" || key == "error_rate") // the key is given once, wrongly
      text = key == "address" ? "[prometheus]\naddress = { wrong = 1 }\nerror_rate = 'up'\n"
                              : "[prometheus]\naddress = \"http://h\"\nerror_rate = { wrong = 1 }\n";
    auto err = error_of(dir, text);
    CHECK_MESSAGE(err.find(key) != std::string::npos, k.path << ": " << err);
    ++checked;
  }
  CHECK(checked == 7);
}
