// ContentCache on a real directory: chunks written, verified, evicted, invalidated,
// and found again after a restart. Small chunks (4 KiB, 1 KiB blocks) keep it fast.
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "cache/content_cache.h"
#include "sqlite/sqlite_db.h"
#include "unit/unit_support.h"

using namespace musicfs;

namespace {
constexpr uint32_t kChunk = 4096;

ContentCache::Options options(const std::string& dir, uint64_t capacity = 1 << 20) {
  ContentCache::Options o;
  o.dir = dir;
  o.capacity_bytes = capacity;
  o.chunk_size = kChunk;
  o.block_size = 1024;
  return o;
}

std::shared_ptr<ContentCache> open_cache(const ContentCache::Options& o) {
  auto c = ContentCache::open(o);
  INFO((c ? std::string() : c.error().message));
  REQUIRE(c.ok());
  return *c;
}

FileVersion version(const std::string& path, uint64_t size, int64_t mtime = 1000, const std::string& origin = "nas") {
  return FileVersion{"/mnt", origin, path, size, mtime, 0};
}

std::shared_ptr<std::vector<char>> bytes(size_t n, char seed) {
  auto v = std::make_shared<std::vector<char>>(n);
  for (size_t i = 0; i < n; ++i) (*v)[i] = static_cast<char>(seed + i * 7);
  return v;
}

// The segment files (one per cached file version) under dir/segments.
std::vector<std::string> segment_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir + "/segments")) {
    if (e.is_regular_file()) out.push_back(e.path());
  }
  return out;
}

std::string segment_path(const std::string& dir, const FileVersion& v) {
  std::string name = segment_name(v);
  return dir + "/segments/" + name.substr(0, 2) + "/" + name;
}

// Bytes of disk a file holds (its holes hold none).
uint64_t allocated(const std::string& file) {
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  return static_cast<uint64_t>(st.st_blocks) * 512;
}

// Stores chunks 0 ('r') and 1 ('s') of v in a cache on dir, then closes that cache.
void store_two_chunks(const test::TempDir& dir, const FileVersion& v) {
  auto cache = open_cache(options(dir.path()));
  REQUIRE(cache->store(v, 0, bytes(kChunk, 'r')));
  REQUIRE(cache->store(v, 1, bytes(kChunk, 's')));
  cache->flush();
}

void flip_byte(const std::string& file, off_t at) {
  int fd = ::open(file.c_str(), O_RDWR);
  REQUIRE(fd >= 0);
  char c = 0;
  REQUIRE(::pread(fd, &c, 1, at) == 1);
  c = static_cast<char>(c ^ 0x5a);
  REQUIRE(::pwrite(fd, &c, 1, at) == 1);
  ::close(fd);
}
}  // namespace

TEST_CASE("a stored chunk reads back, verified, by version", "[cache]") {
  test::TempDir dir("cache");
  auto cache = open_cache(options(dir.path()));
  auto v = version("/a.flac", kChunk + 100);
  auto data = bytes(kChunk, 'a');
  REQUIRE(cache->store(v, 0, data));
  cache->flush();
  CHECK(cache->contains(v, 0));
  CHECK(cache->cached_bytes(v) == kChunk);

  std::vector<char> out(1500);
  REQUIRE(cache->read(v, 0, 1000, std::span<char>(out)));  // unaligned: via scratch
  CHECK(std::equal(out.begin(), out.end(), data->begin() + 1000));
  std::vector<char> whole(kChunk);
  REQUIRE(cache->read(v, 0, 0, std::span<char>(whole)));  // aligned: straight into the buffer
  CHECK(whole == *data);

  // Another version of the same path (changed mtime or size) is another key.
  CHECK_FALSE(cache->read(version("/a.flac", kChunk + 100, 2000), 0, 0, std::span<char>(out)));
  CHECK_FALSE(cache->read(version("/a.flac", kChunk + 101), 0, 0, std::span<char>(out)));
  CHECK_FALSE(cache->read(v, 1, 0, std::span<char>(out.data(), 100)));  // chunk 1 never stored
  auto s = cache->stats();
  CHECK(s.hits == 2);
  CHECK(s.chunks == 1);
  CHECK(s.used_bytes == kChunk);
}

