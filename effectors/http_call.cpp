// libcurl easy handles kept per endpoint, the outcomes told apart by CURLcode and status.

#include "effectors/http_call.hpp"

#include <algorithm>
#include <cstring>
#include <strings.h>

#include <curl/curl.h>

namespace bulwark {

namespace {

struct answer {
  std::string* body;
  size_t limit;
  std::string location;
};

size_t on_body(char* p, size_t size, size_t n, void* user) {
  auto* a = static_cast<answer*>(user);
  auto len = size * n;
  // Bytes past the limit are dropped, not refused: the status decides the outcome.
  if (a->body->size() < a->limit)
    a->body->append(p, std::min(len, a->limit - a->body->size()));
  return len;
}

size_t on_header(char* p, size_t size, size_t n, void* user) {
  auto len = size * n;
  if (len > 9 && ::strncasecmp(p, "Location:", 9) == 0) {
    std::string v(p + 9, len - 9);
    auto b = v.find_first_not_of(" \t");
    auto e = v.find_last_not_of(" \t\r\n");
    static_cast<answer*>(user)->location = b == std::string::npos ? "" : v.substr(b, e - b + 1);
  }
  return len;
}

http_end classify(CURLcode code) {
  switch (code) {
    case CURLE_OK:
      return http_end::answered;
    case CURLE_OPERATION_TIMEDOUT:
      return http_end::timed_out;
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
      return http_end::unreachable;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return http_end::not_http;
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
      return http_end::tls;
    default:
      return http_end::other;
  }
}

} // namespace

http_endpoint::http_endpoint(http_spec spec) : spec_(std::move(spec)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

http_endpoint::~http_endpoint() {
  for (auto* h : idle_)
    curl_easy_cleanup(static_cast<CURL*>(h));
}

void* http_endpoint::take() {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!idle_.empty()) {
      auto* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void http_endpoint::give(void* handle) {
  std::lock_guard<std::mutex> guard{mtx_};
  idle_.push_back(handle);
}

http_outcome http_endpoint::post(const std::string& body, const std::string& idempotency_key,
                                 std::chrono::nanoseconds timeout) {
  return perform(spec_.url, &body, idempotency_key, timeout);
}

http_outcome http_endpoint::get(const std::string& url, std::chrono::nanoseconds timeout) {
  return perform(url, nullptr, "", timeout);
}

http_outcome http_endpoint::perform(const std::string& url, const std::string* body,
                                    const std::string& idempotency_key,
                                    std::chrono::nanoseconds timeout) {
  http_outcome r;
  for (char c : idempotency_key)
    if (c < '!' || c > '~') { // a header must not carry line breaks or other controls
      r.error = "the idempotency key is not printable ASCII";
      return r;
    }
  auto* h = static_cast<CURL*>(take());
  if (h == nullptr) {
    r.error = "cannot create a libcurl handle";
    return r;
  }
  auto ms = std::max<long>(1, static_cast<long>(
                                std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count()));
  curl_easy_reset(h); // keeps the connection cache: a reused handle reuses its connection
  curl_slist* headers = nullptr;
  if (body != nullptr)
    headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "Expect:");
  if (!idempotency_key.empty())
    headers = curl_slist_append(headers, ("Idempotency-Key: " + idempotency_key).c_str());
  char errbuf[CURL_ERROR_SIZE] = {0};
  answer a{&r.body, spec_.max_output, {}};
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (body != nullptr) {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  }
  if (!spec_.token.empty()) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
    curl_easy_setopt(h, CURLOPT_XOAUTH2_BEARER, spec_.token.c_str());
  }
  if (!spec_.ca_file.empty())
    curl_easy_setopt(h, CURLOPT_CAINFO, spec_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   std::min<long>(ms, static_cast<long>(spec_.connect_timeout.count())));
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &a);
  auto code = curl_easy_perform(h);
  curl_slist_free_all(headers);
  r.end = classify(code);
  if (code == CURLE_OK)
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  else
    r.error = errbuf[0] ? errbuf : curl_easy_strerror(code);
  r.location = std::move(a.location);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  give(h);
  return r;
}

} // namespace bulwark
