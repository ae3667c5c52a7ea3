#include <catch2/catch.hpp>

#include <string>

#include "protocol/protocol.h"

using namespace musicfs;
using Catch::Contains;

namespace {
// Requires decode_request(line) to fail with kProtocol; returns the message.
std::string protocol_error(std::string_view line) {
  auto r = decode_request(line);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kProtocol);
  return r.error().message;
}
}  // namespace

TEST_CASE("encode_request / decode_request round trip", "[protocol]") {
  Request req;
  req.cmd = "status";
  req.args = {{"mount", "/mnt/music"}, {"verbose", true}, {"n", 3}};
  std::string line = encode_request(req);
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);  // exactly one line

  auto back = decode_request(line);
  INFO((back.ok() ? std::string() : back.error().message));
  REQUIRE(back.ok());
  CHECK(back->cmd == "status");
  CHECK(back->args == req.args);

  auto j = nlohmann::json::parse(line);
  CHECK(j["v"] == kProtocolVersion);
}

TEST_CASE("decode_request: args are optional and default to an empty object", "[protocol]") {
  auto r = decode_request(R"({"v":1,"cmd":"mounts"})");
  REQUIRE(r.ok());
  CHECK(r->cmd == "mounts");
  CHECK(r->args.is_object());
  CHECK(r->args.empty());
}

TEST_CASE("decode_request rejects malformed requests with kProtocol", "[protocol]") {
  SECTION("malformed JSON") { CHECK_THAT(protocol_error(R"({"v":1,"cmd":)"), Contains("not valid JSON")); }
  SECTION("empty line") { CHECK_THAT(protocol_error(""), Contains("not valid JSON")); }
  SECTION("not an object") {
    CHECK_THAT(protocol_error(R"([1,2,3])"), Contains("must be a JSON object"));
    CHECK_THAT(protocol_error(R"("status")"), Contains("must be a JSON object"));
  }
  SECTION("missing version") { CHECK_THAT(protocol_error(R"({"cmd":"status"})"), Contains("\"v\"")); }
  SECTION("version not an integer") { CHECK_THAT(protocol_error(R"({"v":"1","cmd":"status"})"), Contains("\"v\"")); }
  SECTION("wrong version names both versions") {
    std::string msg = protocol_error(R"({"v":2,"cmd":"status"})");
    CHECK_THAT(msg, Contains("version 2"));
    CHECK_THAT(msg, Contains("version " + std::to_string(kProtocolVersion)));
  }
  SECTION("missing cmd") { CHECK_THAT(protocol_error(R"({"v":1,"args":{}})"), Contains("\"cmd\"")); }
  SECTION("cmd not a string") { CHECK_THAT(protocol_error(R"({"v":1,"cmd":5})"), Contains("\"cmd\"")); }
  SECTION("empty cmd") { CHECK_THAT(protocol_error(R"({"v":1,"cmd":""})"), Contains("\"cmd\"")); }
  SECTION("args not an object") {
    CHECK_THAT(protocol_error(R"({"v":1,"cmd":"status","args":[1]})"), Contains("\"args\" must be an object"));
    CHECK_THAT(protocol_error(R"({"v":1,"cmd":"status","args":"x"})"), Contains("\"args\" must be an object"));
  }
  SECTION("oversized line") {
    // A valid request padded past the limit: refused for its size, before parsing.
    Request req;
    req.cmd = "status";
    req.args = {{"pad", std::string(kMaxLineBytes, 'x')}};
    std::string line = encode_request(req);
    REQUIRE(line.size() > kMaxLineBytes);
    CHECK_THAT(protocol_error(line), Contains(std::to_string(kMaxLineBytes)));
  }
}

TEST_CASE("a request exactly at the size limit is accepted", "[protocol]") {
  Request req;
  req.cmd = "status";
  req.args = {{"pad", ""}};
  size_t base = encode_request(req).size();
  req.args["pad"] = std::string(kMaxLineBytes - base, 'y');
  std::string line = encode_request(req);
  REQUIRE(line.size() == kMaxLineBytes);
  auto r = decode_request(line);
  REQUIRE(r.ok());
  CHECK(r->args["pad"].get<std::string>().size() == kMaxLineBytes - base);
}

