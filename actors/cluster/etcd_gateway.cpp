#include "actors/cluster/etcd_gateway.hpp"

#include <cctype>
#include <fstream>

#include <curl/curl.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "messages/error.hpp"

namespace bulwark {

using json = nlohmann::json;

std::string to_base64(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3) + 1, '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(raw.data()),
                           static_cast<int>(raw.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

caf::optional<std::string> from_base64(const std::string& text) {
  if (text.size() % 4 != 0)
    return caf::none;
  std::string out(text.size() / 4 * 3 + 1, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(text.data()),
                           static_cast<int>(text.size()));
  if (n < 0)
    return caf::none;
  // EVP_DecodeBlock keeps the padding's zero bytes.
  size_t pad = 0;
  for (auto i = text.rbegin(); i != text.rend() && *i == '=' && pad < 2; ++i)
    ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

namespace {

/// The start of etcd's answer (HTTP 400) to a request through its JSON gateway with a client
/// certificate that has a CommonName, once `--client-cert-auth` and authentication are on.
constexpr const char* common_name_refusal = "CommonName of client";

/// int64 fields arrive as JSON strings, and zero values are left out.
int64_t json_i64(const json& j, const char* field) {
  auto it = j.find(field);
  if (it == j.end())
    return 0;
  if (it->is_number())
    return it->get<int64_t>();
  try {
    return std::stoll(it->get<std::string>());
  } catch (...) {
    return 0;
  }
}

size_t on_data(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

etcd_kv kv_of(const json& j) {
  etcd_kv kv;
  kv.value = from_base64(j.value("value", std::string{})).value_or("");
  kv.create_revision = json_i64(j, "create_revision");
  kv.mod_revision = json_i64(j, "mod_revision");
  kv.lease = json_i64(j, "lease");
  return kv;
}

caf::error bad_answer(const std::string& what, const std::string& body) {
  return refuse(ec::unavailable, "etcd answered " + what + " with something unexpected: "
                                   + body.substr(0, 200));
}

/// Names a failed request to an https endpoint as a TLS failure, with the setting to look
/// at; empty when TLS is not what failed (a refused connection, a timeout, a connection that
/// had answered before). `detail` is curl's error text.
std::string tls_failure(CURL* h, CURLcode rc, const std::string& detail,
                        const etcd_settings& cfg) {
  auto ca = cfg.tls_ca.empty() ? std::string{"the system's CAs (tls_ca is not set)"}
                               : "tls_ca " + cfg.tls_ca;
  long connects = 0;
  long header_bytes = 0;
  curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects);
  curl_easy_getinfo(h, CURLINFO_HEADER_SIZE, &header_bytes);
  // etcd refuses a client certificate (or its absence) with a TLS alert. Over TLS 1.3 the
  // client's side of the handshake has ended by then, so the alert, or the closed
  // connection, arrives on the first write or read of the request.
  bool alert = detail.find("alert") != std::string::npos;
  bool closed = (rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR) && connects > 0
                && header_bytes == 0;
  if (rc == CURLE_PEER_FAILED_VERIFICATION)
    return "etcd's certificate does not verify against " + ca;
  if (rc == CURLE_SSL_CACERT_BADFILE)
    return "cannot load " + ca;
  if (rc == CURLE_SSL_CERTPROBLEM)
    return "cannot load the client certificate tls_cert " + cfg.tls_cert + " with tls_key "
           + cfg.tls_key;
  if ((rc == CURLE_SSL_CONNECT_ERROR && alert) || closed)
    return "etcd ended the handshake: "
           + (cfg.tls_cert.empty() ? std::string{"no client certificate is set (tls_cert, "
                                                 "tls_key) and etcd may require one "
                                                 "(--client-cert-auth)"}
                                   : "it may not accept the client certificate tls_cert "
                                       + cfg.tls_cert);
  if (rc == CURLE_SSL_CONNECT_ERROR)
    return "the handshake failed";
  return {};
}

/// The error of a request that got no HTTP answer: curl's reason, or for TLS what failed.
caf::error transfer_failed(CURL* h, CURLcode rc, const char* detail, const std::string& endpoint,
                           const etcd_settings& cfg) {
  std::string why = detail[0] != '\0' ? detail : curl_easy_strerror(rc);
  auto tls = endpoint.rfind("https://", 0) == 0 ? tls_failure(h, rc, why, cfg) : std::string{};
  if (tls.empty())
    return refuse(ec::unavailable, "etcd " + endpoint + ": " + curl_easy_strerror(rc));
  return refuse(ec::unavailable, "etcd " + endpoint + ": TLS failed: " + tls + " (" + why + ")");
}

caf::expected<json> parse_answer(const std::string& what, const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return bad_answer(what, body);
  return j;
}

} // namespace

etcd_gateway::etcd_gateway(etcd_settings cfg) : cfg_(std::move(cfg)) {
  curl_ = curl_easy_init();
}

etcd_gateway::~etcd_gateway() {
  if (curl_ != nullptr)
    curl_easy_cleanup(static_cast<CURL*>(curl_));
}

caf::expected<std::string> etcd_gateway::post_once(const std::string& path,
                                                    const std::string& body,
                                                    bool& connect_failed, long& status) {
  auto* h = static_cast<CURL*>(curl_);
  if (h == nullptr)
    return refuse(ec::unavailable, "etcd: curl_easy_init failed");
  auto url = cfg_.endpoints[current_] + "/v3/" + path;
  std::string answer;
  auto* hdrs = curl_slist_append(nullptr, "Content-Type: application/json");
  if (!token_.empty())
    hdrs = curl_slist_append(hdrs, ("Authorization: " + token_).c_str());
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(cfg_.request_timeout).count();
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(ms));
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(ms));
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &answer);
  if (!cfg_.tls_ca.empty())
    curl_easy_setopt(h, CURLOPT_CAINFO, cfg_.tls_ca.c_str());
  if (!cfg_.tls_cert.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, cfg_.tls_cert.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, cfg_.tls_key.c_str());
  }
  char detail[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
  auto rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  curl_slist_free_all(hdrs);
  if (rc != CURLE_OK) {
    connect_failed = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST;
    // A timeout never means "not done": the caller treats the outcome as unknown.
    return transfer_failed(h, rc, detail, cfg_.endpoints[current_], cfg_);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    auto j = json::parse(answer, nullptr, false);
    auto msg = j.is_object() ? j.value("message", j.value("error", answer)) : answer;
    while (!msg.empty() && std::isspace(static_cast<unsigned char>(msg.back())))
      msg.pop_back();
    if (status == 400 && msg.find(common_name_refusal) != std::string::npos)
      msg = "with its authentication on, etcd refuses a client certificate that has a "
            "CommonName at its JSON gateway: tls_cert " + cfg_.tls_cert
            + " needs a subject without CN (etcd: " + msg + ")";
    return refuse(ec::unavailable, "etcd " + cfg_.endpoints[current_] + " " + path
                                     + ": HTTP " + std::to_string(status) + ": " + msg);
  }
  return answer;
}

