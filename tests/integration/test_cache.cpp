// Integration tests for the content cache and offline serving (issue 6): read-through
// and hits, a corrupted chunk refetched, version keying when a file changes at its
// origin, LRU eviction under a small cap, passthrough mode, kill -9 during heavy
// reading, offline serving with every origin gone (also after a restart), recovery
// when the origin returns with a changed file, cache clear and cache prefetch.
//
// Every test owns its Fixture (daemon + mount + origin dirs + cache_dir), so tests run
// in parallel. The kernel keeps file pages across opens (keep_cache), so a test that
// needs a second read to reach the daemon drops the pages of that one file first
// (posix_fadvise DONTNEED: per file, no effect on other tests, no root needed).
// Origins that must vanish live on a tmpfs that is lazily unmounted (root only).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/test_env.h"
#include "support/test_io.h"

using namespace musicfs::test;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr size_t kMiB = size_t{1} << 20;
constexpr size_t kChunk = kMiB;  // the cache's chunk size

// Probes every second; a read on an unhealthy origin gives up after timeout_ms.
const char* kFastHealth = "[health]\ncheck_interval_secs = 1\nread_timeout_ms = 2000\ntimeout_ms = 500\n";

std::string cache_toml(const std::string& gb) { return "[cache]\ncontent_cache_gb = " + gb + "\n"; }

std::string cache_dir(const Fixture& f) { return f.dir().path() + "/cache"; }

// `cache stat --json` of the fixture's only mount.
json cache_stat(const Fixture& f) {
  const json all = f.daemon().ctl_json({"cache", "stat"});
  REQUIRE(all["mounts"].size() == 1);
  return all["mounts"][0];
}

uint64_t u64(const json& j, const char* key) { return j.at(key).get<uint64_t>(); }

// A local origin that caches (cache = true): here local directories stand in for the
// remote origins a content cache is for; a local origin by default is not cached.
OriginSpec cached(const std::string& id, int priority) { return {id, priority, "local", true}; }

// Waits until the background writer has written everything queued and holds `chunks`
// chunks (any number when negative); returns the last stat.
json wait_cache_settled(const Fixture& f, long chunks, std::chrono::milliseconds timeout = 20s) {
  json s;
  bool ok = wait_until(
      [&] {
        s = cache_stat(f);
        return u64(s, "pending_bytes") == 0 && (chunks < 0 || u64(s, "chunks") == static_cast<uint64_t>(chunks));
      },
      timeout);
  INFO("cache stat: " << s.dump());
  REQUIRE(ok);
  return s;
}

// Segment files on disk (CACHE_DIR/segments/<2 hex>/<32 hex>, one per cached file
// version): name -> apparent size and bytes of disk held.
struct SegmentFile {
  uint64_t size = 0;
  uint64_t allocated = 0;
};
std::map<std::string, SegmentFile> segment_files(const std::string& cache) {
  std::map<std::string, SegmentFile> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(cache + "/segments", ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st {};
    if (::stat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      out[it->path().filename().string()] = {static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_blocks) * 512};
    }
  }
  return out;
}

