#include <catch2/catch.hpp>

#include <string>

#include "config/config_parser.h"

using namespace musicfs;
using Catch::Contains;

namespace {

const char* kOrigin = R"([[origins]]
id = "music"
origin_type = "local"
priority = 1
path = "/srv/music"
)";

// The message of the one problem of `text`, which must name line `line` and `key`.
std::string notify_error(const std::string& text, int line, const std::string& key) {
  auto r = parse_config_string(std::string(kOrigin) + text, "test.toml");
  REQUIRE_FALSE(r.ok());
  const std::string& msg = r.error().message;
  INFO("message: " << msg);
  CHECK_THAT(msg, Contains("test.toml:" + std::to_string(line) + ":"));
  CHECK_THAT(msg, Contains(key));
  return msg;
}

}  // namespace

TEST_CASE("notify tables parse with their type keys and a debounce of 2000 ms by default", "[config][notify]") {
  auto c = parse_config_string(std::string(kOrigin) + R"(
[[notify]]
type = "exec"
command = ["/usr/bin/rescan", "--all"]

[[notify]]
type = "mpd"
host = "music.lan"
port = 6601
password_file = "/etc/musicfs/mpd.pw"
music_root = "/Library"
debounce_ms = 500
)",
                               "test.toml");
  REQUIRE(c.ok());
  REQUIRE(c->notify.size() == 2);
  CHECK(c->notify[0].type == "exec");
  CHECK(c->notify[0].command == std::vector<std::string>{"/usr/bin/rescan", "--all"});
  CHECK(c->notify[0].debounce_ms == 2000);
  CHECK(c->notify[0].source_line == 7);
  CHECK(c->notify[1].type == "mpd");
  CHECK(c->notify[1].string_setting("host") == "music.lan");
  CHECK(c->notify[1].int_setting("port", 0) == 6601);
  CHECK(c->notify[1].string_setting("password_file") == "/etc/musicfs/mpd.pw");
  CHECK(c->notify[1].string_setting("music_root") == "/Library");
  CHECK(c->notify[1].debounce_ms == 500);

  auto none = parse_config_string(kOrigin, "test.toml");
  REQUIRE(none.ok());
  CHECK(none->notify.empty());
}

TEST_CASE("notify table errors name file line and key", "[config][notify]") {
  CHECK_THAT(notify_error("[[notify]]\ncommand = [\"x\"]\n", 6, "notify[0].type: "), Contains("exec, mpd"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"slack\"\n", 7, "notify[0].type: "), Contains("unknown notifier type"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"exec\"\n", 6, "notify[0].command: "), Contains("missing"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"exec\"\ncommand = []\n", 8, "notify[0].command: "),
             Contains("non-empty array"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"exec\"\ncommand = [\"a\", 3]\n", 8, "notify[0].command: "),
             Contains("strings"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"exec\"\ncommand = [\"a\"]\nsocket = \"/x\"\n", 9, "notify[0].socket: "),
             Contains("unknown"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"mpd\"\nsocket = \"/run/mpd.sock\"\nport = 6600\n", 6, "notify[0]: "),
             Contains("not both"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"mpd\"\nport = 0\n", 8, "notify[0].port: "), Contains("out of range"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"mpd\"\nmusic_root = \"Library\"\n", 6, "notify[0]: "),
             Contains("music_root"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"mpd\"\npassword_file = \"pw\"\n", 8, "notify[0].password_file: "),
             Contains("absolute"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"mpd\"\ndebounce_ms = -1\n", 8, "notify[0].debounce_ms: "),
             Contains("out of range"));
  auto scalar = parse_config_string("notify = 1\n" + std::string(kOrigin), "test.toml");
  REQUIRE_FALSE(scalar.ok());
  CHECK_THAT(scalar.error().message, Contains("test.toml:1: notify: ") && Contains("[[notify]]"));
}

TEST_CASE("subsonic jellyfin and plex tables parse and check their keys", "[config][notify]") {
  auto c = parse_config_string(std::string(kOrigin) + R"(
[[notify]]
type = "subsonic"
url = "http://127.0.0.1:4533/"
user = "admin"
password_file = "/etc/musicfs/navidrome.pw"

[[notify]]
type = "jellyfin"
url = "https://jellyfin.lan"
api_key_file = "/etc/musicfs/jellyfin.key"
path_prefix = "/media/music"
timeout_ms = 3000

[[notify]]
type = "plex"
url = "http://plex.lan:32400"
token_file = "/etc/musicfs/plex.token"
section = 2
)",
                               "test.toml");
  INFO((c.ok() ? std::string() : c.error().message));
  REQUIRE(c.ok());
  REQUIRE(c->notify.size() == 3);
  CHECK(c->notify[0].string_setting("user") == "admin");
  CHECK(c->notify[1].string_setting("path_prefix") == "/media/music");
  CHECK(c->notify[1].int_setting("timeout_ms", 0) == 3000);
  CHECK(c->notify[2].int_setting("section", 0) == 2);

  CHECK_THAT(notify_error("[[notify]]\ntype = \"subsonic\"\nurl = \"http://x\"\nuser = \"u\"\n", 6,
                          "notify[0].password_file: "),
             Contains("missing"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"subsonic\"\nurl = \"http://x\"\npassword_file = \"/pw\"\n", 6,
                          "notify[0].user: "),
             Contains("missing"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"jellyfin\"\nurl = \"ftp://x\"\napi_key_file = \"/k\"\n", 6,
                          "notify[0]: "),
             Contains("http:// or https://"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"jellyfin\"\nurl = \"http://me:pw@x\"\napi_key_file = \"/k\"\n", 6,
                          "notify[0]: "),
             Contains("credentials"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"plex\"\nurl = \"http://x\"\ntoken_file = \"/t\"\n", 6,
                          "notify[0].section: "),
             Contains("missing"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"plex\"\nurl = \"http://x\"\ntoken_file = \"/t\"\nsection = 0\n", 10,
                          "notify[0].section: "),
             Contains("out of range"));
  CHECK_THAT(notify_error("[[notify]]\ntype = \"plex\"\nurl = \"http://x\"\ntoken_file = \"t\"\nsection = 1\n", 9,
                          "notify[0].token_file: "),
             Contains("absolute"));
  // A secret is never a key of its own: only a file that holds it.
  CHECK_THAT(notify_error("[[notify]]\ntype = \"plex\"\nurl = \"http://x\"\ntoken = \"abc\"\n", 9, "notify[0].token: "),
             Contains("unknown"));
}
