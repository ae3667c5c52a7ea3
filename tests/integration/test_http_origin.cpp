// Integration tests for the http origin type against a real nginx on 127.0.0.1
// (tests/support/nginx_server.h) serving JSON directory listings: listing and reading
// through the mount, an http origin beside a local one, failover when nginx stops and
// returns, a frozen nginx (SIGSTOP) bounded by read_timeout_ms, offline reads from the
// cache, and bad input (a 404 root, a broken listing, a file changed after listing).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "support/nginx_server.h"
#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMiB = size_t{1} << 20;

// Probes every second; one origin call gets 500 ms, a read 3 s in all.
const std::string kHealth = "\n[health]\ncheck_interval_secs = 1\ntimeout_ms = 500\nread_timeout_ms = 3000\n";
const std::string kNoCache = "\n[cache]\ncontent_cache_gb = 0\n";

// Regular files below `root`, relative path -> contents.
std::map<std::string, std::string> files_below(const std::string& root) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_regular_file()) out[fs::relative(it->path(), root).string()] = read_file(it->path().string());
  }
  return out;
}

// Thaws a frozen nginx when the test leaves, even on a failed REQUIRE.
struct ThawGuard {
  NginxServer& s;
  ~ThawGuard() { s.thaw(); }
};

}  // namespace

TEST_CASE("http: every file on the server lists and reads whole through the mount", "[http]") {
  require_fuse();
  NginxServer web;
  const std::string music = web.root() + "/music";
  write_file(music + "/Artist/Album/01 Intro.flac", random_bytes(5 * kMiB + 4321, 1));
  write_file(music + "/Artist/Album/02 Second.flac", random_bytes(300 * 1024, 2));
  write_file(music + "/Björk/Homogenic/Jóga.flac", random_bytes(2 * kMiB, 3));
  write_file(music + "/Sigur Rós/()/Untitled #1 & 50% [live].flac", random_bytes(70 * 1024, 4));
  write_file(music + "/cover art.jpg", "not really a jpeg\n");
  write_file(music + "/empty.flac", "");
  mkdirs(music + "/Empty Folder");
  Fixture f({}, web.origin_toml("web", 1, "music/") + kHealth);
  f.mount();
  REQUIRE(visible(f, "Sigur Rós/()/Untitled #1 & 50% [live].flac"));
  REQUIRE(visible(f, "Empty Folder"));
  CHECK(fs::is_directory(f.in_mount("Empty Folder")));

  const auto want = files_below(music);
  REQUIRE(want.size() == 6);
  for (const auto& [rel, data] : want) {
    INFO("file " << rel);
    CHECK(size_of(f.in_mount(rel)) == static_cast<off_t>(data.size()));
    auto r = read_all(f.in_mount(rel));
    INFO("errno " << r.err << " (" << std::strerror(r.err) << ")");
    REQUIRE(r.ok);
    CHECK(same_bytes(r.data, data));
  }
  // Nothing more than what the server has.
  CHECK(files_below(f.mount_point()).size() == want.size());
  CHECK(f.served_by("Björk/Homogenic/Jóga.flac") == "web");
  CHECK(status_of(f, "web") == "healthy");
}

