// History query filters: one parser for every front end's arguments, and the tests an
// event must pass (header, payload bytes, decoded fields).

#include "persistence/history_filter.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <ctime>
#include <initializer_list>

#include <nlohmann/json.hpp>

#include "messages/ids.hpp"
#include "persistence/event_json.hpp"

namespace bulwark {

namespace {

bool parse_uint(std::string_view text, uint64_t& out) {
  if (text.empty() || text.size() > 20)
    return false;
  auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), out);
  return err == std::errc{} && end == text.data() + text.size();
}

bool digits(std::string_view text, size_t at, size_t n, int& out) {
  if (at + n > text.size())
    return false;
  out = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (text[i] < '0' || text[i] > '9')
      return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

bool parse_iso(std::string_view t, int64_t& ns) {
  // YYYY-MM-DDTHH:MM:SS[.mmm]Z
  int y, mo, d, h, mi, s, ms = 0;
  if (t.size() < 20 || !digits(t, 0, 4, y) || t[4] != '-' || !digits(t, 5, 2, mo) || t[7] != '-'
      || !digits(t, 8, 2, d) || t[10] != 'T' || !digits(t, 11, 2, h) || t[13] != ':'
      || !digits(t, 14, 2, mi) || t[16] != ':' || !digits(t, 17, 2, s))
    return false;
  size_t at = 19;
  if (t[at] == '.') {
    if (!digits(t, at + 1, 3, ms))
      return false;
    at += 4;
  }
  if (at + 1 != t.size() || t[at] != 'Z')
    return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return false;
  std::tm tm{};
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = s;
  auto secs = static_cast<int64_t>(::timegm(&tm));
  if (tm.tm_mday != d) // 2026-02-30 normalizes to March: refused
    return false;
  ns = (secs * 1000 + ms) * 1'000'000;
  return true;
}

bool set_digest(std::string& out, std::string& bytes, std::string_view name,
                std::string_view value, std::string& why) {
  digest d;
  if (!parse_digest(value, d)) {
    why = std::string{name} + " must be a whole digest: 64 hex characters";
    return false;
  }
  out = to_hex(d);
  bytes.assign(reinterpret_cast<const char*>(d.bytes.data()), d.bytes.size());
  return true;
}

bool set_name(std::string& out, std::string_view name, std::string_view value,
              std::string& why) {
  if (value.empty() || value.size() > 256) {
    why = std::string{name} + " must be 1 to 256 characters";
    return false;
  }
  out = std::string{value};
  return true;
}

bool set_types(std::bitset<256>& out, std::string_view value, std::string& why) {
  std::bitset<256> types;
  size_t at = 0;
  while (at <= value.size()) {
    auto comma = value.find(',', at);
    auto name = value.substr(at, comma == std::string_view::npos ? std::string_view::npos
                                                                 : comma - at);
    event_type t;
    if (!parse(name, t)) {
      why = "type: unknown event type '" + std::string{name.substr(0, 64)}
            + "' (names as in docs/journal-format.md, separated by commas)";
      return false;
    }
    types.set(static_cast<uint8_t>(t));
    if (comma == std::string_view::npos)
      break;
    at = comma + 1;
  }
  out = types;
  return true;
}

/// True when some field named one of `keys`, at any depth, is the string `needle`.
bool names(const nlohmann::json& j, std::initializer_list<const char*> keys,
           const std::string& needle) {
  if (j.is_array())
    return std::any_of(j.begin(), j.end(), [&](const nlohmann::json& x) {
      return names(x, keys, needle);
    });
  if (!j.is_object())
    return false;
  for (auto& [key, value] : j.items()) {
    if (value.is_string()) {
      if (std::any_of(keys.begin(), keys.end(), [&](const char* k) { return key == k; })
          && value.get_ref<const std::string&>() == needle)
        return true;
    } else if ((value.is_object() || value.is_array()) && names(value, keys, needle)) {
      return true;
    }
  }
  return false;
}

bool has_bytes(const uint8_t* data, size_t size, const std::string& needle) {
  if (needle.empty())
    return true;
  return ::memmem(data, size, needle.data(), needle.size()) != nullptr;
}

} // namespace