TEST_CASE("decode_reply of ok and error replies", "[protocol]") {
  SECTION("success round trip") {
    Reply ok = Reply::success({{"mounts", nlohmann::json::array({"/mnt/a"})}});
    std::string line = encode_reply(ok);
    CHECK(line.back() == '\n');
    auto r = decode_reply(line);
    REQUIRE(r.ok());
    CHECK(r->ok);
    CHECK(r->result == ok.result);
    CHECK(r->error_code.empty());
  }
  SECTION("success without result") {
    auto r = decode_reply(R"({"ok":true})");
    REQUIRE(r.ok());
    CHECK(r->ok);
    CHECK(r->result.is_object());
  }
  SECTION("error round trip from an Error") {
    Reply bad = Reply::failure(make_error(ErrorCode::kNotFound, "no mount at /mnt/x"));
    CHECK(bad.error_code == "not_found");
    auto r = decode_reply(encode_reply(bad));
    REQUIRE(r.ok());
    CHECK_FALSE(r->ok);
    CHECK(r->error_code == "not_found");
    CHECK(r->error_message == "no mount at /mnt/x");
  }
  SECTION("error reply without details gets defaults") {
    auto r = decode_reply(R"({"ok":false})");
    REQUIRE(r.ok());
    CHECK_FALSE(r->ok);
    CHECK(r->error_code == "internal");
    CHECK(r->error_message == "unknown error");
  }
  SECTION("invalid UTF-8 in a result does not throw") {
    Reply ok = Reply::success({{"name", std::string("caf\xe9.flac")}});
    std::string line;
    REQUIRE_NOTHROW(line = encode_reply(ok));
    CHECK(decode_reply(line).ok());
  }
}

TEST_CASE("decode_reply rejects malformed replies", "[protocol]") {
  for (const char* line : {"", "not json", "[true]", R"({"result":{}})", R"({"ok":"yes"})", R"({"ok":1})"}) {
    INFO("line: " << line);
    auto r = decode_reply(line);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kProtocol);
    CHECK_THAT(r.error().message, Contains("malformed reply"));
  }
}

// An "error" that is not an object with string members ({"ok":false,"error":"boom"},
// {"error":{"code":7}}) must not make nlohmann throw (type_error.306/.302): a
// misbehaving daemon must never crash the CLI with an uncaught exception.
TEST_CASE("decode_reply never throws on a malformed error member", "[protocol]") {
  for (const char* line : {R"({"ok":false,"error":"boom"})", R"({"ok":false,"error":{"code":7,"message":"x"}})",
                           R"({"ok":false,"error":{"code":"io","message":["x"]}})"}) {
    INFO("line: " << line);
    bool threw = false;
    try {
      auto r = decode_reply(line);
      // Either refused as malformed or read as a failure reply: never a success.
      CHECK((!r.ok() || !r->ok));
    } catch (const std::exception& e) {
      threw = true;
      INFO("threw: " << e.what());
      CHECK_FALSE(threw);
    }
  }
}

namespace {
std::string nested_request(size_t depth) {
  return R"({"v":1,"cmd":"ping","args":{"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}}";
}
}  // namespace

TEST_CASE("decode_request refuses deep nesting before parsing, and accepts the limit", "[protocol]") {
  // 130 000 levels once overflowed the daemon's stack (a recursive copy of args).
  CHECK_THAT(protocol_error(nested_request(130000)), Contains("deeper than " + std::to_string(kMaxJsonDepth)));
  // The request object and args are two levels themselves.
  CHECK_THAT(protocol_error(nested_request(kMaxJsonDepth - 1)), Contains("deeper than"));
  auto r = decode_request(nested_request(kMaxJsonDepth - 2));
  INFO((r.ok() ? std::string() : r.error().message));
  CHECK(r.ok());
}

TEST_CASE("brackets inside strings do not count towards the nesting depth", "[protocol]") {
  std::string brackets(1000, '[');
  Request req;
  req.cmd = "ping";
  req.args = {{"s", brackets}, {"q", "a \"quoted [ \\\" bracket"}};
  auto r = decode_request(encode_request(req));
  INFO((r.ok() ? std::string() : r.error().message));
  REQUIRE(r.ok());
  CHECK(r->args == req.args);
}

TEST_CASE("decode_reply refuses a deep reply and a result that is not an object", "[protocol]") {
  std::string deep = R"({"ok":true,"result":{"x":)" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  auto r = decode_reply(deep);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().message, Contains("malformed reply"));
  for (const char* line : {R"({"ok":true,"result":[]})", R"({"ok":true,"result":"x"})", R"({"ok":true,"result":3})"}) {
    INFO("line: " << line);
    auto bad = decode_reply(line);
    REQUIRE_FALSE(bad.ok());
    CHECK_THAT(bad.error().message, Contains("\"result\""));
  }
  // Raw bytes that are not UTF-8 are not JSON.
  CHECK_FALSE(decode_reply("{\"ok\":true,\"result\":{\"p\":\"\xff\"}}").ok());
}

TEST_CASE("json_line and encode_request never throw on invalid UTF-8", "[protocol]") {
  Request req;
  req.cmd = "route-explain";
  req.args = {{"path", std::string("mnt/\xff.flac")}};
  std::string line;
  REQUIRE_NOTHROW(line = encode_request(req));
  CHECK(decode_request(line).ok());
  REQUIRE_NOTHROW(line = json_line({{"progress", {{"current", std::string("caf\xe9")}}}}));
  CHECK(line.back() == '\n');
}
