// Integration tests for the HTTP notifiers (subsonic, jellyfin, plex): a real daemon
// and FUSE mount over local origins, an album moved into an origin, and a small HTTP
// server on 127.0.0.1 (tests/support/http_recorder) standing in for the music server,
// since none of the three is packaged in Debian. It checks each request against the
// server's documented API: method, path, query, authentication and body.
#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "support/http_recorder.h"
#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

// A secret file as a user writes it: the secret, a newline, mode 0600.
std::string secret_file(const Fixture& fx, const std::string& name, const std::string& secret) {
  const std::string path = fx.dir() / name;
  write_file(path, secret + "\n");
  REQUIRE(::chmod(path.c_str(), 0600) == 0);
  return path;
}

// Makes the album in a staging directory and renames it into the origin at once.
void move_album_in(const Fixture& fx, const std::string& origin, const std::string& album) {
  const std::string staging = fx.dir() / ("staging/" + album);
  write_file(staging + "/01 Track.flac", "track of " + album);
  fs::rename(staging, fx.origin_dir(origin) + "/" + album);
}

// Mounts and waits until the first listing is in, so that what comes next is a change.
void mount_and_settle(Fixture& fx) {
  write_file(fx.origin_dir("a") + "/Known/01.flac", "known");
  fx.mount();
  REQUIRE(wait_until([&] { return path_exists(fx.in_mount("Known/01.flac")); }));
}

std::string md5_hex(const std::string& s) {
  auto r = run_program({"sh", "-c", "printf %s \"$0\" | md5sum", s});
  REQUIRE(r.exit_code == 0);
  return r.out.substr(0, 32);
}

// The secret reached the server only: not the log, the events, status, config check.
void check_secret_kept(const Fixture& fx, const std::string& secret) {
  CHECK(fx.daemon().log().find(secret) == std::string::npos);
  CHECK(fx.daemon().ctl({"events", "--json"}).out.find(secret) == std::string::npos);
  CHECK(fx.daemon().ctl({"status", "--json"}).out.find(secret) == std::string::npos);
  CHECK(fx.daemon().ctl({"config", "check", fx.config_path()}).out.find(secret) == std::string::npos);
}

std::string first_message(const Fixture& fx, const std::string& kind) {
  auto events = fx.events(kind);
  return events.empty() ? std::string() : events.front()["message"].get<std::string>();
}

}  // namespace

