#pragma once

// The doors of an engine under test, by the name of their room.

#include <string>

#include <doctest/doctest.h>

#include "caf/actor.hpp"

#include "engine/engine_impl.hpp"

namespace bulwark::test {

/// The door of room `name` (`journal`, `pipeline`, `rollback`, ...) of `eng`.
inline caf::actor door_of(engine& eng, const std::string& name) {
  for (auto& [room, d] : eng.internals().doors)
    if (room == name)
      return d;
  FAIL("no door " << name);
  return {};
}

} // namespace bulwark::test
