#pragma once

/// The web dashboard's files (web/ in the source tree), built into the binary by
/// cmake/embed_web.cmake: the node serves them under /ui/ with nothing fetched from
/// elsewhere (docs/dashboard.md).

#include <string_view>
#include <utility>
#include <vector>

namespace bulwark {

struct web_asset {
  std::string_view name; ///< the file's name, e.g. "app.js"
  std::string_view type; ///< its Content-Type
  std::string_view body;
};

/// Every embedded file, in the order of web/'s listing.
const std::vector<web_asset>& web_assets();

/// The file called `name` ("" or "index.html" is the page), or null: only names of
/// embedded files are found, so no path outside them can be asked for.
const web_asset* find_web_asset(std::string_view name);

/// The answer to a request for the dashboard: `GET /` redirects to the page, `GET /ui/`
/// is the page, `GET /ui/{file}` one of its files; anything else is a 404.
struct web_reply {
  int status = 404;
  std::string_view type;     ///< Content-Type (empty for a redirect or a 404)
  std::string_view body;
  std::string_view location; ///< a redirect's target
};
web_reply web_response(std::string_view path, std::string_view file);

/// The headers every dashboard file is served with: a Content-Security-Policy that lets
/// the page load and connect only to the node itself, no sniffing, no caching.
const std::vector<std::pair<std::string_view, std::string_view>>& web_headers();

} // namespace bulwark