std::string segment_path(const std::string& cache, const std::string& segment) {
  return cache + "/segments/" + segment.substr(0, 2) + "/" + segment;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// One row of the catalog (CACHE_DIR/cache.db, table chunks).
struct CatalogRow {
  std::string name, origin, path;
  uint64_t size = 0;
  uint32_t chunk = 0, length = 0;
  std::string segment;
  uint64_t offset = 0;
};

// Rows of the catalog matching `where` (SQL, may be empty), read with the sqlite3 CLI.
std::vector<CatalogRow> catalog_rows(const std::string& cache, const std::string& where = "") {
  std::string sql = "SELECT name, origin, path, size, chunk, length, segment, offset FROM chunks";
  if (!where.empty()) sql += " WHERE " + where;
  sql += " ORDER BY path, chunk";
  auto r = run_program({"sqlite3", "-cmd", ".timeout 10000", "-separator", "|", cache + "/cache.db", sql});
  INFO("sqlite3 '" << sql << "' stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  std::vector<CatalogRow> rows;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<std::string> cols;
    std::istringstream ls(line);
    std::string c;
    while (std::getline(ls, c, '|')) cols.push_back(c);
    REQUIRE(cols.size() == 8);
    rows.push_back({cols[0], cols[1], cols[2], std::stoull(cols[3]), static_cast<uint32_t>(std::stoul(cols[4])),
                    static_cast<uint32_t>(std::stoul(cols[5])), cols[6], std::stoull(cols[7])});
  }
  return rows;
}

// The bytes of one cached chunk, read from its segment file (empty if it is gone).
std::string chunk_bytes(const std::string& cache, const CatalogRow& row) {
  std::string out(row.length, '\0');
  int fd = ::open(segment_path(cache, row.segment).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  ssize_t n = ::pread(fd, out.data(), out.size(), static_cast<off_t>(row.offset));
  ::close(fd);
  if (n != static_cast<ssize_t>(out.size())) return {};
  return out;
}

// The catalog and the segment files agree: every row's chunk lies inside its
// segment file, every segment file is named by a row, and no file holds more disk
// than its rows' chunks need (evicted or never-catalogued bytes are freed), give or
// take 64 KiB of the filesystem's own blocks (ext4's extent tree of a file with
// holes counts in st_blocks). `why` says what differs.
bool catalog_matches_files(const std::string& cache, std::string& why) {
  auto rows = catalog_rows(cache);
  auto files = segment_files(cache);
  std::ostringstream w;
  bool ok = true;
  std::map<std::string, uint64_t> needed;  // segment -> bytes of disk its rows need
  for (const auto& row : rows) {
    needed[row.segment] += (uint64_t{row.length} + 4095) / 4096 * 4096;
    auto it = files.find(row.segment);
    if (it == files.end()) {
      w << "row " << row.name << " (" << row.path << " chunk " << row.chunk << ") has no segment file; ";
      ok = false;
    } else if (it->second.size < row.offset + row.length) {
      w << "row " << row.name << " ends at " << row.offset + row.length << ", its file at " << it->second.size << "; ";
      ok = false;
    }
  }
  for (const auto& [segment, file] : files) {
    auto n = needed.find(segment);
    if (n == needed.end()) {
      w << "segment " << segment << " is named by no row; ";
      ok = false;
    } else if (file.allocated > n->second + (64 << 10)) {
      w << "segment " << segment << " holds " << file.allocated << " bytes of disk, its rows need " << n->second << "; ";
      ok = false;
    }
  }
  why = w.str();
  return ok;
}

json route_explain(const Fixture& f, const std::string& rel) {
  return f.daemon().ctl_json({"route-explain", f.in_mount(rel)});
}

// Forces probes (`health --check`) until every origin in `ids` has status `want`.
bool probe_until(const Fixture& f, const std::vector<std::string>& ids, const std::string& want,
                 std::chrono::milliseconds timeout = 20s) {
  return wait_until(
      [&] {
        f.daemon().ctl({"health", "--check"});
        return std::all_of(ids.begin(), ids.end(), [&](const std::string& id) { return status_of(f, id) == want; });
      },
      timeout);
}

// Names in a directory of the mount (readdir), sorted; empty if it cannot be opened.
std::set<std::string> list_dir(const std::string& dir) {
  std::set<std::string> names;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
    names.insert(it->path().filename().string());
  }
  return names;
}

// `cache prefetch PATH --json`: REQUIREs exit 0 and returns results[0].
json prefetch(const Fixture& f, const std::string& path) {
  auto r = f.daemon().ctl({"--json", "cache", "prefetch", path}, 60s);
  INFO("cache prefetch " << path << " stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  REQUIRE(j["results"].size() == 1);
  return j["results"][0];
}

}  // namespace

// 1. Read-through: the first read fetches from the origin and stores whole chunks;
// the second read is served by the cache without touching the origin.
TEST_CASE("cache: a file read twice is fetched once and then served from the cache", "[cache]") {
  Fixture f({cached("a", 1)}, cache_toml("1"));
  const std::string data = random_bytes(3 * kMiB + 12345, 101);  // 3 whole chunks and a tail
  write_file(f.origin_dir("a") + "/Album/track.flac", data);
  f.mount();

  auto first = read_all(f.in_mount("Album/track.flac"));
  INFO("first read errno " << first.err);
  REQUIRE(first.ok);
  CHECK(same_bytes(first.data, data));

  const json s1 = wait_cache_settled(f, 4);
  INFO("after the first read: " << s1.dump());
  CHECK(s1["enabled"] == true);
  CHECK(u64(s1, "capacity_bytes") == (uint64_t{1} << 30));
  CHECK(u64(s1, "used_bytes") == data.size());
  CHECK(u64(s1, "files") == 1);
  CHECK(u64(s1, "misses") > 0);
  CHECK(u64(s1, "miss_bytes") >= data.size());
  CHECK(u64(s1["fetched_bytes_per_origin"], "a") >= data.size());
  CHECK(u64(s1, "corrupt_chunks") == 0);

  // On disk: four chunks in one segment file, named by the catalog, three of 1 MiB
  // and the tail.
  const std::string cache = cache_dir(f);
  std::vector<CatalogRow> rows;
  REQUIRE(wait_until([&] { return (rows = catalog_rows(cache, "path = '/Album/track.flac'")).size() == 4; }, 20s));
  uint64_t total = 0;
  for (uint32_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].chunk == i);
    CHECK(rows[i].origin == "a");
    CHECK(rows[i].size == data.size());
    CHECK(rows[i].length == (i < 3 ? kChunk : 12345u));
    total += rows[i].length;
    CHECK(rows[i].segment == rows[0].segment);
    CHECK(rows[i].offset == uint64_t{i} * kChunk);
    CHECK(same_bytes(chunk_bytes(cache, rows[i]), data.substr(size_t{i} * kChunk, rows[i].length)));
  }
  CHECK(total == data.size());
  CHECK(segment_files(cache).size() == 1);

  // The second read, with the kernel's pages of the file dropped, reaches the daemon
  // and is answered from the cache alone.
  REQUIRE(drop_page_cache(f.in_mount("Album/track.flac")));
  auto second = read_all(f.in_mount("Album/track.flac"));
  INFO("second read errno " << second.err);
  REQUIRE(second.ok);
  CHECK(same_bytes(second.data, data));
  const json s2 = cache_stat(f);
  INFO("after the second read: " << s2.dump());
  CHECK(u64(s2, "hits") > u64(s1, "hits"));
  CHECK(u64(s2, "hit_bytes") - u64(s1, "hit_bytes") >= data.size());
  CHECK(u64(s2, "misses") == u64(s1, "misses"));
  CHECK(u64(s2["fetched_bytes_per_origin"], "a") == u64(s1["fetched_bytes_per_origin"], "a"));

  // route-explain knows the file is held whole.
  const json re = route_explain(f, "Album/track.flac");
  CHECK(re["cache_enabled"] == true);
  CHECK(re["served_from"] == "cache");
  CHECK(u64(re, "cached_bytes") == data.size());
  CHECK(re["cached_origin"] == "a");
}

// 2. A flipped byte in a cached chunk: detected by its checksum, never served, dropped
// and refetched from the origin.
TEST_CASE("cache: a corrupted chunk is detected, dropped and refetched, and the reader gets correct bytes", "[cache]") {
  Fixture f({cached("a", 1)}, cache_toml("1"));
  const std::string data = random_bytes(3 * kMiB, 201);
  write_file(f.origin_dir("a") + "/c.flac", data);
  f.mount();

  auto first = read_all(f.in_mount("c.flac"));
  REQUIRE(first.ok);
  REQUIRE(same_bytes(first.data, data));
  wait_cache_settled(f, 3);
  const std::string cache = cache_dir(f);
  std::vector<CatalogRow> rows;
  REQUIRE(wait_until([&] { return (rows = catalog_rows(cache, "path = '/c.flac' AND chunk = 1")).size() == 1; }, 20s));
  const CatalogRow victim_row = rows[0];
  const std::string victim = segment_path(cache, victim_row.segment);
  REQUIRE(chunk_bytes(cache, victim_row) == data.substr(kChunk, kChunk));

  // Flip one byte in the middle of chunk 1 (in its fifth 64 KiB block).
  constexpr off_t kAt = 300000;
  {
    int fd = ::open(victim.c_str(), O_RDWR | O_CLOEXEC);
    REQUIRE(fd >= 0);
    const auto at = static_cast<off_t>(victim_row.offset) + kAt;
    char b = 0;
    REQUIRE(::pread(fd, &b, 1, at) == 1);
    b = static_cast<char>(b ^ 0x5a);
    REQUIRE(::pwrite(fd, &b, 1, at) == 1);
    ::close(fd);
  }
  REQUIRE(chunk_bytes(cache, victim_row)[kAt] != data[kChunk + kAt]);
  const json before = cache_stat(f);
  CHECK(u64(before, "corrupt_chunks") == 0);

  REQUIRE(drop_page_cache(f.in_mount("c.flac")));
  auto second = read_all(f.in_mount("c.flac"));
  INFO("read after corruption: errno " << second.err);
  REQUIRE(second.ok);
  CHECK(same_bytes(second.data, data));
  const json after = cache_stat(f);
  INFO("cache stat after the read: " << after.dump());
  CHECK(u64(after, "corrupt_chunks") >= 1);
  // Chunk 1 came from the origin again.
  CHECK(u64(after["fetched_bytes_per_origin"], "a") >= u64(before["fetched_bytes_per_origin"], "a") + kChunk);

  // The refetched chunk is stored again under the same name, now with correct bytes.
  bool rewritten = wait_until([&] { return chunk_bytes(cache, victim_row) == data.substr(kChunk, kChunk); }, 20s);
  CHECK(rewritten);
  wait_cache_settled(f, 3);
  std::string why;
  const bool consistent = wait_until([&] { return catalog_matches_files(cache, why); }, 20s);
  INFO("catalog vs files: " << why);
  CHECK(consistent);

  // And it serves: a third read is all hits, no new corruption.
  REQUIRE(drop_page_cache(f.in_mount("c.flac")));
  const json s3 = cache_stat(f);
  auto third = read_all(f.in_mount("c.flac"));
  REQUIRE(third.ok);
  CHECK(same_bytes(third.data, data));
  const json s4 = cache_stat(f);
  CHECK(u64(s4, "corrupt_chunks") == u64(s3, "corrupt_chunks"));
  CHECK(u64(s4, "misses") == u64(s3, "misses"));
  CHECK(u64(s4, "hit_bytes") - u64(s3, "hit_bytes") >= data.size());
}

