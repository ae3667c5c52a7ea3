#pragma once
// The federated index: one tree of virtual paths, where each node records which
// origins hold it (its replicas) and with what attributes. Directory listings,
// attributes, route-explain's "who has this file" and duplicate detection all come
// from here; only reads go to origins.
//
// Locking: one shared_mutex guards the whole tree. Readers (getattr, readdir, the
// router) take it shared and copy out what they need; the indexer and the watchers
// take it exclusively for short updates. No origin I/O ever happens under it.
//
// Memory: a library has millions of files, so a node is one allocation of 64 bytes
// plus its name (children in a sorted array, the first replica inline, attributes
// packed into 32 bytes, symlink targets in a side table). See virtual_tree.cpp.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/entry_attr.h"

namespace musicfs {

using OriginSlot = uint16_t;

struct Replica {
  OriginSlot slot = 0;
  EntryAttr attr;
};

struct DirEntryView {
  std::string name;
  EntryType type = EntryType::kFile;
};

struct DirEntryAttr {
  std::string name;
  EntryAttr attr;
};

// One thing an update did to the entries of one slot, reported so that the caller can
// persist it, drop kernel caches and tell the content cache, all outside the lock.
struct TreeChange {
  enum class Kind : uint8_t { kAdded, kChanged, kRemoved };
  Kind kind = Kind::kAdded;
  std::string path;
  EntryAttr attr;  // the new attributes; for kRemoved the last known ones
  // kChanged only: the type changed, or a non-directory's size or mtime did; that is
  // what makes cached content of the path stale (a mode change does not).
  bool content_changed = false;
};
using TreeChanges = std::vector<TreeChange>;

class VirtualTree {
 public:
  VirtualTree();
  ~VirtualTree();
  VirtualTree(const VirtualTree&) = delete;
  VirtualTree& operator=(const VirtualTree&) = delete;

  // Records that `slot` holds `path` with `attr`. Missing parents are created as
  // directories held by the same slot. A path whose type changes (a file replaced by
  // a directory) loses the slot's old subtree first. `changes` (optional) receives
  // what actually changed: nothing when the attributes are the same as before.
  void upsert(OriginSlot slot, std::string_view path, const EntryAttr& attr, TreeChanges* changes = nullptr);
  // Drops the slot's replica of path and everything below it; prunes empty nodes.
  void remove(OriginSlot slot, std::string_view path, TreeChanges* changes = nullptr);
  // Sets the attributes of the root for the slot (the slot then holds "/").
  void set_root(OriginSlot slot, const EntryAttr& attr);
  void remove_origin(OriginSlot slot);

  // A full listing of one slot, diffed against what the tree holds, in three steps:
  // begin_listing, apply_listed for each batch of entries (parents before children, as
  // Origin::list streams them), then end_listing once the listing completed, which
  // removes whatever the slot held that the listing did not show. A listing that
  // failed simply never calls end_listing: nothing is removed. One listing per slot
  // at a time (the indexer thread runs them).
  void begin_listing(OriginSlot slot);
  void apply_listed(OriginSlot slot, std::vector<ListedEntry>& batch, TreeChanges* changes);
  void end_listing(OriginSlot slot, TreeChanges* changes);
  // The three steps at once, for a listing already in memory.
  void replace_origin(OriginSlot slot, const EntryAttr& root_attr, std::vector<ListedEntry> entries,
                      TreeChanges* changes = nullptr);

  // Replicas of a path (empty when nobody holds it).
  std::vector<Replica> replicas(std::string_view path) const;
  // Children of a directory with the type each child has at its first replica.
  std::optional<std::vector<DirEntryView>> list_dir(std::string_view path) const;
  // Children of a directory with their attributes at the first slot of `ranked` that
  // holds each (at their first replica when none of those does): a listing with every
  // entry's attributes, under one lock, for READDIRPLUS.
  std::optional<std::vector<DirEntryAttr>> list_dir_attrs(std::string_view path,
                                                          const std::vector<OriginSlot>& ranked) const;
  // Which slots hold at least one entry directly below a directory.
  std::vector<OriginSlot> contributors(std::string_view dir) const;
  // Number of non-directory entries the slot holds.
  size_t file_count(OriginSlot slot) const;
  // Number of distinct non-directory paths, however many origins hold each: what the
  // tree shows (a walk of the whole tree; for replies, not for hot paths).
  size_t distinct_file_count() const;
  size_t node_count() const;
  // The mtime a merged directory shows: the newest of every origin's copy of it and
  // of every copy of every entry directly in it, for a directory changed when any of
  // those did (a file added on origin 2, a track re-tagged in place), and a scanner
  // that skips folders whose mtime did not move must look into it. nullopt when
  // nobody holds `dir`. Every reply that gives a directory's attributes uses this.
  std::optional<std::pair<int64_t, uint32_t>> merged_directory_mtime(std::string_view dir) const;

  // Visits every path the slot holds below the root, parents before children. Runs
  // under the shared lock: fn must not call back into the tree.
  void for_each(OriginSlot slot, const std::function<void(const std::string&, const EntryAttr&)>& fn) const;
  // Visits every path that shows as a regular file, with each replica that holds it
  // as one, parents' files before children's. Under the shared lock, like for_each.
  void for_each_file(const std::function<void(const std::string&, const std::vector<Replica>&)>& fn) const;
  // Grows with every change made to the tree (never shrinks): a reader that saw the
  // same count twice saw the same tree, so a view built from it need not be rebuilt.
  uint64_t change_count() const { return change_count_.load(std::memory_order_relaxed); }

 private:
  struct Node;
  struct PackedAttr;
  struct SlotState {
    size_t files = 0;
    // Listing generation: apply_listed stamps every replica it sees with it, and
    // end_listing removes those still carrying an older one.
    uint32_t generation = 0;
  };
  struct SymlinkKey {
    const Node* node;
    OriginSlot slot;
    bool operator==(const SymlinkKey&) const = default;
  };
  struct SymlinkKeyHash {
    size_t operator()(const SymlinkKey& k) const noexcept;
  };

  Node* find(std::string_view path) const;
  Node* find_or_create(std::string_view path, OriginSlot slot, TreeChanges* changes);
  void set_locked(OriginSlot slot, Node* node, std::string_view path, const EntryAttr& attr, TreeChanges* changes);
  void remove_below(OriginSlot slot, Node* node, std::string& path, TreeChanges* changes);
  void drop_replica(OriginSlot slot, Node* node, std::string_view path, TreeChanges* changes);
  void prune_up(Node* node);
  static std::pair<int64_t, uint32_t> merged_directory_mtime_locked(const Node* node);
  void collect_stale(const Node* node, OriginSlot slot, uint32_t generation, std::string& path,
                     std::vector<std::string>& out) const;
  EntryAttr unpack(const PackedAttr& p, const Node* node) const;
  void store(PackedAttr& p, const Node* node, const EntryAttr& attr);
  void forget_target(const Node* node, OriginSlot slot);

  mutable std::shared_mutex mu_;
  std::atomic<uint64_t> change_count_{0};
  Node* root_;
  std::map<OriginSlot, SlotState> slots_;
  std::unordered_map<SymlinkKey, std::string, SymlinkKeyHash> symlink_targets_;
};

}  // namespace musicfs
