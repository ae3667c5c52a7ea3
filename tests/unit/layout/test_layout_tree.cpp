#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "layout/layout_template.h"
#include "layout/layout_tree.h"

using namespace musicfs;

namespace {

constexpr const char* kDefaultLayout = "{albumartist}/{album}/{track:02} - {title}.{ext}";
using Listing = std::vector<std::pair<std::string, EntryType>>;
using Tree = std::shared_ptr<const LayoutTree>;

LayoutTemplate parsed(std::string_view text) {
  auto t = LayoutTemplate::parse(text);
  INFO(text);
  REQUIRE(t.ok());
  return std::move(t).value();
}

TrackTags tags(std::string artist, std::string album, std::string title, int track = 1) {
  TrackTags t;
  t.artist = std::move(artist);
  t.album = std::move(album);
  t.title = std::move(title);
  t.track = track;
  return t;
}

LayoutSource file(std::string path, int64_t mtime = 100, uint32_t nsec = 0) {
  LayoutSource s;
  s.path = std::move(path);
  s.attr.type = EntryType::kFile;
  s.attr.mode = 0644;
  s.attr.size = 1000;
  s.attr.mtime_sec = mtime;
  s.attr.mtime_nsec = nsec;
  return s;
}

LayoutSource track(std::string path, const TrackTags& t, int64_t mtime = 100, uint32_t nsec = 0) {
  LayoutSource s = file(std::move(path), mtime, nsec);
  s.is_audio = true;
  s.tags = t;
  return s;
}

LayoutSource unread_track(std::string path) {
  LayoutSource s = file(std::move(path));
  s.is_audio = true;
  return s;
}

Tree build(std::vector<LayoutSource> sources, const LayoutTree* previous = nullptr, int64_t now = 1000,
           std::string_view layout = kDefaultLayout) {
  return LayoutTree::build(parsed(layout), std::move(sources), previous, now);
}

std::string source(const Tree& tree, std::string_view vpath) {
  const std::string* s = tree->source_of(vpath);
  return s == nullptr ? "(none)" : *s;
}

std::vector<std::string> vpaths(const Tree& tree) {
  std::vector<std::string> out;
  for (const LayoutFile& f : tree->files()) out.push_back(f.vpath);
  return out;
}

std::pair<int64_t, uint32_t> mtime(const Tree& tree, std::string_view dir) {
  auto attr = tree->directory_attr(dir);
  INFO(dir);
  REQUIRE(attr.has_value());
  return {attr->mtime_sec, attr->mtime_nsec};
}

// Every directory of the tree with its listing and attributes, walked from the root.
struct DirSnapshot {
  std::string path;
  Listing entries;
  int64_t mtime_sec;
  uint32_t mtime_nsec;
  bool operator==(const DirSnapshot&) const = default;
};

std::vector<DirSnapshot> snapshot(const Tree& tree) {
  std::vector<DirSnapshot> out;
  std::function<void(const std::string&)> walk = [&](const std::string& dir) {
    auto entries = tree->list(dir);
    auto attr = tree->directory_attr(dir);
    REQUIRE(entries.has_value());
    REQUIRE(attr.has_value());
    out.push_back({dir, *entries, attr->mtime_sec, attr->mtime_nsec});
    for (const auto& [name, type] : *entries) {
      if (type == EntryType::kDirectory) walk(dir == "/" ? "/" + name : dir + "/" + name);
    }
  };
  walk("/");
  return out;
}

}  // namespace

