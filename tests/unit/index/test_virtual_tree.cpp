#include <catch2/catch.hpp>

#include <algorithm>

#include "index/virtual_tree.h"
#include "unit/federation/federation_support.h"

using namespace musicfs;
using test::dir_attr;
using test::file_attr;

namespace {
std::vector<std::string> names(const std::optional<std::vector<DirEntryView>>& v) {
  std::vector<std::string> out;
  if (v) {
    for (const auto& e : *v) out.push_back(e.name);
  }
  return out;
}
std::vector<OriginSlot> slots_of(const std::vector<Replica>& reps) {
  std::vector<OriginSlot> out;
  for (const auto& r : reps) out.push_back(r.slot);
  std::sort(out.begin(), out.end());
  return out;
}
ListedEntry listed(std::string path, EntryAttr attr) {
  ListedEntry e;
  e.path = std::move(path);
  e.attr = std::move(attr);
  return e;
}
using Names = std::vector<std::string>;
using Slots = std::vector<OriginSlot>;
}  // namespace

TEST_CASE("VirtualTree: an empty tree", "[tree]") {
  VirtualTree t;
  CHECK(t.replicas("/a").empty());
  CHECK_FALSE(t.list_dir("/").has_value());
  CHECK(t.contributors("/").empty());
  CHECK(t.file_count(0) == 0);
  CHECK(t.node_count() == 1);  // the root
}

TEST_CASE("VirtualTree: upsert creates parents held by the same slot", "[tree]") {
  VirtualTree t;
  t.upsert(0, "/Artist/Album/01.flac", file_attr(123));
  auto reps = t.replicas("/Artist/Album/01.flac");
  REQUIRE(reps.size() == 1);
  CHECK(reps[0].slot == 0);
  CHECK(reps[0].attr.size == 123);
  CHECK(reps[0].attr.type == EntryType::kFile);

  auto parent = t.replicas("/Artist/Album");
  REQUIRE(parent.size() == 1);
  CHECK(parent[0].attr.type == EntryType::kDirectory);
  CHECK(t.replicas("/Artist").size() == 1);
  CHECK(t.replicas("/").size() == 1);
  CHECK(t.file_count(0) == 1);
  CHECK(t.node_count() == 4);
  CHECK(names(t.list_dir("/Artist")) == Names{"Album"});
}

TEST_CASE("VirtualTree: upserting the same path again updates without double counting", "[tree]") {
  VirtualTree t;
  t.upsert(0, "/a.flac", file_attr(1));
  t.upsert(0, "/a.flac", file_attr(2));
  CHECK(t.file_count(0) == 1);
  auto reps = t.replicas("/a.flac");
  REQUIRE(reps.size() == 1);
  CHECK(reps[0].attr.size == 2);

  SECTION("a file replaced by a directory drops it from the file count") {
    t.upsert(0, "/a.flac", dir_attr());
    CHECK(t.file_count(0) == 0);
    REQUIRE(t.replicas("/a.flac").size() == 1);
    CHECK(t.replicas("/a.flac")[0].attr.type == EntryType::kDirectory);
  }
  SECTION("a directory replaced by a file drops the old subtree") {
    t.upsert(0, "/d/x.flac", file_attr(1));
    t.upsert(0, "/d/y.flac", file_attr(1));
    CHECK(t.file_count(0) == 3);
    t.upsert(0, "/d", file_attr(9));
    CHECK(t.file_count(0) == 2);
    CHECK(t.replicas("/d/x.flac").empty());
    CHECK(t.replicas("/d")[0].attr.type == EntryType::kFile);
  }
}

