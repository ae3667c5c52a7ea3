#pragma once
// The control protocol: one JSON object per line over a Unix stream socket.
//   request:  {"v":1,"cmd":"status","args":{...}}
//   reply:    {"ok":true,"result":{...}}
//          or {"ok":false,"error":{"code":"not_found","message":"..."}}
// A malformed, oversized or wrong-version line gets an error reply; it never takes
// the daemon down.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/error.h"

namespace musicfs {

constexpr int kProtocolVersion = 1;
constexpr size_t kMaxLineBytes = 1 << 20;  // 1 MiB

struct Request {
  std::string cmd;
  nlohmann::json args = nlohmann::json::object();
};

struct Reply {
  bool ok = true;
  nlohmann::json result = nlohmann::json::object();
  std::string error_code;
  std::string error_message;

  static Reply success(nlohmann::json result = nlohmann::json::object());
  static Reply failure(const Error& e);
  static Reply failure(std::string code, std::string message);
};

std::string encode_request(const Request& r);
Result<Request> decode_request(std::string_view line);
std::string encode_reply(const Reply& r);
Result<Reply> decode_reply(std::string_view line);

}  // namespace musicfs
