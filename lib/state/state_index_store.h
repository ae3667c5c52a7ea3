#pragma once
// The federation's IndexStore for one mount, over the daemon's state store.
#include <string>
#include <utility>

#include "index/index_store.h"
#include "state/state_store.h"

namespace musicfs {

class StateIndexStore : public IndexStore {
 public:
  StateIndexStore(StateStore& store, std::string mount) : store_(store), mount_(std::move(mount)) {}

  Result<PersistedIndex> load(const std::string& origin, const std::function<void(ListedEntry&&)>& sink) override {
    return store_.load_index(mount_, origin, sink);
  }
  void save_changes(const std::string& origin, std::vector<IndexDelta> deltas) override {
    store_.save_index_changes(mount_, origin, std::move(deltas));
  }
  void mark_complete(const std::string& origin, const EntryAttr& root) override {
    store_.mark_index_complete(mount_, origin, root);
  }
  void forget(const std::string& origin) override { store_.forget_index(mount_, origin); }
  bool has_entries(const std::string& origin) override {
    auto r = store_.index_has_entries(mount_, origin);
    return r && *r;
  }
  Result<size_t> load_tags(const std::string& origin, const std::function<void(TagRecord&&)>& sink) override {
    return store_.load_tags(mount_, origin, sink);
  }
  void save_tags(const std::string& origin, std::vector<TagRecord> records) override {
    store_.save_tags(mount_, origin, std::move(records));
  }

 private:
  StateStore& store_;
  const std::string mount_;
};

}  // namespace musicfs