// 3. A file that changes at its origin is a new version: its new bytes are read whole
// (never mixed with cached chunks of the old one), and the old chunks are dropped.
TEST_CASE("cache: a file changed at its origin is read whole in its new version and its old chunks are dropped",
          "[cache]") {
  Fixture f({cached("a", 1)}, cache_toml("1"));
  const std::string v1 = random_bytes(2 * kMiB + kMiB / 2, 301);
  const std::string v2 = random_bytes(3 * kMiB + kMiB / 4, 302);
  write_file(f.origin_dir("a") + "/v.flac", v1);
  f.mount();

  auto r1 = read_all(f.in_mount("v.flac"));
  REQUIRE(r1.ok);
  REQUIRE(same_bytes(r1.data, v1));
  wait_cache_settled(f, 3);
  const std::string cache = cache_dir(f);
  const std::string old_version = "path = '/v.flac' AND size = " + std::to_string(v1.size());
  std::vector<CatalogRow> old_rows;
  REQUIRE(wait_until([&] { return (old_rows = catalog_rows(cache, old_version)).size() == 3; }, 20s));

  // Replace the file atomically, as a tagger or a sync tool would.
  const std::string staging = f.dir().path() + "/staging/v.flac";
  write_file(staging, v2);
  REQUIRE(::rename(staging.c_str(), (f.origin_dir("a") + "/v.flac").c_str()) == 0);

  // The index notices (inotify) and the mount shows the new size.
  bool resized = wait_until([&] { return size_of(f.in_mount("v.flac")) == static_cast<off_t>(v2.size()); }, 20s);
  INFO("size in the mount: " << size_of(f.in_mount("v.flac")));
  REQUIRE(resized);
  auto r2 = read_all(f.in_mount("v.flac"));
  REQUIRE(r2.ok);
  CHECK(same_bytes(r2.data, v2));
  const json re = route_explain(f, "v.flac");
  CHECK(re["candidates"][0]["size"] == v2.size());

  // The old version's chunks leave the catalog and the disk; the new one is cached.
  bool old_gone = wait_until(
      [&] {
        if (!catalog_rows(cache, old_version).empty()) return false;
        return std::none_of(old_rows.begin(), old_rows.end(),
                            [&](const CatalogRow& r) { return path_exists(segment_path(cache, r.segment)); });
      },
      20s);
  INFO("old version rows left: " << catalog_rows(cache, old_version).size());
  CHECK(old_gone);
  const std::string new_version = "path = '/v.flac' AND size = " + std::to_string(v2.size());
  CHECK(wait_until([&] { return catalog_rows(cache, new_version).size() == 4; }, 20s));
  std::string why;
  const bool consistent = wait_until([&] { return catalog_matches_files(cache, why); }, 20s);
  INFO("catalog vs files: " << why);
  CHECK(consistent);
}

// 4. A cap of a few MiB: reading three times as much keeps the cache under the cap by
// evicting least-recently-used chunks, and every read is still correct.
TEST_CASE("cache: under a small cap old chunks are evicted and reads stay correct", "[cache]") {
  Fixture f({cached("a", 1)}, cache_toml("0.004"));  // 0.004 GiB: about 4 MiB
  constexpr int kFiles = 12;
  std::vector<std::string> data;
  for (int i = 0; i < kFiles; ++i) {
    data.push_back(random_bytes(kMiB, 400 + static_cast<uint32_t>(i)));
    write_file(f.origin_dir("a") + "/E/f" + std::to_string(i) + ".bin", data.back());
  }
  f.mount();
  const uint64_t cap = u64(cache_stat(f), "capacity_bytes");
  CHECK(cap == static_cast<uint64_t>(0.004 * (uint64_t{1} << 30)));

  for (int i = 0; i < kFiles; ++i) {
    auto r = read_all(f.in_mount("E/f" + std::to_string(i) + ".bin"));
    INFO("file " << i << " errno " << r.err);
    REQUIRE(r.ok);
    CHECK(same_bytes(r.data, data[static_cast<size_t>(i)]));
  }

  json s;
  bool under = wait_until(
      [&] {
        s = cache_stat(f);
        return u64(s, "pending_bytes") == 0 && u64(s, "used_bytes") <= cap;
      },
      20s);
  INFO("cache stat: " << s.dump());
  REQUIRE(under);
  CHECK(u64(s, "evictions") > 0);
  CHECK(u64(s, "evicted_bytes") > 0);
  CHECK(u64(s, "chunks") <= cap / kChunk);
  CHECK(u64(s, "dropped_writes") == 0);
  // Every chunk read was stored once: what is held plus what was evicted is all of it.
  CHECK(u64(s, "used_bytes") + u64(s, "evicted_bytes") == kFiles * kMiB);

  // The disk agrees with the counters.
  const std::string cache = cache_dir(f);
  std::string why;
  const bool consistent = wait_until([&] { return catalog_matches_files(cache, why); }, 20s);
  INFO("catalog vs files: " << why);
  CHECK(consistent);
  uint64_t on_disk = 0;
  for (const auto& [name, file] : segment_files(cache)) on_disk += file.allocated;
  CHECK(on_disk <= cap);
  CHECK(on_disk == u64(cache_stat(f), "used_bytes"));

  // The most recently read files are the ones kept (LRU), and everything reads back.
  const json last = route_explain(f, "E/f" + std::to_string(kFiles - 1) + ".bin");
  CHECK(u64(last, "cached_bytes") == kMiB);
  const json first = route_explain(f, "E/f0.bin");
  CHECK(u64(first, "cached_bytes") == 0);
  for (int i = 0; i < kFiles; ++i) {
    const std::string p = f.in_mount("E/f" + std::to_string(i) + ".bin");
    REQUIRE(drop_page_cache(p));
    auto r = read_all(p);
    REQUIRE(r.ok);
    CHECK(same_bytes(r.data, data[static_cast<size_t>(i)]));
  }
  CHECK(wait_until([&] { return u64(cache_stat(f), "used_bytes") <= cap; }, 20s));
}

