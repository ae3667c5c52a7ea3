// Integration tests for the s3 origin type against a real S3 server (s3rver, started
// by each test on its own port and data directory): listing and reading through the
// mount (a multi-MiB object, more keys than one ListObjectsV2 page), an s3 origin
// beside a local one, failover when the server stops and back, a frozen server
// (SIGSTOP), offline reads of cached files, wrong keys, a missing bucket, and secrets
// that never reach output, logs or the state database.
//
// s3rver does not verify SigV4 signatures (only that the access key id exists), so a
// wrong *secret* cannot be told from a right one by this server; the bad-keys test uses
// an unknown access key id, which s3rver refuses with 403 like AWS does.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "support/s3_server.h"
#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMiB = size_t{1} << 20;
const char* kFastHealth = "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\ntimeout_ms = 500\n";

// Waits until the mount shows `rel` (the background listing has run).
void wait_listed(const Fixture& f, const std::string& rel, std::chrono::milliseconds timeout = 30s) {
  INFO("waiting for " << rel << " to appear in the mount; daemon log:\n" << f.daemon().log());
  REQUIRE(wait_until([&] { return path_exists(f.in_mount(rel)); }, timeout));
}

std::string creds_toml(const std::string& path) { return "credentials_file = \"" + path + "\"\n"; }

// A fixture with an s3 origin "cloud" (and the given local origins), keys from a file.
struct S3Setup {
  S3Server server;
  std::string creds;
  std::unique_ptr<Fixture> f;

  S3Setup(std::vector<OriginSpec> locals, int cloud_priority, const std::string& extra_toml,
          const std::string& secret = "S3RVER", const std::string& access_key = S3Server::kAccessKey,
          const std::string& origin_extra = "") {
    // Built after the server, so the daemon goes first when the test ends.
    f = std::make_unique<Fixture>(std::move(locals), "");
    creds = write_s3_credentials(f->dir().path() + "/aws-credentials", access_key, secret);
    f->write_config(f->default_config() + s3_origin_toml(server, "cloud", cloud_priority, creds_toml(creds) + origin_extra) +
                    "\n" + extra_toml);
  }
};

