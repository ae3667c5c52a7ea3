#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <stdexcept>

#include "notifier_runner.h"
#include "unit/unit_support.h"

using namespace musicfs;
using namespace std::chrono_literals;

namespace {

// Records every batch; fails the first `fail_first` attempts (throws instead when
// `throw_instead`); with `hang`, waits until cancelled.
struct FakeState {
  std::mutex mu;
  std::vector<std::vector<std::string>> batches;
  int fail_first = 0;
  bool throw_instead = false;
  bool hang = false;
  std::atomic<bool> cancelled{false};
  std::atomic<int> attempts{0};
};

class FakeNotifier : public Notifier {
 public:
  explicit FakeNotifier(FakeState& s) : s_(s) {}
  Status deliver(const std::vector<std::string>& dirs, SteadyClock::time_point, std::string& detail) override {
    int n = s_.attempts.fetch_add(1);
    while (s_.hang && !s_.cancelled.load()) std::this_thread::sleep_for(1ms);
    std::lock_guard lock(s_.mu);
    if (n < s_.fail_first) {
      if (s_.throw_instead) throw std::runtime_error("boom");
      return make_error(ErrorCode::kUnavailable, "server away");
    }
    s_.batches.push_back(dirs);
    detail = "fine";
    return {};
  }
  std::string describe() const override { return "fake"; }
  void cancel() override { s_.cancelled.store(true); }

 private:
  FakeState& s_;
};

NotifierRunner::Options fast(std::chrono::milliseconds debounce) {
  NotifierRunner::Options o;
  o.debounce = debounce;
  o.retry_delays = {10ms, 10ms};
  return o;
}

}  // namespace

TEST_CASE("a notifier runner sends what came within the debounce as one batch of outermost directories", "[notify]") {
  FakeState s;
  EventLog log;
  NotifierRunner r("/mnt", "notify[0] fake", std::make_unique<FakeNotifier>(s), log, fast(300ms));
  r.push({"/B/Album"});
  r.push({"/A"});
  r.push({"/B"});
  REQUIRE(test::poll_until([&] { return log.count("notify_sent") == 1; }));
  std::lock_guard lock(s.mu);
  REQUIRE(s.batches.size() == 1);
  CHECK(s.batches[0] == std::vector<std::string>{"/A", "/B"});
  CHECK_THAT(log.all().back().message, Catch::Contains("notify[0] fake") && Catch::Contains("fine"));
}

TEST_CASE("a failed batch is retried with what changed meanwhile and then given up", "[notify]") {
  FakeState s;
  s.fail_first = 1;
  EventLog log;
  {
    NotifierRunner r("/mnt", "notify[0] fake", std::make_unique<FakeNotifier>(s), log, fast(1ms));
    r.push({"/A"});
    REQUIRE(test::poll_until([&] { return log.count("notify_sent") == 1; }));
    CHECK(log.count("notify_failed") == 1);
    CHECK_THAT(log.all().front().message, Catch::Contains("server away") && Catch::Contains("trying again"));
  }
  FakeState always;
  always.fail_first = 1000;
  always.throw_instead = true;  // a notifier's exception is its failure, not the daemon's end
  EventLog log2;
  NotifierRunner r("/mnt", "notify[0] fake", std::make_unique<FakeNotifier>(always), log2, fast(1ms));
  r.push({"/A"});
  REQUIRE(test::poll_until([&] { return log2.count("notify_failed") == 3; }));  // first try and two retries
  CHECK_THAT(log2.all().back().message, Catch::Contains("boom") && Catch::Contains("giving up"));
  r.push({"/B"});  // the next change is tried afresh
  REQUIRE(test::poll_until([&] { return log2.count("notify_failed") == 4; }));
  CHECK_THAT(log2.all().back().message, Catch::Contains("/B") && !Catch::Contains("/A"));
}

TEST_CASE("destroying a runner cancels a delivery in flight", "[notify]") {
  FakeState s;
  s.hang = true;
  EventLog log;
  auto r = std::make_unique<NotifierRunner>("/mnt", "notify[0] fake", std::make_unique<FakeNotifier>(s), log, fast(1ms));
  r->push({"/A"});
  REQUIRE(test::poll_until([&] { return s.attempts.load() == 1; }));
  r.reset();  // returns: the hanging delivery saw cancel()
  CHECK(s.cancelled.load());
}
