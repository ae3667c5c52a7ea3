#pragma once
// The federated index: one tree of virtual paths, where each node records which
// origins hold it (its replicas) and with what attributes. Directory listings,
// attributes, route-explain's "who has this file" and duplicate detection all come
// from here; only reads go to origins.
//
// Locking: one shared_mutex guards the whole tree. Readers (getattr, readdir, the
// router) take it shared and copy out what they need; the indexer and the watchers
// take it exclusively for short updates. No origin I/O ever happens under it.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "origins/origin.h"

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

class VirtualTree {
 public:
  VirtualTree();
  ~VirtualTree();

  // Records that `slot` holds `path` with `attr`. Missing parents are created as
  // directories held by the same slot.
  void upsert(OriginSlot slot, std::string_view path, const EntryAttr& attr);
  // Drops the slot's replica of path and everything below it; prunes empty nodes.
  void remove(OriginSlot slot, std::string_view path);
  // Replaces everything the slot holds by `entries` (a fresh listing), atomically.
  void replace_origin(OriginSlot slot, const EntryAttr& root_attr, std::vector<ListedEntry> entries);
  void remove_origin(OriginSlot slot);

  // Replicas of a path (empty when nobody holds it).
  std::vector<Replica> replicas(std::string_view path) const;
  // Children of a directory with the type each child has at its first replica.
  std::optional<std::vector<DirEntryView>> list_dir(std::string_view path) const;
  // Which slots hold at least one entry directly below a directory.
  std::vector<OriginSlot> contributors(std::string_view dir) const;
  // Number of non-directory entries the slot holds.
  size_t file_count(OriginSlot slot) const;
  size_t node_count() const;

  // Visits every path the slot holds (used when an origin's index is persisted).
  void for_each(OriginSlot slot, const std::function<void(const std::string&, const EntryAttr&)>& fn) const;

 private:
  struct Node;
  Node* find(std::string_view path) const;
  Node* find_or_create(std::string_view path, OriginSlot slot);
  void remove_locked(OriginSlot slot, Node* node);
  void prune_up(Node* node);
  void insert_locked(OriginSlot slot, std::string_view path, const EntryAttr& attr);

  mutable std::shared_mutex mu_;
  std::unique_ptr<Node> root_;
  std::map<OriginSlot, size_t> files_;  // files per slot
};

}  // namespace musicfs