std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(path, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("s3: listing and reading through the mount compares every byte across more keys than one listing page",
          "[s3][integration]") {
  S3Setup s({}, 1, "");
  std::map<std::string, std::string> files = {
      {"Artist/Album/01 Intro.flac", random_bytes(5 * kMiB + 12345, 1)},
      {"Artist/Album/02 Song.flac", random_bytes(300000, 2)},
      {"Ünïcode Artist/Ålbum (live)/03 a+b & c.flac", random_bytes(4096, 3)},
      {"top.mp3", random_bytes(1, 4)},
      {"empty.flac", ""},
  };
  for (const auto& [k, v] : files) s.server.put(k, v);
  constexpr int kMany = 1100;  // s3rver answers at most 1000 keys per ListObjectsV2 page
  for (int i = 0; i < kMany; ++i) {
    std::string key = "Many/track" + std::to_string(10000 + i) + ".ogg";
    files[key] = "small file " + std::to_string(i) + "\n";
    s.server.put(key, files[key]);
  }
  s.f->mount();
  wait_listed(*s.f, "Many/track" + std::to_string(10000 + kMany - 1) + ".ogg");

  CHECK(list_dir(s.f->in_mount("Many")).size() == kMany);
  CHECK(list_dir(s.f->mount_point()) ==
        std::vector<std::string>{"Artist", "Many", "empty.flac", "top.mp3", "Ünïcode Artist"});
  struct stat st {};
  REQUIRE(::stat(s.f->in_mount("Artist/Album/01 Intro.flac").c_str(), &st) == 0);
  CHECK(static_cast<size_t>(st.st_size) == 5 * kMiB + 12345);
  REQUIRE(::stat(s.f->in_mount("Artist/Album").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));

  size_t compared = 0;
  for (const auto& [k, v] : files) {
    auto r = read_all(s.f->in_mount(k));
    INFO("file " << k << " errno " << r.err);
    REQUIRE(r.ok);
    REQUIRE(same_bytes(r.data, v));
    ++compared;
  }
  CHECK(compared == files.size());
  CHECK(s.f->served_by("Artist/Album/01 Intro.flac") == "cloud");
  // Read in the middle of the big object: a ranged GET, not the whole object.
  drop_page_cache(s.f->in_mount("Artist/Album/01 Intro.flac"));
  int fd = ::open(s.f->in_mount("Artist/Album/01 Intro.flac").c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::string part(1000, '\0');
  ssize_t n = ::pread(fd, part.data(), part.size(), 3 * kMiB + 7);
  ::close(fd);
  REQUIRE(n == 1000);
  CHECK(part == files["Artist/Album/01 Intro.flac"].substr(3 * kMiB + 7, 1000));
  auto o = s.f->origin_status("cloud");
  CHECK(o["status"] == "healthy");
  CHECK(o["location"].get<std::string>() == "s3://music/ at " + s.server.endpoint());
}

TEST_CASE("s3: beside a local origin with duplicates both ways the priority decides", "[s3][integration]") {
  for (int cloud_priority : {1, 3}) {
    DYNAMIC_SECTION("cloud priority " << cloud_priority) {
      S3Setup s({{"disk", 2}}, cloud_priority, kFastHealth);
      const std::string cloud_copy = random_bytes(70000, 10), disk_copy = random_bytes(70001, 11);
      s.server.put("Both/same.flac", cloud_copy);
      write_file(s.f->origin_dir("disk") + "/Both/same.flac", disk_copy);
      s.server.put("Only/cloud.flac", "cloud only");
      write_file(s.f->origin_dir("disk") + "/Only/disk.flac", "disk only");
      s.f->mount();
      wait_listed(*s.f, "Only/cloud.flac");
      wait_listed(*s.f, "Only/disk.flac");
      // The router prefers healthy origins to ones not probed yet.
      REQUIRE(wait_status(*s.f, "cloud", "healthy"));
      REQUIRE(wait_status(*s.f, "disk", "healthy"));

      const bool cloud_wins = cloud_priority < 2;
      auto r = read_all(s.f->in_mount("Both/same.flac"));
      REQUIRE(r.ok);
      CHECK(same_bytes(r.data, cloud_wins ? cloud_copy : disk_copy));
      CHECK(s.f->served_by("Both/same.flac") == (cloud_wins ? "cloud" : "disk"));
      CHECK(read_all(s.f->in_mount("Only/cloud.flac")).data == "cloud only");
      CHECK(read_all(s.f->in_mount("Only/disk.flac")).data == "disk only");

      json re = s.f->daemon().ctl_json({"route-explain", s.f->in_mount("Both/same.flac")});
      INFO("route-explain: " << re.dump());
      CHECK(re["selected"] == (cloud_wins ? "cloud" : "disk"));
      std::map<std::string, bool> holders;
      for (const auto& c : re["candidates"]) holders[c["origin"].get<std::string>()] = c["has_file"].get<bool>();
      CHECK(holders == std::map<std::string, bool>{{"cloud", true}, {"disk", true}});
      for (const auto& c : re["candidates"]) {
        if (c["origin"] == "cloud") CHECK(c["size"] == 70000);
        if (c["origin"] == "disk") CHECK(c["size"] == 70001);
      }
    }
  }
}

TEST_CASE("s3: failover to a local copy when the server stops and back when it returns", "[s3][integration]") {
  S3Setup s({{"disk", 2}}, 1, std::string(kFastHealth) + "[cache]\ncontent_cache_gb = 0\n");
  const std::string data = random_bytes(2 * kMiB + 3, 20);
  s.server.put("A/song.flac", data);
  write_file(s.f->origin_dir("disk") + "/A/song.flac", data);
  // Same size and mtime-independent content: a replica, not a divergent copy.
  s.f->mount();
  wait_listed(*s.f, "A/song.flac");
  REQUIRE(wait_status(*s.f, "cloud", "healthy"));
  CHECK(s.f->served_by("A/song.flac") == "cloud");
  REQUIRE(same_bytes(read_all(s.f->in_mount("A/song.flac")).data, data));

  s.server.stop();
  drop_page_cache(s.f->in_mount("A/song.flac"));
  auto r = read_all(s.f->in_mount("A/song.flac"));
  INFO("read with the server stopped: errno " << r.err << " after " << r.secs << " s");
  REQUIRE(r.ok);
  CHECK(same_bytes(r.data, data));
  CHECK(r.secs < 5.0);
  CHECK(wait_status(*s.f, "cloud", "unhealthy"));
  CHECK(s.f->served_by("A/song.flac") == "disk");
  INFO("last error: " << last_error_of(*s.f, "cloud"));
  CHECK(contains(last_error_of(*s.f, "cloud"), "cloud"));

  s.server.start();
  INFO("daemon log:\n" << s.f->daemon().log());
  REQUIRE(wait_status(*s.f, "cloud", "healthy", 20s));
  CHECK(s.f->served_by("A/song.flac") == "cloud");
  drop_page_cache(s.f->in_mount("A/song.flac"));
  auto back = read_all(s.f->in_mount("A/song.flac"));
  REQUIRE(back.ok);
  CHECK(same_bytes(back.data, data));
}

TEST_CASE("s3: a frozen server (SIGSTOP) is bounded by read_timeout_ms while local reads proceed",
          "[s3][integration]") {
  S3Setup s({{"disk", 2}}, 1, kFastHealth);
  s.server.put("Cloud/only.flac", random_bytes(3 * kMiB, 30));
  const std::string local = random_bytes(100000, 31);
  write_file(s.f->origin_dir("disk") + "/Disk/only.flac", local);
  s.f->mount();
  wait_listed(*s.f, "Cloud/only.flac");
  wait_listed(*s.f, "Disk/only.flac");
  REQUIRE(wait_status(*s.f, "cloud", "healthy"));

  s.server.freeze();
  // The frozen read and a local read at the same time: the local one must not wait.
  ReadOutcome frozen;
  std::thread t([&] { frozen = read_all(s.f->in_mount("Cloud/only.flac"), true); });
  std::this_thread::sleep_for(100ms);  // let the frozen read start first
  auto l = read_all(s.f->in_mount("Disk/only.flac"));
  t.join();
  INFO("frozen O_DIRECT read: ok " << frozen.ok << " errno " << frozen.err << " after " << frozen.secs << " s");
  CHECK_FALSE(frozen.ok);
  CHECK(frozen.err == EIO);
  CHECK(frozen.secs < 2.0 + 1.5);  // read_timeout_ms plus scheduling slack
  REQUIRE(l.ok);
  CHECK(l.data == local);
  CHECK(l.secs < 1.0);
  // A buffered read: the kernel sends the failed page twice, but the origin stalled at
  // the first timeout, so neither request waits a fresh read_timeout_ms.
  auto buffered = read_all(s.f->in_mount("Cloud/only.flac"));
  INFO("frozen buffered read: ok " << buffered.ok << " errno " << buffered.err << " after " << buffered.secs << " s");
  CHECK_FALSE(buffered.ok);
  CHECK(buffered.secs < 2.0 + 1.5);

  INFO("daemon log:\n" << s.f->daemon().log());
  CHECK(wait_status(*s.f, "cloud", "unhealthy", 15s));
  auto o = s.f->origin_status("cloud");
  CHECK(o["consecutive_failures"].get<int>() >= 3);
  // Unhealthy now: the next read gives up at timeout_ms, not read_timeout_ms.
  drop_page_cache(s.f->in_mount("Cloud/only.flac"));
  auto again = read_all(s.f->in_mount("Cloud/only.flac"));
  CHECK_FALSE(again.ok);
  CHECK(again.secs < 3.5);

  s.server.thaw();
  CHECK(wait_status(*s.f, "cloud", "healthy", 20s));
  drop_page_cache(s.f->in_mount("Cloud/only.flac"));
  auto thawed = read_all(s.f->in_mount("Cloud/only.flac"));
  CHECK(thawed.ok);
  CHECK(thawed.data.size() == 3 * kMiB);
}

TEST_CASE("s3: cached files are served with the server gone", "[s3][integration]") {
  S3Setup s({}, 1, std::string(kFastHealth) + "[cache]\ncontent_cache_gb = 1\n");
  const std::string a = random_bytes(2 * kMiB + 100, 40), b = random_bytes(5000, 41);
  s.server.put("X/a.flac", a);
  s.server.put("X/b.flac", b);
  s.server.put("X/never-read.flac", "never read");
  s.f->mount();
  wait_listed(*s.f, "X/never-read.flac");
  REQUIRE(same_bytes(read_all(s.f->in_mount("X/a.flac")).data, a));
  REQUIRE(same_bytes(read_all(s.f->in_mount("X/b.flac")).data, b));
  // The background writer must have stored every chunk before the server goes.
  REQUIRE(wait_until(
      [&] {
        json st = s.f->daemon().ctl_json({"cache", "stat"});
        return st["mounts"][0]["pending_bytes"] == 0 && st["mounts"][0]["chunks"].get<uint64_t>() >= 4;
      },
      20s));

  s.server.stop();
  REQUIRE(wait_status(*s.f, "cloud", "unhealthy"));
  for (const char* rel : {"X/a.flac", "X/b.flac"}) drop_page_cache(s.f->in_mount(rel));
  auto ra = read_all(s.f->in_mount("X/a.flac"));
  auto rb = read_all(s.f->in_mount("X/b.flac"));
  REQUIRE(ra.ok);
  REQUIRE(rb.ok);
  CHECK(same_bytes(ra.data, a));
  CHECK(same_bytes(rb.data, b));
  auto never = read_all(s.f->in_mount("X/never-read.flac"));
  CHECK_FALSE(never.ok);
  CHECK(never.err == EIO);
  // The tree stays browsable from the index.
  CHECK(list_dir(s.f->in_mount("X")).size() == 3);
}

TEST_CASE("s3: wrong keys give a clear error and an unhealthy origin while other origins are unaffected", "[s3][integration]") {
  S3Setup s({{"disk", 2}}, 1, kFastHealth, "whatever-secret", "AKIAUNKNOWNKEYID");
  s.server.put("Cloud/x.flac", "x");
  write_file(s.f->origin_dir("disk") + "/Disk/y.flac", "local bytes");
  s.f->mount();
  wait_listed(*s.f, "Disk/y.flac");
  INFO("daemon log:\n" << s.f->daemon().log());
  REQUIRE(wait_status(*s.f, "cloud", "unhealthy"));
  std::string err = last_error_of(*s.f, "cloud");
  INFO("last_error: " << err);
  CHECK(contains(err, "origin cloud"));
  // The probe is a HEAD, whose answer has no body to carry S3's error code.
  CHECK(contains(err, "HTTP status 403"));
  CHECK(contains(err, "access denied with keys from credentials file " + s.creds + " [default]"));
  CHECK(status_of(*s.f, "disk") == "healthy");
  CHECK(read_all(s.f->in_mount("Disk/y.flac")).data == "local bytes");
  CHECK_FALSE(path_exists(s.f->in_mount("Cloud/x.flac")));
  CHECK(s.f->daemon().running());
}

TEST_CASE("s3: a bucket that does not exist is named in the error", "[s3][integration]") {
  S3Server server;
  Fixture f({{"disk", 2}});
  std::string creds = write_s3_credentials(f.dir().path() + "/aws-credentials", S3Server::kAccessKey, "S3RVER");
  std::string origin = s3_origin_toml(server, "cloud", 1, creds_toml(creds));
  const std::string from = "bucket = \"music\"";
  origin.replace(origin.find(from), from.size(), "bucket = \"no-such-bucket\"");
  f.write_config(f.default_config() + origin + "\n" + kFastHealth);
  write_file(f.origin_dir("disk") + "/Disk/y.flac", "local bytes");
  f.mount();
  wait_listed(f, "Disk/y.flac");
  REQUIRE(wait_status(f, "cloud", "unhealthy"));
  std::string err = last_error_of(f, "cloud");
  INFO("last_error: " << err);
  CHECK(contains(err, "origin cloud"));
  CHECK(contains(err, "bucket 'no-such-bucket' does not exist"));
  CHECK(contains(err, server.endpoint()));
  CHECK(read_all(f.in_mount("Disk/y.flac")).data == "local bytes");
  INFO("daemon log:\n" << f.daemon().log());
  CHECK(contains(f.daemon().log(), "no-such-bucket"));
}

TEST_CASE("s3: the secret key and session token never reach output or logs or the state database",
          "[s3][integration]") {
  const std::string secret = "SeCrEt-kEy-3f9a1c7e-do-not-leak";
  const std::string token = "ToKeN-77d2b1e0-do-not-leak";
  S3Server server;
  Fixture f({{"disk", 2}});
  std::string creds = f.dir().path() + "/aws-credentials";
  write_s3_credentials(creds, S3Server::kAccessKey, secret, token);
  f.write_config(f.default_config() + s3_origin_toml(server, "cloud", 1, creds_toml(creds)) + "\n" + kFastHealth);
  server.put("A/x.flac", random_bytes(1500000, 50));
  f.mount();
  wait_listed(f, "A/x.flac");
  REQUIRE(read_all(f.in_mount("A/x.flac")).ok);
  REQUIRE(wait_status(f, "cloud", "healthy"));
  // An error path too: requests that fail still must not print keys.
  server.freeze();
  drop_page_cache(f.in_mount("A/x.flac"));
  (void)read_all(f.in_mount("A/x.flac"));
  server.thaw();
  REQUIRE(wait_status(f, "cloud", "healthy", 20s));

  std::vector<std::pair<std::string, std::string>> outputs;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--json", "status"}, {"status"}, {"--json", "origins", "list"}, {"origins", "list"},
        {"--json", "route-explain", f.in_mount("A/x.flac")}, {"--json", "health"}, {"health", "--check"},
        {"--json", "events"}, {"--json", "health", "--history"}}) {
    auto r = f.daemon().ctl(args);
    outputs.emplace_back(args.back(), r.out + r.err);
  }
  outputs.emplace_back("daemon log", f.daemon().log());
  // Every file the daemon wrote: the state database (and its WAL), the cache catalog.
  for (const std::string& root : {f.daemon().state_dir(), f.dir().path() + "/cache"}) {
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file()) outputs.emplace_back(it->path().string(), read_file(it->path().string()));
    }
  }
  CHECK(outputs.size() > 10);
  for (const auto& [what, text] : outputs) {
    INFO("in " << what);
    CHECK_FALSE(contains(text, secret));
    CHECK_FALSE(contains(text, token));
  }
  // The status shows where the origin points, not how it logs in.
  auto o = f.origin_status("cloud");
  CHECK(o["location"].get<std::string>() == "s3://music/ at " + server.endpoint());
}

