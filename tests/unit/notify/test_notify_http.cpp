#include <catch2/catch.hpp>

#include <string>

#include "../unit_support.h"
#include "notify/notify_http.h"

using namespace musicfs;
using Catch::Contains;

TEST_CASE("url_encode leaves only RFC 3986's unreserved characters", "[notify]") {
  CHECK(url_encode("/Artist/A-Z_1.0~") == "%2FArtist%2FA-Z_1.0~");
  CHECK(url_encode("a b&c+d#e?f=g") == "a%20b%26c%2Bd%23e%3Ff%3Dg");
  CHECK(url_encode("Bj\xc3\xb6rk") == "Bj%C3%B6rk");
  CHECK(url_encode("") == "");
}

TEST_CASE("server_path puts path_prefix before a mount-relative directory", "[notify]") {
  CHECK(server_path("", "/Artist/Album") == "/Artist/Album");
  CHECK(server_path("/srv/music", "/Artist/Album") == "/srv/music/Artist/Album");
  CHECK(server_path("/srv/music/", "/Artist") == "/srv/music/Artist");
  CHECK(server_path("/srv/music", "/") == "/srv/music");
  CHECK(server_path("", "/") == "/");
}

TEST_CASE("read_secret_file takes the first line and names only the file in its errors", "[notify]") {
  musicfs::test::TempDir dir;
  const std::string path = dir.write("secret", "s3cret\r\nsecond line\n");
  auto got = read_secret_file("token_file", path);
  REQUIRE(got.ok());
  CHECK(*got == "s3cret");

  dir.write("secret", "\nhidden\n");
  auto empty = read_secret_file("token_file", path);
  REQUIRE_FALSE(empty.ok());
  CHECK_THAT(empty.error().message, Contains("token_file " + path) && Contains("empty"));
  CHECK(empty.error().message.find("hidden") == std::string::npos);

  auto missing = read_secret_file("api_key_file", dir.path() + "/none");
  REQUIRE_FALSE(missing.ok());
  CHECK_THAT(missing.error().message, Contains("api_key_file") && Contains("cannot read"));
}

TEST_CASE("check_http_url wants http or https and no credentials", "[notify]") {
  CHECK(check_http_url("http://127.0.0.1:4533").empty());
  CHECK(check_http_url("https://music.lan/navidrome").empty());
  CHECK(check_http_url("https://music.lan/a@b").empty());  // an @ in the path is no userinfo
  CHECK_THAT(check_http_url("file:///etc/passwd"), Contains("http://"));
  CHECK_THAT(check_http_url("http://admin:pw@music.lan"), Contains("credentials"));
  CHECK(check_http_url("http://admin:pw@music.lan").find("pw") == std::string::npos);
}
