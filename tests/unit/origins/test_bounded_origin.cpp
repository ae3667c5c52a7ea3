#include <catch2/catch.hpp>

#include <span>

#include "origins/bounded_origin.h"
#include "origins/fault_injecting_origin.h"
#include "origins/local_origin.h"
#include "unit/unit_support.h"

using namespace musicfs;

namespace {
struct Hangable {
  test::TempDir dir{"bounded"};
  std::shared_ptr<FaultInjectingOrigin> faulty;
  std::shared_ptr<BoundedOrigin> bounded;
  explicit Hangable(size_t threads = 2, size_t max_queue = 8) {
    dir.write("song.flac", "DATA");
    faulty = std::make_shared<FaultInjectingOrigin>(std::make_shared<LocalOrigin>("bo", "local", dir.path()));
    bounded = std::make_shared<BoundedOrigin>(faulty, threads, max_queue);
  }
  ~Hangable() {
    // Release any stuck worker before the pool goes away.
    faulty->set_fault(FaultSpec{});
  }
  void hang() {
    auto spec = parse_fault_mode("hang", 0, true);
    REQUIRE(spec.ok());
    faulty->set_fault(*spec);
  }
};
}  // namespace

TEST_CASE("BoundedOrigin passes calls through", "[origins][bounded]") {
  Hangable h;
  CHECK(h.bounded->id() == "bo");
  CHECK(h.bounded->probe(deadline_in(Millis(5000))).ok());
  CHECK(h.bounded->stat("/song.flac", deadline_in(Millis(5000)))->size == 4);
  auto f = h.bounded->open("/song.flac", deadline_in(Millis(5000)));
  REQUIRE(f.ok());
  char buf[8];
  auto n = (*f)->read(0, std::span<char>(buf, sizeof buf), deadline_in(Millis(5000)));
  REQUIRE(n.ok());
  CHECK(std::string(buf, *n) == "DATA");
}

TEST_CASE("BoundedOrigin gives up at the deadline on a hung origin", "[origins][bounded]") {
  Hangable h;
  auto file = h.bounded->open("/song.flac", deadline_in(Millis(5000)));
  REQUIRE(file.ok());
  h.hang();

  auto t0 = SteadyClock::now();
  Status s = h.bounded->probe(deadline_in(Millis(100)));
  auto waited = std::chrono::duration_cast<Millis>(SteadyClock::now() - t0).count();
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kTimedOut);
  CHECK(waited >= 90);
  CHECK(waited < 2000);

  char buf[8] = {};
  auto r = (*file)->read(0, std::span<char>(buf, sizeof buf), deadline_in(Millis(100)));
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == ErrorCode::kTimedOut);
}

TEST_CASE("BoundedOrigin fails at once when every worker is stuck and the queue is full", "[origins][bounded]") {
  Hangable h(1, 0);
  h.hang();
  Status first = h.bounded->probe(deadline_in(Millis(50)));
  REQUIRE(first.error().code == ErrorCode::kTimedOut);  // the only worker is now stuck

  auto t0 = SteadyClock::now();
  Status second = h.bounded->probe(deadline_in(Millis(5000)));
  auto waited = std::chrono::duration_cast<Millis>(SteadyClock::now() - t0).count();
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == ErrorCode::kUnavailable);
  CHECK(waited < 1000);
}
