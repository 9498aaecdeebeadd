#pragma once

/// Reading an engine's journal back in the engine tests.

#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "bulwark/engine.hpp"
#include "engine/engine_impl.hpp"
#include "persistence/event_json.hpp"
#include "persistence/journal_store.hpp"

namespace bulwark::test {

/// Every record of `type` in the engine's journal, as JSON (`payload` decoded), also those
/// committed before a subscriber could hear of them.
inline std::vector<nlohmann::json> stored(engine& eng, const std::string& type) {
  std::vector<nlohmann::json> out;
  auto& store = *eng.internals().store;
  REQUIRE(!store.read(seq_no{1}, store.head(), [&](journal_entry&& e) {
    auto j = to_json(e);
    if (j["type"] == type)
      out.push_back(std::move(j));
    return true;
  }));
  return out;
}

} // namespace bulwark::test
