#pragma once
// The small integer that keys an origin's rows in index_entries and index_tags
// (index_origins.id), created on first use. Writer thread only.
#include <cstdint>
#include <string>

#include "core/error.h"
#include "sqlite/sqlite_db.h"

namespace musicfs {

Result<int64_t> index_origin_id(SqliteDb& db, const std::string& mount, const std::string& origin);

}  // namespace musicfs
