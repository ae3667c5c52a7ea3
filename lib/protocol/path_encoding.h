#pragma once
// File names are byte strings; JSON strings are Unicode. A path in a request or a
// reply is therefore sent as
//   "a/b.flac"                       when its bytes are valid UTF-8 (the usual case), or
//   {"bytes_b64": "bW50L/8uZmxhYw=="} the exact bytes in base64 (RFC 4648, padded)
// so that any name, "\xff.flac" or a Latin-1 "caf\xe9", goes both ways unchanged.
// Documented in musicfsctl(1), JSON OUTPUT.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace musicfs {

// Strict UTF-8 as JSON requires it: no overlong forms, no surrogates, <= U+10FFFF.
bool is_valid_utf8(std::string_view bytes);

nlohmann::json encode_path(std::string_view bytes);
// Either form back to the bytes; kInvalidArgument for anything else (or bad base64).
Result<std::string> decode_path(const nlohmann::json& value);

std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

}  // namespace musicfs