TEST_CASE("http: beside a local origin, priority picks the replica and route-explain shows both holders",
          "[http]") {
  require_fuse();
  for (int web_priority : {1, 3}) {
    DYNAMIC_SECTION("http origin priority " << web_priority) {
      NginxServer web;
      Fixture f({{"disk", 2}}, web.origin_toml("web", web_priority, "lib/") + kHealth + kNoCache);
      write_file(web.root() + "/lib/Both/song.flac", "from the web server\n");
      write_file(f.origin_dir("disk") + "/Both/song.flac", "from the local disk, longer\n");
      write_file(web.root() + "/lib/OnlyWeb/w.flac", "web only\n");
      write_file(f.origin_dir("disk") + "/OnlyDisk/d.flac", "disk only\n");
      f.mount();
      REQUIRE(visible(f, "OnlyWeb/w.flac"));
      REQUIRE(visible(f, "OnlyDisk/d.flac"));
      REQUIRE(wait_status(f, "web", "healthy"));

      const bool web_wins = web_priority < 2;
      const std::string winner = web_wins ? "web" : "disk";
      CHECK(f.served_by("Both/song.flac") == winner);
      CHECK(read_file(f.in_mount("Both/song.flac")) ==
            (web_wins ? "from the web server\n" : "from the local disk, longer\n"));
      CHECK(read_file(f.in_mount("OnlyWeb/w.flac")) == "web only\n");
      CHECK(read_file(f.in_mount("OnlyDisk/d.flac")) == "disk only\n");
      CHECK(f.served_by("OnlyWeb/w.flac") == "web");

      const auto j = f.daemon().ctl_json({"route-explain", f.in_mount("Both/song.flac")});
      INFO("route-explain: " << j.dump());
      CHECK(j["selected"] == winner);
      CHECK(j["divergent"] == true);
      REQUIRE(j["candidates"].size() == 2);
      std::map<std::string, bool> holders;
      for (const auto& c : j["candidates"]) holders[c["origin"].get<std::string>()] = c["has_file"].get<bool>();
      CHECK(holders == std::map<std::string, bool>{{"disk", true}, {"web", true}});
      CHECK(j["candidates"][0]["origin"] == winner);
    }
  }
}

TEST_CASE("http: reads fail over to a local copy when nginx stops and come back when it returns", "[http]") {
  require_fuse();
  NginxServer web;
  Fixture f({{"disk", 2}}, web.origin_toml("web", 1, "m/") + kHealth + kNoCache);
  const std::string data = random_bytes(3 * kMiB + 7, 11);
  write_file(web.root() + "/m/A/track.flac", data);
  write_file(f.origin_dir("disk") + "/A/track.flac", data);
  f.mount();
  REQUIRE(visible(f, "A/track.flac"));
  REQUIRE(wait_status(f, "web", "healthy"));
  REQUIRE(wait_status(f, "disk", "healthy"));
  CHECK(f.served_by("A/track.flac") == "web");
  auto first = read_all(f.in_mount("A/track.flac"));
  REQUIRE(first.ok);
  CHECK(same_bytes(first.data, data));

  web.stop();
  auto during = read_all(f.in_mount("A/track.flac"));
  INFO("read with nginx stopped: errno " << during.err << ", " << during.secs << " s");
  REQUIRE(during.ok);
  CHECK(same_bytes(during.data, data));
  CHECK(during.secs < 3.5);
  REQUIRE(wait_status(f, "web", "unhealthy"));
  CHECK(f.served_by("A/track.flac") == "disk");
  CHECK(last_error_of(f, "web").find("web") != std::string::npos);

  web.start();
  REQUIRE(wait_status(f, "web", "healthy"));
  CHECK(wait_until([&] { return f.served_by("A/track.flac") == "web"; }, 10s));
  auto after = read_all(f.in_mount("A/track.flac"));
  REQUIRE(after.ok);
  CHECK(same_bytes(after.data, data));
}

TEST_CASE("http: a frozen nginx costs a read at most read_timeout_ms, local reads go on, probes mark it unhealthy",
          "[http]") {
  require_fuse();
  NginxServer web;
  Fixture f({{"disk", 2}}, web.origin_toml("web", 1, "m/") + kHealth + kNoCache);
  const std::string remote = random_bytes(2 * kMiB, 21);
  const std::string local = random_bytes(kMiB, 22);
  write_file(web.root() + "/m/remote.flac", remote);
  write_file(f.origin_dir("disk") + "/local.flac", local);
  f.mount();
  REQUIRE(visible(f, "remote.flac"));
  REQUIRE(visible(f, "local.flac"));
  REQUIRE(wait_status(f, "web", "healthy"));

  ThawGuard guard{web};
  web.freeze();
  auto frozen_read = std::async(std::launch::async, [&] { return read_all(f.in_mount("remote.flac")); });
  // While the http read is stuck, the local origin serves at once.
  auto lr = read_all(f.in_mount("local.flac"));
  CHECK(lr.ok);
  CHECK(same_bytes(lr.data, local));
  CHECK(lr.secs < 1.5);
  auto rr = frozen_read.get();
  INFO("frozen read: ok " << rr.ok << ", errno " << rr.err << ", " << rr.secs << " s");
  CHECK_FALSE(rr.ok);
  CHECK(rr.err == EIO);
  CHECK(rr.secs < 3.0 + 1.5);  // read_timeout_ms and scheduling slack (as the other origins' tests)

  // Three failed probes (check_interval_secs = 1, timeout_ms = 500) make it unhealthy.
  REQUIRE(wait_status(f, "web", "unhealthy", 15s));
  CHECK(last_error_of(f, "web").find("web") != std::string::npos);
  web.thaw();
  REQUIRE(wait_status(f, "web", "healthy", 20s));
  auto again = read_all(f.in_mount("remote.flac"));
  REQUIRE(again.ok);
  CHECK(same_bytes(again.data, remote));
}