caf::error etcd_gateway::authenticate() {
  if (cfg_.user.empty())
    return {};
  std::ifstream in{cfg_.password_file};
  std::string password;
  if (!in || !std::getline(in, password))
    return refuse(ec::invalid_input, "cannot read the etcd password file " + cfg_.password_file);
  token_.clear();
  bool connect_failed = false;
  long status = 0;
  auto body = json{{"name", cfg_.user}, {"password", password}}.dump();
  auto r = post_once("auth/authenticate", body, connect_failed, status);
  if (!r) {
    if (status != 0 && describe(r.error()).message.find(common_name_refusal) == std::string::npos)
      return refuse(ec::invalid_input, "etcd refused the credentials of user " + cfg_.user
                                         + ": " + describe(r.error()).message);
    return r.error();
  }
  auto j = parse_answer("auth/authenticate", *r);
  if (!j)
    return j.error();
  token_ = j->value("token", std::string{});
  if (token_.empty())
    return bad_answer("auth/authenticate", *r);
  return {};
}

caf::expected<std::string> etcd_gateway::post(const std::string& path, const std::string& body) {
  if (cfg_.endpoints.empty())
    return refuse(ec::invalid_input, "etcd: no endpoints configured");
  caf::error last;
  // Each endpoint once, from the one that answered last; a refused connection moves on at
  // once, a timeout too (the next request goes to the next endpoint).
  for (size_t tried = 0; tried < cfg_.endpoints.size(); ++tried) {
    if (!cfg_.user.empty() && token_.empty())
      if (auto err = authenticate()) {
        if (is(err, ec::invalid_input))
          return err;
        last = std::move(err);
        current_ = (current_ + 1) % cfg_.endpoints.size();
        continue;
      }
    bool connect_failed = false;
    long status = 0;
    auto r = post_once(path, body, connect_failed, status);
    if (r)
      return r;
    if (status == 401 && !cfg_.user.empty()) {
      token_.clear(); // an expired token: authenticate again, once
      if (auto err = authenticate())
        return err;
      r = post_once(path, body, connect_failed, status);
      if (r)
        return r;
    }
    if (status != 0 && status < 500)
      return r.error(); // etcd answered: another endpoint would answer the same
    last = r.error();
    current_ = (current_ + 1) % cfg_.endpoints.size();
  }
  return last;
}

