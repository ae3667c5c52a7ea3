#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "util/buffer_pool.h"
#include "util/worker_pool.h"

using namespace musicfs;
using namespace std::chrono_literals;

TEST_CASE("WorkerPool runs queued jobs and stop() waits for the running one", "[util]") {
  WorkerPool pool(2, 8);
  std::atomic<int> ran{0};
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> blocked_started{false}, blocked_finished{false};
  REQUIRE(pool.submit([&] {
    blocked_started = true;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
    blocked_finished = true;
  }));
  for (int i = 0; i < 5; ++i) REQUIRE(pool.submit([&] { ++ran; }));
  // The second worker runs the quick jobs while the first is held.
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while ((ran.load() < 5 || !blocked_started) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(1ms);
  }
  CHECK(ran.load() == 5);
  REQUIRE(blocked_started);

  std::thread releaser([&] {
    std::this_thread::sleep_for(50ms);
    std::lock_guard lock(mu);
    release = true;
    cv.notify_all();
  });
  pool.stop();  // returns only after the held job finished
  CHECK(blocked_finished);
  CHECK(pool.stopping());
  CHECK_FALSE(pool.submit([&] { ++ran; }));  // refused once stopping
  releaser.join();
  pool.stop();  // idempotent
}

TEST_CASE("WorkerPool refuses jobs beyond its queue bound and drops queued ones at stop", "[util]") {
  WorkerPool pool(1, 2);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<bool> started{false};
  std::atomic<int> ran{0};
  REQUIRE(pool.submit([&] {
    started = true;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return release; });
  }));
  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (!started && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
  REQUIRE(started);
  CHECK(pool.submit([&] { ++ran; }));
  CHECK(pool.submit([&] { ++ran; }));
  CHECK_FALSE(pool.submit([&] { ++ran; }));  // the queue holds two
  {
    std::lock_guard lock(mu);
    release = true;
  }
  cv.notify_all();
  pool.stop();
  CHECK(ran.load() <= 2);
}

TEST_CASE("BufferPool hands out buffers of the asked size and reuses returned ones", "[util]") {
  BufferPool pool(1);
  const char* first_data = nullptr;
  {
    auto a = pool.take(4096);
    REQUIRE(a->size() == 4096);
    (*a)[0] = 'x';
    first_data = a->data();
  }
  // The returned buffer comes back (same memory), resized to what is asked now.
  auto b = pool.take(1000);
  CHECK(b->size() == 1000);
  CHECK(b->data() == first_data);
  // Only max_idle buffers are kept: with one idle slot, of two returned buffers the
  // first is kept and the second freed.
  auto c = pool.take(10);
  CHECK(c->data() != first_data);
  b.reset();
  c.reset();
  auto d = pool.take(10);
  auto e = pool.take(10);
  CHECK(d->data() == first_data);
  CHECK(e->data() != first_data);
  CHECK(d->size() == 10);
  CHECK(e->size() == 10);
}
