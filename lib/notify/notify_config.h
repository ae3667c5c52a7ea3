#pragma once
// One [[notify]] table of the configuration (musicfs.toml(5)): a notifier told which
// directories of the mount changed. It lives here, below config/, because each
// notifier type declares and reads its own keys (notify/notifier.h) while the config
// parser checks them: config depends on notify, never the other way round.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/setting_spec.h"

namespace musicfs {

struct NotifyConfig {
  std::string type;  // "exec", "mpd", "subsonic", "jellyfin", "plex"
  int64_t debounce_ms = 2000;
  std::map<std::string, SettingValue> settings;
  std::vector<std::string> command;  // exec: the program and its arguments
  int source_line = 0;

  std::string string_setting(const std::string& key, const std::string& fallback = {}) const;
  int64_t int_setting(const std::string& key, int64_t fallback) const;
};

}  // namespace musicfs
