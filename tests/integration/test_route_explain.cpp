// route-explain and health against a real daemon and mount. route-explain must agree
// with the origin that actually serves the bytes, since both run the same decision.
#include <cstdio>

#include <algorithm>
#include <catch2/catch.hpp>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

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

TEST_CASE("health --origin is about that origin and --format nagios prints the plugin line", "[health]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  write_file(f.origin_dir("nas") + "/t.flac", "x");
  f.mount();
  REQUIRE(f.daemon().ctl({"health", "--check"}).exit_code == 0);
  auto ok = f.daemon().ctl({"health", "--format", "nagios"});
  INFO("nagios: " << ok.out);
  CHECK(ok.exit_code == 0);
  CHECK(ok.out.rfind("OK - 2 of 2 origin(s) healthy|healthy=2;;;0;2 'laptop latency_p50'=", 0) == 0);
  CHECK(ok.out.find(" 'nas failures'=0;;1;0\n") != std::string::npos);
  CHECK(std::count(ok.out.begin(), ok.out.end(), '\n') == 1);

  // A real fault: the nas share's directory goes away (a local origin: threshold 1).
  const std::string nas = f.origin_dir("nas");
  REQUIRE(::rename(nas.c_str(), (nas + ".away").c_str()) == 0);
  auto bad = f.daemon().ctl({"health", "--check", "--origin", "nas"});
  INFO("health --origin nas: " << bad.out << bad.err);
  CHECK(bad.exit_code == 2);  // that origin is unhealthy...
  CHECK(f.daemon().ctl({"health", "--origin", "laptop"}).exit_code == 0);  // ...this one is not
  CHECK(f.daemon().ctl({"health"}).exit_code == 1);  // the mount still has a healthy origin
  auto warn = f.daemon().ctl({"health", "--format", "nagios"});
  INFO("nagios: " << warn.out);
  CHECK(warn.exit_code == 1);
  CHECK(warn.out.rfind("WARNING - 1 of 2 origin(s) healthy: nas unhealthy|healthy=1;;;0;2", 0) == 0);
  auto j = nlohmann::json::parse(f.daemon().ctl({"--json", "health", "--origin", "nas"}).out);
  CHECK(j["origins"][0]["last_error"].is_string());

  // Back: once healthy again its old error is gone.
  REQUIRE(::rename((nas + ".away").c_str(), nas.c_str()) == 0);
  CHECK(wait_until(
      [&] {
        // Exit 1 or 2 until it is healthy (exit 0): ctl_json wants 0, so ask plainly.
        return f.daemon().ctl({"health", "--check", "--origin", "nas"}).exit_code == 0;
      },
      20s));
  auto healed = f.daemon().ctl_json({"health", "--origin", "nas"});
  CHECK(healed["origins"][0]["last_error"].is_null());
  CHECK(f.daemon().ctl({"health", "--origin", "nas"}).out.find("ENOENT") == std::string::npos);

  // Usage: nagios and --json exclude each other; an unknown format is refused.
  CHECK(f.daemon().ctl({"health", "--format", "nagios", "--json"}).exit_code == 2);
  CHECK(f.daemon().ctl({"health", "--format", "xml"}).exit_code == 2);
  auto unreachable = run_program({MUSICFSCTL_PATH, "--socket", f.dir().path() + "/none.sock", "health", "--format", "nagios"});
  CHECK(unreachable.exit_code == 3);
  CHECK(unreachable.out.rfind("UNKNOWN - ", 0) == 0);
}
