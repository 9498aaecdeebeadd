#include "persistence/attempt_store.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>

#include <nlohmann/json.hpp>

#include "persistence/store_impl.hpp"

namespace bulwark {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* magic = "bulwark-attempts-1";
constexpr size_t key_size = 8 + 32; ///< big-endian start (ns since 1970), then the id
constexpr uint64_t map_size = uint64_t{1} << 30;

int64_t ns_of(caf::timestamp t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

caf::timestamp at_ns(int64_t ns) {
  return caf::timestamp{std::chrono::duration_cast<caf::timespan>(std::chrono::nanoseconds{ns})};
}

/// Keys sort by start: a start before 1970 counts as 1970.
void make_key(const attempt_record& x, uint8_t (&out)[key_size]) {
  uint8_t start[8];
  store_key(static_cast<uint64_t>(std::max<int64_t>(ns_of(x.started), 0)), start);
  std::copy(start, start + 8, out);
  std::copy(x.id.bytes.begin(), x.id.bytes.end(), out + 8);
}

std::string encode_record(const attempt_record& x) {
  json j{{"id", to_hex(x.id)},
         {"candidate", to_hex(x.candidate)},
         {"service", x.service},
         {"region", x.region},
         {"attempt", x.attempt},
         {"started_ns", ns_of(x.started)},
         {"duration_ns", x.duration.count()},
         {"succeeded", x.succeeded},
         {"code", to_string(x.code)},
         {"error", x.error}};
  return j.dump();
}

bool decode_record(const MDB_val& v, attempt_record& x) {
  auto* p = static_cast<const char*>(v.mv_data);
  auto j = json::parse(p, p + v.mv_size, nullptr, false);
  if (!j.is_object())
    return false;
  try {
    if (!parse_digest(j.at("id").get<std::string>(), x.id)
        || !parse_digest(j.at("candidate").get<std::string>(), x.candidate)
        || !parse(j.at("code").get<std::string>(), x.code))
      return false;
    x.service = j.at("service").get<std::string>();
    x.region = j.at("region").get<std::string>();
    x.attempt = j.at("attempt").get<uint32_t>();
    x.started = at_ns(j.at("started_ns").get<int64_t>());
    x.duration = caf::timespan{j.at("duration_ns").get<int64_t>()};
    x.succeeded = j.at("succeeded").get<bool>();
    x.error = j.at("error").get<std::string>();
  } catch (const json::exception&) {
    return false;
  }
  return true;
}

} // namespace

struct attempt_store::impl {
  std::string path;
  MDB_env* env = nullptr;
  MDB_dbi attempts = 0;
  MDB_dbi meta = 0;
  std::mutex write_lock; ///< one write transaction at a time

  ~impl() {
    if (env != nullptr)
      mdb_env_close(env);
  }

