#pragma once
// How a type (of origin, of notifier) declares one of its config keys, so that the
// parser checks it and the man page and `config check` can name it.
#include <cstdint>
#include <string>

namespace musicfs {

enum class SettingKind { kString, kAbsolutePath, kInteger, kBool };

struct SettingSpec {
  std::string key;
  SettingKind kind = SettingKind::kString;
  bool required = false;
  std::string help;
  int64_t min = 0, max = 0;  // for kInteger when max > min
  bool secret = false;       // never printed or logged
};

}  // namespace musicfs
