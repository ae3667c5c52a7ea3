#pragma once
// The logging backend is set up here and nowhere else.
#include <optional>
#include <string>

#include "core/error.h"

namespace musicfs {

enum class LogTarget { kStderr, kFile, kNull };

// level: trace|debug|info|warn|error|critical|off. Returns an error for an unknown level.
Status setup_logging(LogTarget target, const std::string& level, const std::string& file_path = {});

// The level asked for: --log-level if given, else MUSICFS_LOG, else "info".
std::string resolve_log_level(const std::optional<std::string>& flag);

}  // namespace musicfs