// 5. content_cache_gb = 0: everything works, nothing is cached, and the cache
// commands say so.
TEST_CASE("cache: content_cache_gb = 0 is passthrough: reads work, nothing is cached", "[cache]") {
  Fixture f({cached("a", 1)}, cache_toml("0"));
  const std::string data = random_bytes(2 * kMiB + 777, 501);
  write_file(f.origin_dir("a") + "/Album/p.flac", data);
  f.mount();

  for (int round = 0; round < 2; ++round) {
    REQUIRE(drop_page_cache(f.in_mount("Album/p.flac")));
    auto r = read_all(f.in_mount("Album/p.flac"));
    INFO("round " << round << " errno " << r.err);
    REQUIRE(r.ok);
    CHECK(same_bytes(r.data, data));
  }

  const json s = cache_stat(f);
  INFO("cache stat: " << s.dump());
  CHECK(s["enabled"] == false);
  CHECK(u64(s, "chunks") == 0);
  CHECK(u64(s, "used_bytes") == 0);
  CHECK(u64(s, "hits") == 0);
  CHECK(u64(s["fetched_bytes_per_origin"], "a") >= 2 * data.size());
  const std::string cache = cache_dir(f);
  CHECK(segment_files(cache).empty());
  CHECK_FALSE(path_exists(cache + "/cache.db"));

  auto text = f.daemon().ctl({"cache", "stat"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.find("is off") != std::string::npos);

  const json re = route_explain(f, "Album/p.flac");
  CHECK(re["cache_enabled"] == false);
  CHECK(re["served_from"] == "origin");
  CHECK(u64(re, "cached_bytes") == 0);

  auto pre = f.daemon().ctl({"cache", "prefetch", f.in_mount("Album")});
  INFO("prefetch stdout: " << pre.out << "\nstderr: " << pre.err);
  CHECK(pre.exit_code == 1);
  CHECK(pre.err.find("content_cache_gb = 0") != std::string::npos);
  auto clr = f.daemon().ctl({"cache", "clear"});
  INFO("clear stderr: " << clr.err);
  CHECK(clr.exit_code == 1);
  CHECK(clr.err.find("content_cache_gb = 0") != std::string::npos);
  CHECK(segment_files(cache).empty());
}

// 6. kill -9 while several readers fill the cache: the catalog stays intact, the
// restarted daemon sweeps what the crash left half-written, every catalog row names a
// complete chunk with the right bytes, and every file reads back correctly.
TEST_CASE("cache: after kill -9 during heavy reading the restarted daemon serves only correct bytes", "[cache]") {
  Fixture f({cached("a", 1)}, std::string(kFastHealth) + cache_toml("1"));
  constexpr int kFiles = 16;
  std::map<std::string, std::string> data;  // virtual path -> bytes
  std::vector<std::string> rels;
  for (int i = 0; i < kFiles; ++i) {
    std::string rel = "C/f" + std::to_string(i) + ".bin";
    std::string bytes = random_bytes(2 * kMiB + static_cast<size_t>(i) * 37 * 1024 + 11, 600 + static_cast<uint32_t>(i));
    write_file(f.origin_dir("a") + "/" + rel, bytes);
    data["/" + rel] = std::move(bytes);
    rels.push_back(rel);
  }
  f.mount();

  // Readers go round the files, each in its own order, dropping pages after every
  // file so that every round reaches the daemon. They stop at the first error (the
  // daemon's death) or when told.
  constexpr int kReaders = 4;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> bytes_read{0};
  std::atomic<int> wrong{0};  // reads that returned wrong bytes while the daemon lived
  std::vector<std::thread> readers;
  for (int t = 0; t < kReaders; ++t) {
    readers.emplace_back([&, t] {
      std::vector<std::string> order = rels;
      std::rotate(order.begin(), order.begin() + t * (kFiles / kReaders), order.end());
      if (t % 2 == 1) std::reverse(order.begin(), order.end());
      while (!stop.load()) {
        for (const auto& rel : order) {
          if (stop.load()) return;
          auto r = read_all(f.in_mount(rel));
          if (!r.ok) return;
          if (r.data != data.at("/" + rel)) wrong.fetch_add(1);
          bytes_read.fetch_add(r.data.size());
          drop_page_cache(f.in_mount(rel));
        }
      }
    });
  }
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
  } joiner{stop, readers};

  // Kill once a good part of the data went through, with readers still busy.
  const bool busy = wait_until([&] { return bytes_read.load() >= 12 * kMiB; }, 60s);
  const int old_pid = f.daemon().pid();
  f.daemon().kill9();
  stop = true;
  for (auto& t : readers) t.join();
  INFO("bytes read before the kill: " << bytes_read.load());
  REQUIRE(busy);
  REQUIRE(!process_alive(old_pid));
  CHECK(wrong.load() == 0);

  // The catalog survives the crash.
  const std::string cache = cache_dir(f);
  auto integrity = run_program({"sqlite3", "-cmd", ".timeout 10000", cache + "/cache.db", "PRAGMA integrity_check"});
  CHECK(integrity.exit_code == 0);
  CHECK(trim(integrity.out) == "ok");

  f.daemon().restart();
  bool restored = wait_until(
      [&] {
        const json st = f.status();
        return st["mounts"].size() == 1 && !list_dir(f.in_mount("C")).empty();
      },
      20s);
  INFO("daemon log:\n" << f.daemon().log());
  REQUIRE(restored);

  // Swept at start: bytes no row names are freed, and the catalog and the files agree.
  std::string why;
  bool consistent = wait_until([&] { return catalog_matches_files(cache, why); }, 20s);
  INFO("catalog vs files: " << why);
  CHECK(consistent);
  const json s0 = cache_stat(f);
  auto rows = catalog_rows(cache);
  CHECK(u64(s0, "chunks") == rows.size());
  uint64_t row_bytes = 0;
  for (const auto& r : rows) row_bytes += r.length;
  CHECK(u64(s0, "used_bytes") == row_bytes);

  // Every chunk the catalog names holds exactly the origin's bytes.
  size_t bad_chunks = 0;
  for (const auto& r : rows) {
    auto it = data.find(r.path);
    if (it == data.end() || r.size != it->second.size()) {
      ++bad_chunks;
      continue;
    }
    std::string bytes;
    try {
      bytes = chunk_bytes(cache, r);
    } catch (const std::exception&) {
      ++bad_chunks;
      continue;
    }
    if (bytes != it->second.substr(size_t{r.chunk} * kChunk, r.length)) ++bad_chunks;
  }
  INFO(rows.size() << " catalog rows after the restart");
  CHECK(bad_chunks == 0);

  // And every file reads back correctly through the restored mount.
  for (const auto& rel : rels) {
    auto r = read_all(f.in_mount(rel));
    INFO(rel << ": errno " << r.err);
    REQUIRE(r.ok);
    CHECK(same_bytes(r.data, data["/" + rel]));
  }
  const json s1 = cache_stat(f);
  CHECK(u64(s1, "corrupt_chunks") == 0);
  if (!rows.empty()) CHECK(u64(s1, "hits") > 0);  // the surviving chunks were used
}

