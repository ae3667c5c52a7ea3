// `musicfsctl metrics` and the [metrics] textfile against a real daemon and mount:
// the figures follow real reads and a real failover, and both the command's output
// and the textfile pass the real `promtool check metrics` (Prometheus' own linter).
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/hung_origin.h"
#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {

const std::string kPromtool = "/usr/bin/promtool";

void require_promtool() {
  if (::access(kPromtool.c_str(), X_OK) != 0) {
    skip_test("promtool is not installed (Debian package prometheus; scripts/install-deps.sh installs it)");
  }
}

// promtool check metrics reads the exposition on stdin; it prints nothing and exits 0
// when the text parses and has no lint problem.
void require_promtool_clean(const std::string& exposition, const TempDir& dir) {
  const std::string file = dir / "exposition.txt";
  write_file(file, exposition);
  auto r = run_program({"/bin/sh", "-c", kPromtool + " check metrics < \"$0\"", file});
  INFO("promtool stdout: " << r.out << "\npromtool stderr: " << r.err << "\nexposition:\n" << exposition);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out.empty());
  REQUIRE(r.err.empty());
}

// The value of the sample `name{labels}` (labels exactly as printed; "" for none).
std::optional<double> sample(const std::string& exposition, const std::string& name, const std::string& labels = "") {
  const std::string head = labels.empty() ? name + " " : name + "{" + labels + "} ";
  std::istringstream in(exposition);
  for (std::string line; std::getline(in, line);) {
    if (line.compare(0, head.size(), head) == 0) return std::stod(line.substr(head.size()));
  }
  return std::nullopt;
}

