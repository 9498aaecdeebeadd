#pragma once

/// The byte-exact signed encoding of a head and its JSON head file (docs/cluster.md).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "caf/expected.hpp"

#include "messages/cluster.hpp"

namespace bulwark {

/// The domain tag that starts every signed head: "BULWARK-HEAD".
inline constexpr char signed_head_tag[] = "BULWARK-HEAD";

/// The version byte after the tag.
inline constexpr uint8_t signed_head_version = 1;

/// Returns the bytes a node signs for `head` (every field but key and signature).
/// @pre `is_valid_id(head.node_id)`.
std::vector<uint8_t> signed_head_bytes(const signed_head& head);

/// Renders a head file: one JSON object with every field, hex for bytes.
std::string to_head_file(const signed_head& head);

/// Parses a head file; `INVALID_INPUT` naming the field that is missing or malformed.
caf::expected<signed_head> parse_head_file(std::string_view text);

} // namespace bulwark