// 7. Every origin gone: the tree still lists, stats and walks; prefetched files read
// back whole; an uncached file fails fast with EIO; route-explain says which is which.
TEST_CASE("offline: with every origin gone, the tree works, cached files read, uncached fail fast with EIO",
          "[cache][offline]") {
  Fixture f({cached("a", 1), cached("b", 2)}, std::string(kFastHealth) + cache_toml("1"));
  TmpfsMount tmp_a(f.origin_dir("a"));
  TmpfsMount tmp_b(f.origin_dir("b"));
  const std::string one = random_bytes(2 * kMiB + 999, 701), two = random_bytes(kMiB + 5, 702);
  const std::string small = "liner notes\n", uncached = random_bytes(kMiB / 2, 703);
  write_file(f.origin_dir("a") + "/Album/one.flac", one);
  write_file(f.origin_dir("a") + "/Album/notes.txt", small);
  write_file(f.origin_dir("b") + "/Album/two.flac", two);
  write_file(f.origin_dir("b") + "/Other/uncached.flac", uncached);
  f.mount();
  REQUIRE(probe_until(f, {"a", "b"}, "healthy"));

  const json pre = prefetch(f, f.in_mount("Album"));
  INFO("prefetch: " << pre.dump());
  CHECK(pre["files"] == 3);
  CHECK(u64(pre, "bytes") == one.size() + two.size() + small.size());
  CHECK(u64(pre, "fetched_bytes") == one.size() + two.size() + small.size());
  CHECK(pre["failed"].empty());
  CHECK(route_explain(f, "Album/one.flac")["served_from"] == "cache");
  CHECK(route_explain(f, "Other/uncached.flac")["served_from"] == "origin");

  tmp_a.unmount_lazy();
  tmp_b.unmount_lazy();
  bool offline = probe_until(f, {"a", "b"}, "unhealthy");
  INFO("a: " << status_of(f, "a") << ", b: " << status_of(f, "b"));
  REQUIRE(offline);

  // The tree, from the index.
  CHECK(list_dir(f.mount_point()) == std::set<std::string>{"Album", "Other"});
  CHECK(list_dir(f.in_mount("Album")) == std::set<std::string>{"notes.txt", "one.flac", "two.flac"});
  CHECK(list_dir(f.in_mount("Other")) == std::set<std::string>{"uncached.flac"});
  CHECK(size_of(f.in_mount("Album/one.flac")) == static_cast<off_t>(one.size()));
  CHECK(size_of(f.in_mount("Other/uncached.flac")) == static_cast<off_t>(uncached.size()));
  auto found = run_program({"find", f.mount_point(), "-type", "f"});
  INFO("find stderr: " << found.err);
  CHECK(found.exit_code == 0);
  std::set<std::string> found_set;
  std::istringstream fl(found.out);
  for (std::string line; std::getline(fl, line);) found_set.insert(line);
  CHECK(found_set == std::set<std::string>{f.in_mount("Album/notes.txt"), f.in_mount("Album/one.flac"),
                                           f.in_mount("Album/two.flac"), f.in_mount("Other/uncached.flac")});

  // Cached files read back whole, from either origin's cached version.
  for (const auto& [rel, want] : std::vector<std::pair<std::string, std::string>>{
           {"Album/one.flac", one}, {"Album/two.flac", two}, {"Album/notes.txt", small}}) {
    auto r = read_all(f.in_mount(rel));
    INFO(rel << ": errno " << r.err << " (" << std::strerror(r.err) << "), " << r.secs << " s");
    CHECK(r.ok);
    CHECK(same_bytes(r.data, want));
  }

  // An uncached file fails, quickly, with EIO.
  auto miss = read_all(f.in_mount("Other/uncached.flac"));
  INFO("uncached read: errno " << miss.err << " (" << std::strerror(miss.err) << "), " << miss.secs << " s");
  CHECK_FALSE(miss.ok);
  CHECK(miss.err == EIO);
  CHECK(miss.secs < 5.0);

  const json cached = route_explain(f, "Album/one.flac");
  CHECK(cached["rule"] == "served from cache");
  CHECK(cached["served_from"] == "cache");
  CHECK(u64(cached, "cached_bytes") == one.size());
  const json from_b = route_explain(f, "Album/two.flac");
  CHECK(from_b["rule"] == "served from cache");
  CHECK(from_b["cached_origin"] == "b");
  const json none = route_explain(f, "Other/uncached.flac");
  CHECK(none["rule"] == "no origin, not cached");
  CHECK(none["served_from"] == "none");
  CHECK(u64(none, "cached_bytes") == 0);
}

