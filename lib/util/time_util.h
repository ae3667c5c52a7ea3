#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace musicfs {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;
using Millis = std::chrono::milliseconds;

inline Deadline deadline_in(Millis ms) { return SteadyClock::now() + ms; }

// Wall-clock seconds since the epoch, for timestamps that are stored or shown.
int64_t unix_now();
double unix_now_precise();

// "2026-11-25T10:04:05Z"
std::string iso8601_utc(int64_t unix_seconds);
// "3s ago", "5m ago", "2h ago", "4d ago", or "never" for 0.
std::string relative_age(int64_t unix_seconds, int64_t now);
// Parses "90s", "15m", "24h", "7d", "2w" as a duration before now, or an ISO-8601
// date/time ("2026-11-24", "2026-11-24T10:00:00Z"). Returns unix seconds.
std::optional<int64_t> parse_since(std::string_view text, int64_t now);

}  // namespace musicfs
