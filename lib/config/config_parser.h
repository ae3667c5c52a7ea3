#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/error.h"

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace musicfs {

// The largest config file read (musicfs.toml(5)): a real one is a few KiB, and the
// daemon must not read /dev/zero until it runs out of memory.
constexpr uint64_t kMaxConfigBytes = 1u << 20;

// One problem in a config file: its line (0 when no line is known) and the error,
// whose message is the whole "file:line: key: message" line.
struct ConfigProblem {
  int line = 0;
  Error error;
};

// What checking a config file found: every problem, in line order, or the config
// when there is none. Parsing goes on past a bad value, so one pass names them all;
// a TOML syntax error is the exception (nothing after it can be read).
struct ConfigCheck {
  std::optional<Config> config;
  std::vector<ConfigProblem> problems;  // in line order
  size_t first_found = 0;  // index in `problems` of the one parsing met first

  // The config, or the first problem met (with a count of the rest) as one error:
  // for a misspelt key that is "unknown key (did you mean ...)", not the "missing"
  // it causes on the table's line.
  Result<Config> take() &&;
};

// `musicfsctl config check`: reads and validates a file, reporting every problem.
ConfigCheck check_config_file(const std::string& path);
ConfigCheck check_config_string(std::string_view text, const std::string& source_name);

// Reads and validates a config file. Errors name the file, the line and the key, on
// one line:
//   "/etc/musicfs.toml:7: origins[1].priority: 300 is out of range 0-255"
// Warns (see warn_if_secret_exposed) about its mode.
Result<Config> parse_config_file(const std::string& path);
// The text of a config file: refused unless it is a regular file of at most
// kMaxConfigBytes. Never blocks (a FIFO is refused, not read).
Result<std::string> read_config_text(const std::string& path);
// Warns in the log, naming the file and the origin but never the secret, when the
// config holds a password (an http url with user:password@) and the file at `path` is
// readable by group or others.
void warn_if_secret_exposed(const Config& config, const std::string& path);
Result<Config> parse_config_string(std::string_view text, const std::string& source_name);

// Validates one origin table; the same code serves the config file and `origins add`.
// `where` prefixes errors ("musicfs.toml:12: origins[2]" or "origins add").
Result<OriginConfig> parse_origin_table(const toml::table& table, const std::string& where);

// Checks what only matters when mounting: the mount point exists and is a directory,
// and no origin of the file overlaps it (check_origin_outside_mount).
Status check_mount_point(const Config& config);
// Refuses a local, nfs or smb origin whose path is the mount point, contains it or
// lies inside it (compared by realpath). `where` prefixes the error.
Status check_origin_outside_mount(const std::string& mount_point, const OriginConfig& origin, const std::string& where);

// "file:line", or "file" when the line is not known (0): the prefix of every error
// about a place in a config file.
std::string config_location(const std::string& source, int line);
// `text` with control characters escaped (\n, \t, \x01), so that an error quoting it
// stays one line.
std::string one_line(std::string_view text);

}  // namespace musicfs
