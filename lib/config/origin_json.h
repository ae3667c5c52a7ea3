#pragma once
// An origin definition as a flat JSON object with the same keys as its [[origins]]
// table. Used for `origins add` requests and for origins stored in the state
// database; both go back through parse_origin_table, so every definition, whatever
// its source, is validated by the same code.
#include <nlohmann/json.hpp>
#include <string>

#include "config/config.h"
#include "core/error.h"

namespace musicfs {

nlohmann::json origin_to_json(const OriginConfig& o);
Result<OriginConfig> origin_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace musicfs
