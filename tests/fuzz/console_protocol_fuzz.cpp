// libFuzzer target for the console protocol's parser, its argument checks and response
// builders: any input line must be refused or parsed without crashing, and every
// response (a refusal of bad arguments included) must be one valid JSON line.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "actors/console/command_table.hpp"
#include "actors/console/console_protocol.hpp"

using namespace bulwark;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view line{reinterpret_cast<const char*>(data), size};
  console_request req;
  console_refusal why;
  std::string response;
  if (parse_request(line, req, why)) {
    std::string s;
    uint64_t n = 0;
    console_refusal arg_why;
    string_arg(req, "token", s, arg_why);
    uint_arg(req, "from", n, arg_why);
    (void) required_role(req.cmd);
    normalize_args(req);
    response = check_args(req, arg_why) ? ok_response(req.id, req.args)
                                        : error_response(arg_why.id, arg_why.code, arg_why.message);
  } else {
    response = error_response(why.id, why.code, why.message);
  }
  if (response.empty() || response.back() != '\n'
      || response.find('\n') != response.size() - 1
      || nlohmann::json::parse(response, nullptr, false).is_discarded())
    std::abort();
  return 0;
}
