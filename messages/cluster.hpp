#pragma once

/// The vocabulary of clustered nodes: signed heads and replication messages.

#include <cstdint>
#include <string>
#include <vector>

#include "caf/meta/type_name.hpp"
#include "caf/timestamp.hpp"

#include "messages/ids.hpp"

namespace bulwark {

/// A node's statement "my journal holds `chain` at `seq` under leadership `term`",
/// signed with the node's Ed25519 key over the bytes of docs/cluster.md "Signed heads".
struct signed_head {
  std::string node_id;
  uint64_t term = 0;
  seq_no seq;
  digest chain;
  caf::timestamp at;                  ///< when the node signed it
  std::vector<uint8_t> public_key;    ///< raw 32-byte Ed25519 key of the signer
  std::vector<uint8_t> signature;     ///< 64-byte Ed25519 signature
};
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signed_head& x) {
  return f(caf::meta::type_name("signed_head"), x.node_id, x.term, x.seq, x.chain, x.at,
           x.public_key, x.signature);
}

} // namespace bulwark
