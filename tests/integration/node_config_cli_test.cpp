// `bulwark node` refuses a configuration it does not understand, says when nobody can
// sign in, names the option of a port in use, and in each case writes nothing to disk.
// And every `--json` output carries whole hashes and ids.

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "support/temp_dir.hpp"
#include "support/whole_hashes.hpp"

using bulwark::test::cut_hex;
using bulwark::test::run_command;
using bulwark::test::temp_dir;

namespace {

const std::string bulwark_bin = BULWARK_BINARY;

/// Runs a node for at most `seconds` (SIGTERM then) and returns its exit code and output.
int run_node(const std::string& config, const std::string& data, const std::string& extra,
             std::string& out, int seconds = 20) {
  out.clear();
  return run_command("timeout -k 5 " + std::to_string(seconds) + " " + bulwark_bin
                       + " node --config " + config + " --data " + data + " " + extra,
                     &out);
}

std::string write(const temp_dir& dir, const std::string& text) {
  auto path = dir.sub("bulwark.toml");
  std::ofstream{path} << text;
  return path;
}

/// A socket listening on a free loopback port, closed with its scope.
struct busy_port {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  uint16_t port = 0;
  busy_port() {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd, 4) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port = ntohs(addr.sin_port);
  }
  ~busy_port() {
    ::close(fd);
  }
};

const std::string token_table = "[[console.tokens]]\nsha256 = \"" + std::string(64, 'a')
                                + "\"\nprincipal = \"ops\"\nrole = \"operator\"\n";

} // namespace

TEST_CASE("node: a misspelled key or section exits 1 naming the file, the key and the "
          "nearest name, and creates no journal") {
  temp_dir dir;
  auto data = dir.sub("journal");
  std::string out;
  auto cfg = write(dir, "[authority]\naproval_timeout_ms = 1000\nenforce_enable = true\n");
  CHECK(run_node(cfg, data, "", out) == 1);
  CHECK_MESSAGE(out.find(cfg + ": authority.aproval_timeout_ms: unknown key (did you mean "
                               "authority.approval_timeout_ms?)") != std::string::npos, out);
  CHECK_MESSAGE(out.find(cfg + ": authority.enforce_enable: unknown key (did you mean "
                               "authority.enforce_enabled?)") != std::string::npos, out);
  CHECK(!std::filesystem::exists(data));
  cfg = write(dir, "[authorty]\nenforce_enabled = true\n");
  CHECK(run_node(cfg, data, "", out) == 1);
  CHECK_MESSAGE(out.find(cfg + ": [authorty]: unknown section (did you mean [authority]?)")
                  != std::string::npos, out);
  CHECK(!std::filesystem::exists(data));
  // A bad fleet file is refused before anything is written too.
  std::ofstream{dir.sub("fleet.toml")} << "[[resource]]\nid = \"a\"\nservice = \"s\"\n";
  cfg = write(dir, token_table);
  CHECK(run_node(cfg, data, "--fleet " + dir.sub("fleet.toml"), out) == 1);
  CHECK_MESSAGE(out.find("resource[0].region") != std::string::npos, out);
  CHECK(!std::filesystem::exists(data));
}

TEST_CASE("node: a console or metrics port in use names the option and writes nothing") {
  temp_dir dir;
  busy_port busy;
  auto data = dir.sub("journal");
  auto at = "127.0.0.1:" + std::to_string(busy.port);
  std::string out;
  auto cfg = write(dir, "[console]\nlisten = \"" + at + "\"\n[metrics]\nlisten = \"off\"\n"
                          + token_table);
  CHECK(run_node(cfg, data, "", out) == 2);
  CHECK_MESSAGE(out.find("the console cannot listen on " + at) != std::string::npos, out);
  CHECK_MESSAGE(out.find("change console.listen in " + cfg + " or pass --console HOST:PORT")
                  != std::string::npos, out);
  CHECK(!std::filesystem::exists(data));
  cfg = write(dir, "[console]\nlisten = \"127.0.0.1:0\"\n" + token_table);
  CHECK(run_node(cfg, data, "--metrics " + at, out) == 2);
  CHECK_MESSAGE(out.find("the metrics endpoint cannot listen on " + at) != std::string::npos, out);
  CHECK_MESSAGE(out.find("change metrics.listen in " + cfg) != std::string::npos, out);
  CHECK(!std::filesystem::exists(data));
}

TEST_CASE("node: without a console token it warns at start, naming the key to set") {
  temp_dir dir;
  std::string out;
  auto cfg = write(dir, "[console]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"off\"\n");
  // The node runs until `timeout` stops it (exit 124); the warning comes first.
  CHECK(run_node(cfg, dir.sub("journal"), "", out, 3) == 124);
  CHECK_MESSAGE(out.find("bulwark: warning: " + cfg + " configures no console token, so nobody "
                         "can sign in to the console: add a [[console.tokens]] table")
                  != std::string::npos, out);
  CHECK(out.find("bulwark node ") != std::string::npos); // it started all the same
  temp_dir with;
  cfg = write(with, "[console]\nlisten = \"127.0.0.1:0\"\n[metrics]\nlisten = \"off\"\n"
                      + token_table);
  CHECK(run_node(cfg, with.sub("journal"), "", out, 3) == 124);
  CHECK_MESSAGE(out.find("warning") == std::string::npos, out);
}

TEST_CASE("the shipped bulwark.toml starts a node") {
  temp_dir dir;
  std::string out;
  CHECK(run_node(BULWARK_SOURCE_DIR "/conf/bulwark.toml", dir.sub("journal"),
                 "--console 127.0.0.1:0 --metrics off", out, 3) == 124);
  CHECK_MESSAGE(out.find("bulwark node node-1: journal") != std::string::npos, out);
}

TEST_CASE("every --json output carries whole hashes and ids") {
  temp_dir dir;
  auto data = dir.sub("j");
  std::string out;
  // Only standard output is the JSON (the logs on stderr are text for people).
  auto json_of = [&](const std::string& args) {
    out.clear();
    return run_command("(" + bulwark_bin + " " + args + " 2>/dev/null)", &out);
  };
  REQUIRE(json_of("demo --json --data " + data) == 0);
  CHECK_MESSAGE(cut_hex(out).empty(), "demo: " << cut_hex(out));
  CHECK(out.find("\"head_chain\"") != std::string::npos);
  std::vector<std::string> commands = {
    "verify --json --data " + data,
    "replay --json --data " + data,
    "log --json --from 1 --to 2000 --data " + data,
    "backup --json --data " + data + " --out " + dir.sub("b.mdb"),
    "restore --json --from " + dir.sub("b.mdb") + " --data " + dir.sub("r") + " --to-seq 500",
  };
  for (auto& c : commands) {
    REQUIRE_MESSAGE(json_of(c) == 0, c);
    CHECK_MESSAGE(cut_hex(out).empty(), c << ": " << cut_hex(out));
  }
}

TEST_CASE("the whole-hash check finds a cut hash and passes whole ones") {
  CHECK(cut_hex("{\"chain\":\"" + std::string(64, 'a') + "\"}").empty());
  CHECK(cut_hex("{\"chain\":\"0123456789abcdef\"}") == "0123456789abcdef");
  CHECK(cut_hex("n1: chain 0123456789abcdef...") == "0123456789abcdef");
  CHECK(cut_hex("{\"seq\":123456789012,\"name\":\"deadbeef_x\"}").empty());
}
