#pragma once
// Helpers for federation unit tests: OriginRuntime objects built directly over a
// LocalOrigin, file attributes for a VirtualTree, and a Federation over temporary
// local origins wrapped for fault injection.
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <span>
#include <string>

#include "federation/federation.h"
#include "federation/origin_runtime.h"
#include "origins/fault_injecting_origin.h"
#include "origins/local_origin.h"
#include "unit/unit_support.h"

namespace musicfs::test {

inline OriginRuntimePtr make_runtime(const std::string& id, int priority, OriginSlot slot, const std::string& root,
                                     HealthThresholds thresholds = {1, 2}, const std::string& type = "local") {
  OriginConfig cfg;
  cfg.id = id;
  cfg.type = type;
  cfg.priority = priority;
  cfg.settings["path"] = root;
  auto origin = std::make_shared<LocalOrigin>(id, type, root);
  return std::make_shared<OriginRuntime>(cfg, slot, origin, thresholds);
}

// Sets an origin's health as if restored from the state store.
inline void set_health(const OriginRuntimePtr& rt, HealthStatus status, uint32_t failures = 0) {
  HealthState s;
  s.status = status;
  s.consecutive_failures = failures;
  rt->restore(s);
}

inline EntryAttr file_attr(uint64_t size, int64_t mtime = 1'700'000'000) {
  EntryAttr a;
  a.type = EntryType::kFile;
  a.mode = 0644;
  a.size = size;
  a.mtime_sec = mtime;
  return a;
}

inline EntryAttr dir_attr() {
  EntryAttr a;
  a.type = EntryType::kDirectory;
  a.mode = 0755;
  return a;
}

// One Federation over temporary local origins, every origin wrapped for fault injection.
// Declaration order matters: the federation is destroyed first, then the event log
// it refers to, then the directories its watchers look at.
struct FedFixture {
  // With `cache_bytes` > 0 the federation gets a content cache of that size.
  explicit FedFixture(HealthConfig health = {}, uint64_t cache_bytes = 0) : health_config(std::move(health)) {
    FederationOptions opts;
    if (cache_bytes > 0) {
      ContentCache::Options co;
      co.dir = dir.mkdir("cache");
      co.capacity_bytes = cache_bytes;
      auto c = ContentCache::open(co);
      REQUIRE(c.ok());
      opts.cache = *c;
    }
    opts.decorate = [](OriginPtr o) -> OriginPtr {
      auto f = std::make_shared<FaultInjectingOrigin>(std::move(o));
      FaultRegistry::instance().add("", f);
      return f;
    };
    opts.io_threads_per_origin = 2;
    fed = std::make_unique<Federation>(dir / "mnt", health_config, events, std::move(opts));
  }
  ~FedFixture() { fed.reset(); }

  // Adds an origin of `type` whose root holds `files` (path -> bytes).
  void add(const std::string& id, int priority, const std::map<std::string, std::string>& files,
           const std::string& type = "local") {
    std::string root = dir.mkdir("origins/" + id);
    for (const auto& [path, bytes] : files) dir.write("origins/" + id + path, bytes);
    OriginConfig cfg;
    cfg.id = id;
    cfg.type = type;
    cfg.priority = priority;
    cfg.settings["path"] = root;
    // With a content cache under test, the local directories stand in for remote
    // origins, which cache by default; a local origin itself does not.
    if (fed->cache() != nullptr) cfg.cache = true;
    Status s = fed->add_origin(cfg);
    INFO((s.ok() ? std::string() : s.error().message));
    REQUIRE(s.ok());
    // Indexing runs in the background; wait for it as `origins add` does.
    fed->wait_index_idle();
  }

  OriginRuntimePtr rt(const std::string& id) const {
    auto r = fed->registry().get(id);
    REQUIRE(r != nullptr);
    return r;
  }
  HealthStatus status(const std::string& id) const { return rt(id)->status.load(); }

  static std::shared_ptr<FaultInjectingOrigin> fault(const std::string& id) {
    auto f = FaultRegistry::instance().find(id);
    REQUIRE(f != nullptr);
    return f;
  }
  static void set_fault(const std::string& id, const std::string& mode, int64_t arg = 0) {
    auto spec = parse_fault_mode(mode, arg, true);
    REQUIRE(spec.ok());
    fault(id)->set_fault(*spec);
  }

  // Opens and reads a whole (small) file through the federation's read path.
  Result<std::string> read(const std::string& path) {
    auto session = fed->open(path);
    if (!session) return session.take_error();
    std::string buf(4096, '\0');
    auto n = fed->read(**session, 0, std::span<char>(buf.data(), buf.size()));
    if (!n) return n.take_error();
    buf.resize(*n);
    return buf;
  }

  test::TempDir dir{"fed"};
  EventLog events;
  HealthConfig health_config;
  std::unique_ptr<Federation> fed;
};

}  // namespace musicfs::test