TEST_CASE("a chunk that fails its checksum is dropped, never served", "[cache]") {
  test::TempDir dir("cache");
  auto cache = open_cache(options(dir.path()));
  auto v = version("/a.flac", kChunk);
  REQUIRE(cache->store(v, 0, bytes(kChunk, 'x')));
  cache->flush();
  auto files = segment_files(dir.path());
  REQUIRE(files.size() == 1);
  flip_byte(files[0], 3000);  // chunk 0, block 2

  std::vector<char> head(1024);
  CHECK(cache->read(v, 0, 0, std::span<char>(head)));  // block 0 is intact
  std::vector<char> out(kChunk);
  CHECK_FALSE(cache->read(v, 0, 0, std::span<char>(out)));
  CHECK(cache->stats().corrupt_chunks == 1);
  CHECK_FALSE(cache->contains(v, 0));
  cache->flush();
  CHECK(segment_files(dir.path()).empty());  // its only chunk: the file goes
  // Refetched bytes can be stored again under the same name.
  REQUIRE(cache->store(v, 0, bytes(kChunk, 'x')));
  cache->flush();
  CHECK(cache->read(v, 0, 0, std::span<char>(out)));
}

TEST_CASE("eviction keeps the cache under its cap, least recently used first", "[cache]") {
  test::TempDir dir("cache");
  auto cache = open_cache(options(dir.path(), 3 * kChunk));
  auto v0 = version("/0.flac", kChunk);
  auto v1 = version("/1.flac", kChunk);
  auto v2 = version("/2.flac", kChunk);
  for (const auto& v : {v0, v1, v2}) {
    REQUIRE(cache->store(v, 0, bytes(kChunk, 'e')));
    cache->flush();
  }
  std::vector<char> out(100);
  REQUIRE(cache->read(v0, 0, 0, std::span<char>(out)));  // v0 is now the most recent
  REQUIRE(cache->store(version("/3.flac", kChunk), 0, bytes(kChunk, 'e')));
  cache->flush();
  auto s = cache->stats();
  CHECK(s.used_bytes <= 3 * kChunk);
  CHECK(s.evictions >= 1);
  CHECK(cache->contains(v0, 0));
  CHECK_FALSE(cache->contains(v1, 0));  // the least recently used went first
  CHECK(segment_files(dir.path()).size() == s.chunks);  // one chunk per file here
}

TEST_CASE("invalidate drops every version of a path, and clear drops an origin", "[cache]") {
  test::TempDir dir("cache");
  auto cache = open_cache(options(dir.path()));
  auto old_v = version("/a.flac", kChunk, 1000);
  auto new_v = version("/a.flac", kChunk, 2000);
  auto other = version("/b.flac", kChunk, 1000, "laptop");
  for (const auto& v : {old_v, new_v, other}) REQUIRE(cache->store(v, 0, bytes(kChunk, 'i')));
  cache->flush();
  cache->invalidate("/mnt", "nas", "/a.flac");
  CHECK_FALSE(cache->contains(old_v, 0));
  CHECK_FALSE(cache->contains(new_v, 0));
  CHECK(cache->contains(other, 0));

  REQUIRE(cache->store(version("/c.flac", kChunk), 0, bytes(kChunk, 'c')));
  cache->flush();
  auto cleared = cache->clear("/mnt", "laptop");
  CHECK(cleared.chunks == 1);
  CHECK(cleared.bytes == kChunk);
  CHECK_FALSE(cache->contains(other, 0));
  CHECK(cache->contains(version("/c.flac", kChunk), 0));
  CHECK(cache->clear("/mnt", "").chunks == 1);
  CHECK(cache->stats().used_bytes == 0);
  cache->flush();
  CHECK(segment_files(dir.path()).empty());
}