TEST_CASE("s3: a credentials file readable by others draws a warning naming it", "[s3][integration]") {
  S3Server server;
  Fixture f(std::vector<OriginSpec>{});
  std::string creds = write_s3_credentials(f.dir().path() + "/aws-credentials", S3Server::kAccessKey,
                                           "SeCrEt-world-readable");
  ::chmod(creds.c_str(), 0644);
  f.write_config(f.default_config() + s3_origin_toml(server, "cloud", 1, creds_toml(creds)));
  server.put("a.flac", "a");
  f.mount();
  wait_listed(f, "a.flac");
  std::string log = f.daemon().log();
  INFO("daemon log:\n" << log);
  CHECK(contains(log, "credentials file " + creds + " is readable by group or others"));
  CHECK_FALSE(contains(log, "SeCrEt-world-readable"));
}

TEST_CASE("s3: a prefix selects a subtree of the bucket", "[s3][integration]") {
  S3Setup s({}, 1, "", "S3RVER", S3Server::kAccessKey, "prefix = \"library/\"\n");
  s.server.put("library/A/in.flac", "inside");
  s.server.put("library-old/A/out.flac", "outside");
  s.server.put("other/out.flac", "outside");
  s.f->mount();
  wait_listed(*s.f, "A/in.flac");
  CHECK(read_all(s.f->in_mount("A/in.flac")).data == "inside");
  CHECK(list_dir(s.f->mount_point()) == std::vector<std::string>{"A"});
  CHECK(list_dir(s.f->in_mount("A")) == std::vector<std::string>{"in.flac"});
}