TEST_CASE("layout tree: tracks are shown at the paths their tags render to", "[layout]") {
  auto tree = build({
      track("/M/A/01 x.flac", tags("Artist", "Album", "Title", 1)),
      track("/M/A/02 y.Mp3", tags("Artist", "Album", "Other", 2)),
      unread_track("/M/A/03 z.flac"),
  });
  CHECK(vpaths(tree) == std::vector<std::string>{"/Artist/Album/01 - Title.flac", "/Artist/Album/02 - Other.Mp3"});
  CHECK(source(tree, "/Artist/Album/01 - Title.flac") == "/M/A/01 x.flac");
  CHECK(source(tree, "/Artist/Album/02 - Other.Mp3") == "/M/A/02 y.Mp3");
  CHECK(tree->file_count() == 2);
  CHECK(tree->shown_tracks() == 2);
  // A track whose tags are not read yet is not shown yet.
  CHECK(tree->vpaths_of("/M/A/03 z.flac").empty());

  CHECK(tree->is_directory("/"));
  CHECK(tree->is_directory("/Artist"));
  CHECK(tree->is_directory("/Artist/Album"));
  CHECK_FALSE(tree->is_directory("/Artist/Album/01 - Title.flac"));
  CHECK_FALSE(tree->is_directory("/Nope"));
  CHECK(tree->source_of("/Artist/Album") == nullptr);
  CHECK(tree->source_of("/Nope.flac") == nullptr);
  CHECK(tree->list("/") == Listing{{"Artist", EntryType::kDirectory}});
  CHECK(tree->list("/Artist/Album") ==
        Listing{{"01 - Title.flac", EntryType::kFile}, {"02 - Other.Mp3", EntryType::kFile}});
  CHECK_FALSE(tree->list("/Artist/Album/01 - Title.flac").has_value());
  CHECK_FALSE(tree->directory_attr("/Artist/Album/01 - Title.flac").has_value());

  auto attr = tree->directory_attr("/Artist");
  REQUIRE(attr.has_value());
  CHECK(attr->type == EntryType::kDirectory);
  CHECK(attr->mode == 0555);
  CHECK(attr->size == 0);
}

TEST_CASE("layout tree: a track whose tag read failed shows under Unknown Artist with its own name", "[layout]") {
  auto tree = build({track("/M/B/Some Song.flac", TrackTags{})});
  CHECK(vpaths(tree) == std::vector<std::string>{"/Unknown Artist/Unknown Album/00 - Some Song.flac"});
  CHECK(tree->shown_tracks() == 1);
}

TEST_CASE("layout tree: an empty tree has a root and nothing else", "[layout]") {
  auto tree = build({unread_track("/M/a.flac"), file("/M/cover.jpg")});
  CHECK(tree->is_directory("/"));
  CHECK(tree->list("/") == Listing{});
  CHECK(tree->directory_attr("/").has_value());
  CHECK(tree->file_count() == 0);
  CHECK(tree->shown_tracks() == 0);
}

TEST_CASE("layout tree: sources that are not files are left out", "[layout]") {
  LayoutSource dir = track("/M/dir.flac", tags("A", "B", "T"));
  dir.attr.type = EntryType::kDirectory;
  auto tree = build({dir});
  CHECK(tree->file_count() == 0);
}

TEST_CASE("layout tree: tracks that render to one path are numbered in source path order", "[layout]") {
  const TrackTags same = tags("A", "B", "S");
  std::vector<LayoutSource> sources{track("/M/c.flac", same), track("/M/a.flac", same), track("/M/b.flac", same)};
  const std::vector<std::string> expected{"/A/B/01 - S (2).flac", "/A/B/01 - S (3).flac", "/A/B/01 - S.flac"};
  std::sort(sources.begin(), sources.end(), [](const auto& x, const auto& y) { return x.path < y.path; });
  do {
    auto tree = build(sources);
    CHECK(vpaths(tree) == expected);
    CHECK(source(tree, "/A/B/01 - S.flac") == "/M/a.flac");
    CHECK(source(tree, "/A/B/01 - S (2).flac") == "/M/b.flac");
    CHECK(source(tree, "/A/B/01 - S (3).flac") == "/M/c.flac");
  } while (std::next_permutation(sources.begin(), sources.end(),
                                 [](const auto& x, const auto& y) { return x.path < y.path; }));
}

TEST_CASE("layout tree: a track whose own name is a numbered one keeps it and the twin counts on", "[layout]") {
  auto tree = build({
      track("/M/a.flac", tags("A", "B", "S")),
      track("/M/b.flac", tags("A", "B", "S")),
      track("/M/z.flac", tags("A", "B", "S (2)")),
  });
  CHECK(source(tree, "/A/B/01 - S.flac") == "/M/a.flac");
  CHECK(source(tree, "/A/B/01 - S (2).flac") == "/M/z.flac");
  CHECK(source(tree, "/A/B/01 - S (3).flac") == "/M/b.flac");
}

TEST_CASE("layout tree: a file that wants a directory's path is numbered", "[layout]") {
  // "{album|}" leaves the directory out for a track with no album, so its title can
  // land where another album's directory is.
  auto tree = build(
      {
          track("/M/1.flac", tags("A", "B", "t")),
          track("/M/2.flac", tags("A", "", "B")),
      },
      nullptr, 1000, "{albumartist}/{album|}/{title}");
  CHECK(source(tree, "/A/B/t") == "/M/1.flac");
  CHECK(source(tree, "/A/B (2)") == "/M/2.flac");
  CHECK(tree->list("/A") == Listing{{"B", EntryType::kDirectory}, {"B (2)", EntryType::kFile}});
}