TEST_CASE("the chunks of a version share one file, and an evicted chunk becomes a hole", "[cache]") {
  test::TempDir dir("cache");
  auto cache = open_cache(options(dir.path(), 3 * kChunk));
  auto v = version("/long.flac", 4 * kChunk);
  for (uint32_t i = 0; i < 3; ++i) {
    REQUIRE(cache->store(v, i, bytes(kChunk, static_cast<char>('a' + i))));
    cache->flush();
  }
  REQUIRE(segment_files(dir.path()) == std::vector<std::string>{segment_path(dir.path(), v)});
  const std::string file = segment_path(dir.path(), v);
  CHECK(std::filesystem::file_size(file) == 3 * kChunk);
  CHECK(allocated(file) >= 3 * kChunk);

  // A fourth chunk is over the cap: chunk 0, the least recently used, is evicted.
  REQUIRE(cache->store(v, 3, bytes(kChunk, 'd')));
  cache->flush();
  CHECK_FALSE(cache->contains(v, 0));
  CHECK(cache->stats().used_bytes <= 3 * kChunk);
  CHECK(allocated(file) <= cache->stats().used_bytes);  // its blocks were freed
  std::vector<char> out(kChunk);
  for (uint32_t i = 1; i < 4; ++i) {
    if (!cache->contains(v, i)) continue;
    REQUIRE(cache->read(v, i, 0, std::span<char>(out)));
    CHECK(out == *bytes(kChunk, static_cast<char>('a' + i)));
  }
}

TEST_CASE("the catalog survives a restart, and what a crash leaves is swept", "[cache]") {
  test::TempDir dir("cache");
  auto v = version("/a.flac", 3 * kChunk);
  store_two_chunks(dir, v);
  // What a kill -9 can leave: a segment file no catalog row names, and bytes of a
  // chunk written into a segment whose catalog row was never added (chunk 2 of v).
  const std::string orphan = dir.write("segments/ff/ff000000000000000000000000000000", std::string(kChunk, 'o'));
  const std::string file = segment_path(dir.path(), v);
  {
    int fd = ::open(file.c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    std::string partial(kChunk, 'p');
    REQUIRE(::pwrite(fd, partial.data(), partial.size(), 2 * kChunk) == kChunk);
    ::close(fd);
  }
  REQUIRE(allocated(file) >= 3 * kChunk);

  auto cache = open_cache(options(dir.path()));
  CHECK(cache->cached_bytes(v) == 2 * kChunk);
  CHECK_FALSE(cache->contains(v, 2));
  std::vector<char> out(kChunk);
  REQUIRE(cache->read(v, 1, 0, std::span<char>(out)));
  CHECK(out == *bytes(kChunk, 's'));
  cache->flush();
  REQUIRE(test::poll_until([&] { return !std::filesystem::exists(orphan); }));
  // chunk 2's bytes are freed by the same background sweep, not necessarily before
  // the orphan goes: wait for that too.
  CHECK(test::poll_until([&] { return allocated(file) <= 2 * kChunk; }));
  REQUIRE(cache->read(v, 0, 0, std::span<char>(out)));
  CHECK(out == *bytes(kChunk, 'r'));
}

TEST_CASE("a row whose bytes are gone is dropped at start", "[cache]") {
  test::TempDir dir("cache");
  auto v = version("/a.flac", 2 * kChunk);
  store_two_chunks(dir, v);
  REQUIRE(::truncate(segment_path(dir.path(), v).c_str(), kChunk + 10) == 0);  // chunk 1 cut short
  auto cache = open_cache(options(dir.path()));
  cache->flush();
  REQUIRE(test::poll_until([&] { return !cache->contains(v, 1); }));
  CHECK(cache->contains(v, 0));
  CHECK(cache->stats().used_bytes == kChunk);
}

TEST_CASE("a cache of the chunk-file layout (catalog version 1) is discarded, not misread", "[cache]") {
  test::TempDir dir("cache");
  dir.write("chunks/ab/ab000000000000000000000000000000", std::string(kChunk, 'x'));
  dir.write("tmp/ab.1.2", "partial");
  {
    auto db = SqliteDb::open(dir / "cache.db");
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE chunks (name TEXT PRIMARY KEY, mount TEXT, origin TEXT, path TEXT, size INTEGER,"
                     " mtime_sec INTEGER, mtime_nsec INTEGER, chunk INTEGER, length INTEGER, block_hashes BLOB,"
                     " last_access_us INTEGER)")
                .ok());
    REQUIRE(db->exec("INSERT INTO chunks VALUES('ab000000000000000000000000000000', '/mnt', 'nas', '/a.flac', 4096, 1000,"
                     " 0, 0, 4096, x'00', 1)")
                .ok());
    REQUIRE(db->exec("PRAGMA user_version = 1").ok());
  }
  auto cache = open_cache(options(dir.path()));
  CHECK(cache->stats().chunks == 0);
  CHECK_FALSE(std::filesystem::exists(dir / "chunks"));
  CHECK_FALSE(std::filesystem::exists(dir / "tmp"));
  // And it works as a cache of the new layout.
  auto v = version("/a.flac", kChunk);
  REQUIRE(cache->store(v, 0, bytes(kChunk, 'n')));
  cache->flush();
  std::vector<char> out(kChunk);
  REQUIRE(cache->read(v, 0, 0, std::span<char>(out)));
}