caf::expected<uint64_t> etcd_gateway::cluster_id() {
  auto r = post("maintenance/status", "{}");
  if (!r)
    return r.error();
  auto j = parse_answer("maintenance/status", *r);
  if (!j)
    return j.error();
  auto hdr = j->find("header");
  if (hdr == j->end())
    return bad_answer("maintenance/status", *r);
  return static_cast<uint64_t>(std::stoull(hdr->value("cluster_id", std::string{"0"})));
}

caf::expected<etcd_lease> etcd_gateway::grant(int64_t ttl_s) {
  auto r = post("lease/grant", json{{"TTL", std::to_string(ttl_s)}}.dump());
  if (!r)
    return r.error();
  auto j = parse_answer("lease/grant", *r);
  if (!j)
    return j.error();
  etcd_lease out{json_i64(*j, "ID"), json_i64(*j, "TTL")};
  if (out.id == 0 || out.ttl_s <= 0)
    return bad_answer("lease/grant", *r);
  return out;
}

caf::expected<int64_t> etcd_gateway::keepalive(int64_t id) {
  auto r = post("lease/keepalive", json{{"ID", std::to_string(id)}}.dump());
  if (!r)
    return r.error();
  auto j = parse_answer("lease/keepalive", *r);
  if (!j)
    return j.error();
  auto res = j->find("result");
  if (res == j->end() || !res->is_object())
    return bad_answer("lease/keepalive", *r);
  return json_i64(*res, "TTL"); // absent for a lease that is gone
}

caf::error etcd_gateway::revoke(int64_t id) {
  auto r = post("lease/revoke", json{{"ID", std::to_string(id)}}.dump());
  return r ? caf::error{} : r.error();
}

caf::expected<etcd_campaign> etcd_gateway::campaign(const std::string& key,
                                                    const std::string& value, int64_t lease) {
  auto k = to_base64(key);
  json txn = {{"compare", json::array({{{"key", k}, {"target", "CREATE"}, {"result", "EQUAL"},
                                        {"create_revision", "0"}}})},
              {"success", json::array({{{"request_put", {{"key", k}, {"value", to_base64(value)},
                                                          {"lease", std::to_string(lease)}}}}})},
              {"failure", json::array({{{"request_range", {{"key", k}}}}})}};
  auto r = post("kv/txn", txn.dump());
  if (!r)
    return r.error();
  auto j = parse_answer("kv/txn", *r);
  if (!j)
    return j.error();
  etcd_campaign out;
  out.won = j->value("succeeded", false);
  out.revision = json_i64(j->value("header", json::object()), "revision");
  if (!out.won) {
    auto& resp = (*j)["responses"];
    if (resp.is_array() && !resp.empty()) {
      auto range = resp[0].value("response_range", json::object());
      auto kvs = range.value("kvs", json::array());
      if (!kvs.empty())
        out.holder = kv_of(kvs[0]);
    }
  }
  if (out.revision == 0)
    return bad_answer("kv/txn", *r);
  return out;
}

caf::expected<caf::optional<etcd_kv>> etcd_gateway::get(const std::string& key) {
  auto r = post("kv/range", json{{"key", to_base64(key)}}.dump());
  if (!r)
    return r.error();
  auto j = parse_answer("kv/range", *r);
  if (!j)
    return j.error();
  if (j->find("header") == j->end())
    return bad_answer("kv/range", *r);
  auto kvs = j->value("kvs", json::array());
  if (kvs.empty())
    return caf::optional<etcd_kv>{};
  return caf::optional<etcd_kv>{kv_of(kvs[0])};
}

caf::error etcd_gateway::remove_if(const std::string& key, int64_t revision) {
  auto k = to_base64(key);
  json txn = {{"compare", json::array({{{"key", k}, {"target", "CREATE"}, {"result", "EQUAL"},
                                        {"create_revision", std::to_string(revision)}}})},
              {"success", json::array({{{"request_delete_range", {{"key", k}}}}})}};
  auto r = post("kv/txn", txn.dump());
  return r ? caf::error{} : r.error();
}

} // namespace bulwark