// 8. A daemon started while every origin is gone mounts the last known tree and serves
// the cache.
TEST_CASE("offline: a daemon restarted while every origin is gone mounts the last tree and serves the cache",
          "[cache][offline]") {
  Fixture f({cached("nas", 1)}, std::string(kFastHealth) + cache_toml("1"));
  TmpfsMount tmp(f.origin_dir("nas"));
  const std::string x = random_bytes(2 * kMiB + 3, 801), y = random_bytes(kMiB - 7, 802), z = random_bytes(70000, 803);
  write_file(f.origin_dir("nas") + "/A/x.flac", x);
  write_file(f.origin_dir("nas") + "/A/y.flac", y);
  write_file(f.origin_dir("nas") + "/B/z.flac", z);
  f.mount();
  REQUIRE(probe_until(f, {"nas"}, "healthy"));
  const json pre = prefetch(f, f.in_mount("A"));
  CHECK(pre["files"] == 2);
  CHECK(pre["failed"].empty());

  tmp.unmount_lazy();
  REQUIRE(probe_until(f, {"nas"}, "unhealthy"));

  // A clean stop (the mount is not restored by itself), then a new daemon and mount.
  REQUIRE(f.daemon().ctl({"daemon", "stop"}).exit_code == 0);
  auto exited = f.daemon().wait_exit(20s);
  REQUIRE(exited.has_value());
  REQUIRE_FALSE(is_mounted(f.mount_point()));
  f.daemon().restart();
  auto t0 = Clock::now();
  f.mount();
  INFO("mount took " << seconds_since(t0) << " s");

  CHECK(list_dir(f.mount_point()) == std::set<std::string>{"A", "B"});
  CHECK(list_dir(f.in_mount("A")) == std::set<std::string>{"x.flac", "y.flac"});
  CHECK(size_of(f.in_mount("B/z.flac")) == static_cast<off_t>(z.size()));
  for (const auto& [rel, want] : std::vector<std::pair<std::string, std::string>>{{"A/x.flac", x}, {"A/y.flac", y}}) {
    auto r = read_all(f.in_mount(rel));
    INFO(rel << ": errno " << r.err << " (" << std::strerror(r.err) << ")\ndaemon log:\n" << f.daemon().log());
    CHECK(r.ok);
    CHECK(same_bytes(r.data, want));
  }
  auto miss = read_all(f.in_mount("B/z.flac"));
  INFO("uncached read: errno " << miss.err << " (" << std::strerror(miss.err) << "), " << miss.secs << " s");
  CHECK_FALSE(miss.ok);
  CHECK(miss.err == EIO);
  CHECK(miss.secs < 5.0);
  CHECK(status_of(f, "nas") == "unhealthy");
  CHECK(route_explain(f, "A/x.flac")["rule"] == "served from cache");
  CHECK(route_explain(f, "B/z.flac")["rule"] == "no origin, not cached");
}

// 9. The origin returns, with one file changed while it was away: reads go back to it,
// and the changed file is read in its new version.
TEST_CASE("offline: when the origin returns reads go back to it and a file changed meanwhile is refreshed",
          "[cache][offline]") {
  Fixture f({cached("nas", 1)}, std::string(kFastHealth) + cache_toml("1"));
  TmpfsMount tmp(f.origin_dir("nas"));
  const std::string x = random_bytes(kMiB + 100, 901), y1 = random_bytes(2 * kMiB, 902);
  const std::string y2 = random_bytes(2 * kMiB + kMiB / 3, 903);
  const std::string nas = f.origin_dir("nas");
  write_file(nas + "/x.flac", x);
  write_file(nas + "/y.flac", y1);
  struct stat x_st {};
  REQUIRE(::stat((nas + "/x.flac").c_str(), &x_st) == 0);
  f.mount();
  REQUIRE(probe_until(f, {"nas"}, "healthy"));
  const json pre = prefetch(f, f.in_mount("x.flac"));
  CHECK(pre["failed"].empty());
  CHECK(prefetch(f, f.in_mount("y.flac"))["failed"].empty());
  CHECK(u64(route_explain(f, "x.flac"), "cached_bytes") == x.size());
  CHECK(u64(route_explain(f, "y.flac"), "cached_bytes") == y1.size());

  tmp.unmount_lazy();
  REQUIRE(probe_until(f, {"nas"}, "unhealthy"));
  auto offline_y = read_all(f.in_mount("y.flac"));  // played while away: from the cache
  INFO("offline read of y.flac: errno " << offline_y.err << "\nroute-explain: " << route_explain(f, "y.flac").dump()
                                        << "\ndaemon log:\n" << f.daemon().log());
  REQUIRE(offline_y.ok);
  CHECK(same_bytes(offline_y.data, y1));
  CHECK(route_explain(f, "y.flac")["rule"] == "served from cache");

  // Back, with x as it was (same bytes and mtime) and y replaced.
  tmp.remount();
  write_file(nas + "/x.flac", x);
  const struct timespec times[2] = {x_st.st_atim, x_st.st_mtim};
  REQUIRE(::utimensat(AT_FDCWD, (nas + "/x.flac").c_str(), times, 0) == 0);
  write_file(nas + "/y.flac", y2);
  bool back = probe_until(f, {"nas"}, "healthy");
  INFO("status: " << status_of(f, "nas"));
  REQUIRE(back);

  bool refreshed = wait_until([&] { return size_of(f.in_mount("y.flac")) == static_cast<off_t>(y2.size()); }, 20s);
  INFO("y.flac size in the mount: " << size_of(f.in_mount("y.flac")));
  REQUIRE(refreshed);
  const json re = route_explain(f, "y.flac");
  INFO("route-explain y.flac: " << re.dump());
  CHECK(re["selected"] == "nas");
  CHECK(re["served_from"] == "origin");
  CHECK(re["rule"] != "served from cache");
  CHECK(u64(re, "cached_bytes") == 0);

  const uint64_t fetched_before = u64(cache_stat(f)["fetched_bytes_per_origin"], "nas");
  auto ry = read_all(f.in_mount("y.flac"));
  INFO("y.flac errno " << ry.err);
  REQUIRE(ry.ok);
  CHECK(same_bytes(ry.data, y2));
  CHECK(f.served_by("y.flac") == "nas");
  CHECK(u64(cache_stat(f)["fetched_bytes_per_origin"], "nas") >= fetched_before + y2.size());

  // x did not change: its cached version is still the origin's, and reads correctly.
  CHECK(route_explain(f, "x.flac")["rule"] != "served from cache");
  auto rx = read_all(f.in_mount("x.flac"));
  REQUIRE(rx.ok);
  CHECK(same_bytes(rx.data, x));
}

