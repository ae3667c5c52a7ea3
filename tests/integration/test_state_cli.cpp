// Integration tests for the SQLite state (state_dir/musicfs.db) and the scripting CLI:
// run-time origins (add/remove/enable/disable), survival of a kill -9, bad input that
// must change nothing, health history and summary, the event stream, cache stat, the
// JSON shapes scripts rely on, and history retention.
//
// Every test owns its Fixture (daemon + mount + origin dirs), so tests run in parallel.
#include <dirent.h>
#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <ctime>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "state/state_store.h"
#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

const char* kFastHealth = "[health]\ncheck_interval_secs = 1\n";

// Names in a directory of the mount (readdir), sorted; empty if it cannot be opened.
std::set<std::string> list_dir(const std::string& dir) {
  std::set<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.insert(n);
  }
  ::closedir(d);
  return names;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

std::string db_path(const Fixture& f) { return f.dir().path() + "/state/musicfs.db"; }

// Runs one statement with the sqlite3 CLI; REQUIREs success; returns trimmed stdout.
std::string sqlite(const std::string& db, const std::string& sql) {
  auto r = run_program({"sqlite3", "-cmd", ".timeout 10000", db, sql});
  INFO("sqlite3 " << db << " '" << sql << "' stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return trim(r.out);
}

int64_t sqlite_int(const std::string& db, const std::string& sql) { return std::stoll(sqlite(db, sql)); }

json origins_list(Fixture& f) { return f.daemon().ctl_json({"origins", "list"}); }

// The row of `origins list --json` for id, or null.
json origin_row(Fixture& f, const std::string& id) {
  const json all = origins_list(f);
  for (const auto& o : all["origins"]) {
    if (o["id"] == id) return o;
  }
  return nullptr;
}

// health --history --since 1h --json checks (optionally of one origin).
json history(Fixture& f, const std::string& origin = "") {
  std::vector<std::string> args = {"health", "--history", "--since", "1h"};
  if (!origin.empty()) args.insert(args.end(), {"--origin", origin});
  return f.daemon().ctl_json(args)["checks"];
}

size_t failed_checks(const json& checks) {
  size_t n = 0;
  for (const auto& c : checks) {
    if (c["ok"] == false) ++n;
  }
  return n;
}

json summary_of(Fixture& f, const std::string& origin) {
  const json s = f.daemon().ctl_json({"health", "--summary", "--since", "1h"});
  for (const auto& row : s["summary"]) {
    if (row["origin"] == origin) return row;
  }
  return nullptr;
}

bool has_event(Fixture& f, const std::string& kind, const std::string& origin) {
  for (const auto& e : f.events(kind)) {
    if (e["origin"] == origin) return true;
  }
  return false;
}

const std::regex kIso8601(R"(^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$)");

bool is_iso8601(const json& v) { return v.is_string() && std::regex_match(v.get<std::string>(), kIso8601); }

}  // namespace

