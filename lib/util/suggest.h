#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace musicfs {

// The closest candidate to `word` when it is close enough to be a likely typo
// (edit distance at most 2, and less than half the word), for "did you mean" hints.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

}  // namespace musicfs
