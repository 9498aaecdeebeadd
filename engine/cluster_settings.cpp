#include "engine/cluster_settings.hpp"

#include <fstream>
#include <utility>

#include <toml++/toml.h>

#include "actors/cluster/lease_policy.hpp"
#include "engine/config_check.hpp"
#include "messages/error.hpp"

namespace bulwark {

namespace {

struct section {
  const std::string& path;
  const toml::table& tbl;
  caf::error err;
  std::string scope = "cluster.";

  void fail(const std::string& key, const std::string& problem) {
    if (!err)
      err = refuse(ec::invalid_input, path + ": " + scope + key + ": " + problem);
  }

  void get(const char* key, std::string& out) {
    if (auto node = tbl[key]; node) {
      if (auto v = node.value<std::string>())
        out = *v;
      else
        fail(key, "must be a string");
    }
  }

  template <class T>
  void get(const char* key, T& out, int64_t lo, int64_t hi) {
    if (auto node = tbl[key]; node) {
      auto v = node.value<int64_t>();
      if (!v || *v < lo || *v > hi)
        fail(key, "must be an integer from " + std::to_string(lo) + " to " + std::to_string(hi));
      else
        out = static_cast<T>(*v);
    }
  }
};

/// Splits "HOST:PORT".
bool split_address(const std::string& text, std::string& host, uint16_t& port) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
    return false;
  host = text.substr(0, colon);
  try {
    size_t used = 0;
    auto n = std::stoul(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || n > 65535)
      return false;
    port = static_cast<uint16_t>(n);
  } catch (...) {
    return false;
  }
  return true;
}

std::string beside(const std::string& config, const std::string& file) {
  if (file.empty() || file.front() == '/')
    return file;
  auto slash = config.rfind('/');
  return slash == std::string::npos ? file : config.substr(0, slash + 1) + file;
}

void read_peers(section& s, cluster_settings& out) {
  auto peers = s.tbl["peers"];
  if (!peers)
    return;
  auto* arr = peers.as_array();
  if (arr == nullptr)
    return s.fail("peers", "must be an array of \"ID@HOST:PORT\" strings");
  for (auto& item : *arr) {
    auto text = item.value<std::string>();
    auto at = text ? text->find('@') : std::string::npos;
    peer_address p;
    if (at == std::string::npos || !split_address(text->substr(at + 1), p.host, p.port))
      return s.fail("peers", "each peer is \"ID@HOST:PORT\"");
    p.node_id = text->substr(0, at);
    out.cfg.peers.push_back(std::move(p));
  }
}

void read_pubkeys(section& s, const std::string& path, cluster_settings& out) {
  auto keys = s.tbl["pubkeys"];
  if (!keys)
    return;
  auto* tbl = keys.as_table();
  if (tbl == nullptr)
    return s.fail("pubkeys", "must be a table of node id = public key file");
  for (auto& [id, file] : *tbl) {
    auto name = file.value<std::string>();
    if (!name)
      return s.fail("pubkeys." + std::string{id.str()}, "must be a file name");
    out.pubkey_files[std::string{id.str()}] = beside(path, *name);
  }
}

/// `tls_cert`, `tls_key` and `tls_ca`: all three (readable files) or none.
void read_tls(section& s, const std::string& path, cluster_settings& out) {
  std::pair<const char*, std::string*> keys[] = {
    {"tls_cert", &out.tls_cert}, {"tls_key", &out.tls_key}, {"tls_ca", &out.tls_ca}};
  int given = 0;
  for (auto& [key, value] : keys) {
    s.get(key, *value);
    given += value->empty() ? 0 : 1;
  }
  if (given == 0)
    return;
  for (auto& [key, value] : keys) {
    if (value->empty())
      return s.fail(key, "required with the other TLS keys (tls_cert, tls_key and tls_ca: "
                         "all three or none)");
    *value = beside(path, *value);
    if (!std::ifstream{*value}.good())
      return s.fail(key, "cannot read " + *value);
  }
  out.cfg.tls = true;
}

/// `[cluster.etcd]`: the leader is elected through a lease in etcd.
void read_etcd(section& outer, const std::string& path, cluster_settings& out) {
  if (outer.err)
    return;
  auto node = outer.tbl["etcd"];
  if (!node)
    return;
  auto* tbl = node.as_table();
  if (tbl == nullptr)
    return outer.fail("etcd", "must be a table");
  section s{path, *tbl, {}, "cluster.etcd."};
  etcd_settings e;
  auto fail = [&](const std::string& key, const std::string& problem) {
    outer.fail("etcd." + key, problem);
  };
  if (auto eps = (*tbl)["endpoints"]; eps) {
    auto* arr = eps.as_array();
    if (arr == nullptr)
      return fail("endpoints", "must be an array of \"http://HOST:PORT\" strings");
    for (auto& item : *arr) {
      auto text = item.value<std::string>();
      if (!text)
        return fail("endpoints", "must be an array of \"http://HOST:PORT\" strings");
      e.endpoints.push_back(*text);
    }
  }
  int64_t renew = 1000, margin = 1000, timeout = 500;
  s.get("prefix", e.prefix);
  s.get("lease_ttl", e.lease_ttl_s, 1, 3600);
  s.get("renew_ms", renew, 1, 3600000);
  s.get("margin_ms", margin, 1, 3600000);
  s.get("request_timeout_ms", timeout, 1, 3600000);
  s.get("tls_ca", e.tls_ca);
  s.get("tls_cert", e.tls_cert);
  s.get("tls_key", e.tls_key);
  s.get("user", e.user);
  s.get("password_file", e.password_file);
  if (s.err) {
    outer.err = std::move(s.err);
    return;
  }
  e.renew = std::chrono::milliseconds{renew};
  e.margin = std::chrono::milliseconds{margin};
  e.request_timeout = std::chrono::milliseconds{timeout};
  for (auto* f : {&e.tls_ca, &e.tls_cert, &e.tls_key, &e.password_file})
    *f = beside(path, *f);
  if (!e.prefix.empty() && e.prefix.back() != '/')
    e.prefix += '/';
  if (auto err = check_etcd_settings(e)) {
    outer.err = refuse(ec::invalid_input, path + ": " + describe(err).message);
    return;
  }
  for (auto [key, file] : {std::pair{"tls_ca", &e.tls_ca}, {"tls_cert", &e.tls_cert},
                           {"tls_key", &e.tls_key}, {"password_file", &e.password_file}})
    if (!file->empty() && !std::ifstream{*file}.good()) {
      s.fail(key, "cannot read " + *file);
      outer.err = std::move(s.err);
      return;
    }
  out.etcd = std::move(e);
  out.cfg.elected = true;
}

} // namespace