TEST_CASE("origins add/remove at run time change the live tree, remove keeps history", "[state]") {
  Fixture f({{"laptop", 1}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/A/a.flac", "laptop bytes");
  f.mount();
  REQUIRE(list_dir(f.mount_point()) == std::set<std::string>{"A"});

  // A directory outside the config: the run-time origin.
  const std::string usb = f.origin_dir("usb");
  write_file(usb + "/B/b.flac", "usb bytes");
  write_file(usb + "/B/c.flac", "more usb bytes");
  auto add = f.daemon().ctl({"origins", "add", "usb", "--type", "local", "--priority", "5", "--path", usb});
  INFO("add stderr: " << add.err);
  REQUIRE(add.exit_code == 0);

  // Live, without a remount.
  CHECK(list_dir(f.mount_point()) == std::set<std::string>{"A", "B"});
  CHECK(list_dir(f.in_mount("B")) == std::set<std::string>{"b.flac", "c.flac"});
  CHECK(read_file(f.in_mount("B/b.flac")) == "usb bytes");
  CHECK(f.served_by("B/b.flac") == "usb");

  json row = origin_row(f, "usb");
  REQUIRE(row.is_object());
  CHECK(row["source"] == "runtime");
  CHECK(row["enabled"] == true);
  CHECK(row["type"] == "local");
  CHECK(row["priority"] == 5);
  CHECK(row["files"] == 2);
  CHECK(origin_row(f, "laptop")["source"] == "config");

  // Let it collect some history before it goes.
  REQUIRE(wait_until([&] { return !history(f, "usb").empty(); }, 15s));

  auto rm = f.daemon().ctl({"origins", "remove", "usb"});
  INFO("remove stderr: " << rm.err);
  REQUIRE(rm.exit_code == 0);
  CHECK(list_dir(f.mount_point()) == std::set<std::string>{"A"});
  CHECK(wait_until([&] { return !path_exists(f.in_mount("B/b.flac")); }, 5s));
  CHECK(origin_row(f, "usb").is_null());
  CHECK(has_event(f, "origin_removed", "usb"));

  // History is kept after the removal.
  json kept = history(f, "usb");
  CHECK(!kept.empty());
  for (const auto& c : kept) CHECK(c["origin"] == "usb");
  // The remaining origin still serves.
  CHECK(read_file(f.in_mount("A/a.flac")) == "laptop bytes");
}

TEST_CASE("origins disable takes an origin's files out of the tree, enable brings them back", "[state]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/same.flac", "laptop copy");
  write_file(f.origin_dir("laptop") + "/only-laptop.flac", "only on the laptop");
  write_file(f.origin_dir("nas") + "/same.flac", "nas copy, a longer one");
  f.mount();
  REQUIRE(list_dir(f.mount_point()) == std::set<std::string>{"same.flac", "only-laptop.flac"});
  CHECK(f.served_by("same.flac") == "laptop");
  CHECK(read_file(f.in_mount("same.flac")) == "laptop copy");

  auto dis = f.daemon().ctl({"origins", "disable", "laptop"});
  INFO("disable stderr: " << dis.err);
  REQUIRE(dis.exit_code == 0);
  CHECK(list_dir(f.mount_point()) == std::set<std::string>{"same.flac"});
  CHECK(f.served_by("same.flac") == "nas");
  CHECK(read_file(f.in_mount("same.flac")) == "nas copy, a longer one");
  CHECK(origin_row(f, "laptop")["enabled"] == false);
  CHECK(origin_row(f, "laptop")["status"] == "disabled");
  CHECK(has_event(f, "origin_disabled", "laptop"));

  auto en = f.daemon().ctl({"origins", "enable", "laptop"});
  INFO("enable stderr: " << en.err);
  REQUIRE(en.exit_code == 0);
  CHECK(list_dir(f.mount_point()) == std::set<std::string>{"same.flac", "only-laptop.flac"});
  CHECK(read_file(f.in_mount("only-laptop.flac")) == "only on the laptop");
  CHECK(origin_row(f, "laptop")["enabled"] == true);
  // The re-enabled origin restarts "unknown" and wins the duplicate once probed.
  CHECK(wait_until([&] { return f.served_by("same.flac") == "laptop"; }, 10s));
  CHECK(has_event(f, "origin_added", "laptop"));
}

// Re-enabling (like adding) an origin starts it "unknown", which ranks below any
// healthy origin, and nothing probes it until the next health round: with the default
// check_interval_secs = 30 the lower-priority nas keeps serving the shared path for up
// to 30 s. At mount time the first round runs at once (health_monitor.cpp), and the
// last state is restored from the database, but origins enable/add do neither
// (daemon/handlers/origins.cpp set_enabled / add).
TEST_CASE("origins enable: the re-enabled higher-priority origin serves without waiting a probe interval",
          "[state]") {
  Fixture f({{"laptop", 1}, {"nas", 2}});  // default health: 30 s between rounds
  write_file(f.origin_dir("laptop") + "/same.flac", "laptop copy");
  write_file(f.origin_dir("nas") + "/same.flac", "nas copy, a longer one");
  f.mount();
  REQUIRE(wait_until([&] { return f.origin_status("laptop")["status"] == "healthy"; }, 10s));
  REQUIRE(f.served_by("same.flac") == "laptop");
  REQUIRE(f.daemon().ctl({"origins", "disable", "laptop"}).exit_code == 0);
  REQUIRE(f.served_by("same.flac") == "nas");
  REQUIRE(f.daemon().ctl({"origins", "enable", "laptop"}).exit_code == 0);
  CHECK(wait_until([&] { return f.served_by("same.flac") == "laptop"; }, 5s));
}

// After enable, same.flac is served by laptop again (xattr, route-explain), but a read
// returns what the kernel cached while nas served it (nas's bytes and size):
// Federation::add_origin invalidates only "/" (lib/federation/federation.cpp:64), not
// the paths the origin takes over, while opens use keep_cache and attrs live 60 s.
TEST_CASE("origins enable: once the re-enabled origin serves a path, reads return its bytes", "[state]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/same.flac", "laptop copy");
  write_file(f.origin_dir("nas") + "/same.flac", "nas copy, a longer one");
  f.mount();
  CHECK(read_file(f.in_mount("same.flac")) == "laptop copy");
  REQUIRE(f.daemon().ctl({"origins", "disable", "laptop"}).exit_code == 0);
  CHECK(read_file(f.in_mount("same.flac")) == "nas copy, a longer one");
  REQUIRE(f.daemon().ctl({"origins", "enable", "laptop"}).exit_code == 0);
  REQUIRE(wait_until([&] { return f.served_by("same.flac") == "laptop"; }, 10s));
  CHECK(read_file(f.in_mount("same.flac")) == "laptop copy");
}

