#include <catch2/catch.hpp>

#include <mutex>

#include "federation/path_events.h"
#include "unit/federation/federation_support.h"

using namespace musicfs;
using namespace musicfs::test;

namespace {
TreeChange change(TreeChange::Kind kind, std::string path, EntryAttr attr) {
  TreeChange c;
  c.kind = kind;
  c.path = std::move(path);
  c.attr = attr;
  return c;
}

// A feed whose timer never fires during a test: each test flushes when it means to.
PathEventFeed::Options held() {
  PathEventFeed::Options o;
  o.quiet = std::chrono::hours(1);
  o.max_hold = std::chrono::hours(1);
  return o;
}

struct Sink {
  std::mutex mu;
  std::vector<std::vector<std::string>> batches;
  PathEventFeed::DirsSink fn() {
    return [this](const std::vector<std::string>& d) {
      std::lock_guard lock(mu);
      batches.push_back(d);
    };
  }
};
}  // namespace

TEST_CASE("rescan directories are the added directory or the parent and only the outermost") {
  TreeChanges cs{change(TreeChange::Kind::kAdded, "/Artist", dir_attr()),
                 change(TreeChange::Kind::kAdded, "/Artist/Album", dir_attr()),
                 change(TreeChange::Kind::kAdded, "/Artist/Album/01.flac", file_attr(1)),
                 change(TreeChange::Kind::kRemoved, "/Other/02.flac", file_attr(1)),
                 change(TreeChange::Kind::kChanged, "/A b/03.flac", file_attr(2))};
  CHECK(directories_to_rescan(cs) == std::vector<std::string>{"/A b", "/Artist", "/Other"});
  CHECK(outermost_directories({"/a", "/a b", "/a/c", "/b/c"}) == std::vector<std::string>{"/a", "/a b", "/b/c"});
  CHECK(outermost_directories({"/", "/a"}) == std::vector<std::string>{"/"});
}

TEST_CASE("an album copied in is one path_added event per directory naming a count") {
  EventLog log;
  Sink sink;
  PathEventFeed feed("/mnt/m", log, sink.fn(), held());
  TreeChanges cs{change(TreeChange::Kind::kAdded, "/New", dir_attr())};
  for (int i = 0; i < 500; ++i) {
    cs.push_back(change(TreeChange::Kind::kAdded, "/New/" + std::to_string(i) + ".flac", file_attr(1)));
  }
  // Two batches, as a listing applies them: still one burst.
  TreeChanges first(cs.begin(), cs.begin() + 100), second(cs.begin() + 100, cs.end());
  feed.add("b", first);
  feed.add("b", second);
  feed.flush();
  auto events = log.all();
  REQUIRE(events.size() == 2);
  CHECK(events[0].kind == "path_added");
  CHECK(events[0].path == "/New");  // the one entry added in "/"
  CHECK(events[0].count == 1);
  CHECK(events[1].path == "/New");  // the directory of the 500
  CHECK(events[1].count == 500);
  CHECK(events[1].origin == "b");
  CHECK(events[1].names.size() == kMaxEventNames);
  CHECK(events[1].names.front() == "0.flac");
  REQUIRE(sink.batches.size() == 1);
  CHECK(sink.batches[0] == std::vector<std::string>{"/New"});
}

TEST_CASE("directory attribute changes are not path events") {
  EventLog log;
  Sink sink;
  PathEventFeed feed("/mnt/m", log, sink.fn(), held());
  feed.add("a", {change(TreeChange::Kind::kChanged, "/Album", dir_attr())});
  feed.flush();
  CHECK(log.all().empty());
  CHECK(sink.batches.empty());
  feed.add("a", {change(TreeChange::Kind::kChanged, "/Album/t.flac", file_attr(9))});
  feed.flush();
  REQUIRE(log.all().size() == 1);
  CHECK(log.all()[0].kind == "path_changed");
  CHECK(log.all()[0].path == "/Album/t.flac");
  REQUIRE(sink.batches.size() == 1);
  CHECK(sink.batches[0] == std::vector<std::string>{"/Album"});
}

TEST_CASE("the feed emits on its own once changes stop coming") {
  EventLog log;
  Sink sink;
  PathEventFeed::Options o;
  o.quiet = std::chrono::milliseconds(20);
  PathEventFeed feed("/mnt/m", log, sink.fn(), o);
  feed.add("a", {change(TreeChange::Kind::kRemoved, "/Album/t.flac", file_attr(9))});
  REQUIRE(poll_until([&] { return log.count("path_removed") == 1; }));
  std::lock_guard lock(sink.mu);
  CHECK(sink.batches.size() == 1);
}