TEST_CASE("VirtualTree: list_dir is the union of every origin's entries", "[tree]") {
  VirtualTree t;
  t.upsert(0, "/Artist/a.flac", file_attr(1));
  t.upsert(0, "/Artist/shared.flac", file_attr(1));
  t.upsert(1, "/Artist/b.flac", file_attr(1));
  t.upsert(1, "/Artist/shared.flac", file_attr(1));
  t.upsert(1, "/Other/c.flac", file_attr(1));

  CHECK(names(t.list_dir("/")) == Names{"Artist", "Other"});
  CHECK(names(t.list_dir("/Artist")) == Names{"a.flac", "b.flac", "shared.flac"});
  CHECK(slots_of(t.replicas("/Artist/shared.flac")) == Slots{0, 1});
  CHECK(slots_of(t.replicas("/Artist")) == Slots{0, 1});
  CHECK(t.file_count(0) == 2);
  CHECK(t.file_count(1) == 3);
  CHECK_FALSE(t.list_dir("/Nope").has_value());

  auto listing = t.list_dir("/");
  REQUIRE(listing);
  for (const auto& e : *listing) CHECK(e.type == EntryType::kDirectory);
}

TEST_CASE("VirtualTree: contributors of a directory", "[tree]") {
  VirtualTree t;
  t.upsert(2, "/Artist/a.flac", file_attr(1));
  t.upsert(0, "/Artist/b.flac", file_attr(1));
  t.upsert(1, "/Other/c.flac", file_attr(1));
  CHECK(t.contributors("/Artist") == Slots{0, 2});
  CHECK(t.contributors("/Other") == Slots{1});
  CHECK(t.contributors("/") == Slots{0, 1, 2});
  CHECK(t.contributors("/Missing").empty());
}

TEST_CASE("VirtualTree: remove drops one slot's replica and its subtree", "[tree]") {
  VirtualTree t;
  t.upsert(0, "/Artist/Album/01.flac", file_attr(1));
  t.upsert(0, "/Artist/Album/02.flac", file_attr(1));
  t.upsert(1, "/Artist/Album/01.flac", file_attr(1));

  SECTION("a file another slot also holds stays, with one replica") {
    t.remove(0, "/Artist/Album/01.flac");
    CHECK(slots_of(t.replicas("/Artist/Album/01.flac")) == Slots{1});
    CHECK(t.file_count(0) == 1);
    CHECK(t.file_count(1) == 1);
  }
  SECTION("a file only this slot holds is pruned") {
    t.remove(0, "/Artist/Album/02.flac");
    CHECK(t.replicas("/Artist/Album/02.flac").empty());
    CHECK(names(t.list_dir("/Artist/Album")) == Names{"01.flac"});
  }
  SECTION("a directory removes everything the slot holds below it") {
    t.remove(0, "/Artist");
    CHECK(t.file_count(0) == 0);
    CHECK(t.replicas("/Artist/Album/02.flac").empty());
    CHECK(slots_of(t.replicas("/Artist/Album/01.flac")) == Slots{1});
    CHECK(slots_of(t.replicas("/Artist")) == Slots{1});
  }
  SECTION("the last holder going prunes empty parents") {
    t.remove(1, "/Artist");
    t.remove(0, "/Artist");
    CHECK(t.replicas("/Artist").empty());
    CHECK(names(t.list_dir("/")).empty());
  }
  SECTION("removing a path that is not there is harmless") {
    t.remove(0, "/Nope/x.flac");
    t.remove(5, "/Artist/Album/01.flac");
    CHECK(t.file_count(0) == 2);
    CHECK(slots_of(t.replicas("/Artist/Album/01.flac")) == Slots{0, 1});
  }
}

TEST_CASE("VirtualTree: replace_origin swaps one slot's whole listing", "[tree]") {
  VirtualTree t;
  t.upsert(0, "/old/a.flac", file_attr(1));
  t.upsert(0, "/old/b.flac", file_attr(1));
  t.upsert(1, "/old/a.flac", file_attr(1));
  t.upsert(1, "/keep.flac", file_attr(1));

  std::vector<ListedEntry> fresh;
  fresh.push_back(listed("/new", dir_attr()));
  fresh.push_back(listed("/new/x.flac", file_attr(10)));
  fresh.push_back(listed("/new/y.flac", file_attr(20)));
  t.replace_origin(0, dir_attr(), std::move(fresh));

  CHECK(t.file_count(0) == 2);
  CHECK(t.file_count(1) == 2);
  CHECK(t.replicas("/old/b.flac").empty());
  CHECK(slots_of(t.replicas("/old/a.flac")) == Slots{1});
  CHECK(slots_of(t.replicas("/new/x.flac")) == Slots{0});
  CHECK(slots_of(t.replicas("/")) == Slots{0, 1});
  CHECK(names(t.list_dir("/")) == Names{"keep.flac", "new", "old"});

  SECTION("an empty listing leaves the slot holding only the root") {
    t.replace_origin(0, dir_attr(), {});
    CHECK(t.file_count(0) == 0);
    CHECK(t.replicas("/new").empty());
    CHECK(slots_of(t.replicas("/")) == Slots{0, 1});
  }
}

