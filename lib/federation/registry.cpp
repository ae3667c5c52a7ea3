#include "federation/registry.h"

#include <spdlog/spdlog.h>

namespace musicfs {

OriginRegistry::OriginRegistry() : list_(std::make_shared<const OriginList>()) {}

Result<OriginRuntimePtr> OriginRegistry::register_origin(OriginConfig config, OriginPtr origin,
                                                         HealthThresholds thresholds) {
  std::lock_guard lock(mu_);
  auto cur = list_.load();
  for (const auto& o : *cur) {
    if (o->config.id == config.id) {
      return make_error(ErrorCode::kExists, "origin '" + config.id + "' is already registered");
    }
  }
  OriginSlot slot = 0;
  while (slot < slots_used_.size() && slots_used_[slot]) ++slot;
  if (slot >= 4096) return make_error(ErrorCode::kInvalidArgument, "too many origins (4096)");
  if (slot == slots_used_.size()) slots_used_.push_back(false);
  slots_used_[slot] = true;

  spdlog::info("registering origin {} (type {}, priority {})", config.id, config.type, config.priority);
  auto rt = std::make_shared<OriginRuntime>(std::move(config), slot, std::move(origin), thresholds);
  auto next = std::make_shared<OriginList>(*cur);
  next->push_back(rt);
  list_.store(OriginListPtr(std::move(next)));
  return rt;
}

OriginRuntimePtr OriginRegistry::unregister(const std::string& id) {
  std::vector<std::unique_ptr<WatchHandle>> handles;
  OriginRuntimePtr removed;
  {
    std::lock_guard lock(mu_);
    auto cur = list_.load();
    auto next = std::make_shared<OriginList>();
    for (const auto& o : *cur) {
      if (o->config.id == id) {
        removed = o;
      } else {
        next->push_back(o);
      }
    }
    if (!removed) return nullptr;
    list_.store(OriginListPtr(std::move(next)));
    if (auto it = watch_handles_.find(id); it != watch_handles_.end()) {
      handles = std::move(it->second);
      watch_handles_.erase(it);
    }
  }
  // Oracle fix: the watch handles go with the origin. Destroying them (outside the
  // lock: it joins the watcher thread) closes the inotify descriptor and its watches.
  spdlog::info("unregistering origin {}; dropping {} watch handle(s)", id, handles.size());
  handles.clear();
  return removed;
}

void OriginRegistry::release_slot(OriginSlot slot) {
  std::lock_guard lock(mu_);
  if (slot < slots_used_.size()) slots_used_[slot] = false;
}

void OriginRegistry::register_watch(const std::string& id, std::unique_ptr<WatchHandle> handle) {
  if (!handle) return;
  std::lock_guard lock(mu_);
  watch_handles_[id].push_back(std::move(handle));
}

void OriginRegistry::drop_watches(const std::string& id) {
  std::vector<std::unique_ptr<WatchHandle>> handles;
  {
    std::lock_guard lock(mu_);
    if (auto it = watch_handles_.find(id); it != watch_handles_.end()) {
      handles = std::move(it->second);
      watch_handles_.erase(it);
    }
  }
}

size_t OriginRegistry::watch_handle_count(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = watch_handles_.find(id);
  return it == watch_handles_.end() ? 0 : it->second.size();
}

size_t OriginRegistry::kernel_watch_count(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = watch_handles_.find(id);
  if (it == watch_handles_.end()) return 0;
  size_t n = 0;
  for (const auto& h : it->second) n += h->watch_count();
  return n;
}

OriginRuntimePtr OriginRegistry::get(const std::string& id) const {
  // Named: a range-for over *snapshot() would drop the list before the loop runs.
  const auto list = snapshot();
  for (const auto& o : *list) {
    if (o->config.id == id) return o;
  }
  return nullptr;
}

OriginRuntimePtr OriginRegistry::by_slot(OriginSlot slot) const {
  const auto list = snapshot();
  for (const auto& o : *list) {
    if (o->slot == slot) return o;
  }
  return nullptr;
}

}  // namespace musicfs
