#pragma once

/// The `[cluster]` section of bulwark.toml.

#include <map>
#include <string>

#include "caf/error.hpp"
#include "caf/optional.hpp"

#include "actors/cluster/cluster_policy.hpp"
#include "actors/cluster/etcd_gateway.hpp"

namespace bulwark {

/// A node's cluster configuration with the files of its keys.
struct cluster_settings {
  cluster_config cfg;
  std::string key_file;                            ///< this node's private key (bulwark keygen)
  std::map<std::string, std::string> pubkey_files; ///< each peer's public key, by node id
  std::string tls_cert; ///< PEM certificate (chain) of this node; with tls_key and tls_ca
  std::string tls_key;  ///< its PEM private key
  std::string tls_ca;   ///< PEM file of the CAs a peer's certificate must chain to
  /// `[cluster.etcd]`: the leader is whoever holds the lease in etcd (none: the configured
  /// leader, promoted by hand).
  caf::optional<etcd_settings> etcd;
};

/// Reads `[cluster]` of the TOML file at `path` into `out` (left empty without the
/// section). Relative key files are taken from the configuration file's directory.
/// Errors name the file, the key and the problem (`INVALID_INPUT`).
caf::error read_cluster_section(const std::string& path, caf::optional<cluster_settings>& out);

} // namespace bulwark
