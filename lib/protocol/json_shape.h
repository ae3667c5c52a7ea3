#pragma once
// A cheap, linear pre-check of a JSON text before it is parsed. nlohmann::json parses
// iteratively, but copying, comparing and dumping a value recurse once per nesting
// level, so a line of 130 000 '[' would overflow the stack later. Checking the depth
// here, before any value exists, keeps every later step bounded.
#include <cstddef>
#include <string_view>

#include "core/error.h"

namespace musicfs {

// Fails (kProtocol) when arrays and objects in `text` nest deeper than `max_depth`.
// Brackets inside strings (including escaped quotes) do not count. Not a validator:
// malformed text that is shallow passes and is left to the parser.
Status check_json_depth(std::string_view text, size_t max_depth);

}  // namespace musicfs
