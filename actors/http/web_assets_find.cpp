#include "actors/http/web_assets.hpp"

namespace bulwark {

const web_asset* find_web_asset(std::string_view name) {
  if (name.empty())
    name = "index.html";
  for (auto& a : web_assets())
    if (a.name == name)
      return &a;
  return nullptr;
}

web_reply web_response(std::string_view path, std::string_view file) {
  web_reply out;
  if (path == "/") {
    out.status = 303;
    out.location = "/ui/";
    return out;
  }
  auto* a = find_web_asset(file);
  if (!a)
    return out;
  out.status = 200;
  out.type = a->type;
  out.body = a->body;
  return out;
}

const std::vector<std::pair<std::string_view, std::string_view>>& web_headers() {
  static const std::vector<std::pair<std::string_view, std::string_view>> all = {
    {"Content-Security-Policy",
     "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
     "img-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'"},
    {"X-Content-Type-Options", "nosniff"},
    {"Referrer-Policy", "no-referrer"},
    {"Cache-Control", "no-cache"},
  };
  return all;
}

} // namespace bulwark
