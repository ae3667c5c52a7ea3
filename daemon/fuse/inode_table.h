#pragma once
// The FUSE low-level API names files by node id; the federation names them by virtual
// path. The inode table maps between the two for exactly the entries the kernel knows.
//
// An entry is (parent id, name): a path is rebuilt by walking up, so the table costs a
// name and a few counters per entry the kernel holds, not a full path. An entry lives
// while the kernel holds a lookup reference to it (nlookup, given by every reply that
// creates or revives a dentry, returned by forget) or while a child entry names it as
// parent (so a child whose dentry was dropped, an open file say, still has a path).
//
// Node ids are slot numbers, reused once an entry is gone. Each reuse bumps the slot's
// generation, and the pair (id, generation) is what the kernel is told, so an old file
// handle can never be mistaken for the new file (NFS export, should it ever be on).
//
// Thread-safe: one mutex, held only for map work, never across a call to the kernel or
// to the federation.
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/entry_attr.h"

namespace musicfs {

class InodeTable {
 public:
  static constexpr uint64_t kRootId = 1;  // FUSE_ROOT_ID

  struct Ref {
    uint64_t id = 0;
    uint64_t generation = 0;
  };
  // Where the kernel knows a path: its own id (0 when it does not know the entry) and
  // its parent's (0 when it does not know the parent either).
  struct Known {
    uint64_t id = 0;
    uint64_t parent = 0;
    std::string name;
  };

  InodeTable();

  // The kernel was given (or will be given) the entry `name` in directory `parent`:
  // finds or makes it and counts one lookup. nullopt when `parent` is unknown.
  // `told`, when given, is the attributes the reply carries (see told_differs).
  std::optional<Ref> lookup(uint64_t parent, std::string_view name, const EntryAttr* told = nullptr);
  // A getattr reply for `id` carries these attributes.
  void note_told(uint64_t id, const EntryAttr& told);
  // Whether the kernel was last told another size or mtime for file `id` than `now`.
  // Which copy serves a path can change between the kernel's lookup and an open (an
  // origin comes back, fails, is enabled), and the kernel's cached size then cuts or
  // pads reads of the new copy until its invalidation arrives: an open checks here.
  bool told_differs(uint64_t id, const EntryAttr& now) const;
  // The kernel drops `n` lookups of `id`.
  void forget(uint64_t id, uint64_t n);
  // The virtual path of `id` ("/" for the root); nullopt for an id the table does not hold.
  std::optional<std::string> path_of(uint64_t id) const;
  // The virtual path of `name` in directory `parent`, without making an entry.
  std::optional<std::string> child_path(uint64_t parent, std::string_view name) const;
  // What the kernel may cache for a virtual path: for invalidation.
  Known find(std::string_view path) const;

  size_t size() const;  // entries held, the root included

 private:
  struct Entry {
    uint64_t parent = 0;
    std::string name;
    uint64_t nlookup = 0;
    uint32_t children = 0;  // entries whose parent this is
    uint64_t generation = 0;
    bool used = false;
    bool told = false;  // told_* hold what the last reply with attributes said
    uint32_t told_mtime_nsec = 0;
    uint64_t told_size = 0;
    int64_t told_mtime_sec = 0;
  };
  static void set_told(Entry& e, const EntryAttr& a);
  struct Key {
    uint64_t parent;
    std::string_view name;  // points into Entry::name, stable in the deque
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const noexcept;
  };

  std::optional<std::string> path_of_locked(uint64_t id) const;
  uint64_t find_child_locked(uint64_t parent, std::string_view name) const;
  // Frees `id` and, up the chain, every parent that nothing holds any more.
  void release_locked(uint64_t id);
  bool valid_locked(uint64_t id) const { return id < entries_.size() && entries_[id].used; }

  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // index = node id; 0 is never used
  std::vector<uint64_t> free_;
  std::unordered_map<Key, uint64_t, KeyHash> by_name_;
};

}  // namespace musicfs
