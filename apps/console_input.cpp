#include "apps/console_input.hpp"

#include <algorithm>

namespace bulwark::cli {

using nlohmann::json;

namespace {

/// Where a scan of `input` ended: inside a quote, and how deep in brackets.
struct scan_state {
  bool quoted = false;
  bool escaped = false;
  int depth = 0;
};

void step(scan_state& st, char c) {
  if (st.quoted) {
    if (st.escaped)
      st.escaped = false;
    else if (c == '\\')
      st.escaped = true;
    else if (c == '"')
      st.quoted = false;
    return;
  }
  if (c == '"')
    st.quoted = true;
  else if (c == '[' || c == '{')
    ++st.depth;
  else if ((c == ']' || c == '}') && st.depth > 0)
    --st.depth;
}

bool blank(char c) {
  return c == ' ' || c == '\t';
}

} // namespace

bool split_words(const std::string& input, std::vector<std::string>& out, std::string& error) {
  out.clear();
  scan_state st;
  std::string word;
  bool in_word = false;
  for (char c : input) {
    if (!st.quoted && st.depth == 0 && blank(c)) {
      if (in_word)
        out.push_back(word);
      word.clear();
      in_word = false;
      continue;
    }
    step(st, c);
    word += c;
    in_word = true;
  }
  if (st.quoted || st.depth != 0) {
    error = st.quoted ? "a quote is not closed" : "a bracket is not closed";
    return false;
  }
  if (in_word)
    out.push_back(word);
  return true;
}

bool to_request(const std::string& input, uint64_t id, json& out, std::string& error) {
  auto start = input.find_first_not_of(" \t");
  if (start != std::string::npos && input[start] == '{') {
    out = json::parse(input, nullptr, false);
    if (out.is_discarded() || !out.is_object()) {
      error = "not a JSON object";
      return false;
    }
    if (!out.contains("id"))
      out["id"] = id;
    return true;
  }
  std::vector<std::string> words;
  if (!split_words(input, words, error))
    return false;
  if (words.empty()) {
    error = "no command";
    return false;
  }
  json args = json::object();
  for (size_t i = 1; i < words.size(); ++i) {
    auto& word = words[i];
    auto eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      error = "arguments are key=value, got '" + word + "'";
      return false;
    }
    auto value = word.substr(eq + 1);
    auto parsed = json::parse(value, nullptr, false);
    if (parsed.is_discarded() && !value.empty() && (value[0] == '"' || value[0] == '['
                                                    || value[0] == '{')) {
      error = "the value of " + word.substr(0, eq) + " is not valid JSON";
      return false;
    }
    args[word.substr(0, eq)] = parsed.is_discarded() ? json(value) : parsed;
  }
  out = json{{"id", id}, {"cmd", words[0]}, {"args", args}};
  return true;
}

std::vector<command_names> commands_from_help(const json& result) {
  std::vector<command_names> out;
  if (!result.is_array())
    return out;
  for (auto& c : result) {
    if (!c.is_object() || !c.contains("cmd") || !c["cmd"].is_string())
      continue;
    command_names x{c["cmd"].get<std::string>(), {}};
    if (auto a = c.find("args"); a != c.end() && a->is_array())
      for (auto& arg : *a)
        if (arg.is_object() && arg.contains("name") && arg["name"].is_string())
          x.args.push_back(arg["name"].get<std::string>());
    out.push_back(std::move(x));
  }
  return out;
}

std::string help_text(const json& result) {
  if (!result.is_array() || result.empty())
    return "";
  std::string out;
  for (auto& c : result) {
    if (!c.is_object() || !c.contains("usage") || !c["usage"].is_string())
      return "";
    out += c["usage"].get<std::string>() + "\n";
    if (c.contains("help") && c["help"].is_string())
      out += "    " + c["help"].get<std::string>() + "\n";
    if (c.contains("example") && c["example"].is_string() && c["example"] != c["usage"])
      out += "    e.g. " + c["example"].get<std::string>() + "\n";
  }
  return out;
}

std::vector<std::string> complete(const std::string& line, const std::vector<command_names>& cmds) {
  std::vector<std::string> out;
  scan_state st;
  for (char c : line)
    step(st, c);
  if (st.quoted || st.depth != 0)
    return out;
  std::vector<std::string> words;
  std::string error;
  if (!split_words(line, words, error))
    return out;
  bool fresh = line.empty() || blank(line.back()); // the cursor starts a new word
  auto typed = fresh || words.empty() ? std::string{} : words.back();
  size_t index = fresh ? words.size() : words.size() - 1;
  if (index == 0) {
    for (auto& c : cmds)
      if (c.name.compare(0, typed.size(), typed) == 0)
        out.push_back(c.name);
  } else {
    if (typed.find('=') != std::string::npos)
      return out;
    auto c = std::find_if(cmds.begin(), cmds.end(),
                          [&](const command_names& x) { return x.name == words[0]; });
    if (c == cmds.end())
      return out;
    for (auto& a : c->args) {
      bool given = false;
      for (size_t i = 1; i < index; ++i)
        given |= words[i].compare(0, a.size() + 1, a + "=") == 0;
      if (!given && a.compare(0, typed.size(), typed) == 0)
        out.push_back(a + "=");
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace bulwark::cli
