// The journal's footprint: resident pages released, space in use, compacted copies.

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

space_usage journal_store::space() const {
  auto& d = *impl_;
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
