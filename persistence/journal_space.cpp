// The journal's footprint: resident pages released, space in use, the prepared tail
// kept clear of each write transaction, compacted copies.

#include "persistence/journal_store.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include "persistence/store_impl.hpp"

namespace bulwark {

void journal_store::release_resident() const {
  // The map's address is not in LMDB's API (mdb_env_info names it only for a fixed
  // map): find the mappings of data.mdb in /proc/self/maps by device and inode. Safe
  // while others read or write: the map is read-only (no MDB_WRITEMAP) and shared, so
  // MADV_DONTNEED only unmaps pages that the next access maps again from the cache.
  struct stat file;
  if (::stat((impl_->opts.dir + "/data.mdb").c_str(), &file) != 0)
    return;
  std::ifstream maps{"/proc/self/maps"};
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0, offset = 0, inode = 0;
    unsigned major = 0, minor = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %lx %x:%x %lu", &start, &end, perms, &offset,
                    &major, &minor, &inode)
          != 7
        || inode != file.st_ino || makedev(major, minor) != file.st_dev)
      continue;
    madvise(reinterpret_cast<void*>(start), end - start, MADV_DONTNEED);
  }
}

uint64_t journal_store::impl::used_end() const {
  std::shared_lock<std::shared_mutex> guard{map_lock}; // as in space()
  MDB_envinfo info;
  mdb_env_info(env, &info);
  return static_cast<uint64_t>(info.me_last_pgno + 1) * page_size;
}

write_scope::write_scope(journal_store::impl& d, uint64_t bytes, uint64_t records)
  : d_(d), guard_(d.write_lock), bound_(prepared_tail::growth_bound(bytes, records)) {
  if (d_.tail)
    d_.tail->before_write(d_.used_end(), bound_);
}

void write_scope::committed() {
  if (d_.tail)
    d_.tail->after_commit(d_.used_end(), bound_, d_.map_size);
}

prepare_stats journal_store::prepared(bool settle) const {
  auto& d = *impl_;
  prepare_stats out;
  out.used_end = d.used_end();
  if (!d.tail)
    return out;
  if (settle)
    d.tail->settle();
  out.prepared_end = d.tail->prepared_end();
  out.extensions = d.tail->extensions();
  out.failures = d.tail->failures();
  return out;
}

space_usage journal_store::space() const {
  auto& d = *impl_;
  // Not while the writer grows the map: mdb_env_set_mapsize remaps under the unique lock.
  std::shared_lock<std::shared_mutex> guard{d.map_lock};
  MDB_envinfo info;
  MDB_stat st;
  mdb_env_info(d.env, &info);
  mdb_env_stat(d.env, &st);
  return space_usage{static_cast<uint64_t>(info.me_last_pgno + 1) * st.ms_psize,
                     info.me_mapsize, d.opts.max_map_size};
}

caf::error journal_store::copy_to(const std::string& dir) {
  auto& d = *impl_;
  std::shared_lock<std::shared_mutex> guard{d.map_lock};
  if (int rc = mdb_env_copy2(d.env, dir.c_str(), MDB_CP_COMPACT))
    return lmdb_error(ec::unavailable, dir, "copy", rc);
  return {};
}

} // namespace bulwark
