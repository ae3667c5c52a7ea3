#pragma once
// A hash that lets an unordered map keyed by std::string be searched with a
// string_view (with std::equal_to<>), so a lookup by a piece of a path copies nothing.
#include <cstddef>
#include <functional>
#include <string_view>

namespace musicfs {

struct StringViewHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

}  // namespace musicfs
