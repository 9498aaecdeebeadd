// The [[effectors]] tables: what is read, and each configuration error naming its key.

#include <doctest/doctest.h>

#include <cstdlib>

#include "effectors/effector_config.hpp"
#include "engine/config_keys.hpp"
#include "messages/error.hpp"
#include "unit/effectors/effector_test_util.hpp"

using namespace bulwark;
using namespace bulwark::test;

namespace {

/// Loads `text` as bulwark.toml; returns the error message ("" if it loaded).
std::string error_of(const temp_dir& dir, const std::string& text) {
  auto path = write_file(dir, "bulwark.toml", text);
  auto r = load_effectors(path);
  if (r)
    return "";
  auto e = describe(r.error());
  CHECK(e.code == ec::invalid_input);
  return e.message.substr(e.message.find(": ") + 2); // without the file
}

} // namespace

TEST_CASE("effectors config: exec and http entries with probes are read") {
  temp_dir dir;
  auto script = write_script(dir, "apply.sh", "exit 0");
  write_file(dir, "token", "s3cret\n");
  write_file(dir, "ca.pem", "pem");
  auto path = write_file(dir, "bulwark.toml",
                         "[node]\nid = \"n1\"\n"
                         "[[effectors]]\nservice = \"web\"\nkind = \"exec\"\n"
                         "command = [\"apply.sh\", \"--now\"]\ntimeout_ms = 1500\n"
                         "env = { MODE = \"live\" }\nmax_output_bytes = 1024\n"
                         "[effectors.probe]\nkind = \"exec\"\ncommand = [\"" + script + "\"]\n"
                         "[[effectors]]\nservice = \"db\"\nkind = \"http\"\n"
                         "url = \"https://127.0.0.1:8443/apply\"\nca_file = \"ca.pem\"\n"
                         "token_file = \"token\"\nconnect_timeout_ms = 300\n");
  auto r = load_effectors(path);
  REQUIRE_MESSAGE(r, describe(r.error()).message);
  REQUIRE(r->size() == 2);
  auto& web = (*r)[0];
  CHECK(web.service == "web");
  CHECK(web.effect.kind == effector_kind::exec);
  CHECK(web.effect.exec.argv == std::vector<std::string>{script, "--now"}); // relative: config dir
  CHECK(web.effect.exec.workdir == dir.path());
  CHECK(web.effect.exec.env == std::vector<std::string>{"MODE=live", "PATH=/usr/local/bin:/usr/bin:/bin"});
  CHECK(web.effect.exec.max_output == 1024);
  CHECK(web.effect.timeout == std::chrono::milliseconds{1500});
  REQUIRE(web.probe);
  CHECK(web.probe->kind == effector_kind::exec);
  auto& db = (*r)[1];
  CHECK(db.effect.kind == effector_kind::http);
  CHECK(db.effect.http.url == "https://127.0.0.1:8443/apply");
  CHECK(db.effect.http.ca_file == dir.sub("ca.pem"));
  CHECK(db.effect.http.token == "s3cret");
  CHECK(db.effect.http.connect_timeout == std::chrono::milliseconds{300});
  CHECK_FALSE(db.probe);
}

TEST_CASE("effectors config: env_pass copies only the named variables the node has") {
  temp_dir dir;
  auto script = write_script(dir, "apply.sh", "exit 0");
  ::setenv("BULWARK_EFFECTOR_PASS", "passed", 1);
  ::unsetenv("BULWARK_EFFECTOR_UNSET");
  auto r = load_effectors(write_file(dir, "bulwark.toml",
                                     "[[effectors]]\nservice = \"web\"\nkind = \"exec\"\n"
                                     "command = [\"apply.sh\"]\nenv = { PATH = \"/bin\" }\n"
                                     "env_pass = [\"BULWARK_EFFECTOR_PASS\", "
                                     "\"BULWARK_EFFECTOR_UNSET\"]\n"));
  REQUIRE_MESSAGE(r, describe(r.error()).message);
  CHECK((*r)[0].effect.exec.env
        == std::vector<std::string>{"PATH=/bin", "BULWARK_EFFECTOR_PASS=passed"});
}

TEST_CASE("effectors config: no [[effectors]] is an empty list") {
  temp_dir dir;
  auto r = load_effectors(write_file(dir, "bulwark.toml", "[node]\nid = \"n1\"\n"));
  REQUIRE(r);
  CHECK(r->empty());
}

