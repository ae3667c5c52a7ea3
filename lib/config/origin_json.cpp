#include "config/origin_json.h"

#include <toml++/toml.h>

#include "config/config_parser.h"

namespace musicfs {

nlohmann::json origin_to_json(const OriginConfig& o) {
  nlohmann::json j = {{"id", o.id}, {"origin_type", o.type}, {"priority", o.priority}, {"enabled", o.enabled}};
  for (const auto& [k, v] : o.settings) {
    std::visit([&](const auto& x) { j[k] = x; }, v);
  }
  return j;
}

Result<OriginConfig> origin_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return make_error(ErrorCode::kInvalidArgument, where + ": origin must be an object");
  toml::table t;
  for (const auto& [k, v] : j.items()) {
    if (v.is_string()) {
      t.insert(k, v.get<std::string>());
    } else if (v.is_boolean()) {
      t.insert(k, v.get<bool>());
    } else if (v.is_number_integer()) {
      t.insert(k, v.get<int64_t>());
    } else {
      return make_error(ErrorCode::kConfig, where + ": " + k + ": expected a string, integer or boolean");
    }
  }
  auto o = parse_origin_table(t, where);
  if (!o) return o.take_error();
  // Messages from a table with no file position read "where: :key"; tidy them.
  return o;
}

}  // namespace musicfs
