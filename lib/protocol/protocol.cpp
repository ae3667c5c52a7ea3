#include "protocol/protocol.h"

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

std::string encode_request(const Request& r) {
  nlohmann::json j = {{"v", kProtocolVersion}, {"cmd", r.cmd}, {"args", r.args}};
  return j.dump() + "\n";
}

Result<Request> decode_request(std::string_view line) {
  if (line.size() > kMaxLineBytes) {
    return make_error(ErrorCode::kProtocol, "request line longer than " + std::to_string(kMaxLineBytes) + " bytes");
  }
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return make_error(ErrorCode::kProtocol, "request is not valid JSON");
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
  if (cmd == j.end() || !cmd->is_string() || cmd->get<std::string>().empty()) {
    return make_error(ErrorCode::kProtocol, "request has no \"cmd\" string");
  }
  Request r;
  r.cmd = cmd->get<std::string>();
  if (auto a = j.find("args"); a != j.end()) {
    if (!a->is_object()) return make_error(ErrorCode::kProtocol, "\"args\" must be an object");
    r.args = *a;
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
  // Replace invalid UTF-8 (a file name in another encoding) rather than throwing.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<Reply> decode_reply(std::string_view line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("ok") || !j["ok"].is_boolean()) {
    return make_error(ErrorCode::kProtocol, "the daemon sent a malformed reply");
  }
  Reply r;
  r.ok = j["ok"].get<bool>();
  if (r.ok) {
    if (j.contains("result")) r.result = j["result"];
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

}  // namespace musicfs