TEST_CASE("s3: an object whose size changed since the listing fails with a clear error", "[s3][integration]") {
  S3Setup s({{"disk", 2}}, 1, std::string(kFastHealth) + "[cache]\ncontent_cache_gb = 0\n");
  s.server.put("A/x.flac", random_bytes(100000, 60));
  write_file(s.f->origin_dir("disk") + "/Disk/y.flac", "local bytes");
  s.f->mount();
  wait_listed(*s.f, "A/x.flac");
  wait_listed(*s.f, "Disk/y.flac");
  REQUIRE(wait_status(*s.f, "cloud", "healthy"));
  // Replaced behind the index's back with a longer object (refresh_interval_secs is 10).
  const std::string now = random_bytes(150000, 61);
  s.server.put("A/x.flac", now);
  auto r = read_all(s.f->in_mount("A/x.flac"));
  INFO("read: ok " << r.ok << " errno " << r.err << " bytes " << r.data.size());
  // Either the read fails (EIO), or the kernel's retry of the failed read comes after
  // the path was looked up again and gets the new object whole; never the listed size
  // with the new bytes. The server answered every request: it is not counted as failing.
  if (r.ok) {
    CHECK(same_bytes(r.data, now));
  } else {
    CHECK(r.err == EIO);
  }
  CHECK(status_of(*s.f, "cloud") == "healthy");
  CHECK(wait_until([&] { return size_of(s.f->in_mount("A/x.flac")) == 150000; }, 20s));
  CHECK(same_bytes(read_all(s.f->in_mount("A/x.flac")).data, now));
  std::string log = s.f->daemon().log();
  INFO("daemon log:\n" << log);
  CHECK(contains(log, "origin cloud: /A/x.flac changed on the server since it was listed (listed 100000 bytes, now "
                      "150000)"));
  CHECK(s.f->daemon().running());
  CHECK(read_all(s.f->in_mount("Disk/y.flac")).data == "local bytes");
}
