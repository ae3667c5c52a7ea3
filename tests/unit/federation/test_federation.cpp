// Federation beyond the plan's table: indexing on add, the merged tree, errors of
// add/remove/open, partial reads, hung-origin failover and watcher-driven updates.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <mutex>

#include "unit/federation/federation_support.h"

using namespace musicfs;
using Catch::Contains;
using test::FedFixture;

namespace {
std::vector<std::string> names(const std::optional<std::vector<DirEntryView>>& v) {
  std::vector<std::string> out;
  if (v) {
    for (const auto& e : *v) out.push_back(e.name);
  }
  return out;
}
using Names = std::vector<std::string>;
}  // namespace

TEST_CASE("Federation: an empty mount has a root and nothing else", "[federation]") {
  FedFixture f;
  auto root = f.fed->getattr("/");
  REQUIRE(root.ok());
  CHECK(root->type == EntryType::kDirectory);
  auto listing = f.fed->readdir("/");
  REQUIRE(listing.has_value());
  CHECK(listing->empty());
  CHECK(f.fed->getattr("/x.flac").error().code == ErrorCode::kNotFound);
  CHECK(f.fed->open("/x.flac").error().code == ErrorCode::kNotFound);
}

TEST_CASE("Federation: add_origin indexes in the background and the tree is the union", "[federation]") {
  FedFixture f;
  f.add("un-a", 1, {{"/Artist/a.flac", "aaaa"}, {"/Artist/both.flac", "x"}, {"/Only-A/1.flac", "1"}});
  f.add("un-b", 2, {{"/Artist/b.flac", "bb"}, {"/Artist/both.flac", "y"}});

  CHECK(names(f.fed->readdir("/")) == Names{"Artist", "Only-A"});
  CHECK(names(f.fed->readdir("/Artist")) == Names{"a.flac", "b.flac", "both.flac"});
  auto a = f.fed->getattr("/Artist/a.flac");
  REQUIRE(a.ok());
  CHECK(a->type == EntryType::kFile);
  CHECK(a->size == 4);
  CHECK(f.fed->tree().file_count(f.rt("un-a")->slot) == 3);
  CHECK(f.fed->tree().file_count(f.rt("un-b")->slot) == 2);
  CHECK(f.fed->tree().replicas("/Artist/both.flac").size() == 2);
  CHECK(f.events.count("origin_added") == 2);
  CHECK_THAT(f.events.all().front().message, Contains("local origin at"));

  auto b = f.read("/Artist/b.flac");
  REQUIRE(b.ok());
  CHECK(*b == "bb");
}

TEST_CASE("Federation: add_origin errors", "[federation]") {
  FedFixture f;
  f.add("err-a", 1, {{"/a.flac", "a"}});

  SECTION("duplicate id") {
    OriginConfig cfg;
    cfg.id = "err-a";
    cfg.type = "local";
    cfg.priority = 2;
    cfg.settings["path"] = f.dir.mkdir("other");
    Status s = f.fed->add_origin(cfg);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kExists);
    CHECK(f.fed->origins()->size() == 1);
  }
  SECTION("an origin its type cannot create names the origin and is not registered") {
    OriginConfig cfg;
    cfg.id = "err-s3";
    cfg.type = "s3";
    cfg.priority = 2;
    cfg.settings["bucket"] = std::string("b");
    cfg.settings["credentials_file"] = f.dir / "no-such-credentials";
    Status s = f.fed->add_origin(cfg);
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kConfig);
    CHECK_THAT(s.error().message, Contains("err-s3"));
    CHECK_THAT(s.error().message, Contains("no-such-credentials"));
    CHECK(f.fed->registry().get("err-s3") == nullptr);
  }
  SECTION("removing an unknown origin") {
    Status s = f.fed->remove_origin("nope");
    REQUIRE_FALSE(s.ok());
    CHECK(s.error().code == ErrorCode::kNotFound);
  }
}

TEST_CASE("Federation: open refuses directories and read honours offset and size", "[federation]") {
  FedFixture f;
  f.add("rd-a", 1, {{"/Album/song.flac", "0123456789"}});

  auto dir = f.fed->open("/Album");
  REQUIRE_FALSE(dir.ok());
  CHECK(dir.error().sys_errno == EISDIR);

  auto session = f.fed->open("/Album/song.flac");
  REQUIRE(session.ok());
  char buf[4];
  auto n = f.fed->read(**session, 3, std::span<char>(buf, sizeof buf));
  REQUIRE(n.ok());
  CHECK(*n == 4);
  CHECK(std::string(buf, 4) == "3456");
  auto tail = f.fed->read(**session, 8, std::span<char>(buf, sizeof buf));
  REQUIRE(tail.ok());
  CHECK(*tail == 2);
  auto eof = f.fed->read(**session, 10, std::span<char>(buf, sizeof buf));
  REQUIRE(eof.ok());
  CHECK(*eof == 0);
  CHECK(f.rt("rd-a")->bytes_read.load() == 6);
  CHECK(f.rt("rd-a")->latency.samples() == 3);
}

