#include "support/journal_fixture.hpp"

#include <chrono>
#include <random>
#include <stdexcept>

#include <lmdb.h>
#include <doctest/doctest.h>

#include "persistence/make_event.hpp"

namespace bulwark::test {

namespace {

caf::timestamp at(uint64_t i) {
  return caf::timestamp{std::chrono::seconds{1'700'000'000} + std::chrono::milliseconds{i}};
}

/// Runs `f` inside a raw LMDB write transaction on the named database `db`.
void with_db(const std::string& dir, const char* db,
             const std::function<void(MDB_txn*, MDB_dbi)>& f) {
  MDB_env* env = nullptr;
  mdb_env_create(&env);
  mdb_env_set_maxdbs(env, 4);
  if (mdb_env_open(env, dir.c_str(), 0, 0600) != 0)
    throw std::runtime_error("tamper: cannot open " + dir);
  MDB_txn* txn = nullptr;
  MDB_dbi dbi = 0;
  mdb_txn_begin(env, nullptr, 0, &txn);
  if (mdb_dbi_open(txn, db, db == nullptr ? 0 : MDB_CREATE, &dbi) != 0)
    throw std::runtime_error("tamper: no such db");
  f(txn, dbi);
  mdb_txn_commit(txn);
  mdb_env_close(env);
}

void with_events(const std::string& dir, const std::function<void(MDB_txn*, MDB_dbi)>& f) {
  with_db(dir, "events", f);
}

MDB_val key_of(uint64_t seq, uint8_t (&buf)[8]) {
  for (int i = 7; i >= 0; --i, seq >>= 8)
    buf[i] = static_cast<uint8_t>(seq);
  return MDB_val{8, buf};
}

} // namespace

std::vector<event> random_events(uint64_t seed, size_t n, size_t pad) {
  std::mt19937_64 rng{seed};
  std::vector<event> out;
  out.reserve(n);
  const char* services[] = {"coaster", "gates", "pos", "lights"};
  const char* regions[] = {"north", "south"};
  size_t resources = std::max<size_t>(1, std::min<size_t>(n / 10, 50));
  for (size_t i = 0; i < n; ++i) {
    auto pick = rng() % 100;
    if (i < resources) {
      resource_registered x{resource_id{"res-" + std::to_string(i)}, services[i % 4],
                            regions[i % 2], {{"version", "1"}, {"mode", "auto"}}};
      out.push_back(make_event(event_type::resource_registered, at(i), x, trace_id{i}));
    } else if (pick < 80) {
      action_applied x;
      x.proposal.bytes[0] = static_cast<uint8_t>(rng());
      x.step = static_cast<uint32_t>(rng() % 8);
      x.resource = resource_id{"res-" + std::to_string(rng() % resources)};
      x.key = "setting-" + std::to_string(rng() % 5);
      x.old_value = std::string{"old"};
      x.new_value = std::string(pad, static_cast<char>('a' + rng() % 26));
      out.push_back(make_event(event_type::action_applied, at(i), x, trace_id{i}));
    } else if (pick < 88) {
      grant_changed x{principal_id{"agent-" + std::to_string(rng() % 3)},
                      static_cast<authority_level>(rng() % 5), caf::none,
                      principal_id{"admin"}, "test"};
      out.push_back(make_event(event_type::grant_changed, at(i), x, trace_id{i}));
    } else if (pick < 94) {
      halt_changed x{principal_id{"admin"}, "drill"};
      auto type = rng() % 2 ? event_type::halt_engaged : event_type::halt_released;
      out.push_back(make_event(type, at(i), x, trace_id{i}));
    } else {
      breaker_transition x{services[rng() % 4], breaker_state::closed,
                           static_cast<breaker_state>(rng() % 5), "test", 5, 10};
      out.push_back(make_event(event_type::breaker_transition, at(i), x, trace_id{i}));
    }
  }
  return out;
}

std::unique_ptr<journal_store> open_store(const std::string& dir, store_options opts) {
  opts.dir = dir;
  opts.create = true;
  auto store = journal_store::open(opts);
  REQUIRE_MESSAGE(store, (store ? "" : describe(store.error()).message));
  return std::move(*store);
}

std::vector<uint8_t> raw_value(const std::string& dir, uint64_t seq) {
  std::vector<uint8_t> out;
  with_events(dir, [&](MDB_txn* txn, MDB_dbi dbi) {
    uint8_t buf[8];
    auto k = key_of(seq, buf);
    MDB_val v;
    if (mdb_get(txn, dbi, &k, &v) == 0)
      out.assign(static_cast<uint8_t*>(v.mv_data), static_cast<uint8_t*>(v.mv_data) + v.mv_size);
  });
  return out;
}

void tamper_value(const std::string& dir, uint64_t seq,
                  const std::function<void(std::vector<uint8_t>&)>& change) {
  auto value = raw_value(dir, seq);
  REQUIRE(!value.empty());
  change(value);
  with_events(dir, [&](MDB_txn* txn, MDB_dbi dbi) {
    uint8_t buf[8];
    auto k = key_of(seq, buf);
    MDB_val v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  });
}

void delete_record(const std::string& dir, uint64_t seq) {
  with_events(dir, [&](MDB_txn* txn, MDB_dbi dbi) {
    uint8_t buf[8];
    auto k = key_of(seq, buf);
    REQUIRE(mdb_del(txn, dbi, &k, nullptr) == 0);
  });
}

void swap_records(const std::string& dir, uint64_t a, uint64_t b) {
  auto va = raw_value(dir, a);
  auto vb = raw_value(dir, b);
  tamper_value(dir, a, [&](std::vector<uint8_t>& v) { v = vb; });
  tamper_value(dir, b, [&](std::vector<uint8_t>& v) { v = va; });
}

void put_raw_event(const std::string& dir, const std::vector<uint8_t>& key,
                   std::vector<uint8_t> value) {
  with_events(dir, [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{key.size(), const_cast<uint8_t*>(key.data())}, v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  });
}

void set_meta(const std::string& dir, const std::string& key, std::vector<uint8_t> value) {
  with_db(dir, "meta", [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{key.size(), const_cast<char*>(key.data())}, v{value.size(), value.data()};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  });
}

void make_foreign_env(const std::string& dir) {
  with_db(dir, "other", [&](MDB_txn* txn, MDB_dbi dbi) {
    MDB_val k{3, const_cast<char*>("key")}, v{5, const_cast<char*>("value")};
    REQUIRE(mdb_put(txn, dbi, &k, &v, 0) == 0);
  });
}

} // namespace bulwark::test

#include "persistence/sha256.hpp"

/// SHA-256 of a byte vector, for tests that forge chains.
bulwark::digest test_sha256(const std::vector<uint8_t>& bytes) {
  return bulwark::sha256(bytes.data(), bytes.size());
}
