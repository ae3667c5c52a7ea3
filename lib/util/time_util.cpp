#include "util/time_util.h"

#include <ctime>

namespace musicfs {

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double unix_now_precise() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string iso8601_utc(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string relative_age(int64_t unix_seconds, int64_t now) {
  if (unix_seconds <= 0) return "never";
  int64_t d = now - unix_seconds;
  if (d < 0) d = 0;
  if (d < 120) return std::to_string(d) + "s ago";
  if (d < 7200) return std::to_string(d / 60) + "m ago";
  if (d < 172800) return std::to_string(d / 3600) + "h ago";
  return std::to_string(d / 86400) + "d ago";
}

std::optional<int64_t> parse_since(std::string_view text, int64_t now) {
  if (text.empty()) return std::nullopt;
  // Relative form: digits followed by one unit letter.
  size_t i = 0;
  while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
  if (i > 0 && i + 1 == text.size()) {
    int64_t n = 0;
    for (size_t k = 0; k < i; ++k) {
      n = n * 10 + (text[k] - '0');
      if (n > 100000000) return std::nullopt;
    }
    int64_t unit = 0;
    switch (text[i]) {
      case 's': unit = 1; break;
      case 'm': unit = 60; break;
      case 'h': unit = 3600; break;
      case 'd': unit = 86400; break;
      case 'w': unit = 7 * 86400; break;
      default: return std::nullopt;
    }
    return now - n * unit;
  }
  // Absolute ISO-8601 forms, always read as UTC.
  std::string s(text);
  std::tm tm{};
  const char* end = nullptr;
  for (const char* fmt : {"%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%MZ",
                          "%Y-%m-%dT%H:%M", "%Y-%m-%d"}) {
    tm = std::tm{};
    end = strptime(s.c_str(), fmt, &tm);
    if (end != nullptr && *end == '\0') {
      std::tm asked = tm;
      time_t t = timegm(&tm);  // normalises 2026-02-30 into March: compare to catch it
      if (tm.tm_mday != asked.tm_mday || tm.tm_mon != asked.tm_mon) return std::nullopt;
      return static_cast<int64_t>(t);
    }
  }
  return std::nullopt;
}

}  // namespace musicfs
