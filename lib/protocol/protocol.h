#pragma once
// The control protocol: one JSON object per line over a Unix stream socket.
//   request:  {"v":1,"cmd":"status","args":{...}}
//   reply:    {"ok":true,"result":{...}}
//          or {"ok":false,"error":{"code":"not_found","message":"..."}}
// A malformed, oversized, too deeply nested or wrong-version line gets an error reply;
// it never takes the daemon down. Paths travel as path_encoding.h says.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/error.h"

namespace musicfs {

constexpr int kProtocolVersion = 1;
constexpr size_t kMaxLineBytes = 1 << 20;  // 1 MiB: a request line
// A reply can list a long event history; the client still refuses a line without end.
constexpr size_t kMaxReplyLineBytes = 64 << 20;
// Ours nest 4 levels at most; a hostile 130 000 would overflow the stack when copied.
constexpr size_t kMaxJsonDepth = 64;

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

// One JSON value as one protocol line (with '\n'). Never throws: a string that is
// not UTF-8 (a message quoting a file name) has its bad bytes replaced by U+FFFD;
// paths, which must survive exactly, are encoded with encode_path first.
std::string json_line(const nlohmann::json& j);

std::string encode_request(const Request& r);
Result<Request> decode_request(std::string_view line);
std::string encode_reply(const Reply& r);
// Also checks shape: "ok" is a boolean, "result" (if any) an object, error fields strings.
Result<Reply> decode_reply(std::string_view line);

// The client's two steps of decode_reply, for a stream whose lines are either
// streamed objects (no "ok") or the final reply: parse one line within the reply
// bounds (length, depth) ...
Result<nlohmann::json> parse_reply_line(std::string_view line);
// ... and read a parsed line as the reply. Errors are kProtocol, "malformed reply".
Result<Reply> reply_from_json(nlohmann::json j);

}  // namespace musicfs
