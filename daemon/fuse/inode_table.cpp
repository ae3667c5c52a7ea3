#include "fuse/inode_table.h"

#include <algorithm>
#include <functional>

namespace musicfs {

size_t InodeTable::KeyHash::operator()(const Key& k) const noexcept {
  return std::hash<std::string_view>{}(k.name) ^ (std::hash<uint64_t>{}(k.parent) * 0x9e3779b97f4a7c15ULL);
}

InodeTable::InodeTable() {
  entries_.resize(2);
  Entry& root = entries_[kRootId];
  root.used = true;
  root.generation = 1;
  // The kernel never forgets the root; a count that can never reach zero says so.
  root.nlookup = 1;
}

uint64_t InodeTable::find_child_locked(uint64_t parent, std::string_view name) const {
  auto it = by_name_.find(Key{parent, name});
  return it == by_name_.end() ? 0 : it->second;
}

void InodeTable::set_told(Entry& e, const EntryAttr& a) {
  e.told = true;
  e.told_size = a.size;
  e.told_mtime_sec = a.mtime_sec;
  e.told_mtime_nsec = a.mtime_nsec;
}

std::optional<InodeTable::Ref> InodeTable::lookup(uint64_t parent, std::string_view name, const EntryAttr* told) {
  std::lock_guard lock(mu_);
  if (!valid_locked(parent)) return std::nullopt;
  if (uint64_t id = find_child_locked(parent, name); id != 0) {
    Entry& e = entries_[id];
    ++e.nlookup;
    if (told) set_told(e, *told);
    return Ref{id, e.generation};
  }
  uint64_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = entries_.size();
    entries_.emplace_back();
  }
  Entry& e = entries_[id];
  e.used = true;
  e.parent = parent;
  e.name.assign(name);
  e.nlookup = 1;
  e.children = 0;
  e.told = false;
  if (told) set_told(e, *told);
  ++e.generation;
  ++entries_[parent].children;
  by_name_.emplace(Key{parent, e.name}, id);
  return Ref{id, e.generation};
}

void InodeTable::forget(uint64_t id, uint64_t n) {
  std::lock_guard lock(mu_);
  if (id == kRootId || !valid_locked(id)) return;
  Entry& e = entries_[id];
  e.nlookup -= std::min(n, e.nlookup);
  if (e.nlookup == 0 && e.children == 0) release_locked(id);
}

void InodeTable::release_locked(uint64_t id) {
  while (id != kRootId) {
    Entry& e = entries_[id];
    const uint64_t parent = e.parent;
    by_name_.erase(Key{parent, e.name});
    e.used = false;
    e.name.clear();
    e.name.shrink_to_fit();
    e.parent = 0;
    free_.push_back(id);
    Entry& p = entries_[parent];
    --p.children;
    if (p.nlookup != 0 || p.children != 0) return;
    id = parent;
  }
}

std::optional<std::string> InodeTable::path_of_locked(uint64_t id) const {
  if (!valid_locked(id)) return std::nullopt;
  if (id == kRootId) return std::string("/");
  std::vector<const std::string*> parts;
  size_t len = 0;
  for (uint64_t at = id; at != kRootId; at = entries_[at].parent) {
    parts.push_back(&entries_[at].name);
    len += entries_[at].name.size() + 1;
  }
  std::string path;
  path.reserve(len);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
    path += '/';
    path += **it;
  }
  return path;
}

void InodeTable::note_told(uint64_t id, const EntryAttr& told) {
  std::lock_guard lock(mu_);
  if (valid_locked(id)) set_told(entries_[id], told);
}

bool InodeTable::told_differs(uint64_t id, const EntryAttr& now) const {
  std::lock_guard lock(mu_);
  if (!valid_locked(id)) return false;
  const Entry& e = entries_[id];
  return e.told &&
         (e.told_size != now.size || e.told_mtime_sec != now.mtime_sec || e.told_mtime_nsec != now.mtime_nsec);
}

std::optional<std::string> InodeTable::path_of(uint64_t id) const {
  std::lock_guard lock(mu_);
  return path_of_locked(id);
}

std::optional<std::string> InodeTable::child_path(uint64_t parent, std::string_view name) const {
  std::lock_guard lock(mu_);
  auto p = path_of_locked(parent);
  if (!p) return std::nullopt;
  if (p->size() > 1) *p += '/';
  *p += name;
  return p;
}

InodeTable::Known InodeTable::find(std::string_view path) const {
  Known k;
  std::lock_guard lock(mu_);
  if (path.empty() || path == "/") {
    k.id = kRootId;
    return k;
  }
  uint64_t at = kRootId;
  size_t pos = 1;
  for (;;) {
    size_t slash = path.find('/', pos);
    std::string_view part = path.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
    if (slash == std::string_view::npos || slash + 1 == path.size()) {
      k.parent = at;
      k.name.assign(part);
      k.id = find_child_locked(at, part);
      return k;
    }
    at = find_child_locked(at, part);
    if (at == 0) return k;  // the kernel knows no entry below an unknown directory
    pos = slash + 1;
  }
}

size_t InodeTable::size() const {
  std::lock_guard lock(mu_);
  return by_name_.size() + 1;
}

}  // namespace musicfs