TEST_CASE("a second cache on the same directory is refused", "[cache]") {
  test::TempDir dir("cache");
  auto first = open_cache(options(dir.path()));
  auto second = ContentCache::open(options(dir.path()));
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().message.find("in use by another musicfs daemon") != std::string::npos);
}

TEST_CASE("the writer never blocks a reader: too much pending is dropped", "[cache]") {
  test::TempDir dir("cache");
  auto o = options(dir.path());
  o.max_pending_bytes = kChunk;  // room for one chunk in flight
  auto cache = open_cache(o);
  size_t taken = 0;
  for (uint32_t i = 0; i < 50; ++i) taken += cache->store(version("/a.flac", 50 * kChunk), i, bytes(kChunk, 'p'));
  cache->flush();
  auto s = cache->stats();
  CHECK(taken + s.dropped_writes == 50);
  CHECK(s.chunks == taken);
}

TEST_CASE("a damaged catalog is replaced by an empty cache and its segments go", "[cache]") {
  test::TempDir dir("cache");
  auto v = version("/a.flac", 2 * kChunk);
  store_two_chunks(dir, v);
  REQUIRE_FALSE(segment_files(dir.path()).empty());
  SECTION("garbage after the header page") {
    struct stat st {};
    REQUIRE(::stat((dir / "cache.db").c_str(), &st) == 0);
    REQUIRE(st.st_size >= 2 * 4096);
    int fd = ::open((dir / "cache.db").c_str(), O_WRONLY);
    REQUIRE(fd >= 0);
    const std::string garbage(static_cast<size_t>(st.st_size - 4096), '\x5a');
    REQUIRE(::pwrite(fd, garbage.data(), garbage.size(), 4096) == static_cast<ssize_t>(garbage.size()));
    ::close(fd);
  }
  SECTION("not a database at all") { dir.write("cache.db", std::string(8192, 'g')); }
  auto cache = open_cache(options(dir.path()));
  REQUIRE(cache->reset_reason().has_value());
  CHECK(cache->reset_reason()->find(dir / "cache.db") != std::string::npos);
  CHECK(cache->stats().chunks == 0);
  CHECK_FALSE(cache->contains(v, 0));
  CHECK(test::poll_until([&] { return segment_files(dir.path()).empty(); }));
  // The fresh catalog works, and a restart finds it sound.
  REQUIRE(cache->store(v, 0, bytes(kChunk, 'n')));
  cache->flush();
  cache.reset();
  auto again = open_cache(options(dir.path()));
  CHECK_FALSE(again->reset_reason().has_value());
  CHECK(again->contains(v, 0));
}

TEST_CASE("the catalog is created 0600 whatever the umask", "[cache]") {
  test::TempDir dir("cache");
  const mode_t old = ::umask(0);
  auto cache = open_cache(options(dir.path()));
  ::umask(old);
  auto v = version("/a.flac", kChunk);
  REQUIRE(cache->store(v, 0, bytes(kChunk, 'p')));
  cache->flush();
  for (const auto& p : {dir / "cache.db", dir / "cache.db-wal", dir / "cache.db-shm", segment_path(dir.path(), v)}) {
    struct stat st {};
    INFO(p);
    REQUIRE(::stat(p.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
}
