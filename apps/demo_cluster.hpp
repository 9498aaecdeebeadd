#pragma once

/// `bulwark demo --cluster N`: N embedded nodes on 127.0.0.1 keep one journal.

#include <cstdint>
#include <string>

namespace bulwark::cli {

/// Options of the cluster demo.
struct cluster_demo_args {
  uint32_t nodes = 3;    ///< 2..7
  std::string data;      ///< parent directory (new or empty); empty: a fresh temporary one
  uint32_t proposals = 20; ///< proposals given to the leader before the follower is cut off
  bool json = false;
};

/// Runs the scenario: replication, routing from a follower, a follower stopped and then
/// cut off from its leader (refusing mutations, serving stale reads with its head seq),
/// catch-up, and equal heads, state digests and verified chains on every node. Prints the
/// timeline and a summary; returns 0 only if every check passed (1 bad arguments, 2 a
/// node did not start, 3 a check failed).
int run_cluster_demo(const cluster_demo_args& args);

} // namespace bulwark::cli
