#pragma once
// Where a mount's index is kept between runs, as the federation sees it: the daemon
// implements it over the state store (state/state_index_store.h); unit tests may run
// without one. Writes are asynchronous and take effect in the order they are made;
// a load sees every write made before it.
//
// The federation keeps one invariant: what is persisted for an origin is what the
// tree holds for it, up to the writes still queued. So a rescan only has to persist
// its diff against the tree, and a daemon killed at any moment at worst loads an older
// tree, which its next listing corrects.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/entry_attr.h"
#include "core/error.h"
#include "index/tag_record.h"

namespace musicfs {

// One change to an origin's persisted index: an entry written (added or changed), or
// removed. A removal names each removed path; it does not imply the paths below it.
struct IndexDelta {
  std::string path;
  EntryAttr attr;
  bool removed = false;
};

struct PersistedIndex {
  bool complete = false;   // the rows are a whole listing, not one cut short
  EntryAttr root;          // the origin root's attributes at that listing
  int64_t indexed_at = 0;  // unix time the listing was written, 0 if never
  size_t entries = 0;      // rows streamed to the sink
};

class IndexStore {
 public:
  virtual ~IndexStore() = default;
  // Streams the persisted entries of an origin in path order (parents before children).
  virtual Result<PersistedIndex> load(const std::string& origin, const std::function<void(ListedEntry&&)>& sink) = 0;
  virtual void save_changes(const std::string& origin, std::vector<IndexDelta> deltas) = 0;
  // The rows written so far are a whole listing, taken with this root.
  virtual void mark_complete(const std::string& origin, const EntryAttr& root) = 0;
  virtual void forget(const std::string& origin) = 0;
  // At least one entry is persisted for the origin; cheap, unlike load().
  virtual bool has_entries(const std::string& origin) = 0;

  // Tags (a layout mount's): streamed in path order; written asynchronously like the
  // entries. A removed entry's tags go with it (save_changes), and forget() drops them.
  virtual Result<size_t> load_tags(const std::string& origin, const std::function<void(TagRecord&&)>& sink) = 0;
  virtual void save_tags(const std::string& origin, std::vector<TagRecord> records) = 0;
};

}  // namespace musicfs
