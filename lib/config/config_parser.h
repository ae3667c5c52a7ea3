#pragma once
#include <string>
#include <string_view>

#include "config/config.h"
#include "util/error.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace musicfs {

// Reads and validates a config file. Errors name the file, the line and the key:
//   "/etc/musicfs.toml:7: origins[1].priority: 300 is out of range 0-255"
// Reads and parses a config file; warns (see warn_if_secret_exposed) about its mode.
Result<Config> parse_config_file(const std::string& path);
// Warns in the log, naming the file and the origin but never the secret, when the
// config holds a password (an http url with user:password@) and the file at `path` is
// readable by group or others.
void warn_if_secret_exposed(const Config& config, const std::string& path);
Result<Config> parse_config_string(std::string_view text, const std::string& source_name);

// Validates one origin table; the same code serves the config file and `origins add`.
// `where` prefixes errors ("musicfs.toml:12: origins[2]" or "origins add").
Result<OriginConfig> parse_origin_table(const toml::table& table, const std::string& where);

// Checks what only matters when mounting: the mount point exists and is a directory.
Status check_mount_point(const Config& config);

}  // namespace musicfs
