#pragma once
// Reading fields of a daemon's reply, for the printers. The reply comes from whatever
// listens on the socket, so no field may be trusted to exist or to have its type:
// nlohmann's value()/get<>() throw on a wrong type and const operator[] on a missing
// key is undefined behaviour. Every printer reads fields through these instead.
//
// A missing (or null) field reads as the fallback: older and newer daemons may
// differ. A field present with the wrong type is a malformed reply: the accessors
// throw MalformedReply, which main() turns into one line and exit 1. (An exception,
// not a Result, because a printer reads dozens of fields and has nothing to do with
// a bad one but stop.)
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

namespace musicfs::cli {

class MalformedReply : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The field, or null when absent; `obj` must be an object.
const nlohmann::json& field(const nlohmann::json& obj, const char* key);

// A string, number or boolean as text ("yes"/"no"); null -> fallback.
std::string text(const nlohmann::json& obj, const char* key, const std::string& fallback = "-");
// A path (string or the {"bytes_b64"} form, protocol/path_encoding.h) as its bytes.
std::string path_text(const nlohmann::json& obj, const char* key, const std::string& fallback = "-");
int64_t integer(const nlohmann::json& obj, const char* key, int64_t fallback = 0);
uint64_t count(const nlohmann::json& obj, const char* key, uint64_t fallback = 0);
double number(const nlohmann::json& obj, const char* key, double fallback = 0);
bool flag(const nlohmann::json& obj, const char* key, bool fallback = false);
// An array (empty when absent) and an object (empty when absent).
const nlohmann::json& list(const nlohmann::json& obj, const char* key);
const nlohmann::json& object(const nlohmann::json& obj, const char* key);

}  // namespace musicfs::cli
