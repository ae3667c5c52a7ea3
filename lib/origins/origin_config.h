#pragma once
// One [[origins]] table of the configuration (musicfs.toml(5)): what an origin type
// is built from. It lives here, below config/, because the origin types read it while
// the config parser checks it against their declared keys (origins/origin_types.h):
// config depends on origins, never the other way round.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>

#include "core/setting_spec.h"

namespace musicfs {

struct OriginConfig {
  std::string id;
  std::string type;  // "local", "nfs", "smb", "s3", "sftp", ...
  int priority = 100;  // 0..255, lower wins
  bool enabled = true;  // the plan's sketch said false; the issue fixes it to true
  // `cache = true|false`; unset means the type's default (caches_content()).
  std::optional<bool> cache;
  // Type-specific keys (path, bucket, host, ...), already checked against the type's spec.
  std::map<std::string, SettingValue> settings;
  int source_line = 0;  // line of the [[origins]] table in its file, 0 when not from a file

  std::string string_setting(const std::string& key, const std::string& fallback = {}) const;
  int64_t int_setting(const std::string& key, int64_t fallback) const;
  bool bool_setting(const std::string& key, bool fallback) const;
  // Whether the content cache keeps (and serves) this origin's chunks. Every type but
  // `local` caches by default: a copy of a local disk on the same machine saves no
  // round trip and costs a second write of every byte read (issue 16 measured it
  // halving cold parallel reads). nfs and smb are network shares, so they cache.
  bool caches_content() const { return cache.value_or(type != "local"); }
};

}  // namespace musicfs