std::string metrics_text(const Fixture& f) {
  auto r = f.daemon().ctl({"metrics"});
  INFO("metrics stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

// The mount point as the daemon labels it (canonical: realpath).
std::string mount_label(const Fixture& f) { return f.status()["mounts"][0]["mount_point"].get<std::string>(); }

std::string origin_labels(const std::string& mount, const std::string& origin) {
  return "mount=\"" + mount + "\",origin=\"" + origin + "\"";
}

std::vector<std::string> dir_entries(const std::string& dir) {
  std::vector<std::string> out;
  if (DIR* d = ::opendir(dir.c_str())) {
    while (const dirent* e = ::readdir(d)) {
      const std::string n = e->d_name;
      if (n != "." && n != "..") out.push_back(n);
    }
    ::closedir(d);
  }
  return out;
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

}  // namespace

TEST_CASE("metrics: after a read through the mount the origin's bytes read the index and the mount count show",
          "[metrics]") {
  require_promtool();
  Fixture f({{"a", 1, "local", true}, {"b", 2, "local", true}});  // cached, for the cache metrics
  const std::string song = random_bytes(300 * 1024, 21);
  write_file(f.origin_dir("a") + "/album/song.flac", song);
  write_file(f.origin_dir("b") + "/album/song.flac", song);
  write_file(f.origin_dir("b") + "/album/other.flac", "b only");
  f.mount();
  REQUIRE(wait_status(f, "a", "healthy"));
  REQUIRE(wait_status(f, "b", "healthy"));
  REQUIRE(visible(f, "album/other.flac"));
  const std::string mp = mount_label(f);

  auto r = read_all(f.in_mount("album/song.flac"));
  REQUIRE(r.ok);
  REQUIRE(same_bytes(r.data, song));

  const std::string text = metrics_text(f);
  INFO("metrics:\n" << text);
  CHECK(sample(text, "musicfs_up") == 1.0);
  CHECK(sample(text, "musicfs_mounts") == 1.0);
  CHECK(sample(text, "musicfs_start_time_seconds").value_or(0) > 0);
  CHECK(sample(text, "musicfs_index_entries", "mount=\"" + mp + "\"") == 2.0);
  CHECK(sample(text, "musicfs_origin_index_entries", origin_labels(mp, "a")) == 1.0);
  CHECK(sample(text, "musicfs_origin_index_entries", origin_labels(mp, "b")) == 2.0);
  CHECK(sample(text, "musicfs_origin_read_bytes_total", origin_labels(mp, "a")).value_or(0) > 0);
  CHECK(sample(text, "musicfs_origin_read_bytes_total", origin_labels(mp, "b")) == 0.0);
  CHECK(sample(text, "musicfs_origin_healthy", origin_labels(mp, "a")) == 1.0);
  CHECK(sample(text, "musicfs_origin_state", origin_labels(mp, "a") + ",state=\"healthy\"") == 1.0);
  CHECK(sample(text, "musicfs_origin_state", origin_labels(mp, "a") + ",state=\"unhealthy\"") == 0.0);
  CHECK(sample(text, "musicfs_origin_consecutive_failures", origin_labels(mp, "a")) == 0.0);
  CHECK(sample(text, "musicfs_origin_probes_total", origin_labels(mp, "a")).value_or(0) >= 1);
  CHECK(sample(text, "musicfs_origin_failovers_total", origin_labels(mp, "b")) == 0.0);
  CHECK(sample(text, "musicfs_cache_enabled", "mount=\"" + mp + "\"") == 1.0);
  CHECK(sample(text, "musicfs_cache_misses_total", "mount=\"" + mp + "\"").value_or(0) > 0);
  CHECK(sample(text, "musicfs_cache_used_bytes", "mount=\"" + mp + "\"").has_value());
  CHECK(sample(text, "musicfs_cache_capacity_bytes", "mount=\"" + mp + "\"").value_or(0) > 0);
  CHECK(sample(text, "musicfs_cache_evictions_total", "mount=\"" + mp + "\"") == 0.0);
  CHECK(text.find("# TYPE musicfs_origin_read_bytes_total counter\n") != std::string::npos);
  CHECK(text.find("# TYPE musicfs_origin_healthy gauge\n") != std::string::npos);
  require_promtool_clean(text, f.dir());

  // --json: the same families as structured values.
  auto j = f.daemon().ctl_json({"metrics"});
  bool found = false;
  for (const auto& fam : j["metrics"]) {
    if (fam["name"] != "musicfs_origin_read_bytes_total") continue;
    CHECK(fam["type"] == "counter");
    for (const auto& s : fam["samples"]) {
      if (s["labels"]["origin"] == "a" && s["labels"]["mount"] == mp) found = s["value"].get<double>() > 0;
    }
  }
  CHECK(found);
}

TEST_CASE("metrics: a failover to the backup counts on the backup's failover counter", "[metrics]") {
  Fixture f({{"a", 1}, {"b", 2}}, "[health]\nread_timeout_ms = 5000\n");
  const std::string one = random_bytes(64 * 1024, 22);
  write_file(f.origin_dir("a") + "/one.bin", one);
  write_file(f.origin_dir("b") + "/one.bin", one);
  f.mount();
  REQUIRE(wait_status(f, "a", "healthy"));
  REQUIRE(wait_status(f, "b", "healthy"));
  const std::string mp = mount_label(f);
  REQUIRE(sample(metrics_text(f), "musicfs_origin_failovers_total", origin_labels(mp, "b")) == 0.0);

  // a's reads fail (test-build fault injection, as in test_federation): b serves.
  struct FaultReset {
    Fixture& f;
    ~FaultReset() { f.daemon().ctl({"debug-fault", "a", "none"}, 10s); }
  } reset{f};
  REQUIRE(f.daemon().ctl({"debug-fault", "a", "fail", "--data-only"}).exit_code == 0);
  auto r = read_all(f.in_mount("one.bin"));
  REQUIRE(r.ok);
  REQUIRE(same_bytes(r.data, one));
  REQUIRE(f.events("failover").size() == 1);

  const std::string text = metrics_text(f);
  INFO("metrics:\n" << text);
  CHECK(sample(text, "musicfs_origin_failovers_total", origin_labels(mp, "b")) == 1.0);
  CHECK(sample(text, "musicfs_origin_failovers_total", origin_labels(mp, "a")) == 0.0);
  CHECK(sample(text, "musicfs_origin_read_errors_total", origin_labels(mp, "a")).value_or(0) >= 1);
  CHECK(sample(text, "musicfs_origin_read_bytes_total", origin_labels(mp, "b")).value_or(0) > 0);
  CHECK(sample(text, "musicfs_origin_consecutive_failures", origin_labels(mp, "a")).value_or(0) >= 1);
  CHECK(sample(text, "musicfs_origin_healthy", origin_labels(mp, "a")) == 0.0);
}

TEST_CASE("metrics: backoff retries on the only origin count on its retry counter", "[metrics]") {
  Fixture f({{"a", 1}});
  const std::string data = random_bytes(4096, 24);
  write_file(f.origin_dir("a") + "/track.bin", data);
  f.mount();
  REQUIRE(wait_status(f, "a", "healthy"));
  const std::string mp = mount_label(f);
  REQUIRE(sample(metrics_text(f), "musicfs_origin_retries_total", origin_labels(mp, "a")) == 0.0);

  struct FaultReset {
    Fixture& f;
    ~FaultReset() { f.daemon().ctl({"debug-fault", "a", "none"}, 10s); }
  } reset{f};
  // Two failed data calls, then success: the first attempt and one retry fail, the
  // second retry (after 100 and 500 ms) reads.
  REQUIRE(f.daemon().ctl({"debug-fault", "a", "fail-times", "2", "--data-only"}).exit_code == 0);
  auto r = read_all(f.in_mount("track.bin"));
  REQUIRE(r.ok);
  REQUIRE(same_bytes(r.data, data));

  const std::string text = metrics_text(f);
  INFO("metrics:\n" << text);
  CHECK(sample(text, "musicfs_origin_retries_total", origin_labels(mp, "a")) == 2.0);
  CHECK(sample(text, "musicfs_origin_failovers_total", origin_labels(mp, "a")) == 0.0);
  CHECK(sample(text, "musicfs_origin_read_errors_total", origin_labels(mp, "a")) == 2.0);
}

TEST_CASE("metrics: a scrape answers while a read is blocked on a hung origin", "[metrics]") {
  Fixture f({{"a", 1}}, "[health]\nread_timeout_ms = 3000\ntimeout_ms = 1000\n");
  write_file(f.origin_dir("a") + "/x.bin", random_bytes(4096, 23));
  f.mount();
  REQUIRE(wait_status(f, "a", "healthy"));
  struct FaultReset {
    Fixture& f;
    ~FaultReset() { f.daemon().ctl({"debug-fault", "a", "none"}, 10s); }
  } reset{f};
  REQUIRE(f.daemon().ctl({"debug-fault", "a", "hang"}).exit_code == 0);

  ReadOutcome rx;
  std::thread reader([&] { rx = timed_read(f.in_mount("x.bin"), 1 << 16, /*direct=*/true); });
  struct Join {
    std::thread& t;
    ~Join() { t.join(); }
  } join{reader};
  // The read has reached the origin (and hangs there) once a data call is logged.
  REQUIRE(wait_until(
      [&] {
        auto r = f.daemon().ctl({"debug-fault", "a"}, 10s);
        auto j = nlohmann::json::parse(r.out, nullptr, false);
        return j.is_object() && j["data_call_times"].is_array() && !j["data_call_times"].empty();
      },
      5s));
  const std::string text = metrics_text(f);
  CHECK(sample(text, "musicfs_up") == 1.0);
  CHECK(sample(text, "musicfs_origin_read_bytes_total", origin_labels(mount_label(f), "a")) == 0.0);
}

TEST_CASE("metrics: a scrape answers while a probe and a read block in a real hung FUSE origin", "[metrics][hung]") {
  require_fuse();
  require_root();
  Fixture f({{"hung", 1}}, "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 3000\ntimeout_ms = 1000\n");
  // The origin directory is a hangfs mount: "block" makes every call on it wait in the
  // kernel, as on a dead NFS server.
  HungOrigin hung(f.dir() / "hung-source", f.origin_dir("hung"));
  write_file(hung.source() + "/x.bin", random_bytes(4096, 29));
  f.mount();
  REQUIRE(wait_until([&] { return path_exists(f.in_mount("x.bin")); }, 10s));
  hung.block();

  // The reader is another process, its read blocked on the hung origin meanwhile.
  TimedCall rx;
  std::thread reader([&] { rx = timed_syscall("read", f.in_mount("x.bin"), 4096); });
  struct Join {
    std::thread& t;
    ~Join() { t.join(); }
  } join{reader};
  // A probe has hung (and timed out) once the origin is no longer healthy: from then
  // on at least one call of the daemon's sits blocked in the kernel on hangfs.
  REQUIRE(wait_until([&] { return status_of(f, "hung") != "healthy"; }, 15s));
  auto r = f.daemon().ctl({"metrics"}, 20s);
  INFO("metrics: exit " << r.exit_code << "\n" << r.err);
  CHECK(r.exit_code == 0);
  CHECK(sample(r.out, "musicfs_up") == 1.0);
  CHECK(sample(r.out, "musicfs_mounts") == 1.0);
  hung.pass();
}

TEST_CASE("metrics: the textfile is written replaced atomically every interval and removed on unmount", "[metrics]") {
  require_promtool();
  TempDir out;  // outlives the fixture: the daemon removes the file on its way out
  const std::string prom = out / "musicfs.prom";
  Fixture f({{"a", 1}}, "[metrics]\ntextfile = \"" + prom + "\"\ninterval_secs = 1\n");
  write_file(f.origin_dir("a") + "/x.flac", "x");
  f.mount();

  INFO("daemon log:\n" << f.daemon().log());
  REQUIRE(wait_until([&] { return path_exists(prom); }, 10s));
  const ino_t first = inode_of(prom);
  struct stat st {};
  REQUIRE(::stat(prom.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0644);  // node_exporter reads it as its own user

  // Every version read is whole (rename, never a rewrite in place), and a new one
  // (a new inode) arrives after the interval.
  size_t reads = 0;
  bool replaced = wait_until(
      [&] {
        const std::string text = read_file(prom);
        ++reads;
        INFO("textfile:\n" << text);
        REQUIRE(text.rfind("# HELP musicfs_up ", 0) == 0);
        REQUIRE(!text.empty());
        REQUIRE(text.back() == '\n');
        REQUIRE(sample(text, "musicfs_mounts") == 1.0);
        return inode_of(prom) != first;
      },
      10s);
  REQUIRE(replaced);
  REQUIRE(reads > 0);
  require_promtool_clean(read_file(prom), f.dir());
  CHECK(sample(read_file(prom), "musicfs_origin_healthy", origin_labels(mount_label(f), "a")).has_value());

  // Only the .prom file and, at most, the temporary of a write in progress (a dot
  // name, which the collector ignores) are ever in the directory.
  for (const auto& n : dir_entries(out.path())) {
    INFO("entry " << n);
    CHECK((n == "musicfs.prom" || n.rfind(".musicfs.prom.", 0) == 0));
  }

  // No mount names it any more: the file goes, so Prometheus sees the figures absent
  // rather than frozen.
  auto un = f.daemon().ctl({"unmount", f.mount_point()});
  INFO("unmount stderr: " << un.err);
  REQUIRE(un.exit_code == 0);
  CHECK(wait_until([&] { return !path_exists(prom); }, 10s));
}

TEST_CASE("metrics: a textfile not ending in .prom is refused at mount with file line and key", "[metrics]") {
  Fixture f({{"a", 1}}, "[metrics]\ntextfile = \"/tmp/musicfs-metrics.txt\"\n");
  auto r = f.try_mount();
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(f.config_path() + ":") != std::string::npos);
  CHECK(r.err.find(": metrics.textfile: ") != std::string::npos);
  CHECK(r.err.find(".prom") != std::string::npos);
}

TEST_CASE("metrics: the textfile goes when the daemon stops", "[metrics]") {
  TempDir out;
  const std::string prom = out / "musicfs.prom";
  Fixture f({{"a", 1}}, "[metrics]\ntextfile = \"" + prom + "\"\n");
  f.mount();
  REQUIRE(wait_until([&] { return path_exists(prom); }, 10s));
  auto stop = f.daemon().ctl({"daemon", "stop"});
  INFO("daemon stop stderr: " << stop.err);
  REQUIRE(stop.exit_code == 0);
  REQUIRE(f.daemon().wait_exit(20s).has_value());
  CHECK_FALSE(path_exists(prom));
}