caf::error read_cluster_section(const std::string& path, caf::optional<cluster_settings>& out) {
  auto parsed = read_toml(path);
  if (!parsed)
    return std::move(parsed.error());
  auto& root = *parsed;
  auto* tbl = root["cluster"].as_table();
  if (tbl == nullptr)
    return {};
  cluster_settings cs;
  section s{path, *tbl, {}, "cluster."};
  s.get("node_id", cs.cfg.node_id);
  s.get("cluster_id", cs.cfg.cluster_id);
  s.get("leader", cs.cfg.leader);
  std::string listen;
  s.get("listen", listen);
  if (!listen.empty() && !split_address(listen, cs.cfg.listen_host, cs.cfg.listen_port))
    s.fail("listen", "must be HOST:PORT");
  s.get("term", cs.cfg.term, 1, INT64_MAX);
  s.get("min_followers", cs.cfg.min_followers, 0, 1000);
  s.get("sync_followers", cs.cfg.sync_followers, 0, 1000);
  s.get("max_batch", cs.cfg.max_batch, 1, 1 << 20);
  s.get("key", cs.key_file);
  cs.key_file = beside(path, cs.key_file);
  read_peers(s, cs);
  read_pubkeys(s, path, cs);
  read_tls(s, path, cs);
  read_etcd(s, path, cs);
  if (s.err)
    return s.err;
  if (auto err = check_config(cs.cfg))
    return refuse(ec::invalid_input, path + ": " + describe(err).message);
  out = std::move(cs);
  return {};
}

} // namespace bulwark