TEST_CASE("Federation: a file gone from one origin is served by another, without blame", "[federation]") {
  FedFixture f;
  // Another file keeps the root non-empty: an origin whose root empties entirely
  // looks like an unmounted share, which is the origin's failure (LocalOrigin::probe).
  f.add("gone-a", 1, {{"/song.flac", "AAA"}, {"/other.flac", "O"}});
  f.add("gone-b", 2, {{"/song.flac", "BBB"}});
  f.fed->check_now();
  std::filesystem::remove(f.dir / "origins/gone-a/song.flac");

  auto r = f.read("/song.flac");
  REQUIRE(r.ok());
  CHECK(*r == "BBB");
  // Not-found is the index's problem, not the origin's health.
  CHECK(f.status("gone-a") == HealthStatus::kHealthy);
  CHECK(f.rt("gone-a")->read_errors.load() == 0);
  // The index catches up (watcher or the read path's re-index job).
  CHECK(test::poll_until([&] { return f.fed->tree().replicas("/song.flac").size() == 1; }));
}

TEST_CASE("Federation: a hung primary is cut off at timeout_ms and the backup serves", "[federation]") {
  HealthConfig h;
  h.timeout_ms = 200;
  FedFixture f(h);
  f.add("hang-a", 1, {{"/song.flac", "AAA"}});
  f.add("hang-b", 2, {{"/song.flac", "BBB"}});
  FedFixture::set_fault("hang-a", "hang");

  auto t0 = std::chrono::steady_clock::now();
  auto r = f.read("/song.flac");
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  FedFixture::set_fault("hang-a", "none");  // release the stuck worker before teardown

  REQUIRE(r.ok());
  CHECK(*r == "BBB");
  INFO("elapsed " << elapsed.count() << " ms");
  CHECK(elapsed.count() >= 180);
  CHECK(elapsed.count() < 2000);
  CHECK(f.status("hang-a") == HealthStatus::kUnhealthy);
  CHECK_THAT(f.rt("hang-a")->health().last_error, Contains("timed out"));
  CHECK(f.events.count("failover") == 1);
}

TEST_CASE("Federation: not-found is not retried", "[federation]") {
  HealthConfig h;
  h.retry_delays_ms = {3000};  // a retry would be unmistakable
  FedFixture f(h);
  // A second file keeps the root non-empty: an emptied root reads as an unmounted share.
  f.add("nf-a", 1, {{"/song.flac", "AAA"}, {"/other.flac", "OOO"}});
  std::filesystem::remove(f.dir / "origins/nf-a/song.flac");
  // Whether the watcher has dropped the file from the index yet (open fails) or not
  // (the origin's open fails), the answer is not-found at once: no back-off.
  auto t0 = std::chrono::steady_clock::now();
  auto r = f.read("/song.flac");
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kNotFound);
  CHECK(elapsed.count() < 1500);
  CHECK(f.status("nf-a") == HealthStatus::kUnknown);
}

TEST_CASE("Federation: the watcher keeps the tree current", "[federation]") {
  FedFixture f;
  f.add("wt-a", 1, {{"/Album/01.flac", "1"}});

  SECTION("a new file appears") {
    f.dir.write("origins/wt-a/Album/02.flac", "22");
    CHECK(test::poll_until([&] { return f.fed->getattr("/Album/02.flac").ok(); }));
    CHECK(names(f.fed->readdir("/Album")) == Names{"01.flac", "02.flac"});
  }
  SECTION("a deleted file disappears") {
    std::filesystem::remove(f.dir / "origins/wt-a/Album/01.flac");
    CHECK(test::poll_until([&] { return !f.fed->getattr("/Album/01.flac").ok(); }));
  }
  SECTION("a new directory with files is indexed") {
    f.dir.write("origins/wt-a/New/Deep/x.flac", "x");
    CHECK(test::poll_until([&] { return f.fed->getattr("/New/Deep/x.flac").ok(); }));
    // Root, /Album, /New and /New/Deep.
    CHECK(test::poll_until([&] { return f.fed->registry().kernel_watch_count("wt-a") == 4; }));
  }
}

TEST_CASE("Federation: options callbacks see invalidations and probes", "[federation]") {
  test::TempDir dir("fed");
  EventLog events;
  std::mutex mu;
  std::vector<std::string> invalidated;
  std::vector<std::pair<std::string, bool>> probes;
  FederationOptions opts;
  opts.invalidate = [&](const std::string& p) {
    std::lock_guard lock(mu);
    invalidated.push_back(p);
  };
  opts.on_health_check = [&](const OriginRuntime& rt, const Status& s, uint32_t) {
    std::lock_guard lock(mu);
    probes.emplace_back(rt.config.id, s.ok());
  };
  {
    Federation fed(dir / "mnt", HealthConfig{}, events, opts);
    dir.write("o/a.flac", "a");
    OriginConfig cfg;
    cfg.id = "cb-a";
    cfg.type = "local";
    cfg.priority = 1;
    cfg.settings["path"] = dir / "o";
    REQUIRE(fed.add_origin(cfg).ok());
    {
      std::lock_guard lock(mu);
      CHECK(std::find(invalidated.begin(), invalidated.end(), "/") != invalidated.end());
    }
    fed.wait_index_idle();
    fed.check_now();
    {
      std::lock_guard lock(mu);
      REQUIRE(probes.size() == 1);
      CHECK(probes[0] == std::make_pair(std::string("cb-a"), true));
    }
    {
      std::lock_guard lock(mu);
      invalidated.clear();
    }
    REQUIRE(fed.remove_origin("cb-a").ok());
    std::lock_guard lock(mu);
    CHECK(std::find(invalidated.begin(), invalidated.end(), "/a.flac") != invalidated.end());
  }
}
