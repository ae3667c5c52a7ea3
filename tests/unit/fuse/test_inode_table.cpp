#include <catch2/catch.hpp>

#include "fuse/inode_table.h"

using namespace musicfs;

TEST_CASE("inode table: a lookup names a path and a second lookup of it counts on the same id") {
  InodeTable t;
  auto album = t.lookup(InodeTable::kRootId, "Album");
  REQUIRE(album);
  auto track = t.lookup(album->id, "01 Intro.flac");
  REQUIRE(track);
  CHECK(*t.path_of(InodeTable::kRootId) == "/");
  CHECK(*t.path_of(album->id) == "/Album");
  CHECK(*t.path_of(track->id) == "/Album/01 Intro.flac");
  CHECK(*t.child_path(album->id, "02.flac") == "/Album/02.flac");
  CHECK(*t.child_path(InodeTable::kRootId, "x") == "/x");

  auto again = t.lookup(album->id, "01 Intro.flac");
  REQUIRE(again);
  CHECK(again->id == track->id);
  CHECK(again->generation == track->generation);
  // Two lookups: one forget leaves the entry, the second frees it.
  t.forget(track->id, 1);
  CHECK(t.path_of(track->id));
  t.forget(track->id, 1);
  CHECK_FALSE(t.path_of(track->id));
}

TEST_CASE("inode table: an unknown parent or id is refused") {
  InodeTable t;
  CHECK_FALSE(t.lookup(42, "x"));
  CHECK_FALSE(t.path_of(42));
  CHECK_FALSE(t.path_of(0));
  CHECK_FALSE(t.child_path(42, "x"));
  t.forget(42, 1);  // harmless
  t.forget(InodeTable::kRootId, 100);  // the root is never forgotten
  CHECK(*t.path_of(InodeTable::kRootId) == "/");
}

TEST_CASE("inode table: a directory forgotten before its child keeps its path until the child goes") {
  InodeTable t;
  auto dir = t.lookup(InodeTable::kRootId, "A");
  auto sub = t.lookup(dir->id, "B");
  auto file = t.lookup(sub->id, "f");
  // The kernel dropped the directories' dentries, but a program holds the file open.
  t.forget(dir->id, 1);
  t.forget(sub->id, 1);
  CHECK(*t.path_of(file->id) == "/A/B/f");
  CHECK(t.size() == 4);
  // The file goes: so do the directories that only it kept.
  t.forget(file->id, 1);
  CHECK(t.size() == 1);
  CHECK_FALSE(t.path_of(dir->id));
}

TEST_CASE("inode table: a reused id carries a new generation") {
  InodeTable t;
  auto first = t.lookup(InodeTable::kRootId, "old");
  t.forget(first->id, 1);
  auto second = t.lookup(InodeTable::kRootId, "new");
  REQUIRE(second);
  CHECK(second->id == first->id);
  CHECK(second->generation != first->generation);
  CHECK(*t.path_of(second->id) == "/new");
}

TEST_CASE("inode table: find tells what the kernel knows of a path") {
  InodeTable t;
  auto dir = t.lookup(InodeTable::kRootId, "Artist");
  auto file = t.lookup(dir->id, "song.mp3");

  auto k = t.find("/Artist/song.mp3");
  CHECK(k.id == file->id);
  CHECK(k.parent == dir->id);
  CHECK(k.name == "song.mp3");

  // A name the kernel never looked up in a known directory: only the parent is known
  // (its listing and its negative entries are what may need dropping).
  k = t.find("/Artist/new.mp3");
  CHECK(k.id == 0);
  CHECK(k.parent == dir->id);

  // Below a directory the kernel does not know: nothing.
  k = t.find("/Other/x/y.mp3");
  CHECK(k.id == 0);
  CHECK(k.parent == 0);

  CHECK(t.find("/").id == InodeTable::kRootId);
  CHECK(t.find("/Artist/").id == dir->id);
}

TEST_CASE("inode table: told_differs says when an open sees another size or mtime than the kernel was told") {
  InodeTable t;
  EntryAttr nas;
  nas.size = 22;
  nas.mtime_sec = 1000;
  EntryAttr laptop = nas;
  laptop.size = 11;
  auto f = t.lookup(InodeTable::kRootId, "same.flac", &nas);
  REQUIRE(f);
  CHECK_FALSE(t.told_differs(f->id, nas));
  CHECK(t.told_differs(f->id, laptop));
  EntryAttr touched = nas;
  touched.mtime_nsec = 5;
  CHECK(t.told_differs(f->id, touched));
  // A getattr reply (or a new lookup) with the new copy's attributes catches up.
  t.note_told(f->id, laptop);
  CHECK_FALSE(t.told_differs(f->id, laptop));
  REQUIRE(t.lookup(InodeTable::kRootId, "same.flac", &nas));
  CHECK(t.told_differs(f->id, laptop));
  // Nothing told (a lookup without attributes): nothing to differ from.
  auto quiet = t.lookup(InodeTable::kRootId, "other.flac");
  REQUIRE(quiet);
  CHECK_FALSE(t.told_differs(quiet->id, laptop));
  // A reused id starts with nothing told.
  t.forget(quiet->id, 1);
  auto reused = t.lookup(InodeTable::kRootId, "third.flac");
  REQUIRE(reused);
  CHECK_FALSE(t.told_differs(reused->id, laptop));
}
