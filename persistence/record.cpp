#include "persistence/record.hpp"

#include <chrono>
#include <string>

#include "messages/refusals.hpp"
#include "persistence/codec.hpp"

namespace bulwark {

namespace {

uint64_t load_u64(const uint8_t* p) {
  uint64_t n = 0;
  for (int i = 0; i < 8; ++i)
    n = (n << 8) | p[i];
  return n;
}

uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16
         | static_cast<uint32_t>(p[2]) << 8 | p[3];
}

caf::error bad(seq_no seq, const std::string& what) {
  return refuse(ec::integrity_violation,
                "record " + std::to_string(seq.value) + ": " + what);
}

} // namespace

namespace {

void store_be(uint8_t* p, uint64_t n, size_t bytes) {
  for (size_t i = bytes; i > 0; --i, n >>= 8)
    p[i - 1] = static_cast<uint8_t>(n);
}

} // namespace

void encode_record_header(seq_no seq, const event& ev, uint8_t* header) {
  header[0] = record_version;
  header[1] = static_cast<uint8_t>(ev.type);
  store_be(header + 2, seq.value, 8);
  store_be(header + 10, static_cast<uint64_t>(ev.at.time_since_epoch().count()), 8);
  store_be(header + 18, ev.trace.value, 8);
  store_be(header + 26, static_cast<uint32_t>(ev.payload.size()), 4);
}

void encode_record(seq_no seq, const event& ev, std::vector<uint8_t>& out) {
  // The header goes through a fixed buffer: one append instead of 30 push_backs.
  uint8_t header[record_header_size];
  encode_record_header(seq, ev, header);
  out.reserve(out.size() + record_header_size + ev.payload.size());
  out.insert(out.end(), header, header + record_header_size);
  out.insert(out.end(), ev.payload.begin(), ev.payload.end());
}

caf::error check_record(seq_no expected, const uint8_t* data, size_t size) {
  if (size < record_header_size)
    return bad(expected, "shorter than the record header");
  if (data[0] != record_version)
    return bad(expected, "unknown record version " + std::to_string(data[0]));
  if (!valid(static_cast<event_type>(data[1]))) {
    count_refusal(protected_value::raw_event_type);
    return bad(expected, "unknown event type " + std::to_string(data[1]));
  }
  auto seq = load_u64(data + 2);
  if (seq != expected.value)
    return bad(expected, "holds seq " + std::to_string(seq));
  if (load_u32(data + 26) != size - record_header_size)
    return bad(expected, "payload length does not match the record size");
  return {};
}

caf::error decode_record(seq_no expected, const uint8_t* data, size_t size, event& ev) {
  if (auto err = check_record(expected, data, size))
    return err;
  ev.type = static_cast<event_type>(data[1]);
  ev.at = caf::timestamp{caf::timespan{static_cast<int64_t>(load_u64(data + 10))}};
  ev.trace.value = load_u64(data + 18);
  ev.payload.assign(data + record_header_size, data + size);
  return {};
}

} // namespace bulwark
