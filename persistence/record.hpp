#pragma once

/// The stored form of one journal record (docs/journal-format.md, "Records").
///
/// LMDB value = chain (32 bytes) || event bytes; the event bytes are a fixed 30-byte
/// header followed by the canonical payload:
///
/// | offset | size | field                                  |
/// |-------:|-----:|----------------------------------------|
/// |      0 |    1 | record format version (1)              |
/// |      1 |    1 | event type                             |
/// |      2 |    8 | seq, big-endian                        |
/// |     10 |    8 | time, ns since the UNIX epoch, signed  |
/// |     18 |    8 | trace id                               |
/// |     26 |    4 | payload length n                       |
/// |     30 |    n | payload (canonical encoding)           |

#include <cstddef>
#include <cstdint>
#include <vector>

#include "caf/error.hpp"

#include "messages/events.hpp"
#include "messages/ids.hpp"

namespace bulwark {

/// The record format version this build writes and reads.
inline constexpr uint8_t record_version = 1;

/// Size of the fixed event header.
inline constexpr size_t record_header_size = 30;

/// Size of the chain hash in front of the event bytes.
inline constexpr size_t chain_size = 32;

/// Writes the 30-byte header of `ev` stored at `seq` (its payload follows it).
void encode_record_header(seq_no seq, const event& ev, uint8_t* out);

/// Appends the event bytes of `ev` stored at `seq` to `out`.
void encode_record(seq_no seq, const event& ev, std::vector<uint8_t>& out);

/// Checks the header of stored event bytes: version, type, seq and length.
/// @returns an `INTEGRITY_VIOLATION` naming the problem, or nothing.
caf::error check_record(seq_no expected, const uint8_t* data, size_t size);

/// Decodes stored event bytes into `ev` (after the same checks as `check_record`).
caf::error decode_record(seq_no expected, const uint8_t* data, size_t size, event& ev);

} // namespace bulwark
