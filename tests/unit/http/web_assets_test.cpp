// The dashboard's files as the binary holds them: every file of web/ byte for byte, found
// only by its own name, and nothing in them that would load from outside the node.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "actors/http/web_assets.hpp"

using namespace bulwark;

namespace {

std::string read_source(const std::string& name) {
  std::ifstream in{std::string{BULWARK_SOURCE_DIR} + "/web/" + name, std::ios::binary};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

} // namespace

TEST_CASE("web: every file of web/ is embedded byte for byte, with its content type") {
  std::set<std::string> sources, embedded;
  for (auto& f : std::filesystem::directory_iterator{BULWARK_SOURCE_DIR "/web"})
    sources.insert(f.path().filename().string());
  for (auto& a : web_assets()) {
    embedded.insert(std::string{a.name});
    CHECK_MESSAGE(a.body == read_source(std::string{a.name}), a.name);
    auto ext = std::string{a.name.substr(a.name.rfind('.'))};
    auto want = ext == ".html" ? "text/html; charset=utf-8"
                : ext == ".js"  ? "text/javascript; charset=utf-8"
                : ext == ".svg" ? "image/svg+xml" : "text/css; charset=utf-8";
    CHECK_MESSAGE(a.type == want, a.name);
  }
  CHECK(sources == embedded);
  REQUIRE(find_web_asset("") != nullptr);
  CHECK(find_web_asset("")->name == "index.html");
  CHECK(find_web_asset("app.js")->name == "app.js");
}

TEST_CASE("web: only embedded names are found, other paths are 404s") {
  for (auto* bad : {"../CMakeLists.txt", "app.js/..", "APP.JS", "nope.js", "%2e%2e", "/etc/passwd",
                    "app.js ", "index.htm"})
    CHECK_MESSAGE(find_web_asset(bad) == nullptr, bad);
  auto root = web_response("/", "");
  CHECK(root.status == 303);
  CHECK(root.location == "/ui/");
  auto page = web_response("/ui/", "");
  CHECK(page.status == 200);
  CHECK(page.type == "text/html; charset=utf-8");
  CHECK(page.body == find_web_asset("index.html")->body);
  CHECK(web_response("/ui/x", "x").status == 404);
  CHECK(web_response("/ui/app.js", "app.js").status == 200);
}

TEST_CASE("web: the page loads only its own files: no other origin, nothing inline") {
  auto page = std::string{find_web_asset("index.html")->body};
  // Every script and style sheet it names is an embedded file.
  std::regex ref{R"((?:src|href)=\"([^\"#]+)\")"};
  int refs = 0;
  for (std::sregex_iterator i{page.begin(), page.end(), ref}, end; i != end; ++i, ++refs)
    CHECK_MESSAGE(find_web_asset((*i)[1].str()) != nullptr, (*i)[1].str());
  CHECK(refs >= 7);
  // No inline script, handler or style: the Content-Security-Policy would refuse them.
  CHECK(std::regex_search(page, std::regex{R"(<script(?![^>]*\bsrc=))"}) == false);
  CHECK(std::regex_search(page, std::regex{R"(\son[a-z]+=)"}) == false);
  CHECK(page.find("style=") == std::string::npos);
  CHECK(page.find("<style") == std::string::npos);
  for (auto& a : web_assets()) {
    auto body = std::string{a.body};
    // The SVG namespace names a specification; nothing is fetched from it.
    for (auto at = body.find("http://www.w3.org/2000/svg"); at != std::string::npos;
         at = body.find("http://www.w3.org/2000/svg"))
      body.erase(at, 26);
    // No URL of another origin and no protocol-relative one.
    CHECK_MESSAGE(std::regex_search(body, std::regex{R"((https?:)?//[a-z0-9.-]+\.[a-z]{2,})"}) == false,
                  a.name);
    CHECK_MESSAGE(body.find("@import") == std::string::npos, a.name);
    CHECK_MESSAGE(body.find("innerHTML") == std::string::npos, a.name);
    CHECK_MESSAGE(body.find("eval(") == std::string::npos, a.name);
  }
  bool csp = false;
  for (auto& [k, v] : web_headers())
    if (k == "Content-Security-Policy") {
      csp = true;
      CHECK(v.find("default-src 'none'") != std::string_view::npos);
      CHECK(v.find("connect-src 'self'") != std::string_view::npos);
      CHECK(v.find("script-src 'self'") != std::string_view::npos);
    }
  CHECK(csp);
}