TEST_CASE("layout tree: a track that needs a directory where a file is gets a numbered directory", "[layout]") {
  auto tree = build(
      {
          track("/M/0.flac", tags("A", "", "B")),
          track("/M/1.flac", tags("A", "B", "t")),
          track("/M/2.flac", tags("A", "B", "u")),
      },
      nullptr, 1000, "{albumartist}/{album|}/{title}");
  CHECK(source(tree, "/A/B") == "/M/0.flac");
  CHECK(source(tree, "/A/B (2)/t") == "/M/1.flac");
  CHECK(source(tree, "/A/B (2)/u") == "/M/2.flac");
  CHECK(tree->list("/A") == Listing{{"B", EntryType::kFile}, {"B (2)", EntryType::kDirectory}});
}

TEST_CASE("layout tree: non-audio files follow the tracks of their directory", "[layout]") {
  auto tree = build({
      track("/M/Alb/01.flac", tags("A", "Alb", "One", 1)),
      track("/M/Alb/02.flac", tags("A", "Alb", "Two", 2)),
      file("/M/Alb/cover.jpg"),
      file("/M/Alb/rip.log"),
      file("/M/Alb/.nfo"),
      file("/M/Alb/Scans/back.jpg"),
      file("/M/Alb/Scans/Inlay/in.jpg"),
  });
  CHECK(source(tree, "/A/Alb/cover.jpg") == "/M/Alb/cover.jpg");
  CHECK(source(tree, "/A/Alb/rip.log") == "/M/Alb/rip.log");
  CHECK(source(tree, "/A/Alb/_nfo") == "/M/Alb/.nfo");  // sanitized: no hidden names
  CHECK(source(tree, "/A/Alb/Scans/back.jpg") == "/M/Alb/Scans/back.jpg");
  CHECK(source(tree, "/A/Alb/Scans/Inlay/in.jpg") == "/M/Alb/Scans/Inlay/in.jpg");
  CHECK(tree->file_count() == 7);
  CHECK(tree->shown_tracks() == 2);
}

TEST_CASE("layout tree: a non-audio file appears in every album its directory's tracks went to", "[layout]") {
  auto tree = build({
      track("/M/Mix/01.flac", tags("A", "X", "One")),
      track("/M/Mix/02.flac", tags("A", "Y", "Two")),
      file("/M/Mix/cover.jpg"),
  });
  CHECK(tree->vpaths_of("/M/Mix/cover.jpg") == std::vector<std::string>{"/A/X/cover.jpg", "/A/Y/cover.jpg"});
  CHECK(tree->vpaths_of("/M/Mix/01.flac") == std::vector<std::string>{"/A/X/01 - One.flac"});
}

TEST_CASE("layout tree: a non-audio file with no shown track above it is not shown", "[layout]") {
  auto tree = build({
      track("/M/Alb/01.flac", tags("A", "Alb", "One")),
      file("/Other/readme.txt"),
      unread_track("/N/Unread/01.flac"),
      file("/N/Unread/cover.jpg"),
  });
  CHECK(tree->vpaths_of("/Other/readme.txt").empty());
  CHECK(tree->vpaths_of("/N/Unread/cover.jpg").empty());
  CHECK(tree->file_count() == 1);
}

TEST_CASE("layout tree: tracks take names before other files and covers of two discs are numbered", "[layout]") {
  TrackTags disc1 = tags("A", "Set", "First");
  disc1.disc = 1;
  disc1.disc_total = 2;
  TrackTags disc2 = tags("A", "Set", "Second");
  disc2.disc = 2;
  disc2.disc_total = 2;
  auto tree = build(
      {
          file("/M/Alb/cover.jpg"),
          track("/M/Alb/z.jpg", tags("A", "Alb", "cover")),
          track("/M/Set/CD1/01.flac", disc1),
          track("/M/Set/CD2/01.flac", disc2),
          file("/M/Set/CD2/cover.jpg"),
          file("/M/Set/CD1/cover.jpg"),
      },
      nullptr, 1000, "{albumartist}/{album}/{title}.{ext}");
  // The track's source sorts after the cover's, and still keeps the name.
  CHECK(source(tree, "/A/Alb/cover.jpg") == "/M/Alb/z.jpg");
  CHECK(source(tree, "/A/Alb/cover (2).jpg") == "/M/Alb/cover.jpg");
  CHECK(source(tree, "/A/Set/cover.jpg") == "/M/Set/CD1/cover.jpg");
  CHECK(source(tree, "/A/Set/cover (2).jpg") == "/M/Set/CD2/cover.jpg");
}