TEST_CASE("kill -9 and restart: database intact, mount restored, run-time state and history kept", "[state]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/A/a.flac", "laptop bytes");
  write_file(f.origin_dir("nas") + "/N/n.flac", "nas bytes");
  const std::string usb = f.origin_dir("usb");
  write_file(usb + "/U/u.flac", "usb bytes");
  f.mount();

  REQUIRE(f.daemon().ctl({"origins", "add", "usb", "--type", "local", "--priority", "3", "--path", usb}).exit_code == 0);
  REQUIRE(f.daemon().ctl({"origins", "disable", "nas"}).exit_code == 0);
  REQUIRE(list_dir(f.mount_point()) == std::set<std::string>{"A", "U"});

  // Checks of both live origins are recorded (history flushes the writer first).
  REQUIRE(wait_until([&] { return history(f, "laptop").size() >= 2 && history(f, "usb").size() >= 2; }, 20s));
  std::vector<json> added = f.events("origin_added");
  auto usb_added = std::find_if(added.begin(), added.end(), [](const json& e) { return e["origin"] == "usb"; });
  REQUIRE(usb_added != added.end());
  const json usb_added_event = *usb_added;
  const json before_list = origins_list(f);
  const int old_pid = f.daemon().pid();
  const double crash_time = static_cast<double>(std::time(nullptr));

  f.daemon().kill9();
  REQUIRE(!process_alive(old_pid));
  // The FUSE mount of the dead daemon is still in the mount table.
  CHECK(is_mounted(f.mount_point()));

  const std::string db = db_path(f);
  CHECK(sqlite(db, "PRAGMA integrity_check") == "ok");
  CHECK(sqlite(db, "PRAGMA user_version") == std::to_string(musicfs::kSchemaVersion));
  CHECK(sqlite(db, "PRAGMA journal_mode") == "wal");
  CHECK(sqlite_int(db, "SELECT COUNT(*) FROM mounts") == 1);

  f.daemon().restart();
  // The daemon restores the mount by itself, detaching the dead FUSE mount first.
  bool restored = wait_until(
      [&] {
        const json st = f.status();
        return st["mounts"].size() == 1;
      },
      20s);
  INFO("daemon log:\n" << f.daemon().log());
  REQUIRE(restored);
  CHECK(f.status()["pid"] == f.daemon().pid());
  CHECK(f.status()["pid"] != old_pid);
  CHECK(wait_until([&] { return list_dir(f.mount_point()) == std::set<std::string>{"A", "U"}; }, 10s));
  CHECK(read_file(f.in_mount("A/a.flac")) == "laptop bytes");
  CHECK(read_file(f.in_mount("U/u.flac")) == "usb bytes");
  CHECK(f.served_by("U/u.flac") == "usb");

  // Run-time state as before: the added origin and the disabled one.
  json usb_row = origin_row(f, "usb");
  REQUIRE(usb_row.is_object());
  CHECK(usb_row["source"] == "runtime");
  CHECK(usb_row["enabled"] == true);
  CHECK(usb_row["priority"] == 3);
  CHECK(usb_row["files"] == 1);
  json nas_row = origin_row(f, "nas");
  REQUIRE(nas_row.is_object());
  CHECK(nas_row["enabled"] == false);
  CHECK(nas_row["source"] == "config");
  const json after_list = origins_list(f);
  std::set<std::string> ids_before, ids_after;
  for (const auto& o : before_list["origins"]) ids_before.insert(o["id"].get<std::string>());
  for (const auto& o : after_list["origins"]) ids_after.insert(o["id"].get<std::string>());
  CHECK(ids_before == ids_after);

  // The event log and the health history from before the crash survive.
  std::vector<json> events = f.events();
  CHECK(std::find(events.begin(), events.end(), usb_added_event) != events.end());
  bool old_check = false;
  for (const auto& c : history(f, "laptop")) {
    // ISO-8601 seconds: a check recorded before the crash.
    std::tm tm{};
    std::string t = c["time"].get<std::string>();
    if (strptime(t.c_str(), "%Y-%m-%dT%H:%M:%SZ", &tm) != nullptr && static_cast<double>(timegm(&tm)) <= crash_time) {
      old_check = true;
    }
  }
  CHECK(old_check);
  CHECK(f.daemon().ctl({"health", "--check"}).exit_code == 0);
}

