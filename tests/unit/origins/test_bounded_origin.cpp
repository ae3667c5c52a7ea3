#include <catch2/catch.hpp>

#include <condition_variable>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

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
    BoundedOptions o;
    o.threads = threads;
    o.max_queue = max_queue;
    o.list_stall_after = Millis(300);
    o.probe_timeout = Millis(200);
    bounded = std::make_shared<BoundedOrigin>(faulty, o);
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

namespace {
// Lists one entry, then blocks until released: a share that hangs mid-listing.
class StuckLister : public Origin {
 public:
  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  std::string location() const override { return "stuck"; }
  Status list(std::string_view, const std::function<void(ListedEntry&&)>& sink, Deadline) override {
    ListedEntry e;
    e.path = "/first.flac";
    sink(std::move(e));
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return released_; });
    return {};
  }
  Result<EntryAttr> stat(std::string_view, Deadline) override { return EntryAttr{}; }
  Result<std::unique_ptr<OriginFile>> open(std::string_view, Deadline) override {
    return make_error(ErrorCode::kNotFound, "no files");
  }
  Status probe(Deadline) override { return {}; }
  void release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::string id_ = "stuck", type_ = "local";
  std::mutex mu_;
  std::condition_variable cv_;
  bool released_ = false;
};
}  // namespace

TEST_CASE("BoundedOrigin: once a call timed out, other calls fail at once until a probe answers", "[origins][bounded]") {
  Hangable h;
  auto file = h.bounded->open("/song.flac", deadline_in(Millis(5000)));
  REQUIRE(file.ok());
  h.hang();
  // A caller already waiting when the origin stalls gives up then, not at its own deadline.
  std::optional<bool> early_ok;
  Millis early_waited{0};
  std::thread waiter([&] {
    char buf[8];
    auto t0 = SteadyClock::now();
    auto r = (*file)->read(0, std::span<char>(buf, sizeof buf), deadline_in(Millis(10000)));
    early_waited = std::chrono::duration_cast<Millis>(SteadyClock::now() - t0);
    early_ok = r.ok();
  });
  char buf[8];
  auto t0 = SteadyClock::now();
  auto first = (*file)->read(0, std::span<char>(buf, sizeof buf), deadline_in(Millis(400)));
  REQUIRE_FALSE(first.ok());
  CHECK(first.error().code == ErrorCode::kTimedOut);
  CHECK(h.bounded->stalled());
  waiter.join();
  REQUIRE(early_ok.has_value());
  CHECK_FALSE(*early_ok);
  CHECK(early_waited < Millis(3000));

  // New calls, of any kind, do not wait at all.
  auto t1 = SteadyClock::now();
  auto second = h.bounded->stat("/song.flac", deadline_in(Millis(10000)));
  REQUIRE_FALSE(second.ok());
  CHECK(second.error().code == ErrorCode::kTimedOut);
  CHECK(SteadyClock::now() - t1 < Millis(100));
  CHECK(SteadyClock::now() - t0 < Millis(3000));

  // The origin answers again: the recovery prober clears the stall on its own.
  h.faulty->set_fault(FaultSpec{});
  CHECK(test::poll_until([&] { return !h.bounded->stalled(); }, Millis(5000)));
  CHECK(h.bounded->stat("/song.flac", deadline_in(Millis(5000))).ok());
  auto again = (*file)->read(0, std::span<char>(buf, sizeof buf), deadline_in(Millis(5000)));
  REQUIRE(again.ok());
  CHECK(std::string(buf, *again) == "DATA");
}

TEST_CASE("BoundedOrigin: a short wait that runs out does not stall the origin", "[origins][bounded]") {
  Hangable h;
  h.hang();
  auto r = h.bounded->probe(deadline_in(Millis(20)));
  REQUIRE_FALSE(r.ok());
  CHECK_FALSE(h.bounded->stalled());
}

TEST_CASE("BoundedOrigin: shutdown wakes every waiter at once and fails later calls", "[origins][bounded]") {
  Hangable h;
  h.hang();
  std::optional<ErrorCode> code;
  auto t0 = SteadyClock::now();
  std::thread waiter([&] {
    auto r = h.bounded->probe(deadline_in(Millis(10000)));
    if (!r) code = r.error().code;
  });
  // Whether the probe is already waiting or not, it must end at once.
  h.bounded->shutdown();
  waiter.join();
  CHECK(SteadyClock::now() - t0 < Millis(2000));
  REQUIRE(code.has_value());
  CHECK(*code == ErrorCode::kUnavailable);
  auto later = h.bounded->stat("/song.flac", deadline_in(Millis(10000)));
  REQUIRE_FALSE(later.ok());
  CHECK(later.error().code == ErrorCode::kUnavailable);
}

TEST_CASE("BoundedOrigin: a listing that stops delivering entries gives up and stalls the origin", "[origins][bounded]") {
  Hangable h;
  h.dir.write("a/1.flac", "1");
  size_t seen = 0;
  REQUIRE(h.bounded->list("/", [&](ListedEntry&&) { ++seen; }, deadline_in(Millis(5000))).ok());
  CHECK(seen == 3);  // song.flac, a, a/1.flac

  auto stuck = std::make_shared<StuckLister>();
  BoundedOptions o;
  o.list_stall_after = Millis(300);
  o.probe_timeout = Millis(200);
  auto bounded = std::make_shared<BoundedOrigin>(stuck, o);
  std::vector<std::string> got;
  auto t0 = SteadyClock::now();
  Status s = bounded->list("/", [&](ListedEntry&& e) { got.push_back(e.path); }, deadline_in(Millis(60000)));
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().code == ErrorCode::kTimedOut);
  CHECK(SteadyClock::now() - t0 < Millis(3000));
  CHECK(got == std::vector<std::string>{"/first.flac"});
  stuck->release();
  // Its probe answers, so the stall clears by itself.
  CHECK(test::poll_until([&] { return !bounded->stalled(); }, Millis(5000)));
}
