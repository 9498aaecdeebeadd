// Reads the fleet file (fleet.toml): one registration per `[[resource]]` table.

#include "engine/node_config.hpp"

#include <toml++/toml.h>

#include "engine/config_check.hpp"

namespace bulwark {

caf::expected<std::vector<registration>> load_fleet(const std::string& path) {
  auto parsed = read_toml(path);
  if (!parsed)
    return std::move(parsed.error());
  auto& root = *parsed;
  if (auto err = check_known_keys(root, config_file::fleet, path))
    return err;
  std::vector<registration> out;
  auto list = root["resource"].as_array();
  if (!list)
    return refuse(ec::invalid_input, path + ": resource: expected [[resource]] tables");
  size_t index = 0;
  for (auto& node : *list) {
    auto where = path + ": resource[" + std::to_string(index++) + "]";
    auto t = node.as_table();
    if (!t)
      return refuse(ec::invalid_input, where + ": must be a table");
    registration r;
    auto id = (*t)["id"].value<std::string>();
    auto service = (*t)["service"].value<std::string>();
    auto region = (*t)["region"].value<std::string>();
    if (!id || !is_valid_id(*id))
      return refuse(ec::invalid_input, where + ".id: missing or not a valid name");
    if (!service || !is_valid_id(*service))
      return refuse(ec::invalid_input, where + ".service: missing or not a valid name");
    if (!region || !is_valid_id(*region))
      return refuse(ec::invalid_input, where + ".region: missing or not a valid name");
    r.resource = resource_id{*id};
    r.service = *service;
    r.region = *region;
    if (auto attrs = (*t)["attributes"].as_table()) {
      for (auto& [k, v] : *attrs) {
        auto s = v.value<std::string>();
        if (!s)
          return refuse(ec::invalid_input,
                        where + ".attributes." + std::string{k.str()} + ": must be a string");
        r.attributes[std::string{k.str()}] = *s;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

} // namespace bulwark