TEST_CASE("http: cached files read back whole with the server gone", "[http]") {
  require_fuse();
  auto web = std::make_unique<NginxServer>();
  Fixture f({}, web->origin_toml("web", 1, "m/") + kHealth + "\n[cache]\ncontent_cache_gb = 1\n");
  const std::string a = random_bytes(3 * kMiB + 100, 31), b = "small file\n";
  write_file(web->root() + "/m/Album/a.flac", a);
  write_file(web->root() + "/m/Album/b.txt", b);
  f.mount();
  REQUIRE(visible(f, "Album/b.txt"));
  REQUIRE(wait_status(f, "web", "healthy"));
  auto ra = read_all(f.in_mount("Album/a.flac"));
  auto rb = read_all(f.in_mount("Album/b.txt"));
  REQUIRE(ra.ok);
  REQUIRE(rb.ok);
  CHECK(same_bytes(ra.data, a));
  // The cache is written in the background: wait until route-explain says it is whole.
  REQUIRE(wait_until([&] {
    auto j = f.daemon().ctl_json({"route-explain", f.in_mount("Album/a.flac")});
    return j["cached_bytes"] == a.size();
  }, 20s));

  web.reset();  // nginx killed, its files removed
  REQUIRE(wait_status(f, "web", "unhealthy", 20s));
  auto oa = read_all(f.in_mount("Album/a.flac"));
  auto ob = read_all(f.in_mount("Album/b.txt"));
  INFO("offline reads: errno " << oa.err << " / " << ob.err);
  REQUIRE(oa.ok);
  REQUIRE(ob.ok);
  CHECK(same_bytes(oa.data, a));
  CHECK(ob.data == b);
  CHECK(f.daemon().running());
}

TEST_CASE("http: a root URL that answers 404 is a clear error and leaves other origins alone", "[http]") {
  require_fuse();
  NginxServer web;
  Fixture f({{"disk", 2}}, web.origin_toml("web", 1, "no/such/dir/") + kHealth);
  write_file(f.origin_dir("disk") + "/ok.flac", "local\n");
  f.mount();
  REQUIRE(visible(f, "ok.flac"));
  CHECK(read_file(f.in_mount("ok.flac")) == "local\n");
  REQUIRE(wait_status(f, "web", "unhealthy"));
  const std::string err = last_error_of(f, "web");
  INFO("last_error: " << err);
  CHECK(err.find("origin web") != std::string::npos);
  CHECK(err.find("404") != std::string::npos);
  CHECK(err.find("/no/such/dir/") != std::string::npos);
  CHECK(status_of(f, "disk") == "healthy");
  CHECK(f.daemon().running());
}

TEST_CASE("http: a listing that is not JSON is a clear error and leaves other origins alone", "[http]") {
  require_fuse();
  // The location answers every request, listing or HEAD, with a truncated JSON document.
  NginxServer web("    location ^~ /broken/ { default_type application/json; return 200 '[{\"name\": \"a.flac\", '; }\n");
  Fixture f({{"disk", 2}}, web.origin_toml("web", 1, "broken/") + kHealth);
  write_file(f.origin_dir("disk") + "/ok.flac", "local\n");
  f.mount();
  REQUIRE(visible(f, "ok.flac"));
  const bool logged = wait_until([&] { return f.daemon().log().find("not a JSON array") != std::string::npos; }, 20s);
  INFO("daemon log:\n" << f.daemon().log());
  REQUIRE(logged);
  const std::string log = f.daemon().log();
  CHECK(log.find("origin web: list http://127.0.0.1:" + std::to_string(web.port()) + "/broken/") != std::string::npos);
  CHECK(files_below(f.mount_point()).size() == 1);
  CHECK(read_file(f.in_mount("ok.flac")) == "local\n");
  CHECK(status_of(f, "disk") == "healthy");
  CHECK(f.daemon().running());
}

