// `bulwark keygen`, `bulwark head` and `bulwark verify --head --pubkey`: an auditor
// proves a journal copy matches what a node signed; forgeries and tampering exit 3.

#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <sys/stat.h>

#include "persistence/journal_store.hpp"
#include "support/journal_fixture.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::temp_dir;

namespace {

const std::string bulwark_bin = BULWARK_BINARY;

int run_bulwark(const std::string& args, std::string* out = nullptr) {
  return run_command(bulwark_bin + " " + args, out);
}

/// A journal of `n` events in dir/j.
std::string make_journal(const temp_dir& dir, size_t n) {
  auto data = dir.sub("j");
  auto store = test::open_store(data);
  REQUIRE(store->append(test::random_events(11, n)));
  return data;
}

std::string read_file(const std::string& path) {
  std::ifstream f{path};
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream{path, std::ios::trunc} << text;
}

/// Replaces the first `from` in the file at `path` by `to`.
void edit_file(const std::string& path, const std::string& from, const std::string& to) {
  auto text = read_file(path);
  auto pos = text.find(from);
  REQUIRE(pos != std::string::npos);
  write_file(path, text.replace(pos, from.size(), to));
}

} // namespace

TEST_CASE("keygen writes a 0600 private key and FILE.pub and refuses to overwrite") {
  temp_dir dir;
  std::string out;
  auto key = dir.sub("node.key");
  REQUIRE_MESSAGE(run_bulwark("keygen --out " + key, &out) == 0, out);
  struct stat st;
  REQUIRE(::stat(key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(read_file(key).find("BEGIN PRIVATE KEY") != std::string::npos);
  CHECK(read_file(key + ".pub").find("BEGIN PUBLIC KEY") != std::string::npos);
  CHECK(run_bulwark("keygen --out " + key, &out) == 2);
  CHECK(out.find("cannot create") != std::string::npos);
  CHECK(run_bulwark("keygen", &out) == 1);
}

TEST_CASE("a good head is accepted, a forged signature and a tampered journal exit 3") {
  temp_dir dir;
  std::string out;
  auto data = make_journal(dir, 300);
  auto key = dir.sub("node.key");
  auto head = dir.sub("head.json");
  REQUIRE(run_bulwark("keygen --out " + key, &out) == 0);
  REQUIRE_MESSAGE(run_bulwark("head --data " + data + " --key " + key
                                + " --node-id n1 --term 4 --out " + head, &out) == 0, out);
  auto text = read_file(head);
  CHECK(text.find("\"seq\": 300") != std::string::npos);
  CHECK(text.find("\"term\": 4") != std::string::npos);
  auto verify = "verify --data " + data + " --head " + head + " --pubkey " + key + ".pub";
  CHECK_MESSAGE(run_bulwark(verify, &out) == 0, out);
  CHECK(out.find("matches: node n1") != std::string::npos);

  SUBCASE("a forged signature") {
    auto sig_pos = text.find("\"signature\": \"") + 14;
    auto flipped = text;
    flipped[sig_pos] = flipped[sig_pos] == '0' ? '1' : '0';
    write_file(head, flipped);
    CHECK(run_bulwark(verify, &out) == 3);
    CHECK(out.find("bad signature") != std::string::npos);
  }
  SUBCASE("a head whose fields were changed after signing") {
    edit_file(head, "\"seq\": 300", "\"seq\": 200");
    CHECK(run_bulwark(verify, &out) == 3);
    CHECK(out.find("bad signature") != std::string::npos);
  }
  SUBCASE("another node's public key") {
    REQUIRE(run_bulwark("keygen --out " + dir.sub("other.key"), &out) == 0);
    CHECK(run_bulwark("verify --data " + data + " --head " + head + " --pubkey "
                        + dir.sub("other.key.pub"), &out) == 3);
    CHECK(out.find("another signing key") != std::string::npos);
  }
  SUBCASE("a record below the head tampered on disk") {
    test::tamper_value(data, 120, [](std::vector<uint8_t>& v) { v.back() ^= 0x01; });
    CHECK(run_bulwark(verify, &out) == 3);
    CHECK(out.find("seq 120") != std::string::npos);
  }
  SUBCASE("a journal with another history at the same seq") {
    temp_dir other;
    auto store = test::open_store(other.sub("j"));
    REQUIRE(store->append(test::random_events(12, 300)));
    store.reset();
    CHECK(run_bulwark("verify --data " + other.sub("j") + " --head " + head + " --pubkey "
                        + key + ".pub", &out) == 3);
    CHECK(out.find("node n1 signed") != std::string::npos);
  }
  SUBCASE("a journal that is shorter than the head") {
    temp_dir other;
    auto store = test::open_store(other.sub("j"));
    REQUIRE(store->append(test::random_events(11, 100)));
    store.reset();
    CHECK(run_bulwark("verify --data " + other.sub("j") + " --head " + head + " --pubkey "
                        + key + ".pub", &out) == 3);
    CHECK(out.find("ends at seq 100") != std::string::npos);
  }
  SUBCASE("a journal that grew past the head still holds it") {
    auto store = test::open_store(data);
    REQUIRE(store->append(test::random_events(13, 10)));
    store.reset();
    CHECK_MESSAGE(run_bulwark(verify, &out) == 0, out);
  }
}

TEST_CASE("head and verify --head refuse bad input with clear messages") {
  temp_dir dir;
  std::string out;
  auto data = make_journal(dir, 5);
  auto key = dir.sub("node.key");
  REQUIRE(run_bulwark("keygen --out " + key, &out) == 0);
  CHECK(run_bulwark("head --data " + data + " --key " + dir.sub("missing"), &out) == 2);
  CHECK(out.find("missing") != std::string::npos);
  CHECK(run_bulwark("head --data " + data + " --key " + key + ".pub", &out) == 2);
  CHECK(run_bulwark("head --data " + data + " --key " + key + " --node-id 'a b'", &out) == 1);
  CHECK(out.find("--node-id") != std::string::npos);
  CHECK(run_bulwark("head --data " + dir.sub("nope") + " --key " + key, &out) == 2);
  REQUIRE(run_bulwark("head --data " + data + " --key " + key + " --out " + dir.sub("h"),
                      &out) == 0);
  CHECK(run_bulwark("verify --data " + data + " --head " + dir.sub("h"), &out) == 1);
  CHECK(out.find("--head and --pubkey") != std::string::npos);
  write_file(dir.sub("bad"), "{ not json");
  CHECK(run_bulwark("verify --data " + data + " --head " + dir.sub("bad") + " --pubkey " + key
                      + ".pub", &out) == 2);
  CHECK(out.find("not a JSON object") != std::string::npos);
  CHECK(run_bulwark("verify --data " + data + " --head " + dir.sub("h") + " --pubkey " + key,
                    &out) == 2); // a private key file is not a public key
}