TEST_CASE("bad input is rejected with one line on stderr and changes nothing", "[state]") {
  Fixture f({{"laptop", 1}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  const std::string spare = f.origin_dir("spare");
  mkdirs(spare);
  f.mount();
  REQUIRE(wait_until([&] { return f.origin_status("laptop")["status"] == "healthy"; }, 15s));
  const json before = origins_list(f);

  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::string err_has;
  };
  const std::vector<Case> cases = {
      {{"origins", "add", "laptop", "--type", "local", "--priority", "2", "--path", spare}, 1, "laptop"},
      {{"origins", "add", "x1", "--type", "lcal", "--priority", "2", "--path", spare}, 2, "did you mean 'local'"},
      {{"origins", "add", "x2", "--type", "local", "--priority", "300", "--path", spare}, 2, "priority"},
      {{"origins", "add", "x3", "--type", "local", "--priority", "2", "--path", "relative/dir"}, 2, "absolute"},
      {{"origins", "add", "x4", "--type", "local", "--priority", "2", "--path", spare, "--set", "noequals"}, 2, "noequals"},
      {{"origins", "remove", "nosuch"}, 1, "nosuch"},
      {{"health", "--history", "--since", "yesterdayish"}, 2, "yesterdayish"},
      {{"events", "--since", "bogus"}, 2, "bogus"},
  };
  for (const auto& c : cases) {
    std::string cmd;
    for (const auto& a : c.args) cmd += a + " ";
    INFO("musicfsctl " << cmd);
    auto r = f.daemon().ctl(c.args);
    INFO("stdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == c.exit_code);
    CHECK(count_lines(r.err) == 1);
    CHECK(!r.err.empty());
    CHECK(r.err.back() == '\n');
    CHECK(r.err.find(c.err_has) != std::string::npos);
    CHECK(origins_list(f) == before);
  }
  // Nothing was persisted either.
  CHECK(sqlite_int(db_path(f), "SELECT COUNT(*) FROM origins") == 0);
}

TEST_CASE("health --summary and --history report checks, failures, availability and outages", "[state]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  write_file(f.origin_dir("nas") + "/t.flac", "x");
  f.mount();
  REQUIRE(wait_until([&] { return history(f, "laptop").size() >= 2 && history(f, "nas").size() >= 2; }, 20s));

  for (const char* id : {"laptop", "nas"}) {
    INFO("origin " << id);
    json s = summary_of(f, id);
    REQUIRE(s.is_object());
    CHECK(s["checks"].get<int64_t>() > 0);
    CHECK(s["failures"] == 0);
    CHECK(s["availability_pct"].get<double>() == Approx(100.0));
    CHECK(s["longest_outage_secs"].get<double>() == Approx(0.0));
    CHECK(s["state_changes"].is_number_integer());
    CHECK(s["mount"] == f.mount_point());
  }

  // An outage of nas: probes fail until the fault is lifted.
  REQUIRE(f.daemon().ctl({"debug-fault", "nas", "fail"}).exit_code == 0);
  REQUIRE(wait_until([&] { return failed_checks(history(f, "nas")) >= 2; }, 20s));
  CHECK(wait_until([&] { return f.origin_status("nas")["status"] == "unhealthy"; }, 10s));
  REQUIRE(f.daemon().ctl({"debug-fault", "nas", "none"}).exit_code == 0);
  REQUIRE(wait_until([&] { return f.origin_status("nas")["status"] == "healthy"; }, 20s));

  json nas = summary_of(f, "nas");
  REQUIRE(nas.is_object());
  CHECK(nas["failures"].get<int64_t>() >= 2);
  CHECK(nas["checks"].get<int64_t>() > nas["failures"].get<int64_t>());
  CHECK(nas["availability_pct"].get<double>() < 100.0);
  CHECK(nas["availability_pct"].get<double>() > 0.0);
  CHECK(nas["longest_outage_secs"].get<double>() > 0.0);
  CHECK(nas["state_changes"].get<int64_t>() >= 2);  // to unhealthy and back to healthy
  json laptop = summary_of(f, "laptop");
  CHECK(laptop["failures"] == 0);
  CHECK(laptop["availability_pct"].get<double>() == Approx(100.0));

  // History rows: time, origin, ok, latency_ms, oldest first.
  auto hist = f.daemon().ctl_json({"health", "--history", "--since", "1h"});
  CHECK(is_iso8601(hist["since"]));
  REQUIRE(hist["checks"].size() >= 4);
  std::string prev;
  for (const auto& c : hist["checks"]) {
    CHECK(is_iso8601(c["time"]));
    CHECK(c["origin"].is_string());
    CHECK(c["ok"].is_boolean());
    CHECK(c["latency_ms"].is_number());
    CHECK(c["latency_ms"].get<double>() >= 0.0);
    CHECK(c["time"].get<std::string>() >= prev);
    prev = c["time"].get<std::string>();
    if (c["ok"] == false) {
      CHECK(c["origin"] == "nas");
      CHECK(c["error"].is_string());
    }
  }
  // --origin narrows the history.
  for (const auto& c : history(f, "laptop")) CHECK(c["origin"] == "laptop");
}

TEST_CASE("events --follow streams a new event as a JSON line, and the daemon stays healthy", "[state]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  write_file(f.origin_dir("nas") + "/t.flac", "x");
  f.mount();

  StreamingProcess follow({MUSICFSCTL_PATH, "--socket", f.daemon().socket(), "--json", "events", "--follow"});
  // The stream starts with the events already logged (at least the mount).
  auto first = follow.read_line(10s);
  INFO("follow stderr: " << follow.err());
  REQUIRE(first.has_value());
  json first_event = json::parse(*first);
  CHECK(first_event.contains("kind"));

  REQUIRE(f.daemon().ctl({"origins", "disable", "nas"}).exit_code == 0);
  bool seen = false;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!seen && std::chrono::steady_clock::now() < deadline) {
    auto line = follow.read_line(500ms);
    if (!line) continue;
    json e = json::parse(*line, nullptr, false);
    REQUIRE(!e.is_discarded());
    if (e["kind"] == "origin_disabled") {
      seen = true;
      CHECK(e["origin"] == "nas");
      CHECK(is_iso8601(e["time"]));
      CHECK(e["id"].is_number_integer());
    }
  }
  CHECK(seen);
  CHECK(follow.running());

  int status = follow.kill_and_wait(SIGTERM);
  CHECK(WIFSIGNALED(status));

  // The daemon notices the hang-up and keeps serving.
  auto st = f.daemon().ctl({"status"});
  CHECK(st.exit_code == 0);
  CHECK(f.daemon().running());
  CHECK(f.daemon().ctl({"origins", "enable", "nas"}).exit_code == 0);
  CHECK(has_event(f, "origin_added", "nas"));
  // A second follower works too.
  StreamingProcess again({MUSICFSCTL_PATH, "--socket", f.daemon().socket(), "--json", "events", "--follow", "--kind",
                          "origin_disabled"});
  auto line = again.read_line(10s);
  REQUIRE(line.has_value());
  CHECK(json::parse(*line)["kind"] == "origin_disabled");
}

TEST_CASE("cache stat reports a passthrough cache and the bytes fetched per origin", "[state]") {
  Fixture f({{"laptop", 1}}, "[cache]\ncontent_cache_gb = 0\n");
  const std::string content(5000, 'm');
  write_file(f.origin_dir("laptop") + "/song.flac", content);
  f.mount();

  json j = f.daemon().ctl_json({"cache", "stat"});
  REQUIRE(j["mounts"].size() == 1);
  json m = j["mounts"][0];
  CHECK(m["mount_point"] == f.mount_point());
  CHECK(m["enabled"] == false);
  CHECK(m["used_bytes"] == 0);
  CHECK(m["hits"] == 0);
  CHECK(m["misses"] == 0);
  REQUIRE(m["fetched_bytes_per_origin"].contains("laptop"));
  CHECK(m["fetched_bytes_per_origin"]["laptop"] == 0);

  CHECK(read_file(f.in_mount("song.flac")) == content);
  json after = f.daemon().ctl_json({"cache", "stat"});
  json m2 = after["mounts"][0];
  CHECK(m2["fetched_bytes_per_origin"]["laptop"].get<uint64_t>() > 0);
  CHECK(m2["fetched_bytes_per_origin"]["laptop"].get<uint64_t>() >= content.size());
  CHECK(m2["enabled"] == false);
  CHECK(m2["used_bytes"] == 0);
  CHECK(m2["hits"] == 0);
  CHECK(m2["misses"] == 0);
}

TEST_CASE("JSON shapes scripts rely on: route-explain, health, status, timestamps", "[state]") {
  Fixture f({{"laptop", 1}, {"nas", 2}}, kFastHealth);
  write_file(f.origin_dir("laptop") + "/A/song.flac", "laptop bytes");
  write_file(f.origin_dir("nas") + "/A/song.flac", "nas bytes");
  f.mount();
  REQUIRE(wait_until([&] { return f.origin_status("nas")["last_check"].is_string(); }, 15s));

  json r = f.daemon().ctl_json({"route-explain", f.in_mount("A/song.flac")});
  CHECK(r["path"] == "/A/song.flac");
  CHECK(r["selected"] == "laptop");
  CHECK(r["rule"].is_string());
  CHECK(r["cached_bytes"].is_number_integer());
  REQUIRE(r["candidates"].is_array());
  REQUIRE(r["candidates"].size() == 2);
  for (const auto& c : r["candidates"]) {
    INFO("candidate " << c.dump());
    for (const char* key : {"origin", "has_file", "priority", "status", "latency_p50_ms", "consecutive_failures", "size", "mtime"}) {
      CHECK(c.contains(key));
    }
    CHECK(c["origin"].is_string());
    CHECK(c["has_file"] == true);
    CHECK(c["priority"].is_number_integer());
    CHECK(c["status"].is_string());
    CHECK(c["latency_p50_ms"].is_number());
    CHECK(c["consecutive_failures"].is_number_integer());
    CHECK(c["size"].is_number_integer());
    CHECK(is_iso8601(c["mtime"]));
  }

  json h = f.daemon().ctl_json({"health"});
  REQUIRE(h["origins"].size() == 2);
  for (const auto& o : h["origins"]) {
    INFO("origin " << o.dump());
    CHECK(o["id"].is_string());
    CHECK(o["status"] == "healthy");
    CHECK(o["consecutive_failures"] == 0);
    CHECK(is_iso8601(o["last_check"]));
    CHECK(o["latency_p50_ms"].is_number());
  }

  json st = f.status();
  CHECK(st["pid"] == f.daemon().pid());
  CHECK(is_iso8601(st["started_at"]));
  REQUIRE(st["mounts"].size() == 1);
  CHECK(is_iso8601(st["mounts"][0]["mounted_at"]));
  for (const auto& o : st["mounts"][0]["origins"]) CHECK(is_iso8601(o["last_check"]));

  for (const auto& e : f.events()) CHECK(is_iso8601(e["time"]));
  for (const auto& c : history(f)) CHECK(is_iso8601(c["time"]));
  CHECK(is_iso8601(f.daemon().ctl_json({"health", "--summary"})["since"]));
}

namespace {
// Writes rows `days_old` days old into health_checks and events (daemon stopped).
void insert_old_rows(const std::string& db, const std::string& mount, int days_old, const std::string& tag) {
  const int64_t t = static_cast<int64_t>(std::time(nullptr)) - int64_t{days_old} * 86400;
  sqlite(db, "INSERT INTO health_checks(time, mount, origin, ok, latency_ms, error) VALUES(" + std::to_string(t) +
                 ".5, '" + mount + "', '" + tag + "', 1, 1.0, '')");
  sqlite(db, "INSERT INTO events(time, kind, mount, origin, path, message) VALUES(" + std::to_string(t) +
                 ", 'test_old', '" + mount + "', '" + tag + "', '', 'old row')");
}

int64_t rows_tagged(const std::string& db, const std::string& tag) {
  return sqlite_int(db, "SELECT (SELECT COUNT(*) FROM health_checks WHERE origin = '" + tag +
                            "') + (SELECT COUNT(*) FROM events WHERE origin = '" + tag + "')");
}
}  // namespace

// musicfs.toml(5), history_days: the daemon prunes at start (after restoring mounts)
// and hourly to the largest of 30 and every served mount's history_days, so a value
// below 30 has no effect and a larger one extends retention while mounted.
TEST_CASE("retention: history older than 30 days is pruned at start, and history_days = 1 keeps 30", "[state]") {
  Fixture f({{"laptop", 1}}, "[health]\ncheck_interval_secs = 1\nhistory_days = 1\n");
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  f.mount();
  REQUIRE(wait_until([&] { return !history(f, "laptop").empty(); }, 15s));
  f.daemon().kill9();

  // Written while no daemon runs.
  const std::string db = db_path(f);
  insert_old_rows(db, f.mount_point(), 40, "ancient");
  insert_old_rows(db, f.mount_point(), 10, "recent");
  REQUIRE(rows_tagged(db, "ancient") == 2);
  REQUIRE(rows_tagged(db, "recent") == 2);

  f.daemon().restart();
  CHECK(wait_until([&] { return rows_tagged(db, "ancient") == 0; }, 15s));
  // Within 30 days: kept (history_days = 1 is below the floor of 30), and listed.
  CHECK(rows_tagged(db, "recent") == 2);
  const bool restored = wait_until([&] { return f.status()["mounts"].size() == 1; }, 20s);
  INFO("daemon log:\n" << f.daemon().log());
  CHECK(restored);
  bool listed = false;
  const json old_events = f.daemon().ctl_json({"events", "--kind", "test_old"});
  for (const auto& e : old_events["events"]) {
    if (e["origin"] == "recent") listed = true;
    CHECK(e["origin"] != "ancient");
  }
  CHECK(listed);
  // Current history survived the prune.
  CHECK(!history(f, "laptop").empty());
  CHECK(sqlite(db, "PRAGMA integrity_check") == "ok");
}

TEST_CASE("retention: history_days above 30 keeps older history while the mount is served", "[state]") {
  Fixture f({{"laptop", 1}}, "[health]\ncheck_interval_secs = 1\nhistory_days = 60\n");
  write_file(f.origin_dir("laptop") + "/t.flac", "x");
  f.mount();
  REQUIRE(wait_until([&] { return !history(f, "laptop").empty(); }, 15s));
  f.daemon().kill9();

  const std::string db = db_path(f);
  insert_old_rows(db, f.mount_point(), 70, "seventy");
  insert_old_rows(db, f.mount_point(), 40, "forty");
  REQUIRE(rows_tagged(db, "seventy") == 2);

  f.daemon().restart();
  // The mount (history_days = 60) is restored before the prune runs.
  const bool pruned = wait_until([&] { return rows_tagged(db, "seventy") == 0; }, 15s);
  INFO("daemon log:\n" << f.daemon().log());
  INFO("now " << std::time(nullptr) << "; seventy rows: "
              << run_program({"sqlite3", db, "SELECT time, origin FROM health_checks WHERE origin = 'seventy'; SELECT time, kind FROM events WHERE origin = 'seventy'; SELECT COUNT(*), MAX(time) FROM health_checks"}).out);
  CHECK(pruned);
  CHECK(rows_tagged(db, "forty") == 2);
  CHECK(f.status()["mounts"].size() == 1);
  CHECK(!history(f, "laptop").empty());
}
