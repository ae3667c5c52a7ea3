#include <catch2/catch.hpp>

#include <string>

#include "protocol/path_encoding.h"
#include "protocol/protocol.h"

using namespace musicfs;
using Catch::Contains;

namespace {
// encode, put on the wire, parse, decode: the bytes must come back exactly.
std::string through_the_wire(const std::string& bytes) {
  std::string line = json_line({{"path", encode_path(bytes)}});
  auto j = nlohmann::json::parse(line);
  auto back = decode_path(j["path"]);
  REQUIRE(back.ok());
  return *back;
}
}  // namespace

TEST_CASE("valid UTF-8 paths travel as plain strings", "[protocol][path]") {
  for (const std::string p : {"/Artist/Album/01.flac", "", "/Björk/Homogenic", "/日本/曲.flac", "/emoji/\xF0\x9F\x8E\xB5"}) {
    INFO(p);
    nlohmann::json j = encode_path(p);
    CHECK(j.is_string());
    CHECK(j.get<std::string>() == p);
    CHECK(through_the_wire(p) == p);
  }
}

TEST_CASE("paths that are not UTF-8 travel as base64 bytes and come back exact", "[protocol][path]") {
  const std::string ff = "mnt/\xff.flac";
  nlohmann::json j = encode_path(ff);
  REQUIRE(j.is_object());
  CHECK(j["bytes_b64"] == "bW50L/8uZmxhYw==");
  CHECK(through_the_wire(ff) == ff);
  for (const std::string& p : {std::string("/caf\xe9/a.flac"), std::string("\xc0\xaf"), std::string("\xed\xa0\x80"),
                              std::string("\xf4\x90\x80\x80"), std::string("a\xe2\x82"), std::string("\x80"),
                              std::string("nul\0byte", 8)}) {
    INFO("bytes of length " << p.size());
    CHECK(through_the_wire(p) == p);
  }
  // Every byte value, in every position of a base64 group.
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  for (size_t cut = 0; cut < 3; ++cut) CHECK(through_the_wire(all.substr(cut)) == all.substr(cut));
}

TEST_CASE("is_valid_utf8 follows the strict rules JSON needs", "[protocol][path]") {
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("\xc3\xa9"));          // é
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe9"));         // Latin-1 é
  CHECK_FALSE(is_valid_utf8("\xc0\x80"));     // overlong NUL
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));  // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xed\xb0\x80"));  // a lone surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // beyond U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));     // truncated
}

TEST_CASE("decode_path refuses anything but the two forms", "[protocol][path]") {
  for (const char* text : {R"(3)", R"(null)", R"([])", R"({})", R"({"bytes_b64":3})", R"({"bytes_b64":"!!!!"})",
                           R"({"bytes_b64":"abc"})", R"({"bytes_b64":"YQ==","x":1})", R"({"bytes_b64":"Y=Q="})"}) {
    INFO(text);
    auto r = decode_path(nlohmann::json::parse(text));
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("base64 matches RFC 4648's test vectors", "[protocol][path]") {
  const std::pair<const char*, const char*> vectors[] = {{"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},
                                                         {"foo", "Zm9v"},  {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
                                                         {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, coded] : vectors) {
    CHECK(base64_encode(plain) == coded);
    auto back = base64_decode(coded);
    REQUIRE(back.ok());
    CHECK(*back == plain);
  }
}
