#include "persistence/head_codec.hpp"

#include <cstring>
#include <string_view>

#include <nlohmann/json.hpp>

#include "messages/error.hpp"
#include "persistence/codec.hpp"

namespace bulwark {

std::vector<uint8_t> signed_head_bytes(const signed_head& head) {
  std::vector<uint8_t> out;
  // Byte by byte: GCC 12 misreports range inserts into a reserved vector (stringop-overflow).
  for (char c : std::string_view{signed_head_tag})
    out.push_back(static_cast<uint8_t>(c));
  canonical_writer w{out};
  w.put_uint<1>(signed_head_version);
  w.put_uint<1>(head.node_id.size());
  for (char c : head.node_id)
    out.push_back(static_cast<uint8_t>(c));
  w.put_uint<8>(head.term);
  w.put_uint<8>(head.seq.value);
  for (auto b : head.chain.bytes)
    out.push_back(b);
  w.put_uint<8>(static_cast<uint64_t>(head.at.time_since_epoch().count()));
  return out;
}

std::string to_head_file(const signed_head& head) {
  nlohmann::json out{
    {"format", "bulwark-signed-head"},
    {"version", signed_head_version},
    {"node_id", head.node_id},
    {"term", head.term},
    {"seq", head.seq.value},
    {"chain", to_hex(head.chain)},
    {"time_ns", static_cast<int64_t>(head.at.time_since_epoch().count())},
    {"public_key", to_hex(head.public_key.data(), head.public_key.size())},
    {"signature", to_hex(head.signature.data(), head.signature.size())},
  };
  return out.dump(2) + "\n";
}

namespace {

caf::error bad_field(const std::string& name, const std::string& why) {
  return refuse(ec::invalid_input, "head file: field \"" + name + "\" " + why);
}

bool parse_hex(std::string_view hex, size_t size, std::vector<uint8_t>& out) {
  if (hex.size() != size * 2)
    return false;
  out.clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9')
        return c - '0';
      if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
      if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
      return -1;
    };
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0)
      return false;
    out.push_back(static_cast<uint8_t>(hi << 4 | lo));
  }
  return true;
}

template <class T>
caf::error get_uint(const nlohmann::json& j, const std::string& name, T& out) {
  if (!j.contains(name))
    return bad_field(name, "is missing");
  auto& v = j[name];
  if (!v.is_number_unsigned())
    return bad_field(name, "is not an unsigned integer");
  out = v.get<T>();
  return {};
}

caf::error get_hex(const nlohmann::json& j, const std::string& name, size_t size,
                   std::vector<uint8_t>& out) {
  if (!j.contains(name) || !j[name].is_string())
    return bad_field(name, "is missing or not a string");
  if (!parse_hex(j[name].get<std::string>(), size, out))
    return bad_field(name, "is not " + std::to_string(size * 2) + " hex characters");
  return {};
}

caf::error read_fields(const nlohmann::json& j, signed_head& head) {
  if (j.value("format", "") != "bulwark-signed-head")
    return bad_field("format", "is not \"bulwark-signed-head\"");
  uint64_t version = 0;
  if (auto err = get_uint(j, "version", version))
    return err;
  if (version != signed_head_version)
    return bad_field("version", "is " + std::to_string(version) + ", this build reads 1");
  if (!j.contains("node_id") || !j["node_id"].is_string()
      || !is_valid_id(j["node_id"].get<std::string>()))
    return bad_field("node_id", "is not an id of 1-128 printable characters");
  head.node_id = j["node_id"].get<std::string>();
  uint64_t time = 0;
  if (auto err = get_uint(j, "term", head.term))
    return err;
  if (auto err = get_uint(j, "seq", head.seq.value))
    return err;
  if (auto err = get_uint(j, "time_ns", time))
    return err;
  head.at = caf::timestamp{caf::timespan{static_cast<int64_t>(time)}};
  std::vector<uint8_t> chain;
  if (auto err = get_hex(j, "chain", 32, chain))
    return err;
  std::memcpy(head.chain.bytes.data(), chain.data(), 32);
  if (auto err = get_hex(j, "public_key", 32, head.public_key))
    return err;
  return get_hex(j, "signature", 64, head.signature);
}

} // namespace

caf::expected<signed_head> parse_head_file(std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return refuse(ec::invalid_input, "head file: not a JSON object");
  signed_head head;
  if (auto err = read_fields(j, head))
    return err;
  return head;
}

} // namespace bulwark