TEST_CASE("http: a file that changed on the server after listing is never read as the listed version", "[http]") {
  require_fuse();
  NginxServer web;
  Fixture f({{"disk", 2}}, web.origin_toml("web", 1, "m/") + kHealth);
  const std::string v1 = random_bytes(2 * kMiB, 41), v2 = random_bytes(3 * kMiB + 5, 42);
  write_file(web.root() + "/m/grow.flac", v1);
  write_file(f.origin_dir("disk") + "/ok.flac", "local\n");
  f.mount();
  REQUIRE(visible(f, "grow.flac"));
  REQUIRE(size_of(f.in_mount("grow.flac")) == static_cast<off_t>(v1.size()));

  write_file(web.root() + "/m/grow.flac", v2);
  auto r = read_all(f.in_mount("grow.flac"));
  INFO("read after the change: ok " << r.ok << ", errno " << r.err << ", " << r.data.size() << " bytes");
  // Either the read fails, or (once the index caught up) it returns the new bytes:
  // never the listed size filled with the new version's bytes posing as the old.
  if (r.ok) {
    CHECK(same_bytes(r.data, v2.substr(0, r.data.size())));
  } else {
    CHECK(r.err == EIO);
  }
  const std::string log = f.daemon().log();
  INFO("daemon log:\n" << log);
  CHECK(log.find("origin web: /grow.flac: changed on the server since it was listed (size 2097152 listed, 3145733 now)") !=
        std::string::npos);
  // The origin reported the change, so the index follows without a full relisting.
  REQUIRE(wait_until([&] { return size_of(f.in_mount("grow.flac")) == static_cast<off_t>(v2.size()); }, 20s));
  auto fresh = read_all(f.in_mount("grow.flac"));
  REQUIRE(fresh.ok);
  CHECK(same_bytes(fresh.data, v2));
  CHECK(read_file(f.in_mount("ok.flac")) == "local\n");
  CHECK(status_of(f, "disk") == "healthy");
  CHECK(f.daemon().running());
}

TEST_CASE("http: a password in the url is sent but never shown, and a config readable by others draws a warning",
          "[http]") {
  require_fuse();
  const std::string password = "PaSsWoRd-5e1f0c2a-do-not-leak";
  NginxServer web;
  write_file(web.root() + "/music/A/x.flac", random_bytes(300000, 61));
  std::string url = web.url("music/");
  REQUIRE(url.rfind("http://", 0) == 0);
  url.insert(7, "listener:" + password + "@");
  Fixture f({{"disk", 2}});
  f.write_config(f.default_config() + "\n[[origins]]\nid = \"web\"\norigin_type = \"http\"\npriority = 1\nurl = \"" + url +
                 "\"\n" + kHealth);
  ::chmod(f.config_path().c_str(), 0644);
  f.mount();
  REQUIRE(visible(f, "A/x.flac"));
  REQUIRE(read_all(f.in_mount("A/x.flac")).ok);
  REQUIRE(wait_status(f, "web", "healthy"));

  const std::string log = f.daemon().log();
  INFO("daemon log:\n" << log);
  CHECK(log.find("config file " + f.config_path() + " holds a password (in the url of origin web)") !=
        std::string::npos);
  CHECK(log.find("chmod 600") != std::string::npos);

  std::vector<std::pair<std::string, std::string>> outputs;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"--json", "status"}, {"status"}, {"--json", "origins", "list"}, {"origins", "list"},
        {"--json", "route-explain", f.in_mount("A/x.flac")}, {"--json", "health"}, {"--json", "events"}}) {
    auto r = f.daemon().ctl(args);
    outputs.emplace_back(args.back(), r.out + r.err);
  }
  outputs.emplace_back("daemon log", log);
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(f.daemon().state_dir(), ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file()) outputs.emplace_back(it->path().string(), read_file(it->path().string()));
  }
  for (const auto& [what, text] : outputs) {
    INFO("in " << what);
    CHECK(text.find(password) == std::string::npos);
  }
  auto o = f.origin_status("web");
  CHECK(o["location"].get<std::string>().find("listener") == std::string::npos);
}