TEST_CASE("layout tree: a directory's mtime is its newest entry's", "[layout]") {
  auto tree = build({
      track("/M/Alb/01.flac", tags("A", "Alb", "One", 1), 100),
      track("/M/Alb/02.flac", tags("A", "Alb", "Two", 2), 300, 7),
      file("/M/Alb/cover.jpg", 200),
      track("/M/Old/01.flac", tags("A", "Old", "One", 1), 50),
  });
  CHECK(mtime(tree, "/A/Alb") == std::pair<int64_t, uint32_t>{300, 7});
  CHECK(mtime(tree, "/A/Old") == std::pair<int64_t, uint32_t>{50, 0});
  // A directory with only subdirectories takes its newest subdirectory's.
  CHECK(mtime(tree, "/A") == std::pair<int64_t, uint32_t>{300, 7});
  CHECK(mtime(tree, "/") == std::pair<int64_t, uint32_t>{300, 7});
}

TEST_CASE("layout tree: a rebuild keeps the mtime of a directory whose entries did not change", "[layout]") {
  std::vector<LayoutSource> sources{
      track("/M/Alb/01.flac", tags("A", "Alb", "One", 1), 100),
      track("/M/Old/01.flac", tags("A", "Old", "One", 1), 50),
      track("/M/Z/01.flac", tags("Z", "Zed", "One", 1), 70),
  };
  auto first = build(sources, nullptr, 1000);
  auto same = build(sources, first.get(), 5000);
  CHECK(snapshot(same) == snapshot(first));

  SECTION("a new track moves its album and the directories whose entries changed to now") {
    sources.push_back(track("/M/New/01.flac", tags("A", "New", "One", 1), 60));
    auto next = build(sources, same.get(), 6000);
    CHECK(mtime(next, "/A/New") == std::pair<int64_t, uint32_t>{6000, 0});
    CHECK(mtime(next, "/A") == std::pair<int64_t, uint32_t>{6000, 0});
    CHECK(mtime(next, "/") == mtime(first, "/"));  // still just A and Z
    CHECK(mtime(next, "/A/Alb") == mtime(first, "/A/Alb"));
    CHECK(mtime(next, "/Z/Zed") == mtime(first, "/Z/Zed"));
  }
  SECTION("a file newer than now keeps its own mtime on its directory") {
    sources.push_back(track("/M/Alb/02.flac", tags("A", "Alb", "Two", 2), 9000));
    auto next = build(sources, same.get(), 6000);
    CHECK(mtime(next, "/A/Alb") == std::pair<int64_t, uint32_t>{9000, 0});
  }
  SECTION("a name that moves to another source counts as a change") {
    sources[0].path = "/M/Alb/01 renamed.flac";
    auto next = build(sources, same.get(), 7000);
    CHECK(source(next, "/A/Alb/01 - One.flac") == "/M/Alb/01 renamed.flac");
    CHECK(mtime(next, "/A/Alb") == std::pair<int64_t, uint32_t>{7000, 0});
    CHECK(mtime(next, "/A") == mtime(first, "/A"));
  }
  SECTION("a removed album moves its parent") {
    sources.erase(sources.begin() + 1);
    auto next = build(sources, same.get(), 8000);
    CHECK_FALSE(next->is_directory("/A/Old"));
    CHECK(mtime(next, "/A") == std::pair<int64_t, uint32_t>{8000, 0});
    CHECK(mtime(next, "/A/Alb") == mtime(first, "/A/Alb"));
  }
}

