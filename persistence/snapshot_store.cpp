// journal_store snapshots: the projection at a seq, with that seq's chain hash.
//
// Value layout (docs/journal-format.md, "Snapshots"): version (1) | seq (8) |
// chain (32) | state digest (32) | state length (4) | canonical fleet_state.

#include <cstring>

#include "persistence/codec.hpp"
#include "persistence/journal_store.hpp"
#include "persistence/sha256.hpp"
#include "persistence/store_impl.hpp"

namespace bulwark {

namespace {

// 2: fleet_state gained candidates, incidents, reverted; 3: dead_letters
constexpr uint8_t snapshot_version = 10;
constexpr size_t snapshot_header = 1 + 8 + 32 + 32 + 4;

/// Decodes and checks one stored snapshot; false if it is unusable.
bool decode_snapshot(MDB_txn* txn, MDB_dbi events, uint64_t key_seq, const MDB_val& v,
                     snapshot& out) {
  auto* p = static_cast<const uint8_t*>(v.mv_data);
  if (v.mv_size < snapshot_header || p[0] != snapshot_version)
    return false;
  canonical_reader header{p + 1, snapshot_header - 1};
  uint64_t seq = 0, len = 0;
  header.get_uint<8>(seq);
  if (seq != key_seq)
    return false;
  std::memcpy(out.chain.bytes.data(), p + 9, 32);
  std::memcpy(out.state_digest.bytes.data(), p + 41, 32);
  canonical_reader len_reader{p + 73, 4};
  len_reader.get_uint<4>(len);
  if (len != v.mv_size - snapshot_header)
    return false;
  auto* state = p + snapshot_header;
  if (sha256(state, len) != out.state_digest)
    return false;
  // The snapshot must sit on the chain: its chain equals the stored record's.
  uint8_t key[8];
  store_key(seq, key);
  MDB_val k{8, key}, ev;
  if (mdb_get(txn, events, &k, &ev) != 0 || ev.mv_size < 32
      || std::memcmp(ev.mv_data, out.chain.bytes.data(), 32) != 0)
    return false;
  if (decode(state, len, out.state))
    return false;
  out.seq = seq_no{seq};
  return out.state.seq == seq;
}

} // namespace

caf::error journal_store::write_snapshot(const projection& p) {
  auto seq = p.state().seq;
  auto chain = chain_at(seq_no{seq});
  if (!chain)
    return chain.error();
  return put_snapshot(seq, encode_snapshot(p.state(), *chain));
}

std::vector<uint8_t> journal_store::encode_snapshot(const fleet_state& state,
                                                    const digest& chain) {
  // Header and state in one buffer, the state encoded in place (no second copy of a state
  // that grows with the decided-proposal index); the header is filled in after it.
  canonical_sizer n;
  n(state);
  std::vector<uint8_t> value;
  value.reserve(snapshot_header + n.size());
  value.resize(snapshot_header);
  canonical_writer w{value};
  w(state);
  auto len = value.size() - snapshot_header;
  auto sd = sha256(value.data() + snapshot_header, len);
  std::vector<uint8_t> header;
  header.reserve(snapshot_header);
  canonical_writer h{header};
  h.put_uint<1>(snapshot_version);
  h.put_uint<8>(state.seq);
  header.insert(header.end(), chain.bytes.begin(), chain.bytes.end());
  header.insert(header.end(), sd.bytes.begin(), sd.bytes.end());
  h.put_uint<4>(len);
  std::memcpy(value.data(), header.data(), snapshot_header);
  return value;
}

caf::error journal_store::put_snapshot(uint64_t seq, const std::vector<uint8_t>& value) {
  auto& d = *impl_;
  write_scope scope{d, value.size(), 1};
  for (;;) {
    lmdb_txn txn;
    if (int rc = txn.begin(d.env, 0))
      return lmdb_error(ec::audit_unavailable, d.opts.dir, "begin", rc);
    uint8_t key[8];
    store_key(seq, key);
    MDB_val k{8, key}, v{value.size(), const_cast<uint8_t*>(value.data())};
    int rc = mdb_put(txn.get(), d.snapshots, &k, &v, 0);
    if (rc == 0)
      rc = txn.commit();
    if (rc == 0) {
      scope.committed();
      return {};
    }
    txn.abort();
    if (auto err = d.grow_or_fail(rc, "write snapshot"))
      return err;
  }
}

caf::expected<caf::optional<snapshot>> journal_store::load_snapshot(seq_no at_most) {
  auto& d = *impl_;
  read_scope scope;
  if (int rc = d.begin_read(scope))
    return lmdb_error(ec::unavailable, d.opts.dir, "begin", rc);
  lmdb_cursor cur;
  if (int rc = cur.open(scope.txn.get(), d.snapshots))
    return lmdb_error(ec::unavailable, d.opts.dir, "cursor", rc);
  uint8_t key[8];
  store_key(at_most.value + 1, key);
  MDB_val k{8, key}, v;
  int rc = cur.get(k, v, MDB_SET_RANGE);
  rc = rc == 0 ? cur.get(k, v, MDB_PREV) : cur.get(k, v, MDB_LAST);
  for (; rc == 0; rc = cur.get(k, v, MDB_PREV)) {
    uint64_t seq = 0;
    if (!load_key(k, seq) || seq > at_most.value)
      continue;
    snapshot snap;
    if (decode_snapshot(scope.txn.get(), d.events, seq, v, snap))
      return caf::optional<snapshot>{std::move(snap)};
  }
  if (rc != 0 && rc != MDB_NOTFOUND)
    return lmdb_error(ec::unavailable, d.opts.dir, "cursor_get", rc);
  return caf::optional<snapshot>{};
}

caf::expected<std::vector<seq_no>> journal_store::snapshots() {
  auto& d = *impl_;
  read_scope scope;
  if (int rc = d.begin_read(scope))
    return lmdb_error(ec::unavailable, d.opts.dir, "begin", rc);
  lmdb_cursor cur;
  cur.open(scope.txn.get(), d.snapshots);
  std::vector<seq_no> out;
  MDB_val k, v;
  for (int rc = cur.get(k, v, MDB_FIRST); rc == 0; rc = cur.get(k, v, MDB_NEXT)) {
    uint64_t seq = 0;
    if (load_key(k, seq))
      out.push_back(seq_no{seq});
  }
  return out;
}

} // namespace bulwark