TEST_CASE("effectors config: errors are refused naming the key") {
  temp_dir dir;
  auto ok = write_script(dir, "ok.sh", "exit 0");
  auto exec = "kind = \"exec\"\ncommand = [\"" + ok + "\"]\n";
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec
                        + "[[effectors]]\nservice = \"web\"\nkind = \"http\"\nurl = \"http://x/\"\n")
        == "effectors[1].service: service web has an effector already (effectors[0])");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"exec\"\ncommand = [\"/no/such\"]\n")
        == "effectors[0].command: /no/such does not exist");
  auto plain = write_file(dir, "plain.txt", "x");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"exec\"\ncommand = [\"plain.txt\"]\n")
        == "effectors[0].command: " + plain + " is not an executable file");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"exec\"\ncommand = [\"/tmp\"]\n")
        == "effectors[0].command: /tmp is not an executable file");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"exec\"\ncommand = []\n")
        == "effectors[0].command: is required: a non-empty list of strings (no shell)");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"http\"\nurl = \"ftp://x/\"\n")
        == "effectors[0].url: must be an http:// or https:// URL");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"http\"\nurl = \"file:///etc/passwd\"\n")
        == "effectors[0].url: must be an http:// or https:// URL");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"grpc\"\n")
        == "effectors[0].kind: must be exec or http");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n")
        == "effectors[0].kind: is required (exec or http)");
  CHECK(error_of(dir, "[[effectors]]\nkind = \"exec\"\n")
        == "effectors[0].service: must name a service");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec + "shell = true\n")
        == "effectors[0].shell: is not an effector key");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec + "url = \"http://x/\"\n")
        == "effectors[0].url: does not apply to a exec effector");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec + "timeout_ms = 0\n")
        == "effectors[0].timeout_ms: must be milliseconds from 1 to 86400000");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec + "max_output_bytes = 0\n")
        == "effectors[0].max_output_bytes: must be bytes from 1 to 67108864 (64 MiB)");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec
                        + "max_output_bytes = 67108865\n")
        == "effectors[0].max_output_bytes: must be bytes from 1 to 67108864 (64 MiB)");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec + "workdir = \"nowhere\"\n")
        == "effectors[0].workdir: " + dir.sub("nowhere") + " is not a directory");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec + "env = { \"A-B\" = \"x\" }\n")
        == "effectors[0].env: \"A-B\" is not a variable name");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"http\"\nurl = \"http://x/\"\n"
                      "token_file = \"missing\"\n")
        == "effectors[0].token_file: " + dir.sub("missing") + " cannot be read");
  write_file(dir, "two.token", "one\ntwo\n");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\nkind = \"http\"\nurl = \"http://x/\"\n"
                      "token_file = \"two.token\"\n")
        == "effectors[0].token_file: " + dir.sub("two.token") + " must hold one token on one line");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec
                        + "[effectors.probe]\nkind = \"http\"\nurl = \"gopher://x\"\n")
        == "effectors[0].probe.url: must be an http:// or https:// URL");
  CHECK(error_of(dir, "[[effectors]]\nservice = \"web\"\n" + exec
                        + "[effectors.probe]\nkind = \"exec\"\ncommand = [\"/no/probe\"]\n")
        == "effectors[0].probe.command: /no/probe does not exist");
  CHECK(error_of(dir, "effectors = 3\n") == "effectors: must be [[effectors]] tables");
}

TEST_CASE("effectors config: every key of the known-keys table is read: a wrong type names it") {
  // The generic wrong-type test reads bulwark.toml through load_config; the [[effectors]]
  // tables are read by load_effectors, so their keys are held to it here.
  temp_dir dir;
  auto script = write_script(dir, "apply.sh", "exit 0");
  auto exec_base = "kind = \"exec\"\ncommand = [\"" + script + "\"]\n";
  std::string http_base = "kind = \"http\"\nurl = \"http://127.0.0.1:1/apply\"\n";
  auto http_only = [](const std::string& k) {
    return k == "url" || k == "ca_file" || k == "token_file" || k == "connect_timeout_ms";
  };
  size_t checked = 0;
  for (auto& k : expanded_config_keys()) {
    if (k.file != config_file::node || k.kind != key_kind::value
        || k.path.rfind("effectors.", 0) != 0)
      continue;
    auto rest = k.path.substr(std::string{"effectors."}.size());
    bool probe = rest.rfind("probe.", 0) == 0;
    if (probe)
      rest = rest.substr(std::string{"probe."}.size());
    auto key = rest.rfind("env.", 0) == 0 ? std::string{"env"} : rest;
    auto wrong = key == "env" ? std::string{"env = { X = { wrong = 1 } }\n"}
                              : key + " = { wrong = 1 }\n";
    auto base = http_only(key) ? http_base : exec_base;
    if (key == "kind")
      base = "command = [\"" + script + "\"]\n";
    if (key == "command")
      base = "kind = \"exec\"\n";
    if (key == "url")
      base = "kind = \"http\"\n";
    std::string text = "[[effectors]]\n";
    if (key != "service")
      text += "service = \"web\"\n";
    if (probe)
      text += exec_base + "[effectors.probe]\n" + base + wrong;
    else
      text += base + wrong;
    auto message = error_of(dir, text);
    CHECK_MESSAGE(!message.empty(), "a table as the value of " << k.path << " was accepted");
    CHECK_MESSAGE(message.find(key) != std::string::npos, k.path << ": " << message);
    ++checked;
  }
  CHECK(checked == 23); // 12 keys of an entry, 11 of its probe (no service, no probe)
}
