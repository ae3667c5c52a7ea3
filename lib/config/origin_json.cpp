#include "config/origin_json.h"

#include <toml++/toml.h>

#include "config/config_parser.h"

namespace musicfs {

nlohmann::json origin_to_json(const OriginConfig& o) {
  nlohmann::json j = {{"id", o.id}, {"origin_type", o.type}, {"priority", o.priority}, {"enabled", o.enabled}};
  // Only when set: an origin saved without it keeps following its type's default.
  if (o.cache) j["cache"] = *o.cache;
  for (const auto& setting : o.settings) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
    const std::string& key = setting.first;
    std::visit([&](const auto& x) { j[key] = x; }, setting.second);
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
