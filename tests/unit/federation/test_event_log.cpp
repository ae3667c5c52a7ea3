#include <catch2/catch.hpp>

#include <thread>

#include "federation/event_log.h"

using namespace musicfs;

namespace {
Event ev(std::string kind, std::string origin = {}) {
  Event e;
  e.kind = std::move(kind);
  e.origin = std::move(origin);
  e.message = "m";
  return e;
}
}  // namespace

TEST_CASE("EventLog numbers events and stamps their time", "[events]") {
  EventLog log;
  int64_t a = log.record(ev("origin_added", "a"));
  int64_t b = log.record(ev("failover", "b"), true);
  CHECK(a == 1);
  CHECK(b == 2);
  auto all = log.all();
  REQUIRE(all.size() == 2);
  CHECK(all[0].kind == "origin_added");
  CHECK(all[0].time > 0);
  CHECK(all[1].origin == "b");

  auto since = log.since(1);
  REQUIRE(since.size() == 1);
  CHECK(since[0].id == 2);

  Event stamped = ev("x");
  stamped.time = 42;
  log.record(stamped);
  CHECK(log.all().back().time == 42);
}

TEST_CASE("EventLog::count counts one kind", "[events]") {
  EventLog log;
  log.record(ev("failover"));
  log.record(ev("all_origins_unhealthy"));
  log.record(ev("failover"));
  CHECK(log.count("failover") == 2);
  CHECK(log.count("all_origins_unhealthy") == 1);
  CHECK(log.count("origin_removed") == 0);
}

TEST_CASE("EventLog keeps at most its memory limit, oldest dropped", "[events]") {
  EventLog log(3);
  for (int i = 0; i < 5; ++i) log.record(ev("k"));
  auto all = log.all();
  REQUIRE(all.size() == 3);
  CHECK(all.front().id == 3);
  CHECK(all.back().id == 5);
}

TEST_CASE("EventLog passes events to its sink and continues numbering", "[events]") {
  EventLog log;
  std::vector<Event> seen;
  log.set_sink([&](const Event& e) { seen.push_back(e); });
  log.set_next_id(100);
  CHECK(log.record(ev("a")) == 100);
  log.set_next_id(5);  // never goes backwards
  CHECK(log.record(ev("b")) == 101);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].kind == "b");
  CHECK(seen[1].id == 101);
}

TEST_CASE("EventLog::wait_for wakes on a new event and times out without one", "[events]") {
  EventLog log;
  CHECK_FALSE(log.wait_for(0, std::chrono::milliseconds(20)));
  int64_t first = log.record(ev("a"));
  CHECK(log.wait_for(0, std::chrono::milliseconds(0)));

  std::thread writer([&] { log.record(ev("b")); });
  CHECK(log.wait_for(first, std::chrono::seconds(10)));
  writer.join();
  CHECK(log.count("b") == 1);
}