TEST_CASE("VirtualTree: remove_origin forgets a slot entirely", "[tree]") {
  VirtualTree t;
  t.upsert(0, "/a/1.flac", file_attr(1));
  t.upsert(0, "/b/2.flac", file_attr(1));
  t.upsert(1, "/a/3.flac", file_attr(1));
  t.remove_origin(0);
  CHECK(t.file_count(0) == 0);
  CHECK(t.file_count(1) == 1);
  CHECK(names(t.list_dir("/")) == Names{"a"});
  CHECK(names(t.list_dir("/a")) == Names{"3.flac"});
  CHECK(slots_of(t.replicas("/")) == Slots{1});
  CHECK(t.contributors("/") == Slots{1});

  size_t visited = 0;
  t.for_each(0, [&](const std::string&, const EntryAttr&) { ++visited; });
  CHECK(visited == 0);
}

TEST_CASE("VirtualTree: for_each visits every path of one slot", "[tree]") {
  VirtualTree t;
  t.upsert(0, "/a/1.flac", file_attr(1));
  t.upsert(1, "/a/2.flac", file_attr(1));
  std::vector<std::string> seen;
  t.for_each(0, [&](const std::string& p, const EntryAttr&) { seen.push_back(p); });
  std::sort(seen.begin(), seen.end());
  CHECK(seen == Names{"/a", "/a/1.flac"});
}

TEST_CASE("merged_directory_mtime is the newest of the directory's copies and of the entries directly in it", "[index]") {
  VirtualTree t;
  auto dir = [](int64_t mtime) {
    auto a = dir_attr();
    a.mtime_sec = mtime;
    return a;
  };
  t.upsert(0, "/Album", dir(50));
  t.upsert(1, "/Album", dir(400));  // the second origin's copy changed last
  t.upsert(0, "/Album/01.flac", file_attr(1, 100));
  t.upsert(1, "/Album/01.flac", file_attr(1, 300));
  t.upsert(0, "/Album/Disc 2", dir(250));
  t.upsert(0, "/Album/Disc 2/01.flac", file_attr(1, 900));  // deeper: not counted for /Album
  CHECK(t.merged_directory_mtime("/Album") == std::make_pair(int64_t{400}, uint32_t{0}));
  CHECK(t.merged_directory_mtime("/Album/Disc 2") == std::make_pair(int64_t{900}, uint32_t{0}));
  t.upsert(0, "/Album/02.flac", file_attr(1, 500));  // a re-tag moves the file only
  CHECK(t.merged_directory_mtime("/Album") == std::make_pair(int64_t{500}, uint32_t{0}));
  CHECK_FALSE(t.merged_directory_mtime("/missing").has_value());
}

TEST_CASE("list_dir_attrs gives each directory its merged mtime as getattr does", "[index]") {
  VirtualTree t;
  auto dir = [](int64_t mtime) {
    auto a = dir_attr();
    a.mtime_sec = mtime;
    return a;
  };
  t.upsert(0, "/Artist", dir(10));
  t.upsert(0, "/Artist/Album", dir(50));
  t.upsert(1, "/Artist/Album", dir(40));
  t.upsert(1, "/Artist/Album/new.flac", file_attr(1, 700));  // added on the second origin
  auto listing = t.list_dir_attrs("/Artist", {0, 1});
  REQUIRE(listing.has_value());
  REQUIRE(listing->size() == 1);
  CHECK(listing->front().name == "Album");
  CHECK(listing->front().attr.mtime_sec == 700);
  CHECK(std::make_pair(listing->front().attr.mtime_sec, listing->front().attr.mtime_nsec) ==
        *t.merged_directory_mtime("/Artist/Album"));
}
