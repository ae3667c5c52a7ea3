#pragma once
// JSON shapes shared by several replies. Field names here are the documented, stable
// --json schema (musicfsctl(1)); change them only with a protocol version bump.
#include <nlohmann/json.hpp>

#include "federation/event_log.h"
#include "federation/router.h"
#include "mount_table.h"

namespace musicfs {

nlohmann::json origin_json(const OriginRuntime& rt, const VirtualTree& tree);
nlohmann::json mount_json(const Mount& m);
nlohmann::json event_json(const Event& e);
nlohmann::json decision_json(const RouteDecision& d);

}  // namespace musicfs
