#pragma once

/// Registration of Bulwark's message types, actor handles and error renderer with CAF.

#include "caf/fwd.hpp"

namespace bulwark {

/// Registers every message type, actor handle and the error category with `cfg`.
/// Called by the engine and by the test fixture before an actor system is built.
void register_types(caf::actor_system_config& cfg);

} // namespace bulwark