  caf::error open_databases(bool fresh) {
    lmdb_txn txn;
    if (int rc = txn.begin(env, 0))
      return lmdb_error(ec::unavailable, path, "txn_begin", rc);
    if (int rc = mdb_dbi_open(txn.get(), "attempts", MDB_CREATE, &attempts))
      return lmdb_error(ec::unavailable, path, "dbi_open attempts", rc);
    if (int rc = mdb_dbi_open(txn.get(), "meta", MDB_CREATE, &meta))
      return lmdb_error(ec::unavailable, path, "dbi_open meta", rc);
    MDB_val k = as_val("magic", 5), v;
    int rc = mdb_get(txn.get(), meta, &k, &v);
    if (rc == MDB_NOTFOUND && fresh) {
      MDB_val m = as_val(magic, std::char_traits<char>::length(magic));
      if ((rc = mdb_put(txn.get(), meta, &k, &m, 0)) != 0)
        return lmdb_error(ec::unavailable, path, "put magic", rc);
    } else if (rc != 0 || std::string(static_cast<const char*>(v.mv_data), v.mv_size) != magic) {
      return refuse(ec::invalid_input, path + ": not a Bulwark attempts store");
    }
    if (int rc2 = txn.commit())
      return lmdb_error(ec::unavailable, path, "commit", rc2);
    return {};
  }
};

caf::expected<std::unique_ptr<attempt_store>> attempt_store::open(const std::string& path) {
  auto d = std::make_unique<impl>();
  d->path = path;
  std::error_code ec_fs;
  bool fresh = !fs::exists(path, ec_fs);
  if (!fresh && !fs::is_regular_file(path, ec_fs))
    return refuse(ec::invalid_input, path + ": not a file");
  if (int rc = mdb_env_create(&d->env))
    return lmdb_error(ec::unavailable, path, "env_create", rc);
  mdb_env_set_maxdbs(d->env, 2);
  mdb_env_set_mapsize(d->env, map_size);
  // Diagnostics, not evidence: a commit is written to the file but not synced, so a
  // crash of the process loses nothing and one of the machine at most the newest
  // attempts (each failed one is also journaled as `orchestration_failed`).
  unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | MDB_NOSYNC | MDB_NORDAHEAD;
  if (int rc = mdb_env_open(d->env, path.c_str(), flags, 0600)) {
    auto code = rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? ec::invalid_input
                                                                : ec::unavailable;
    return lmdb_error(code, path, "open", rc);
  }
  int dead = 0;
  mdb_reader_check(d->env, &dead);
  if (auto err = d->open_databases(fresh))
    return err;
  return std::unique_ptr<attempt_store>{new attempt_store(std::move(d))};
}

attempt_store::attempt_store(std::unique_ptr<impl> d) : impl_(std::move(d)) {
  // nop
}

attempt_store::~attempt_store() = default;

const std::string& attempt_store::path() const noexcept {
  return impl_->path;
}

caf::error attempt_store::put(const attempt_record& x) {
  auto& d = *impl_;
  uint8_t key[key_size];
  make_key(x, key);
  auto text = encode_record(x);
  std::lock_guard<std::mutex> guard{d.write_lock};
  lmdb_txn txn;
  if (int rc = txn.begin(d.env, 0))
    return lmdb_error(ec::unavailable, d.path, "txn_begin", rc);
  MDB_val k = as_val(key, key_size), v = as_val(text.data(), text.size());
  if (int rc = mdb_put(txn.get(), d.attempts, &k, &v, 0))
    return lmdb_error(ec::unavailable, d.path, "put", rc);
  if (int rc = txn.commit())
    return lmdb_error(ec::unavailable, d.path, "commit", rc);
  return {};
}

caf::expected<std::vector<attempt_record>>
attempt_store::list(const std::function<bool(const attempt_record&)>& keep, size_t limit) const {
  auto& d = *impl_;
  std::vector<attempt_record> out;
  lmdb_txn txn;
  if (int rc = txn.begin(d.env, MDB_RDONLY))
    return lmdb_error(ec::unavailable, d.path, "txn_begin", rc);
  lmdb_cursor cur;
  if (int rc = cur.open(txn.get(), d.attempts))
    return lmdb_error(ec::unavailable, d.path, "cursor_open", rc);
  MDB_val k, v;
  for (int rc = cur.get(k, v, MDB_LAST); rc == 0 && out.size() < limit;
       rc = cur.get(k, v, MDB_PREV)) {
    attempt_record x;
    if (!decode_record(v, x))
      return refuse(ec::integrity_violation, d.path + ": an attempt that cannot be read");
    if (keep(x))
      out.push_back(std::move(x));
  }
  return out;
}

caf::expected<uint64_t> attempt_store::prune_before(caf::timestamp cutoff) {
  auto& d = *impl_;
  uint8_t bound[8];
  store_key(static_cast<uint64_t>(std::max<int64_t>(ns_of(cutoff), 0)), bound);
  std::lock_guard<std::mutex> guard{d.write_lock};
  lmdb_txn txn;
  if (int rc = txn.begin(d.env, 0))
    return lmdb_error(ec::unavailable, d.path, "txn_begin", rc);
  uint64_t removed = 0;
  {
    lmdb_cursor cur;
    if (int rc = cur.open(txn.get(), d.attempts))
      return lmdb_error(ec::unavailable, d.path, "cursor_open", rc);
    MDB_val k, v;
    for (int rc = cur.get(k, v, MDB_FIRST); rc == 0; rc = cur.get(k, v, MDB_NEXT)) {
      if (k.mv_size < 8 || std::memcmp(k.mv_data, bound, 8) >= 0)
        break;
      if (int del = mdb_cursor_del(cur.get(), 0))
        return lmdb_error(ec::unavailable, d.path, "del", del);
      ++removed;
    }
  }
  if (removed == 0)
    return removed;
  if (int rc = txn.commit())
    return lmdb_error(ec::unavailable, d.path, "commit", rc);
  return removed;
}

uint64_t attempt_store::count() const {
  auto& d = *impl_;
  lmdb_txn txn;
  MDB_stat st;
  if (txn.begin(d.env, MDB_RDONLY) != 0 || mdb_stat(txn.get(), d.attempts, &st) != 0)
    return 0;
  return st.ms_entries;
}

} // namespace bulwark