// 10. cache clear --origin drops only that origin's chunks; an unknown origin is an
// error that changes nothing; cache clear drops the rest.
TEST_CASE("cache clear --origin drops only that origin's chunks, and an unknown origin is refused", "[cache]") {
  Fixture f({cached("a", 1), cached("b", 2)}, cache_toml("1"));
  const std::string on_a = random_bytes(2 * kMiB + 1, 1001), on_b = random_bytes(kMiB + kMiB / 2, 1002);
  write_file(f.origin_dir("a") + "/a.flac", on_a);
  write_file(f.origin_dir("b") + "/b.flac", on_b);
  f.mount();
  for (const auto& [rel, want] : std::vector<std::pair<std::string, std::string>>{{"a.flac", on_a}, {"b.flac", on_b}}) {
    auto r = read_all(f.in_mount(rel));
    REQUIRE(r.ok);
    CHECK(same_bytes(r.data, want));
  }
  wait_cache_settled(f, 5);
  const std::string cache = cache_dir(f);
  REQUIRE(wait_until([&] { return catalog_rows(cache).size() == 5; }, 20s));
  const auto b_rows = catalog_rows(cache, "origin = 'b'");
  REQUIRE(b_rows.size() == 2);

  auto bad = f.daemon().ctl({"cache", "clear", "--origin", "nosuch"});
  INFO("clear --origin nosuch: stdout " << bad.out << " stderr " << bad.err);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("no origin 'nosuch'") != std::string::npos);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);  // one clear line
  CHECK(catalog_rows(cache).size() == 5);
  CHECK(segment_files(cache).size() == 2);

  auto clr = f.daemon().ctl({"cache", "clear", "--origin", "a"});
  INFO("clear --origin a: stderr " << clr.err);
  REQUIRE(clr.exit_code == 0);
  CHECK(clr.out.find("cleared 3 chunks") != std::string::npos);
  CHECK(clr.out.find("of origin a") != std::string::npos);
  // The catalog is written before the command returns; a's segment file is gone.
  CHECK(catalog_rows(cache, "origin = 'a'").empty());
  const auto left = catalog_rows(cache);
  REQUIRE(left.size() == 2);
  std::set<std::string> left_files, b_names;
  for (const auto& [name, file] : segment_files(cache)) left_files.insert(name);
  for (const auto& r : b_rows) b_names.insert(r.segment);
  CHECK(left_files == b_names);
  const json s = cache_stat(f);
  CHECK(u64(s, "chunks") == 2);
  CHECK(u64(s, "used_bytes") == on_b.size());
  CHECK(u64(route_explain(f, "a.flac"), "cached_bytes") == 0);
  CHECK(u64(route_explain(f, "b.flac"), "cached_bytes") == on_b.size());

  // b's chunks still serve.
  REQUIRE(drop_page_cache(f.in_mount("b.flac")));
  auto rb = read_all(f.in_mount("b.flac"));
  REQUIRE(rb.ok);
  CHECK(same_bytes(rb.data, on_b));
  CHECK(u64(cache_stat(f), "hit_bytes") - u64(s, "hit_bytes") >= on_b.size());

  const json all = f.daemon().ctl_json({"cache", "clear"});
  CHECK(all["chunks"] == 2);
  CHECK(all["origin"].is_null());
  CHECK(catalog_rows(cache).empty());
  CHECK(segment_files(cache).empty());
  CHECK(u64(cache_stat(f), "used_bytes") == 0);
}

// 11. cache prefetch reports progress to a person on a terminal only: nothing on a
// pipe or with --json, where stdout is the summary (or parseable JSON).
TEST_CASE("cache prefetch prints progress only on a terminal and a summary or JSON otherwise", "[cache]") {
  Fixture f({cached("a", 1)}, cache_toml("1"));
  const std::string p1 = random_bytes(2 * kMiB + 10, 1101), p2 = random_bytes(kMiB / 3, 1102);
  const std::string q1 = random_bytes(kMiB + 20, 1103);
  write_file(f.origin_dir("a") + "/P/one.flac", p1);
  write_file(f.origin_dir("a") + "/P/sub/two.flac", p2);
  write_file(f.origin_dir("a") + "/Q/one.flac", q1);
  f.mount();

  // Not a terminal (run_program gives pipes): no progress, the summary on stdout.
  auto text = f.daemon().ctl({"cache", "prefetch", f.in_mount("P")}, 60s);
  INFO("stdout: " << text.out << "\nstderr: " << text.err);
  REQUIRE(text.exit_code == 0);
  CHECK(text.err.empty());
  CHECK(text.out.find("prefetched /P") != std::string::npos);
  CHECK(text.out.find("2 files") != std::string::npos);
  CHECK(std::count(text.out.begin(), text.out.end(), '\n') == 1);
  CHECK(text.out.find('\r') == std::string::npos);
  CHECK(u64(route_explain(f, "P/one.flac"), "cached_bytes") == p1.size());
  CHECK(u64(route_explain(f, "P/sub/two.flac"), "cached_bytes") == p2.size());

  // --json: stdout is one JSON document; nothing was left to fetch.
  auto js = f.daemon().ctl({"--json", "cache", "prefetch", f.in_mount("P")}, 60s);
  INFO("json stdout: " << js.out << "\nstderr: " << js.err);
  REQUIRE(js.exit_code == 0);
  CHECK(js.err.empty());
  json j = json::parse(js.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j["results"].size() == 1);
  const json& r = j["results"][0];
  CHECK(r["files"] == 2);
  CHECK(u64(r, "bytes") == p1.size() + p2.size());
  CHECK(u64(r, "fetched_bytes") == 0);
  CHECK(r["failed"].empty());

  // On a terminal (script(1) gives the command a pty): a progress line, then the summary.
  if (::access("/usr/bin/script", X_OK) == 0) {
    const std::string cmd = std::string(MUSICFSCTL_PATH) + " --socket " + f.daemon().socket() + " cache prefetch " +
                            f.in_mount("Q");
    auto tty = run_program({"script", "-qefc", cmd, "/dev/null"}, 60s);
    INFO("on a terminal: exit " << tty.exit_code << ", output: " << tty.out << "\nstderr: " << tty.err);
    CHECK(tty.exit_code == 0);
    CHECK(tty.out.find("\rprefetch " + f.in_mount("Q") + ": ") != std::string::npos);
    CHECK(tty.out.find("prefetched /Q") != std::string::npos);
    CHECK(u64(route_explain(f, "Q/one.flac"), "cached_bytes") == q1.size());
  } else {
    WARN("script(1) not installed: the terminal case is not checked");
  }
}