bool parse_history_time(std::string_view text, int64_t& ns) {
  uint64_t ms = 0;
  if (parse_uint(text, ms)) {
    if (ms > static_cast<uint64_t>(std::numeric_limits<int64_t>::max() / 1'000'000))
      return false;
    ns = static_cast<int64_t>(ms) * 1'000'000;
    return true;
  }
  return parse_iso(text, ns);
}

bool set_history_arg(history_filter& f, std::string_view name, std::string_view value,
                     std::string& why) {
  uint64_t n = 0;
  if (name == "from" || name == "to") {
    if (!parse_uint(value, n) || n == 0) {
      why = std::string{name} + " must be a seq number (1 or more)";
      return false;
    }
    (name == "from" ? f.from : f.to) = n;
    return true;
  }
  if (name == "since" || name == "until") {
    int64_t ns = 0;
    if (!parse_history_time(value, ns)) {
      why = std::string{name}
            + " must be a UTC time such as 2026-12-06T07:00:00Z (or .123Z) or milliseconds "
              "since the epoch";
      return false;
    }
    if (name == "since")
      f.since_ns = ns;
    else // inclusive to the end of the millisecond named
      f.until_ns = ns + 999'999;
    return true;
  }
  if (name == "type")
    return set_types(f.types, value, why);
  if (name == "limit") {
    if (!parse_uint(value, n) || n == 0 || n > history_max_page) {
      why = "limit must be 1 to " + std::to_string(history_max_page) + " events per page";
      return false;
    }
    f.limit = static_cast<uint32_t>(n);
    return true;
  }
  if (name == "principal")
    return set_name(f.principal, name, value, why);
  if (name == "resource")
    return set_name(f.resource, name, value, why);
  if (name == "service")
    return set_name(f.service, name, value, why);
  if (name == "incident")
    return set_digest(f.incident, f.incident_bytes, name, value, why);
  if (name == "proposal")
    return set_digest(f.proposal, f.proposal_bytes, name, value, why);
  why = "unknown argument '" + std::string{name.substr(0, 64)} + "'";
  return false;
}

bool check_history_filter(const history_filter& f, std::string& why) {
  if (f.from == 0) {
    why = "from must be 1 or more";
    return false;
  }
  if (f.from > f.to) {
    why = "inverted range: from " + std::to_string(f.from) + " is after to "
          + std::to_string(f.to);
    return false;
  }
  if (f.since_ns > f.until_ns) {
    why = "inverted range: since is after until";
    return false;
  }
  return true;
}

bool history_has_subjects(const history_filter& f) {
  return !f.principal.empty() || !f.resource.empty() || !f.service.empty()
         || !f.incident.empty() || !f.proposal.empty();
}

bool history_payload_may_match(const history_filter& f, const uint8_t* payload, size_t size) {
  return has_bytes(payload, size, f.principal) && has_bytes(payload, size, f.resource)
         && has_bytes(payload, size, f.service) && has_bytes(payload, size, f.incident_bytes)
         && has_bytes(payload, size, f.proposal_bytes);
}

bool history_subjects_match(const history_filter& f, const event& ev) {
  if (!history_has_subjects(f))
    return true;
  auto p = payload_to_json(ev);
  return (f.principal.empty() || names(p, {"principal", "approver", "by", "owner"}, f.principal))
         && (f.resource.empty() || names(p, {"resource"}, f.resource))
         && (f.service.empty() || names(p, {"service"}, f.service))
         && (f.incident.empty() || names(p, {"incident"}, f.incident))
         && (f.proposal.empty() || names(p, {"proposal"}, f.proposal));
}

} // namespace bulwark
