// route-explain and health against a real daemon and mount. route-explain must agree
// with the origin that actually serves the bytes, since both run the same decision.
#include <catch2/catch.hpp>

#include "support/test_env.h"

using namespace musicfs::test;

namespace {
const char* kFastHealth = "[health]\ncheck_interval_secs = 1\n";
}

TEST_CASE("route-explain names the origin whose bytes a read returns", "[route-explain]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/A/song.flac", "laptop bytes");
  write_file(f.origin_dir("nas") + "/A/song.flac", "nas bytes, longer");
  write_file(f.origin_dir("nas") + "/A/only-nas.flac", "nas only");
  f.mount();

  auto j = f.daemon().ctl_json({"route-explain", f.in_mount("A/song.flac")});
  CHECK(j["path"] == "/A/song.flac");
  CHECK(j["selected"] == "laptop");
  CHECK(read_file(f.in_mount("A/song.flac")) == "laptop bytes");
  CHECK(j["divergent"] == true);
  CHECK(j["cached_bytes"] == 0);
  REQUIRE(j["candidates"].size() == 2);
  CHECK(j["candidates"][0]["origin"] == "laptop");
  CHECK(j["candidates"][0]["has_file"] == true);
  CHECK(j["candidates"][0]["priority"] == 1);
  CHECK(j["candidates"][0]["size"] == 12);
  for (const char* key : {"origin", "has_file", "priority", "status", "latency_p50_ms", "consecutive_failures", "size", "mtime"}) {
    CHECK(j["candidates"][1].contains(key));
  }

  auto only = f.daemon().ctl_json({"route-explain", "--mount", f.mount_point(), "/A/only-nas.flac"});
  CHECK(only["selected"] == "nas");
  CHECK(only["candidates"][1]["has_file"] == false);
  CHECK(read_file(f.in_mount("A/only-nas.flac")) == "nas only");

  auto dir = f.daemon().ctl_json({"route-explain", f.in_mount("A")});
  CHECK(dir["type"] == "directory");
  CHECK(dir["contributors"] == nlohmann::json::array({"laptop", "nas"}));
}

TEST_CASE("route-explain follows failover to the backup", "[route-explain]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/t.flac", "same bytes");
  write_file(f.origin_dir("nas") + "/t.flac", "same bytes");
  f.mount();
  REQUIRE(f.daemon().ctl({"debug-fault", "laptop", "fail"}).exit_code == 0);
  REQUIRE(wait_until([&] { return f.origin_status("laptop")["status"] == "unhealthy"; }));
  auto j = f.daemon().ctl_json({"route-explain", f.in_mount("t.flac")});
  CHECK(j["selected"] == "nas");
  CHECK(j["rule"] == "highest priority healthy");
  CHECK(f.served_by("t.flac") == "nas");
}

TEST_CASE("route-explain rejects paths outside the tree or outside any mount", "[route-explain]") {
  Fixture f({{"laptop", 1}});
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  f.mount();
  auto missing = f.daemon().ctl({"route-explain", f.in_mount("nope.flac")});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("not in the tree") != std::string::npos);
  auto outside = f.daemon().ctl({"route-explain", "/etc/passwd"});
  CHECK(outside.exit_code == 2);
  CHECK(outside.err.find("not inside any musicfs mount") != std::string::npos);
  auto escape = f.daemon().ctl({"route-explain", "--mount", f.mount_point(), "/a/../../etc/passwd"});
  CHECK(escape.exit_code == 2);
}

TEST_CASE("health exit codes follow the Nagios convention", "[health]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  write_file(f.origin_dir("nas") + "/t.flac", "x");
  f.mount();

  auto all_ok = f.daemon().ctl({"health", "--check"});
  CHECK(all_ok.exit_code == 0);
  auto j = f.daemon().ctl({"--json", "health"});
  auto parsed = nlohmann::json::parse(j.out);
  for (const char* key : {"id", "status", "consecutive_failures", "last_check", "latency_p50_ms"}) {
    CHECK(parsed["origins"][0].contains(key));
  }

  REQUIRE(f.daemon().ctl({"debug-fault", "nas", "fail"}).exit_code == 0);
  CHECK(f.daemon().ctl({"health", "--check"}).exit_code == 1);

  REQUIRE(f.daemon().ctl({"debug-fault", "laptop", "fail"}).exit_code == 0);
  CHECK(f.daemon().ctl({"health", "--check"}).exit_code == 2);

  CHECK(f.daemon().ctl({"health", "--origin", "nosuch"}).exit_code == 1);
  CHECK(run_program({MUSICFSCTL_PATH, "--socket", f.dir().path() + "/none.sock", "health"}).exit_code == 3);
}
