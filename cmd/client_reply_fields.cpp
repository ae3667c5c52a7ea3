#include "client_reply_fields.h"

#include "protocol/path_encoding.h"

namespace musicfs::cli {

namespace {
const nlohmann::json kNull;
const nlohmann::json kEmptyArray = nlohmann::json::array();
const nlohmann::json kEmptyObject = nlohmann::json::object();

[[noreturn]] void wrong_type(const char* key, const nlohmann::json& v, const char* expected) {
  throw MalformedReply(std::string("field '") + key + "' is " + v.type_name() + ", not " + expected);
}

// A field that is absent (the fallback) or of one JSON type (else MalformedReply).
template <typename T>
T scalar(const nlohmann::json& obj, const char* key, T fallback, bool (nlohmann::json::*is_type)() const noexcept,
         const char* expected) {
  const auto& v = field(obj, key);
  if (v.is_null()) return fallback;
  if (!(v.*is_type)()) wrong_type(key, v, expected);
  return v.get<T>();
}
}  // namespace

const nlohmann::json& field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) throw MalformedReply(std::string("a ") + obj.type_name() + " where an object with '" + key + "' belongs");
  auto it = obj.find(key);
  return it == obj.end() ? kNull : *it;
}

std::string text(const nlohmann::json& obj, const char* key, const std::string& fallback) {
  const auto& v = field(obj, key);
  if (v.is_null()) return fallback;
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number_float()) return nlohmann::json(v.get<double>()).dump();
  if (v.is_boolean()) return v.get<bool>() ? "yes" : "no";
  wrong_type(key, v, "a string");
}

std::string path_text(const nlohmann::json& obj, const char* key, const std::string& fallback) {
  const auto& v = field(obj, key);
  if (v.is_null()) return fallback;
  auto bytes = decode_path(v);
  if (!bytes) wrong_type(key, v, "a path");
  return *bytes;
}

int64_t integer(const nlohmann::json& obj, const char* key, int64_t fallback) {
  return scalar<int64_t>(obj, key, fallback, &nlohmann::json::is_number_integer, "an integer");
}

uint64_t count(const nlohmann::json& obj, const char* key, uint64_t fallback) {
  const auto& v = field(obj, key);
  if (v.is_null()) return fallback;
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer() && v.get<int64_t>() >= 0) return static_cast<uint64_t>(v.get<int64_t>());
  wrong_type(key, v, "a count");
}

double number(const nlohmann::json& obj, const char* key, double fallback) {
  return scalar<double>(obj, key, fallback, &nlohmann::json::is_number, "a number");
}

bool flag(const nlohmann::json& obj, const char* key, bool fallback) {
  return scalar<bool>(obj, key, fallback, &nlohmann::json::is_boolean, "a boolean");
}

const nlohmann::json& list(const nlohmann::json& obj, const char* key) {
  const auto& v = field(obj, key);
  if (v.is_null()) return kEmptyArray;
  if (!v.is_array()) wrong_type(key, v, "an array");
  return v;
}

const nlohmann::json& object(const nlohmann::json& obj, const char* key) {
  const auto& v = field(obj, key);
  if (v.is_null()) return kEmptyObject;
  if (!v.is_object()) wrong_type(key, v, "an object");
  return v;
}

}  // namespace musicfs::cli
