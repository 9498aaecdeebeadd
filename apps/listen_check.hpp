#pragma once

// Whether the node's listeners can bind their addresses, checked before anything starts.

#include <cstdint>
#include <string>

namespace bulwark::cli {

/// Whether HOST:PORT can be listened on now (port 0 always can): binds a socket as the
/// listeners will (address reuse on) and closes it. Empty when free, else the reason.
std::string cannot_listen(const std::string& host, uint16_t port);

} // namespace bulwark::cli