TEST_CASE("subsonic notifier calls startScan with a salted token and a Subsonic error is notify_failed") {
  const std::string password = "Subsonic-Sekrit-pass";
  HttpRecorder server({200, "application/json",
                       R"({"subsonic-response":{"status":"ok","version":"1.16.1","scanStatus":{"scanning":true}}})"});
  Fixture fx({{"a", 1}});
  fx.write_config(fx.default_config() + "[[notify]]\ntype = \"subsonic\"\nurl = \"" + server.url() +
                  "/\"\nuser = \"dj anne\"\npassword_file = \"" + secret_file(fx, "subsonic.pw", password) +
                  "\"\ndebounce_ms = 100\n");
  mount_and_settle(fx);

  move_album_in(fx, "a", "First Album");
  const bool asked = wait_until([&] { return !server.requests().empty(); }, 15s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(asked);
  const auto r = server.requests().front();
  CHECK(r.method == "GET");
  CHECK(r.path == "/rest/startScan");
  CHECK(r.query.at("u") == "dj anne");
  // Token authentication (API 1.13.0 and later): t = md5(password + s), s fresh.
  REQUIRE(r.query.count("s") == 1);
  CHECK(r.query.at("s").size() >= 6);
  CHECK(r.query.at("t") == md5_hex(password + r.query.at("s")));
  CHECK(r.query.at("c") == "musicfs");
  CHECK(!r.query.at("v").empty());
  CHECK(r.query.at("f") == "json");
  CHECK(r.query.count("p") == 0);
  CHECK(r.target.find(password) == std::string::npos);
  REQUIRE(wait_until([&] { return !fx.events("notify_sent").empty(); }));
  CHECK_THAT(first_message(fx, "notify_sent"), Contains("notify[0] subsonic") && Contains("scan started"));

  // Subsonic reports its errors as HTTP 200 with status "failed".
  server.set_reply({200, "application/json",
                    R"({"subsonic-response":{"status":"failed","version":"1.16.1",)"
                    R"("error":{"code":40,"message":"Wrong username or password"}}})"});
  move_album_in(fx, "a", "Second Album");
  REQUIRE(wait_until([&] { return !fx.events("notify_failed").empty(); }, 15s));
  CHECK_THAT(first_message(fx, "notify_failed"),
             Contains("notify[0] subsonic") && Contains("Subsonic error 40: Wrong username or password"));
  const auto second = server.requests().back();
  CHECK(second.query.at("s") != r.query.at("s"));  // a fresh salt per attempt
  check_secret_kept(fx, password);
}

TEST_CASE("jellyfin notifier posts the changed paths under path_prefix with its API key header") {
  const std::string key = "0123456789abcdef-jellyfin-key";
  HttpRecorder server({204, "text/plain", ""});
  Fixture fx({{"a", 1}, {"b", 2}});
  fx.write_config(fx.default_config() + "[[notify]]\ntype = \"jellyfin\"\nurl = \"" + server.url() +
                  "\"\napi_key_file = \"" + secret_file(fx, "jellyfin.key", key) +
                  "\"\npath_prefix = \"/srv/music\"\ndebounce_ms = 100\n");
  mount_and_settle(fx);

  move_album_in(fx, "b", "New Album");
  const bool asked = wait_until([&] { return !server.requests().empty(); }, 15s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(asked);
  const auto r = server.requests().front();
  CHECK(r.method == "POST");
  CHECK(r.path == "/Library/Media/Updated");
  CHECK(r.headers.at("authorization") == "MediaBrowser Token=\"" + key + "\"");
  CHECK_THAT(r.headers.at("content-type"), Contains("application/json"));
  const auto body = nlohmann::json::parse(r.body);
  REQUIRE(body["Updates"].is_array());
  REQUIRE(body["Updates"].size() == 1);
  CHECK(body["Updates"][0]["Path"] == "/srv/music/New Album");
  CHECK(body["Updates"][0]["UpdateType"] == "Modified");
  REQUIRE(wait_until([&] { return !fx.events("notify_sent").empty(); }));
  CHECK_THAT(first_message(fx, "notify_sent"), Contains("notify[0] jellyfin") && Contains("1 path(s) reported"));

  server.set_reply({401, "text/plain", "Unauthorized"});
  move_album_in(fx, "a", "Another");
  REQUIRE(wait_until([&] { return !fx.events("notify_failed").empty(); }, 15s));
  CHECK_THAT(first_message(fx, "notify_failed"), Contains("notify[0] jellyfin") && Contains("HTTP 401"));
  check_secret_kept(fx, key);
}

TEST_CASE("plex notifier asks for a partial scan of the changed directory with the token in a header") {
  const std::string token = "plex-Tok3n-xyz";
  HttpRecorder server({200, "text/xml", "<MediaContainer size=\"0\"/>"});
  Fixture fx({{"a", 1}});
  fx.write_config(fx.default_config() + "[[notify]]\ntype = \"plex\"\nurl = \"" + server.url() +
                  "\"\ntoken_file = \"" + secret_file(fx, "plex.token", token) +
                  "\"\nsection = 3\npath_prefix = \"/data/music\"\ndebounce_ms = 100\n");
  mount_and_settle(fx);

  // A name that needs every kind of encoding: a space, '&', '+', '#' and UTF-8.
  const std::string album = "Bj\xc3\xb6rk & Co + #1";
  move_album_in(fx, "a", album);
  const bool asked = wait_until([&] { return !server.requests().empty(); }, 15s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(asked);
  const auto r = server.requests().front();
  CHECK(r.method == "GET");
  CHECK(r.path == "/library/sections/3/refresh");
  REQUIRE(r.query.size() == 1);
  CHECK(r.query.at("path") == "/data/music/" + album);
  CHECK(r.headers.at("x-plex-token") == token);
  CHECK(r.target.find(token) == std::string::npos);
  REQUIRE(wait_until([&] { return !fx.events("notify_sent").empty(); }));
  CHECK_THAT(first_message(fx, "notify_sent"), Contains("notify[0] plex") && Contains("section 3"));
  check_secret_kept(fx, token);
}

TEST_CASE("an HTTP notifier whose server never answers fails within timeout_ms and the daemon stops promptly") {
  HttpReply silent;
  silent.answer = false;
  HttpRecorder server(silent);
  Fixture fx({{"a", 1}});
  const std::string key = secret_file(fx, "jellyfin.key", "k");
  // notify[0] gives up after half a second; notify[1] would wait ten minutes.
  fx.write_config(fx.default_config() + "[[notify]]\ntype = \"jellyfin\"\nurl = \"" + server.url() +
                  "\"\napi_key_file = \"" + key + "\"\ntimeout_ms = 500\ndebounce_ms = 100\n\n" +
                  "[[notify]]\ntype = \"plex\"\nurl = \"" + server.url() + "\"\ntoken_file = \"" + key +
                  "\"\nsection = 1\ntimeout_ms = 600000\ndebounce_ms = 100\n");
  mount_and_settle(fx);

  move_album_in(fx, "a", "Album");
  const bool failed = wait_until([&] { return !fx.events("notify_failed").empty(); }, 15s);
  INFO("daemon log:\n" << fx.daemon().log());
  REQUIRE(failed);
  CHECK_THAT(first_message(fx, "notify_failed"), Contains("notify[0] jellyfin") && Contains("timed out"));
  // The reader's path is not the notifier's: the mount still answers.
  CHECK(path_exists(fx.in_mount("Album/01 Track.flac")));
  // Both requests are in the server's hands, unanswered.
  REQUIRE(wait_until([&] { return server.requests().size() >= 2; }, 15s));

  const auto asked = std::chrono::steady_clock::now();
  auto stop = fx.daemon().ctl({"daemon", "stop"}, 60s);
  CHECK(stop.exit_code == 0);
  REQUIRE(fx.daemon().wait_exit(60s).has_value());
  CHECK(std::chrono::steady_clock::now() - asked < 10s);
}
