// Signed heads: the byte-exact signed encoding, Ed25519 keys on disk, signatures that
// check and forgeries that do not, and the head file with its refusals of bad input.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/binary_deserializer.hpp"
#include "caf/binary_serializer.hpp"

#include "messages/error.hpp"
#include "persistence/ed25519.hpp"
#include "persistence/head_codec.hpp"
#include "support/temp_dir.hpp"

using namespace bulwark;
using bulwark::test::temp_dir;

namespace {

signed_head sample_head() {
  signed_head h;
  h.node_id = "n1";
  h.term = 0x0102030405060708;
  h.seq = seq_no{0x1122};
  for (size_t i = 0; i < 32; ++i)
    h.chain.bytes[i] = static_cast<uint8_t>(i);
  h.at = caf::timestamp{caf::timespan{0x00000000AABBCCDD}};
  return h;
}

ed25519_key new_key() {
  auto key = ed25519_key::generate();
  REQUIRE(key);
  return std::move(*key);
}

} // namespace

TEST_CASE("the signed bytes of a head are the documented layout") {
  auto bytes = signed_head_bytes(sample_head());
  std::vector<uint8_t> expected{'B', 'U', 'L', 'W', 'A', 'R', 'K', '-', 'H', 'E', 'A', 'D',
                                1, 2, 'n', '1', 1, 2, 3, 4, 5, 6, 7, 8,
                                0, 0, 0, 0, 0, 0, 0x11, 0x22};
  for (uint8_t i = 0; i < 32; ++i)
    expected.push_back(i);
  for (uint8_t b : {0, 0, 0, 0, 0xAA, 0xBB, 0xCC, 0xDD})
    expected.push_back(b);
  CHECK(bytes.size() == 70 + 2);
  CHECK(bytes == expected);
}

TEST_CASE("a signed head checks with its key and fails with any change or another key") {
  auto key = new_key();
  auto other = new_key();
  auto head = sample_head();
  REQUIRE(!sign_head(key, head));
  CHECK(head.signature.size() == 64);
  CHECK(head.public_key == key.raw_public());
  CHECK(!verify_head(key, head));
  auto pub = ed25519_key::from_raw_public(key.raw_public());
  REQUIRE(pub);
  CHECK(!verify_head(*pub, head));
  // Any signed field changed: refused as INTEGRITY_VIOLATION.
  auto forged = head;
  forged.seq.value += 1;
  CHECK(is(verify_head(key, forged), ec::integrity_violation));
  forged = head;
  forged.chain.bytes[5] ^= 1;
  CHECK(is(verify_head(key, forged), ec::integrity_violation));
  forged = head;
  forged.term = 99;
  CHECK(is(verify_head(key, forged), ec::integrity_violation));
  forged = head;
  forged.node_id = "n2";
  CHECK(is(verify_head(key, forged), ec::integrity_violation));
  forged = head;
  forged.signature[0] ^= 0x80;
  auto err = verify_head(key, forged);
  CHECK(is(err, ec::integrity_violation));
  CHECK(describe(err).message.find("bad signature") != std::string::npos);
  // Another key: the head names its signer, so this is caught before the signature.
  err = verify_head(other, head);
  CHECK(is(err, ec::integrity_violation));
  CHECK(describe(err).message.find("another signing key") != std::string::npos);
  // A head re-signed by another key but claiming ours: the signature fails.
  forged = head;
  REQUIRE(!sign_head(other, forged));
  forged.public_key = key.raw_public();
  CHECK(is(verify_head(key, forged), ec::integrity_violation));
  // Malformed heads are INVALID_INPUT.
  forged = head;
  forged.signature.resize(10);
  CHECK(is(verify_head(key, forged), ec::invalid_input));
  forged = head;
  forged.node_id = "has space";
  CHECK(is(verify_head(key, forged), ec::invalid_input));
  CHECK(is(sign_head(key, forged), ec::invalid_input));
}

TEST_CASE("key files: private 0600, public beside it, never overwritten, read back") {
  temp_dir dir;
  auto key = new_key();
  auto priv = dir.sub("node.key");
  REQUIRE(!key.write_private(priv));
  REQUIRE(!key.write_public(priv + ".pub"));
  struct stat st;
  REQUIRE(::stat(priv.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(is(key.write_private(priv), ec::unavailable));
  auto loaded = ed25519_key::load_private(priv);
  REQUIRE(loaded);
  CHECK(loaded->is_private());
  auto pub = ed25519_key::load_public(priv + ".pub");
  REQUIRE(pub);
  CHECK(!pub->is_private());
  CHECK(pub->raw_public() == key.raw_public());
  auto head = sample_head();
  REQUIRE(!sign_head(*loaded, head));
  CHECK(!verify_head(*pub, head));
  CHECK(is(pub->sign({1, 2, 3}).error(), ec::invalid_input));
  // Bad key files name the path.
  CHECK(is(ed25519_key::load_private(dir.sub("missing")).error(), ec::invalid_input));
  std::ofstream{dir.sub("junk")} << "not a key\n";
  auto junk = ed25519_key::load_public(dir.sub("junk"));
  REQUIRE(!junk);
  CHECK(describe(junk.error()).message.find("junk") != std::string::npos);
  CHECK(!ed25519_key::load_private(priv + ".pub")); // a public key is no private key
  CHECK(is(ed25519_key::from_raw_public({1, 2, 3}).error(), ec::invalid_input));
}

TEST_CASE("a head file round-trips and malformed ones are refused naming the field") {
  auto key = new_key();
  auto head = sample_head();
  REQUIRE(!sign_head(key, head));
  auto text = to_head_file(head);
  auto back = parse_head_file(text);
  REQUIRE(back);
  CHECK(signed_head_bytes(*back) == signed_head_bytes(head));
  CHECK(back->signature == head.signature);
  CHECK(!verify_head(key, *back));
  auto refused = [](const std::string& text, const std::string& field) {
    auto r = parse_head_file(text);
    REQUIRE(!r);
    CHECK(is(r.error(), ec::invalid_input));
    CHECK(describe(r.error()).message.find(field) != std::string::npos);
  };
  refused("", "not a JSON object");
  refused("[1,2]", "not a JSON object");
  refused(R"({"format":"x"})", "format");
  auto edit = [&](const std::string& from, const std::string& to) {
    auto t = text;
    auto pos = t.find(from);
    REQUIRE(pos != std::string::npos);
    return t.replace(pos, from.size(), to);
  };
  refused(edit("\"version\": 1", "\"version\": 2"), "version");
  refused(edit("\"node_id\": \"n1\"", "\"node_id\": \"\""), "node_id");
  refused(edit("\"seq\": 4386", "\"seq\": -1"), "seq");
  refused(edit("\"term\"", "\"turm\""), "term");
  refused(edit(to_hex(head.chain), "zz"), "chain");
  refused(edit(to_hex(head.signature.data(), 64), "00"), "signature");
}

TEST_CASE("a signed head survives CAF's binary serialization") {
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  auto key = new_key();
  auto head = sample_head();
  REQUIRE(!sign_head(key, head));
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  REQUIRE(!sink(head));
  signed_head back;
  caf::binary_deserializer source{sys, buf};
  REQUIRE(!source(back));
  CHECK(signed_head_bytes(back) == signed_head_bytes(head));
  CHECK(back.public_key == head.public_key);
  CHECK(back.signature == head.signature);
  CHECK(!verify_head(key, back));
}
