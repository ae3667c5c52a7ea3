#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "origins/s3_credentials.h"
#include "unit/unit_support.h"

using namespace musicfs;

namespace {

const char* kFile = R"(# written by aws configure
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = defaultsecret/+x

; a second profile, spelled the ~/.aws/config way
[profile music]
  aws_access_key_id=AKIAMUSIC   
aws_secret_access_key	=	musicsecret  # inline comment
aws_session_token = tok3n
region = eu-west-1

[Other]
AWS_ACCESS_KEY_ID = AKIAOTHER
)";

}  // namespace

TEST_CASE("s3 credentials: default profile") {
  auto c = parse_shared_credentials(kFile, "default", "/x/credentials");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKIADEFAULT");
  CHECK(c->secret_access_key == "defaultsecret/+x");
  CHECK(c->session_token.empty());
  CHECK(c->userpwd() == "AKIADEFAULT:defaultsecret/+x");
  CHECK(c->source == "credentials file /x/credentials [default]");
}

TEST_CASE("s3 credentials: named profile, whitespace, comments and session token") {
  auto c = parse_shared_credentials(kFile, "music", "/x/credentials");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKIAMUSIC");
  CHECK(c->secret_access_key == "musicsecret");
  CHECK(c->session_token == "tok3n");
}

TEST_CASE("s3 credentials: missing profile is a config error naming file and profile") {
  auto c = parse_shared_credentials(kFile, "nope", "/x/credentials");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == ErrorCode::kConfig);
  CHECK(c.error().message == "credentials file /x/credentials: no profile 'nope'");
}

TEST_CASE("s3 credentials: profile without a secret is an error that quotes no value") {
  auto c = parse_shared_credentials(kFile, "Other", "/x/credentials");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().code == ErrorCode::kConfig);
  CHECK(c.error().message.find("aws_secret_access_key is missing") != std::string::npos);
  CHECK(c.error().message.find("AKIAOTHER") == std::string::npos);
}

TEST_CASE("s3 credentials: profile names are case-sensitive") {
  CHECK_FALSE(parse_shared_credentials(kFile, "other", "f").ok());
  CHECK_FALSE(parse_shared_credentials(kFile, "DEFAULT", "f").ok());
}

TEST_CASE("s3 credentials: a malformed line is reported by line number without its text") {
  auto c = parse_shared_credentials("[default]\nAKIAPASTED/secretpasted\n", "default", "f");
  REQUIRE_FALSE(c.ok());
  CHECK(c.error().message == "credentials file f:2: expected 'key = value'");
  auto h = parse_shared_credentials("[default\n", "default", "f");
  REQUIRE_FALSE(h.ok());
  CHECK(h.error().message == "credentials file f:1: malformed section header");
}

TEST_CASE("s3 credentials: CRLF line endings") {
  auto c = parse_shared_credentials("[default]\r\naws_access_key_id = A\r\naws_secret_access_key = S\r\n", "default", "f");
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "A");
  CHECK(c->secret_access_key == "S");
}

TEST_CASE("s3 credentials: load from a file, with the origin in errors") {
  test::TempDir dir;
  std::string path = dir / "credentials";
  {
    std::ofstream out(path);
    out << kFile;
  }
  ::chmod(path.c_str(), 0600);
  auto c = load_s3_credentials("cloud", path, "music", {});
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKIAMUSIC");

  auto missing = load_s3_credentials("cloud", path, "absent", {});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == "origin cloud: credentials file " + path + ": no profile 'absent'");

  auto nofile = load_s3_credentials("cloud", dir / "nothing", "default", {});
  REQUIRE_FALSE(nofile.ok());
  CHECK(nofile.error().code == ErrorCode::kConfig);
  CHECK(nofile.error().message.find("origin cloud: credentials file " + (dir / "nothing") + ": cannot read") == 0);
}

TEST_CASE("s3 credentials: environment fallback") {
  auto c = load_s3_credentials("cloud", "", "default",
                               {{"AWS_ACCESS_KEY_ID", "AKIAENV"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"},
                                {"AWS_SESSION_TOKEN", "envtoken"}});
  REQUIRE(c.ok());
  CHECK(c->access_key_id == "AKIAENV");
  CHECK(c->secret_access_key == "envsecret");
  CHECK(c->session_token == "envtoken");
  CHECK(c->source == "environment");

  auto half = load_s3_credentials("cloud", "", "default", {{"AWS_ACCESS_KEY_ID", "AKIAENV"}});
  REQUIRE_FALSE(half.ok());
  CHECK(half.error().code == ErrorCode::kConfig);

  auto none = load_s3_credentials("cloud", "", "default", {});
  REQUIRE(none.ok());
  CHECK(none->access_key_id.empty());
}
