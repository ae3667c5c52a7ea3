#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <mutex>
#include <span>

#include "origins/local_origin.h"
#include "origins/origin_types.h"
#include "unit/unit_support.h"

using namespace musicfs;
using Catch::Contains;

namespace {
Deadline soon() { return deadline_in(Millis(5000)); }

std::map<std::string, EntryAttr> list_all(Origin& o, std::string_view under = "/") {
  std::map<std::string, EntryAttr> out;
  Status s = o.list(under, [&](ListedEntry&& e) { out[e.path] = e.attr; }, soon());
  REQUIRE(s.ok());
  return out;
}

std::string read_all(Origin& o, std::string_view path) {
  auto f = o.open(path, soon());
  REQUIRE(f.ok());
  std::string buf(256, '\0');
  auto n = (*f)->read(0, std::span<char>(buf.data(), buf.size()), soon());
  REQUIRE(n.ok());
  buf.resize(*n);
  return buf;
}
}  // namespace

TEST_CASE("LocalOrigin lists the tree with paths relative to its root", "[origins][local]") {
  test::TempDir dir("local");
  dir.write("Artist/Album/01.flac", "one");
  dir.write("Artist/Album/02.flac", "two!");
  dir.write("top.flac", "t");
  LocalOrigin o("lo", "local", dir.path() + "/");  // a trailing slash is tolerated
  CHECK(o.id() == "lo");
  CHECK(o.type() == "local");
  CHECK(o.location() == dir.path());

  auto all = list_all(o);
  CHECK(all.size() == 5);
  REQUIRE(all.count("/Artist/Album/02.flac") == 1);
  CHECK(all["/Artist/Album/02.flac"].size == 4);
  CHECK(all["/Artist/Album/02.flac"].type == EntryType::kFile);
  CHECK(all["/Artist"].type == EntryType::kDirectory);
  CHECK(all.count("/top.flac") == 1);

  auto sub = list_all(o, "/Artist");
  CHECK(sub.size() == 3);
  CHECK(sub.count("/Artist/Album/01.flac") == 1);
  CHECK(sub.count("/Artist") == 0);  // `under` itself is not listed
}

TEST_CASE("LocalOrigin stat, open and read", "[origins][local]") {
  test::TempDir dir("local");
  dir.write("a/song.flac", "0123456789");
  LocalOrigin o("lo", "local", dir.path());

  auto st = o.stat("/a/song.flac", soon());
  REQUIRE(st.ok());
  CHECK(st->type == EntryType::kFile);
  CHECK(st->size == 10);
  CHECK(o.stat("/a", soon())->type == EntryType::kDirectory);
  CHECK(o.stat("/", soon())->type == EntryType::kDirectory);

  CHECK(read_all(o, "/a/song.flac") == "0123456789");
  auto f = o.open("a/song.flac", soon());  // leading slash optional
  REQUIRE(f.ok());
  char buf[3];
  auto n = (*f)->read(8, std::span<char>(buf, sizeof buf), soon());
  REQUIRE(n.ok());
  CHECK(*n == 2);

  CHECK(o.stat("/missing", soon()).error().code == ErrorCode::kNotFound);
  CHECK(o.open("/missing", soon()).error().code == ErrorCode::kNotFound);
  CHECK(o.open("/a", soon()).error().code == ErrorCode::kNotFound);  // not a regular file
}

