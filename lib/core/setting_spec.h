#pragma once
// How a type (of origin, of notifier) declares one of its config keys, so that the
// parser checks it and the man page and `config check` can name it; and the value a
// key holds once parsed. In core: both origins/ and notify/ declare keys this way.
#include <cstdint>
#include <string>
#include <variant>

namespace musicfs {

using SettingValue = std::variant<std::string, int64_t, bool>;

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