// Background prefetch: a reader that streams past its first chunk gets the next
// chunks (8) fetched ahead of it into the cache while it is still reading; one that
// reads only a file's head (a tag scanner) fetches nothing beyond what it read.
TEST_CASE("cache: a streaming reader's next chunks are fetched ahead of it, a head-only reader's are not",
          "[cache][prefetch]") {
  Fixture f({cached("a", 1)}, cache_toml("1"));
  const std::string stream = random_bytes(24 * kMiB, 211);
  const std::string tagged = random_bytes(24 * kMiB, 212);
  write_file(f.origin_dir("a") + "/Album/01 stream.flac", stream);
  write_file(f.origin_dir("a") + "/Album/02 tagged.flac", tagged);
  f.mount();
  auto chunks_of = [&](const std::string& rel) {
    return catalog_rows(cache_dir(f), "path = '/Album/" + rel + "'").size();
  };

  // The head of one file, as a tag reader does: 64 KiB at offset 0, then close.
  {
    const std::string path = f.in_mount("Album/02 tagged.flac");
    int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    std::string head(64 * 1024, '\0');
    CHECK(::pread(fd, head.data(), head.size(), 0) == static_cast<ssize_t>(head.size()));
    ::close(fd);
    CHECK(head == tagged.substr(0, head.size()));
  }

  // The first 2 MiB of the other, in 128 KiB reads, with the file kept open.
  const std::string path = f.in_mount("Album/01 stream.flac");
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::string got(2 * kMiB, '\0');
  for (size_t off = 0; off < got.size(); off += 128 * 1024) {
    REQUIRE(::pread(fd, got.data() + off, 128 * 1024, static_cast<off_t>(off)) == 128 * 1024);
  }
  CHECK(same_bytes(got, stream.substr(0, got.size())));

  // The chunks ahead arrive in the cache without further reads: at least 8 beyond the
  // 2 MiB read, and not the whole file (the kernel's own readahead adds a chunk or two).
  size_t ahead = 0;
  CHECK(wait_until([&] { return (ahead = chunks_of("01 stream.flac")) >= 2 + 8; }, 20s));
  wait_cache_settled(f, -1);
  ahead = chunks_of("01 stream.flac");
  INFO("chunks of the streamed file cached after reading 2 MiB: " << ahead);
  CHECK(ahead >= 10);
  CHECK(ahead <= 14);
  const size_t head_chunks = chunks_of("02 tagged.flac");
  INFO("chunks of the head-only file: " << head_chunks);
  CHECK(head_chunks <= 1);

  // The rest of the stream is correct, partly from the cache and partly fetched now.
  std::string rest(stream.size() - got.size(), '\0');
  size_t done = 0;
  while (done < rest.size()) {
    ssize_t n = ::pread(fd, rest.data() + done, std::min<size_t>(kMiB, rest.size() - done),
                        static_cast<off_t>(got.size() + done));
    REQUIRE(n > 0);
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  CHECK(same_bytes(rest, stream.substr(got.size())));
  wait_cache_settled(f, -1);
  CHECK(chunks_of("01 stream.flac") == 24);
}

// A reader that closes its file mid-stream, and a daemon stopped while a prefetch
// runs, leave nothing behind: the prefetch stops, and the daemon exits promptly.
TEST_CASE("cache: closing a streamed file stops its prefetch and the daemon stops cleanly during one",
          "[cache][prefetch]") {
  Fixture f({cached("a", 1)}, cache_toml("1"));
  const std::string data = random_bytes(64 * kMiB, 213);
  write_file(f.origin_dir("a") + "/big.flac", data);
  f.mount();
  const std::string path = f.in_mount("big.flac");
  {
    int fd = ::open(path.c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    std::string buf(2 * kMiB + 1, '\0');
    REQUIRE(::pread(fd, buf.data(), buf.size(), 0) > static_cast<ssize_t>(kMiB));
    ::close(fd);
  }
  // Closed: whatever the prefetch had reserved is dropped; at most its window lands.
  wait_cache_settled(f, -1);
  const size_t after_close = catalog_rows(cache_dir(f), "path = '/big.flac'").size();
  INFO("chunks cached after reading 2 MiB and closing: " << after_close);
  CHECK(after_close <= 14);

  // Start another stream on a slowed origin (200 ms per read) and stop the daemon in
  // the middle of its prefetch.
  auto slowed = f.daemon().ctl({"debug-fault", "a", "slow", "200", "--data-only"});
  INFO("debug-fault: " << slowed.err);
  REQUIRE(slowed.exit_code == 0);
  int fd = ::open(path.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  std::string buf(kMiB, '\0');
  for (off_t off = 16 * static_cast<off_t>(kMiB); off < 19 * static_cast<off_t>(kMiB); off += kMiB) {
    REQUIRE(::pread(fd, buf.data(), buf.size(), off) == static_cast<ssize_t>(kMiB));
  }
  auto t0 = Clock::now();
  auto r = f.daemon().ctl({"daemon", "stop"}, 30s);
  ::close(fd);
  INFO("daemon stop: " << r.err);
  CHECK(r.exit_code == 0);
  auto status = f.daemon().wait_exit(20s);
  INFO("daemon log:\n" << f.daemon().log());
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK(seconds_since(t0) < 20.0);
}

// Per-origin cache policy (issue 16): a local origin is not cached by default, one
// with cache = true is, side by side in one mount; listings show the policy.
TEST_CASE("cache: a local origin is not cached by default and one with cache = true is", "[cache]") {
  Fixture f({{"plain", 1}, cached("kept", 2)}, cache_toml("1"));
  const std::string plain = random_bytes(2 * kMiB + 100, 401);
  const std::string kept = random_bytes(2 * kMiB, 402);
  write_file(f.origin_dir("plain") + "/A/plain.flac", plain);
  write_file(f.origin_dir("kept") + "/B/kept.flac", kept);
  f.mount();

  auto a = read_all(f.in_mount("A/plain.flac"));
  REQUIRE(a.ok);
  CHECK(same_bytes(a.data, plain));
  auto b = read_all(f.in_mount("B/kept.flac"));
  REQUIRE(b.ok);
  CHECK(same_bytes(b.data, kept));

  // Both reads are done: whatever was queued is written, and it is kept.flac alone.
  const json s = wait_cache_settled(f, 2);
  INFO("cache stat: " << s.dump());
  CHECK(u64(s, "files") == 1);
  CHECK(u64(s, "used_bytes") == kept.size());
  CHECK(catalog_rows(cache_dir(f), "path = '/A/plain.flac'").empty());
  CHECK(catalog_rows(cache_dir(f), "path = '/B/kept.flac'").size() == 2);

  const json re_plain = route_explain(f, "A/plain.flac");
  CHECK(re_plain["served_from"] == "origin");
  CHECK(u64(re_plain, "cached_bytes") == 0);
  const json re_kept = route_explain(f, "B/kept.flac");
  CHECK(re_kept["served_from"] == "cache");
  CHECK(u64(re_kept, "cached_bytes") == kept.size());
  std::map<std::string, bool> policy;
  for (const auto& c : re_kept["candidates"]) policy[c["origin"].get<std::string>()] = c["cache"].get<bool>();
  CHECK(policy == std::map<std::string, bool>{{"plain", false}, {"kept", true}});

  std::map<std::string, bool> listed;
  const json origins = f.daemon().ctl_json({"origins", "list"});  // alive while iterated
  for (const auto& o : origins["origins"]) {
    listed[o["id"].get<std::string>()] = o["cache"].get<bool>();
  }
  CHECK(listed == std::map<std::string, bool>{{"plain", false}, {"kept", true}});
}
