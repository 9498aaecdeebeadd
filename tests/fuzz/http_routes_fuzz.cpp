// libFuzzer target for the HTTP API's pure core: any route, path parameter, query and body
// is refused or becomes a console request line the console parses back to the same command;
// any response line is read or refused without crashing, with a status from 200 to 599.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/http/http_routes.hpp"

using namespace bulwark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2)
    return 0;
  auto& routes = http_routes();
  auto& r = routes[data[0] % routes.size()];
  std::string_view rest{reinterpret_cast<const char*>(data + 1), size - 1};
  // param \n from \n to \n body
  std::string parts[3];
  for (auto& p : parts) {
    auto nl = rest.find('\n');
    p = std::string{rest.substr(0, nl)};
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
  }
  std::map<std::string, std::string> query;
  if (!parts[1].empty())
    query["from"] = parts[1];
  if (!parts[2].empty())
    query["to"] = parts[2];
  console_request req;
  console_refusal why;
  if (http_request(r, parts[0], query, rest, req, why)) {
    auto line = nlohmann::json{{"cmd", req.cmd}, {"args", req.args}}.dump(
      -1, ' ', false, nlohmann::json::error_handler_t::replace);
    console_request back;
    console_refusal back_why;
    if (r.builtin == http_builtin::none
        && (!parse_request(line, back, back_why) || back.cmd != r.command))
      std::abort();
    std::vector<metric_in> samples;
    if (r.command == "report")
      parse_samples(req, caf::timestamp{}, samples, back_why);
  } else if (why.message.empty() || why.code != ec::invalid_input) {
    std::abort();
  }
  int status = 0;
  nlohmann::json body;
  for (bool authed : {false, true})
    if (http_response(rest, authed, status, body) && (status < 200 || status > 599))
      std::abort();
  // A console-rendered ok answer goes out unparsed: the same bytes as its body dumped.
  (void)http_ok_result(rest);
  if (http_response(rest, true, status, body) && status == 200
      && http_ok_result(ok_response(nullptr, body))
           != body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
    std::abort();
  return 0;
}
