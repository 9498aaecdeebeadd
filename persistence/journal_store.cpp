#include "persistence/journal_store.hpp"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <unistd.h>

#include "persistence/record.hpp"
#include "persistence/sha256.hpp"
#include "persistence/store_impl.hpp"

namespace fs = std::filesystem;

namespace bulwark {

namespace {

constexpr char magic[] = "bulwark-journal";

/// Writes the "head" meta value: seq (8 bytes BE) || chain (32 bytes).
int put_head(MDB_txn* txn, MDB_dbi meta, seq_no seq, const digest& chain) {
  uint8_t value[40];
  uint8_t key[8];
  store_key(seq.value, key);
  std::memcpy(value, key, 8);
  std::memcpy(value + 8, chain.bytes.data(), 32);
  auto k = as_val("head");
  auto v = as_val(value, sizeof value);
  return mdb_put(txn, meta, &k, &v, 0);
}

/// Checks that the path is a directory we may use; names the problem otherwise.
caf::error check_directory(const store_options& opts) {
  std::error_code ec_fs;
  auto status = fs::status(opts.dir, ec_fs);
  if (!fs::exists(status)) {
    if (!opts.create)
      return refuse(ec::invalid_input, opts.dir + ": no such directory");
    fs::create_directories(opts.dir, ec_fs);
    if (ec_fs)
      return refuse(ec::unavailable, opts.dir + ": cannot create: " + ec_fs.message());
    return {};
  }
  if (!fs::is_directory(status))
    return refuse(ec::invalid_input, opts.dir + ": not a directory");
  auto data = opts.dir + "/data.mdb";
  if (!fs::exists(data) && !opts.create)
    return refuse(ec::invalid_input,
                  opts.dir + ": not a Bulwark journal (no data.mdb in it)");
  int mode = opts.read_only ? R_OK | X_OK : R_OK | W_OK | X_OK;
  if (::access(opts.dir.c_str(), mode) != 0)
    return refuse(ec::unavailable, opts.dir + ": " + std::strerror(errno));
  if (fs::exists(data) && ::access(data.c_str(), opts.read_only ? R_OK : R_OK | W_OK) != 0)
    return refuse(ec::unavailable, data + ": " + std::strerror(errno));
  return {};
}

} // namespace

caf::error lmdb_error(ec code, const std::string& dir, const char* what, int rc) {
  return refuse(code, dir + ": " + what + ": " + mdb_strerror(rc));
}

int journal_store::impl::begin_read(read_scope& scope) const {
  for (;;) {
    scope.lock = std::shared_lock<std::shared_mutex>{map_lock};
    int rc = scope.txn.begin(env, MDB_RDONLY);
    if (rc != MDB_MAP_RESIZED)
      return rc;
    // Another process grew the map: adopt its size with no transaction open here.
    scope.lock.unlock();
    std::unique_lock<std::shared_mutex> guard{map_lock};
    mdb_env_set_mapsize(env, 0);
  }
}

namespace {

/// Opens the named databases and checks (or, when new, writes) the meta records.
caf::error open_databases(journal_store::impl& d, bool fresh) {
  auto& dir = d.opts.dir;
  lmdb_txn txn;
  unsigned flags = d.opts.read_only ? MDB_RDONLY : 0;
  if (int rc = txn.begin(d.env, flags))
    return lmdb_error(ec::unavailable, dir, "begin", rc);
  unsigned create = d.opts.read_only ? 0 : MDB_CREATE;
  if (int rc = mdb_dbi_open(txn.get(), "meta", create, &d.meta)) {
    if (rc == MDB_NOTFOUND)
      return refuse(ec::invalid_input, dir + ": not a Bulwark journal (no meta database)");
    return lmdb_error(ec::unavailable, dir, "open meta", rc);
  }
  MDB_val k = as_val("magic"), v;
  int rc = mdb_get(txn.get(), d.meta, &k, &v);
  if (rc == MDB_NOTFOUND && fresh && !d.opts.read_only) {
    uint8_t version[4] = {0, 0, 0, static_cast<uint8_t>(journal_format_version)};
    auto magic_val = as_val(magic);
    auto fk = as_val("format");
    auto fv = as_val(version, 4);
    if ((rc = mdb_put(txn.get(), d.meta, &k, &magic_val, 0)) != 0
        || (rc = mdb_put(txn.get(), d.meta, &fk, &fv, 0)) != 0
        || (rc = put_head(txn.get(), d.meta, seq_no{0}, digest{})) != 0)
      return lmdb_error(ec::unavailable, dir, "initialise meta", rc);
  } else if (rc != 0) {
    return refuse(ec::invalid_input, dir + ": not a Bulwark journal (no magic record)");
  } else if (v.mv_size != sizeof(magic) - 1 || std::memcmp(v.mv_data, magic, v.mv_size) != 0) {
    return refuse(ec::invalid_input, dir + ": not a Bulwark journal (wrong magic)");
  } else {
    k = as_val("format");
    if (mdb_get(txn.get(), d.meta, &k, &v) != 0 || v.mv_size != 4)
      return refuse(ec::invalid_input, dir + ": journal has no format version");
    auto* p = static_cast<const uint8_t*>(v.mv_data);
    uint32_t format = uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
    if (format > journal_format_version)
      return refuse(ec::invalid_input,
                    dir + ": journal format version " + std::to_string(format)
                      + " is newer than this build reads ("
                      + std::to_string(journal_format_version) + ")");
    if (format == 0)
      return refuse(ec::invalid_input, dir + ": journal format version 0 is invalid");
  }
  for (auto [name, dbi] : {std::pair{"events", &d.events}, std::pair{"snapshots", &d.snapshots}})
    if ((rc = mdb_dbi_open(txn.get(), name, create, dbi)) != 0)
      return rc == MDB_NOTFOUND
               ? refuse(ec::invalid_input,
                        dir + ": not a Bulwark journal (no " + name + " database)")
               : lmdb_error(ec::unavailable, dir, "open database", rc);
  if ((rc = txn.commit()) != 0)
    return lmdb_error(ec::unavailable, dir, "commit meta", rc);
  return {};
}

/// Reads the newest record and checks it against the stored head (verify before write).
caf::error load_head(journal_store::impl& d) {
  read_scope scope;
  if (int rc = d.begin_read(scope))
    return lmdb_error(ec::unavailable, d.opts.dir, "begin", rc);
  lmdb_cursor cur;
  if (int rc = cur.open(scope.txn.get(), d.events))
    return lmdb_error(ec::unavailable, d.opts.dir, "cursor", rc);
  MDB_val k, v;
  // A reader steps over stray keys after the newest record so verify can name them; a
  // writer refuses them below (its tail must be a record).
  size_t strays = 0;
  int rc = d.opts.read_only ? last_seq_record(cur, k, v, strays) : cur.get(k, v, MDB_LAST);
  if (rc == MDB_NOTFOUND) {
    d.head = seq_no{0};
    d.head_chain = digest{};
  } else if (rc != 0) {
    return lmdb_error(ec::unavailable, d.opts.dir, "read tail", rc);
  } else {
    uint64_t seq = 0;
    if (!load_key(k, seq) || v.mv_size < chain_size + record_header_size)
      return refuse(ec::integrity_violation, d.opts.dir + ": the newest record is malformed");
    d.head = seq_no{seq};
    std::memcpy(d.head_chain.bytes.data(), v.mv_data, chain_size);
  }
  return {};
}

/// Refuses a data file shorter than LMDB's last page (truncated): reading it would fault.
caf::error check_file_size(journal_store::impl& d) {
  MDB_envinfo info;
  MDB_stat st;
  mdb_env_info(d.env, &info);
  mdb_env_stat(d.env, &st);
  std::error_code ec_fs;
  auto size = fs::file_size(d.opts.dir + "/data.mdb", ec_fs);
  if (ec_fs)
    return refuse(ec::unavailable, d.opts.dir + "/data.mdb: " + ec_fs.message());
  auto needed = static_cast<uint64_t>(info.me_last_pgno + 1) * st.ms_psize;
  if (size < needed)
    return refuse(ec::integrity_violation,
                  d.opts.dir + "/data.mdb: truncated file (" + std::to_string(size)
                    + " bytes, the journal needs " + std::to_string(needed) + ")");
  d.map_size = info.me_mapsize;
  d.page_size = st.ms_psize;
  return {};
}

} // namespace

caf::expected<std::unique_ptr<journal_store>>
journal_store::open(const store_options& opts) {
  if (auto err = check_directory(opts))
    return err;
  auto d = std::make_unique<impl>();
  d->opts = opts;
  bool fresh = !fs::exists(opts.dir + "/data.mdb");
  if (int rc = mdb_env_create(&d->env))
    return lmdb_error(ec::unavailable, opts.dir, "env_create", rc);
  mdb_env_set_maxdbs(d->env, 4);
  mdb_env_set_maxreaders(d->env, opts.max_readers);
  if (!opts.read_only)
    mdb_env_set_mapsize(d->env, opts.initial_map_size);
  unsigned flags = MDB_NOTLS | MDB_NORDAHEAD;
  if (opts.read_only) {
    flags |= MDB_RDONLY;
    // Without a lock file nobody is writing; don't create one (change nothing).
    if (!fs::exists(opts.dir + "/lock.mdb"))
      flags |= MDB_NOLOCK;
  }
  if (!fresh) {
    // A file too short for LMDB's own meta pages is not an environment at all.
    std::error_code ec_fs;
    auto size = fs::file_size(opts.dir + "/data.mdb", ec_fs);
    if (size < 2 * 4096 && !ec_fs)
      // Never taken for a new journal (an emptied one must not restart the chain); but a
      // node killed while LMDB created the file leaves just this, before any record.
      return refuse(ec::integrity_violation,
                    opts.dir + "/data.mdb: truncated or not an LMDB file (" + std::to_string(size)
                      + " bytes); if this directory never held a journal (a first start "
                        "killed while the file was created), remove it and start again");
  }
  if (int rc = mdb_env_open(d->env, opts.dir.c_str(), flags, 0600)) {
    auto code = rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH ? ec::invalid_input
                                                                : ec::unavailable;
    auto err = lmdb_error(code, opts.dir, "open", rc);
    return err;
  }
  if (auto err = check_file_size(*d))
    return err;
  if (auto err = open_databases(*d, fresh))
    return err;
  if (auto err = load_head(*d))
    return err;
  if (!opts.read_only) {
    int dead = 0;
    mdb_reader_check(d->env, &dead);
    if (opts.prepare_max > 0)
      d->tail = std::make_unique<prepared_tail>(opts.dir + "/data.mdb", opts.prepare_max);
  }
  return std::unique_ptr<journal_store>{new journal_store(std::move(d))};
}

journal_store::journal_store(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

journal_store::~journal_store() = default;

void journal_store::inject_write_failures(bool on) noexcept {
  impl_->fail_writes = on;
}

const std::string& journal_store::dir() const noexcept {
  return impl_->opts.dir;
}

seq_no journal_store::head() const {
  std::lock_guard<std::mutex> guard{impl_->head_lock};
  return impl_->head;
}

digest journal_store::head_chain() const {
  std::lock_guard<std::mutex> guard{impl_->head_lock};
  return impl_->head_chain;
}

namespace {

/// Writes `entries` (already hashed) in one transaction; returns an LMDB code.
/// write_batch's answer when `before_commit` fails the transaction (the chaos hook).
constexpr int injected_failure = -1;

int write_batch(journal_store::impl& d, const std::vector<journal_entry>& entries,
                const journal_store::impl::record_source& source, seq_no prev,
                const digest& prev_chain, std::string& what) {
  lmdb_txn txn;
  if (int rc = txn.begin(d.env, 0)) {
    what = "begin";
    return rc;
  }
  // Verify before write: the stored tail must still be the head we know (VAL-1).
  if (prev.value > 0) {
    uint8_t key[8];
    store_key(prev.value, key);
    MDB_val k = as_val(key, 8), v;
    int rc = mdb_get(txn.get(), d.events, &k, &v);
    if (rc != 0 || v.mv_size < chain_size
        || std::memcmp(v.mv_data, prev_chain.bytes.data(), chain_size) != 0) {
      what = "tail check";
      return MDB_CORRUPTED;
    }
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    uint8_t key[8];
    store_key(entries[i].seq.value, key);
    MDB_val k = as_val(key, 8);
    MDB_val v{source.size_of(i), nullptr};
    if (int rc = mdb_put(txn.get(), d.events, &k, &v, MDB_APPEND | MDB_RESERVE)) {
      what = "put";
      return rc;
    }
    source.write(i, static_cast<uint8_t*>(v.mv_data));
  }
  if (int rc = put_head(txn.get(), d.meta, entries.back().seq, entries.back().chain)) {
    what = "put head";
    return rc;
  }
  if (source.before_commit && !source.before_commit()) {
    what = "commit";
    return injected_failure;
  }
  if (int rc = txn.commit()) {
    what = "commit";
    return rc;
  }
  return 0;
}

} // namespace

caf::error journal_store::impl::grow_or_fail(int rc, const char* what) {
  if (rc != MDB_MAP_FULL)
    return lmdb_error(ec::audit_unavailable, opts.dir, what, rc);
  if (map_size >= opts.max_map_size)
    return refuse(ec::audit_unavailable, opts.dir + ": journal map full at its limit of "
                                           + std::to_string(opts.max_map_size) + " bytes");
  auto bigger = std::min(map_size * 2, opts.max_map_size);
  std::unique_lock<std::shared_mutex> guard{map_lock};
  if ((rc = mdb_env_set_mapsize(env, bigger)) != 0)
    return lmdb_error(ec::audit_unavailable, opts.dir, "grow map", rc);
  map_size = bigger;
  return {};
}

caf::error journal_store::impl::write_entries(const std::vector<journal_entry>& entries,
                                              const record_source& source, seq_no prev,
                                              const digest& prev_chain) {
  uint64_t bytes = 0;
  for (size_t i = 0; i < entries.size(); ++i)
    bytes += source.size_of(i);
  write_scope scope{*this, bytes, entries.size()};
  for (;;) {
    std::string what;
    int rc = write_batch(*this, entries, source, prev, prev_chain, what);
    if (rc == 0)
      break;
    if (rc == injected_failure)
      return refuse(ec::audit_unavailable, opts.dir + ": write failure injected (chaos hook)");
    if (rc == MDB_CORRUPTED)
      return refuse(ec::integrity_violation,
                    opts.dir + ": stored tail at seq " + std::to_string(prev.value)
                      + " no longer matches the head (verify before write)");
    if (auto err = grow_or_fail(rc, what.c_str()))
      return err;
  }
  scope.committed();
  std::lock_guard<std::mutex> guard{head_lock};
  head = entries.back().seq;
  head_chain = entries.back().chain;
  return {};
}

caf::expected<std::vector<journal_entry>>
journal_store::append(std::vector<event> events, const encoded_fn& encoded) {
  auto& d = *impl_;
  if (d.opts.read_only)
    return refuse(ec::audit_unavailable, d.opts.dir + ": journal opened read-only");
  if (events.empty())
    return std::vector<journal_entry>{};
  if (d.fail_writes && !encoded)
    return refuse(ec::audit_unavailable, d.opts.dir + ": write failure injected (chaos hook)");
  thread_local sha256_hasher hasher;
  auto prev = head();
  auto prev_chain = head_chain();
  std::vector<journal_entry> entries;
  entries.reserve(events.size());
  for (size_t i = 0; i < events.size(); ++i)
    entries.push_back(journal_entry{seq_no{prev.value + 1 + i}, digest{}, std::move(events[i])});
  // Each record is encoded in the space LMDB reserved for it, and its chain hash is
  // computed over exactly those stored bytes (records are written in order, so the
  // previous entry's chain is final when the next one is written).
  impl::record_source source;
  source.size_of = [&entries](size_t i) {
    return chain_size + record_header_size + entries[i].ev.payload.size();
  };
  std::vector<std::vector<uint8_t>> records;
  if (encoded)
    records.resize(entries.size());
  // A commit can fail for map space after the records were handed over (LMDB saves its
  // free list then); the retry writes the same bytes and hands nothing again.
  bool handed = false;
  source.write = [&](size_t i, uint8_t* dst) {
    auto& e = entries[i];
    uint8_t* bytes = dst + chain_size;
    encode_record_header(e.seq, e.ev, bytes);
    if (!e.ev.payload.empty())
      std::memcpy(bytes + record_header_size, e.ev.payload.data(), e.ev.payload.size());
    e.chain = hasher.chain(i == 0 ? prev_chain : entries[i - 1].chain, bytes,
                           record_header_size + e.ev.payload.size());
    std::memcpy(dst, e.chain.bytes.data(), chain_size);
    if (encoded && !handed)
      records[i].assign(dst, dst + chain_size + record_header_size + e.ev.payload.size());
  };
  if (encoded) {
    source.before_commit = [&] {
      if (!handed) {
        handed = true;
        encoded(std::move(records));
      }
      return !d.fail_writes;
    };
  }
  if (auto err = d.write_entries(entries, source, prev, prev_chain))
    return err;
  return entries;
}

caf::error journal_store::import_records(const std::vector<std::vector<uint8_t>>& values) {
  auto& d = *impl_;
  if (d.opts.read_only)
    return refuse(ec::audit_unavailable, d.opts.dir + ": journal opened read-only");
  if (values.empty())
    return {};
  sha256_hasher hasher;
  auto prev = head();
  auto chain = head_chain();
  std::vector<journal_entry> entries(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    seq_no seq{prev.value + 1 + i};
    auto& v = values[i];
    if (v.size() < chain_size)
      return refuse(ec::integrity_violation, "record " + std::to_string(seq.value) + ": too short");
    if (auto err = check_record(seq, v.data() + chain_size, v.size() - chain_size))
      return err;
    chain = hasher.chain(chain, v.data() + chain_size, v.size() - chain_size);
    if (std::memcmp(chain.bytes.data(), v.data(), chain_size) != 0)
      return refuse(ec::integrity_violation,
                    "record " + std::to_string(seq.value) + ": does not link to the chain");
    entries[i].seq = seq;
    entries[i].chain = chain;
  }
  impl::record_source source;
  source.size_of = [&values](size_t i) { return values[i].size(); };
  source.write = [&values](size_t i, uint8_t* dst) {
    std::memcpy(dst, values[i].data(), values[i].size());
  };
  if (auto err = d.write_entries(entries, source, prev, head_chain()))
    return err;
  return {};
}

} // namespace bulwark