TEST_CASE("layout tree: diff names the files added and removed and the directories changed", "[layout]") {
  std::vector<LayoutSource> sources{
      track("/M/Alb/01.flac", tags("A", "Alb", "One", 1)),
      track("/M/Alb/02.flac", tags("A", "Alb", "Two", 2)),
      track("/M/Old/01.flac", tags("A", "Old", "One", 1)),
      track("/M/Z/01.flac", tags("Z", "Zed", "One", 1)),
  };
  auto before = build(sources);

  SECTION("from nothing everything is added") {
    LayoutDiff d = diff(nullptr, *before);
    CHECK(d.added == vpaths(before));
    CHECK(d.removed.empty());
    CHECK(d.dirs_changed == std::vector<std::string>{"/", "/A", "/A/Alb", "/A/Old", "/Z", "/Z/Zed"});
  }
  SECTION("no change is an empty diff") {
    LayoutDiff d = diff(before.get(), *build(sources, before.get(), 2000));
    CHECK(d.added.empty());
    CHECK(d.removed.empty());
    CHECK(d.dirs_changed.empty());
  }
  SECTION("a new album, a removed one and a file whose source changed") {
    sources[1].path = "/M/Alb/02 other.flac";                      // same vpath, new source
    sources.erase(sources.begin() + 2);                            // /A/Old goes
    sources.push_back(track("/M/New/01.flac", tags("B", "New", "One", 1)));  // /B/New comes
    LayoutDiff d = diff(before.get(), *build(sources, before.get(), 2000));
    CHECK(d.added == std::vector<std::string>{"/A/Alb/02 - Two.flac", "/B/New/01 - One.flac"});
    CHECK(d.removed == std::vector<std::string>{"/A/Alb/02 - Two.flac", "/A/Old/01 - One.flac"});
    CHECK(d.dirs_changed == std::vector<std::string>{"/", "/A", "/A/Alb", "/A/Old", "/B", "/B/New"});
  }
}

TEST_CASE("layout tree: the same sources in any order give the same tree", "[layout]") {
  std::vector<LayoutSource> sources;
  for (int album = 0; album < 20; ++album) {
    std::string dir = "/M/" + std::to_string(album % 7) + "/" + std::to_string(album);
    for (int t = 1; t <= 6; ++t) {
      // Albums 0..19 share 5 titles, so names collide across source directories.
      sources.push_back(track(dir + "/" + std::to_string(t) + ".flac",
                              tags("Artist " + std::to_string(album % 3), "Album " + std::to_string(album % 5),
                                   "Song", t),
                              100 + album * 10 + t));
    }
    sources.push_back(file(dir + "/cover.jpg", 50));
    sources.push_back(file(dir + "/Scans/back.jpg", 40));
  }
  sources.push_back(unread_track("/M/unread.flac"));
  auto reference = build(sources, nullptr, 1000);
  auto reference_next = build(sources, reference.get(), 2000);
  std::mt19937 rng(18);
  for (int round = 0; round < 5; ++round) {
    std::shuffle(sources.begin(), sources.end(), rng);
    auto tree = build(sources, nullptr, 1000);
    CHECK(vpaths(tree) == vpaths(reference));
    for (const LayoutFile& f : reference->files()) CHECK(source(tree, f.vpath) == f.source);
    CHECK(snapshot(tree) == snapshot(reference));
    CHECK(snapshot(build(sources, tree.get(), 2000)) == snapshot(reference_next));
  }
  CHECK(reference->shown_tracks() == 120);
  CHECK(reference->file_count() == 120 + 2 * 20);
}

TEST_CASE("layout tree: builds over 20000 sources", "[layout]") {
  std::vector<LayoutSource> sources;
  sources.reserve(20000);
  for (int album = 0; album < 1000; ++album) {
    std::string dir = "/Music/" + std::to_string(album / 10) + "/" + std::to_string(album);
    for (int t = 1; t <= 19; ++t) {
      sources.push_back(track(dir + "/" + std::to_string(t) + ".flac",
                              tags("Artist " + std::to_string(album / 10), "Album " + std::to_string(album),
                                   "Title " + std::to_string(t), t),
                              1000 + t));
    }
    sources.push_back(file(dir + "/cover.jpg", 500));
  }
  REQUIRE(sources.size() == 20000);
  auto tree = build(sources, nullptr, 5000);
  CHECK(tree->file_count() == 20000);
  CHECK(tree->shown_tracks() == 19000);
  CHECK(tree->list("/")->size() == 100);
  CHECK(tree->list("/Artist 42")->size() == 10);
  CHECK(tree->list("/Artist 42/Album 427")->size() == 20);
  CHECK(source(tree, "/Artist 42/Album 427/07 - Title 7.flac") == "/Music/42/427/7.flac");
  CHECK(source(tree, "/Artist 42/Album 427/cover.jpg") == "/Music/42/427/cover.jpg");
  CHECK(mtime(tree, "/Artist 42/Album 427") == std::pair<int64_t, uint32_t>{1019, 0});

  auto again = build(sources, tree.get(), 6000);
  LayoutDiff d = diff(tree.get(), *again);
  CHECK(d.added.empty());
  CHECK(d.removed.empty());
  CHECK(d.dirs_changed.empty());
}