TEST_CASE("LocalOrigin never leaves its root", "[origins][local]") {
  test::TempDir outer("local");
  outer.write("secret.txt", "secret");
  std::string root = outer.mkdir("root");
  outer.write("root/in.flac", "in");
  REQUIRE(::symlink("../secret.txt", (outer / "root/escape").c_str()) == 0);
  REQUIRE(::symlink("/etc/passwd", (outer / "root/abs").c_str()) == 0);
  REQUIRE(::symlink(".", (outer / "root/dirlink").c_str()) == 0);
  LocalOrigin o("lo", "local", root);

  CHECK(o.stat("/../secret.txt", soon()).error().code == ErrorCode::kNotFound);
  CHECK(o.open("/../secret.txt", soon()).error().code == ErrorCode::kNotFound);
  CHECK(o.open("/escape", soon()).error().code == ErrorCode::kNotFound);
  CHECK(o.open("/abs", soon()).error().code == ErrorCode::kNotFound);
  CHECK(o.open("/dirlink/in.flac", soon()).error().code == ErrorCode::kNotFound);

  // Symlinks are reported as links, verbatim, never followed.
  auto st = o.stat("/escape", soon());
  REQUIRE(st.ok());
  CHECK(st->type == EntryType::kSymlink);
  CHECK(st->symlink_target == "../secret.txt");
  auto all = list_all(o);
  CHECK(all.size() == 4);
  CHECK(all["/abs"].type == EntryType::kSymlink);
  CHECK(all["/abs"].symlink_target == "/etc/passwd");
  CHECK(all.count("/dirlink/in.flac") == 0);
}

TEST_CASE("LocalOrigin::probe", "[origins][local]") {
  test::TempDir dir("local");
  SECTION("a readable root is healthy, even empty") {
    LocalOrigin o("lo", "local", dir.path());
    CHECK(o.probe(soon()).ok());
  }
  SECTION("a missing root is unavailable") {
    LocalOrigin o("lo", "local", dir / "absent");
    auto s = o.probe(soon());
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kUnavailable);
    CHECK(o.list("/", [](ListedEntry&&) {}, soon()).error().code == ErrorCode::kUnavailable);
  }
  SECTION("a root that had files and is now empty looks like an unmounted share") {
    dir.write("x.flac", "x");
    LocalOrigin o("lo", "local", dir.path());
    list_all(o);
    REQUIRE(o.probe(soon()).ok());
    std::filesystem::remove(dir / "x.flac");
    auto s = o.probe(soon());
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kUnavailable);
    // Its listing fails the same way, so the index it had is kept.
    auto listed = o.list("/", [](ListedEntry&&) {}, soon());
    REQUIRE_FALSE(listed.ok());
    CHECK(listed.error().code == ErrorCode::kUnavailable);
    CHECK_THAT(listed.error().message, Contains("is empty but had files"));
  }
  SECTION("after a restart the persisted index tells it that it had files") {
    LocalOrigin o("lo", "local", dir.path());
    o.note_indexed_files();
    CHECK(o.probe(soon()).error().code == ErrorCode::kUnavailable);
    CHECK(o.list("/", [](ListedEntry&&) {}, soon()).error().code == ErrorCode::kUnavailable);
  }
}

TEST_CASE("LocalOrigin::watch reports changes and counts its watches", "[origins][local]") {
  test::TempDir dir("local");
  dir.mkdir("sub");
  LocalOrigin o("lo", "local", dir.path());
  std::mutex mu;
  std::vector<std::string> seen;
  auto handle = o.watch([&](const ChangeNotice& n) {
    std::lock_guard lock(mu);
    seen.push_back(n.path);
  });
  REQUIRE(handle != nullptr);
  REQUIRE(handle->wait_ready(std::chrono::milliseconds(5000)));
  CHECK(handle->watch_count() == 2);
  dir.write("sub/new.flac", "n");
  CHECK(test::poll_until([&] {
    std::lock_guard lock(mu);
    return std::find(seen.begin(), seen.end(), "/sub/new.flac") != seen.end();
  }));
  handle.reset();  // stops the thread and closes the descriptor
}

TEST_CASE("origin type table", "[origins]") {
  CHECK(origin_type_names() == std::vector<std::string>{"local", "nfs", "smb", "s3", "sftp", "http"});
  REQUIRE(find_origin_type("local") != nullptr);
  CHECK_FALSE(find_origin_type("local")->remote);
  CHECK(find_origin_type("nfs")->remote);
  CHECK(find_origin_type("gopher") == nullptr);

  // No type is accepted by the schema and then refused at mount time.
  for (const auto& t : origin_types()) {
    INFO("type " << t.name);
    CHECK(t.create != nullptr);
  }
  OriginConfig c;
  c.id = "x";
  c.type = "gopher";
  CHECK(create_origin(c).error().code == ErrorCode::kConfig);
}
