#include "protocol/protocol.h"

#include "protocol/json_shape.h"

namespace musicfs {

Reply Reply::success(nlohmann::json result) {
  Reply r;
  r.result = std::move(result);
  return r;
}

Reply Reply::failure(const Error& e) { return failure(std::string(error_code_name(e.code)), e.message); }

Reply Reply::failure(std::string code, std::string message) {
  Reply r;
  r.ok = false;
  r.error_code = std::move(code);
  r.error_message = std::move(message);
  return r;
}

std::string json_line(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {
// Parses a line that passed the length check; depth is checked before parsing.
Result<nlohmann::json> parse_bounded(std::string_view line, const char* what) {
  if (auto s = check_json_depth(line, kMaxJsonDepth); !s) {
    return make_error(ErrorCode::kProtocol, std::string(what) + " rejected: " + s.error().message);
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::kProtocol, std::string(what) + " is not valid JSON");
  return j;
}
}  // namespace

std::string encode_request(const Request& r) {
  return json_line({{"v", kProtocolVersion}, {"cmd", r.cmd}, {"args", r.args}});
}

Result<Request> decode_request(std::string_view line) {
  if (line.size() > kMaxLineBytes) {
    return make_error(ErrorCode::kProtocol, "request line longer than " + std::to_string(kMaxLineBytes) + " bytes");
  }
  auto parsed = parse_bounded(line, "request");
  if (!parsed) return parsed.take_error();
  nlohmann::json& j = *parsed;
  if (!j.is_object()) return make_error(ErrorCode::kProtocol, "request must be a JSON object");
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer()) {
    return make_error(ErrorCode::kProtocol, "request has no protocol version \"v\"");
  }
  if (v->get<int64_t>() != kProtocolVersion) {
    return make_error(ErrorCode::kProtocol, "protocol version " + std::to_string(v->get<int64_t>()) +
                                                " is not supported (this daemon speaks version " +
                                                std::to_string(kProtocolVersion) + ")");
  }
  auto cmd = j.find("cmd");
  if (cmd == j.end() || !cmd->is_string() || cmd->get_ref<const std::string&>().empty()) {
    return make_error(ErrorCode::kProtocol, "request has no \"cmd\" string");
  }
  Request r;
  r.cmd = std::move(cmd->get_ref<std::string&>());
  if (auto a = j.find("args"); a != j.end()) {
    if (!a->is_object()) return make_error(ErrorCode::kProtocol, "\"args\" must be an object");
    r.args = std::move(*a);  // moved, never copied: a copy recurses over the whole value
  }
  return r;
}

std::string encode_reply(const Reply& r) {
  nlohmann::json j;
  j["ok"] = r.ok;
  if (r.ok) {
    j["result"] = r.result;
  } else {
    j["error"] = {{"code", r.error_code}, {"message", r.error_message}};
  }
  return json_line(j);
}

namespace {
Error malformed_reply(const std::string& why) {
  return make_error(ErrorCode::kProtocol, "the daemon sent a malformed reply (" + why + ")");
}
}  // namespace

Result<nlohmann::json> parse_reply_line(std::string_view line) {
  if (line.size() > kMaxReplyLineBytes) {
    return malformed_reply("a line longer than " + std::to_string(kMaxReplyLineBytes) + " bytes");
  }
  auto parsed = parse_bounded(line, "reply");
  if (!parsed) return malformed_reply(parsed.error().message);
  return parsed;
}

Result<Reply> reply_from_json(nlohmann::json j) {
  if (!j.is_object()) return malformed_reply("not a JSON object");
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean()) return malformed_reply("no boolean \"ok\"");
  Reply r;
  r.ok = ok->get<bool>();
  if (r.ok) {
    if (auto res = j.find("result"); res != j.end()) {
      if (!res->is_object()) return malformed_reply("\"result\" is not an object");
      r.result = std::move(*res);
    }
  } else {
    r.error_code = "internal";
    r.error_message = "unknown error";
    auto e = j.find("error");
    if (e != j.end() && e->is_object()) {
      if (auto c = e->find("code"); c != e->end() && c->is_string()) r.error_code = c->get<std::string>();
      if (auto m = e->find("message"); m != e->end() && m->is_string()) r.error_message = m->get<std::string>();
    }
  }
  return r;
}

Result<Reply> decode_reply(std::string_view line) {
  auto j = parse_reply_line(line);
  if (!j) return j.take_error();
  return reply_from_json(std::move(*j));
}

}  // namespace musicfs
