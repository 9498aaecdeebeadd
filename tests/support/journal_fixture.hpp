#pragma once

/// Helpers for journal tests: deterministic event streams, stores in temp dirs, and raw
/// LMDB tampering that bypasses the journal's own checks.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "messages/events.hpp"
#include "persistence/journal_store.hpp"

namespace bulwark::test {

/// Returns `n` events from a seeded generator: resources are registered first, then a
/// mix of changes, grant changes, halts and breaker transitions; about `pad` bytes each.
std::vector<event> random_events(uint64_t seed, size_t n, size_t pad = 200);

/// Opens (creating) a writable store in `dir`; fails the test on error.
std::unique_ptr<journal_store> open_store(const std::string& dir, store_options opts = {});

/// Returns the raw LMDB value (chain || event bytes) of `seq`.
std::vector<uint8_t> raw_value(const std::string& dir, uint64_t seq);

/// Replaces the raw value of `seq` after `change` edits it.
void tamper_value(const std::string& dir, uint64_t seq,
                  const std::function<void(std::vector<uint8_t>&)>& change);

/// Deletes the record `seq` from the events database.
void delete_record(const std::string& dir, uint64_t seq);

/// Swaps the raw values of records `a` and `b`.
void swap_records(const std::string& dir, uint64_t a, uint64_t b);

/// Stores `value` under the raw key `key` in the events database, bypassing the journal
/// (a stray key: seq 0, or a key that is not 8 bytes).
void put_raw_event(const std::string& dir, const std::vector<uint8_t>& key,
                   std::vector<uint8_t> value);

/// Overwrites the meta record `key` with `value`.
void set_meta(const std::string& dir, const std::string& key, std::vector<uint8_t> value);

/// Creates an LMDB environment in `dir` that is not a Bulwark journal.
void make_foreign_env(const std::string& dir);

} // namespace bulwark::test
