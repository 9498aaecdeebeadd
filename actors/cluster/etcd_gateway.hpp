#pragma once

/// A small client of etcd's v3 JSON gateway (etcd 3.4, `POST /v3/...` over libcurl): lease
/// grant, keep-alive and revoke, the election transaction, reads, and a put-if-absent. One
/// object is one keep-alive connection and is not thread-safe (one per actor).

#include <cstdint>
#include <string>
#include <vector>

#include "caf/error.hpp"
#include "caf/expected.hpp"
#include "caf/optional.hpp"
#include "caf/timespan.hpp"

namespace bulwark {

/// The `[cluster.etcd]` section: where etcd is and how the leader's lease behaves.
struct etcd_settings {
  std::vector<std::string> endpoints; ///< "http://HOST:PORT" or "https://HOST:PORT", tried in turn
  std::string prefix = "/bulwark/";   ///< every key of this cluster starts with it
  int64_t lease_ttl_s = 5;            ///< the leader's lease, in seconds (etcd counts in seconds)
  caf::timespan renew = std::chrono::milliseconds{1000};   ///< how often the holder renews
  caf::timespan margin = std::chrono::milliseconds{1000};  ///< stop writing this long before expiry
  caf::timespan request_timeout = std::chrono::milliseconds{500}; ///< per etcd request
  std::string tls_ca;   ///< PEM CA file that etcd's certificate must chain to (https)
  std::string tls_cert; ///< PEM client certificate, with tls_key (etcd's --client-cert-auth)
  std::string tls_key;
  std::string user;          ///< etcd user (with auth enabled); empty: none
  std::string password_file; ///< file holding that user's password (first line)
};

/// A key as etcd holds it.
struct etcd_kv {
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;
  int64_t lease = 0;
};

/// The election transaction's answer: won (the key was absent and is ours now, created at
/// `revision`) or the holder's key.
struct etcd_campaign {
  bool won = false;
  int64_t revision = 0;           ///< the transaction's revision (= the key's create_revision when won)
  caf::optional<etcd_kv> holder;  ///< when lost: the key as it is
};

/// A granted lease.
struct etcd_lease {
  int64_t id = 0;
  int64_t ttl_s = 0; ///< what etcd granted (it may raise a TTL below its minimum)
};

class etcd_gateway {
public:
  explicit etcd_gateway(etcd_settings cfg);
  ~etcd_gateway();
  etcd_gateway(const etcd_gateway&) = delete;
  etcd_gateway& operator=(const etcd_gateway&) = delete;

  /// etcd's cluster id (`maintenance/status`): proves the endpoint answers and the
  /// credentials are accepted.
  caf::expected<uint64_t> cluster_id();

  caf::expected<etcd_lease> grant(int64_t ttl_s);

  /// Renews lease `id`: the TTL etcd restarted, or 0 when the lease is gone (expired or
  /// revoked: its keys are deleted).
  caf::expected<int64_t> keepalive(int64_t id);

  caf::error revoke(int64_t id);

  /// Creates `key` = `value` bound to `lease` if the key does not exist (compare
  /// create_revision = 0); otherwise reads the holder.
  caf::expected<etcd_campaign> campaign(const std::string& key, const std::string& value,
                                        int64_t lease);

  /// Reads `key` (none: absent).
  caf::expected<caf::optional<etcd_kv>> get(const std::string& key);

  /// Deletes `key` if its create_revision is `revision` (a holder resigning its own key).
  caf::error remove_if(const std::string& key, int64_t revision);

  /// The endpoint that answered last.
  const std::string& endpoint() const {
    return cfg_.endpoints[current_];
  }

private:
  caf::expected<std::string> post(const std::string& path, const std::string& body);
  caf::expected<std::string> post_once(const std::string& path, const std::string& body,
                                       bool& connect_failed, long& status);
  caf::error authenticate();

  etcd_settings cfg_;
  size_t current_ = 0;
  void* curl_ = nullptr;
  std::string token_;
};

/// Standard base64 with padding (what the gateway takes for keys and values).
std::string to_base64(const std::string& raw);

/// Decodes standard base64; none on bad input.
caf::optional<std::string> from_base64(const std::string& text);

} // namespace bulwark
