// journal_store reads: ranges of records (raw or decoded) and single chain hashes, in
// short read transactions beside the writer.

#include <cstring>

#include "persistence/journal_store.hpp"
#include "persistence/record.hpp"
#include "persistence/store_impl.hpp"

namespace bulwark {

caf::error journal_store::scan(
  seq_no from, seq_no to,
  const std::function<bool(seq_no, const uint8_t*, const uint8_t*, size_t)>& f) {
  auto& d = *impl_;
  // Page through with short read transactions so a long scan does not pin pages.
  constexpr uint64_t page = 4096;
  uint64_t next = std::max<uint64_t>(from.value, 1);
  while (next <= to.value) {
    read_scope scope;
    if (int rc = d.begin_read(scope))
      return lmdb_error(ec::unavailable, d.opts.dir, "begin", rc);
    lmdb_cursor cur;
    if (int rc = cur.open(scope.txn.get(), d.events))
      return lmdb_error(ec::unavailable, d.opts.dir, "cursor", rc);
    uint8_t key[8];
    store_key(next, key);
    MDB_val k = as_val(key, 8), v;
    int rc = cur.get(k, v, MDB_SET_RANGE);
    uint64_t end = std::min(to.value, next + page - 1);
    for (; rc == 0; rc = cur.get(k, v, MDB_NEXT)) {
      uint64_t seq = 0;
      if (!load_key(k, seq))
        return refuse(ec::integrity_violation, d.opts.dir + ": malformed key");
      if (seq > end)
        break;
      if (seq != next)
        return refuse(ec::integrity_violation, "record " + std::to_string(next) + ": missing");
      if (v.mv_size < chain_size)
        return refuse(ec::integrity_violation, "record " + std::to_string(seq) + ": too short");
      auto* bytes = static_cast<const uint8_t*>(v.mv_data);
      ++next;
      if (!f(seq_no{seq}, bytes, bytes + chain_size, v.mv_size - chain_size))
        return {};
    }
    if (rc != 0 && rc != MDB_NOTFOUND)
      return lmdb_error(ec::unavailable, d.opts.dir, "cursor_get", rc);
    if (rc == MDB_NOTFOUND)
      break;
  }
  return {};
}

caf::error journal_store::read(seq_no from, seq_no to,
                               const std::function<bool(journal_entry&&)>& f) {
  caf::error err;
  auto scan_err = scan(from, to, [&](seq_no seq, const uint8_t* chain, const uint8_t* bytes,
                                     size_t size) {
    journal_entry entry;
    entry.seq = seq;
    std::memcpy(entry.chain.bytes.data(), chain, chain_size);
    if ((err = decode_record(seq, bytes, size, entry.ev)))
      return false;
    return f(std::move(entry));
  });
  return scan_err ? scan_err : err;
}

caf::expected<digest> journal_store::chain_at(seq_no seq) {
  if (seq.value == 0)
    return digest{};
  auto& d = *impl_;
  read_scope scope;
  if (int rc = d.begin_read(scope))
    return lmdb_error(ec::unavailable, d.opts.dir, "begin", rc);
  uint8_t key[8];
  store_key(seq.value, key);
  MDB_val k = as_val(key, 8), v;
  int rc = mdb_get(scope.txn.get(), d.events, &k, &v);
  if (rc == MDB_NOTFOUND)
    return refuse(ec::invalid_input, "no record " + std::to_string(seq.value));
  if (rc != 0)
    return lmdb_error(ec::unavailable, d.opts.dir, "get", rc);
  if (v.mv_size < chain_size)
    return refuse(ec::integrity_violation, "record " + std::to_string(seq.value) + ": too short");
  digest out;
  std::memcpy(out.bytes.data(), v.mv_data, chain_size);
  return out;
}

} // namespace bulwark
