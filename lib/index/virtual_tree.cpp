#include "index/virtual_tree.h"
#include "util/virtual_path.h"

#include <algorithm>
#include <tuple>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

namespace musicfs {

// A replica's attributes in 32 bytes. Modes are permission bits (07777), so 16 bits
// hold them; symlink targets live in symlink_targets_, keyed by (node, slot).
struct VirtualTree::PackedAttr {
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  uint32_t generation = 0;  // see SlotState::generation
  OriginSlot slot = 0;
  uint16_t mode = 0;
  EntryType type = EntryType::kFile;
  uint8_t reserved = 0;
};

// One path component. Allocated with malloc as one block: the node, then its name
// (not NUL-terminated). Children are a sorted array of pointers whose capacity is
// always std::bit_ceil(nkids), so it needs no capacity field; most nodes are files
// with no children and no array at all. The first replica is inline because almost
// every path has exactly one; further replicas live in `more`.
struct VirtualTree::Node {
  static_assert(sizeof(PackedAttr) == 32, "a replica's attributes must stay 32 bytes");

  Node* parent = nullptr;
  Node** kids = nullptr;
  PackedAttr* more = nullptr;  // nreplicas - 1 entries
  uint32_t nkids = 0;
  uint16_t name_len = 0;
  uint16_t nreplicas = 0;
  PackedAttr first;

  static Node* create(Node* parent, std::string_view name) {
    void* mem = std::malloc(sizeof(Node) + name.size());
    if (mem == nullptr) throw std::bad_alloc();
    Node* n = new (mem) Node();
    n->parent = parent;
    n->name_len = static_cast<uint16_t>(name.size());
    if (!name.empty()) std::memcpy(n + 1, name.data(), name.size());
    return n;
  }
  static void destroy(Node* n) {
    std::free(n->kids);
    std::free(n->more);
    n->~Node();
    std::free(n);
  }

  std::string_view name() const { return {reinterpret_cast<const char*>(this + 1), name_len}; }
  bool empty() const { return nreplicas == 0 && nkids == 0; }

  // --- children ---
  static size_t capacity(uint32_t n) { return n == 0 ? 0 : std::bit_ceil(n); }
  // Index of the first child whose name is not less than `name`.
  uint32_t lower_bound(std::string_view name) const {
    Node** end = kids + nkids;
    Node** it = std::lower_bound(kids, end, name, [](const Node* k, std::string_view n) { return k->name() < n; });
    return static_cast<uint32_t>(it - kids);
  }
  Node* child(std::string_view name) const {
    if (nkids == 0) return nullptr;
    uint32_t pos = lower_bound(name);
    return pos < nkids && kids[pos]->name() == name ? kids[pos] : nullptr;
  }
  Node* child_or_create(std::string_view name) {
    // Listings and loads mostly arrive in name order: appending is the common case.
    uint32_t pos = nkids;
    if (nkids > 0 && !(kids[nkids - 1]->name() < name)) {
      pos = lower_bound(name);
      if (pos < nkids && kids[pos]->name() == name) return kids[pos];
    }
    Node* kid = create(this, name);
    if (nkids == capacity(nkids)) {
      size_t cap = capacity(nkids + 1);
      auto* grown = static_cast<Node**>(std::realloc(kids, cap * sizeof(Node*)));
      if (grown == nullptr) {
        destroy(kid);
        throw std::bad_alloc();
      }
      kids = grown;
    }
    std::memmove(kids + pos + 1, kids + pos, (nkids - pos) * sizeof(Node*));
    kids[pos] = kid;
    ++nkids;
    return kid;
  }
  void erase_child_at(uint32_t pos) {
    std::memmove(kids + pos, kids + pos + 1, (nkids - pos - 1) * sizeof(Node*));
    --nkids;
    if (nkids == 0) {
      std::free(kids);
      kids = nullptr;
    } else if (std::has_single_bit(nkids)) {
      // Shrinking cannot really fail; if it did, a larger array than needed is harmless.
      if (auto* shrunk = static_cast<Node**>(std::realloc(kids, nkids * sizeof(Node*)))) kids = shrunk;
    }
  }
  void erase_child(const Node* kid) {
    uint32_t pos = lower_bound(kid->name());
    if (pos < nkids && kids[pos] == kid) erase_child_at(pos);
  }

  // --- replicas ---
  PackedAttr& replica_at(size_t i) { return i == 0 ? first : more[i - 1]; }
  const PackedAttr& replica_at(size_t i) const { return i == 0 ? first : more[i - 1]; }
  PackedAttr* replica(OriginSlot slot) {
    for (size_t i = 0; i < nreplicas; ++i) {
      if (replica_at(i).slot == slot) return &replica_at(i);
    }
    return nullptr;
  }
  const PackedAttr* replica(OriginSlot slot) const { return const_cast<Node*>(this)->replica(slot); }
  PackedAttr& add_replica(OriginSlot slot) {
    if (nreplicas > 0) {
      auto* grown = static_cast<PackedAttr*>(std::realloc(more, nreplicas * sizeof(PackedAttr)));
      if (grown == nullptr) throw std::bad_alloc();
      more = grown;
    }
    PackedAttr& r = replica_at(nreplicas);
    r = PackedAttr();
    r.slot = slot;
    ++nreplicas;
    return r;
  }
  // Keeps the others in order: list_dir shows a child's type at its first replica.
  void erase_replica(OriginSlot slot) {
    size_t i = 0;
    while (i < nreplicas && replica_at(i).slot != slot) ++i;
    if (i == nreplicas) return;
    for (; i + 1 < nreplicas; ++i) replica_at(i) = replica_at(i + 1);
    --nreplicas;
    if (nreplicas <= 1) {
      std::free(more);
      more = nullptr;
    } else if (auto* shrunk = static_cast<PackedAttr*>(std::realloc(more, (nreplicas - 1) * sizeof(PackedAttr)))) {
      more = shrunk;
    }
  }
};

namespace {

EntryAttr directory_attr() {
  EntryAttr a;
  a.type = EntryType::kDirectory;
  a.mode = 0755;
  return a;
}

bool counts_as_file(EntryType t) { return t != EntryType::kDirectory; }

TreeChange change(TreeChange::Kind kind, std::string_view path, EntryAttr attr, bool content = false) {
  TreeChange c;
  c.kind = kind;
  c.path = std::string(path);
  c.attr = std::move(attr);
  c.content_changed = content;
  return c;
}
}  // namespace

size_t VirtualTree::SymlinkKeyHash::operator()(const SymlinkKey& k) const noexcept {
  return std::hash<const void*>()(k.node) ^ (static_cast<size_t>(k.slot) * 0x9E3779B97F4A7C15ULL);
}

VirtualTree::VirtualTree() : root_(Node::create(nullptr, {})) {
  static_assert(sizeof(Node) == 64, "a node must stay 64 bytes plus its name");
}

VirtualTree::~VirtualTree() {
  auto free_all = [](auto& self, Node* n) -> void {
    for (uint32_t i = 0; i < n->nkids; ++i) self(self, n->kids[i]);
    Node::destroy(n);
  };
  free_all(free_all, root_);
}

EntryAttr VirtualTree::unpack(const PackedAttr& p, const Node* node) const {
  EntryAttr a;
  a.type = p.type;
  a.mode = p.mode;
  a.size = p.size;
  a.mtime_sec = p.mtime_sec;
  a.mtime_nsec = p.mtime_nsec;
  if (p.type == EntryType::kSymlink) {
    auto it = symlink_targets_.find({node, p.slot});
    if (it != symlink_targets_.end()) a.symlink_target = it->second;
  }
  return a;
}

void VirtualTree::store(PackedAttr& p, const Node* node, const EntryAttr& attr) {
  if (p.type == EntryType::kSymlink && attr.type != EntryType::kSymlink) forget_target(node, p.slot);
  p.type = attr.type;
  p.mode = static_cast<uint16_t>(attr.mode & 07777);
  p.size = attr.size;
  p.mtime_sec = attr.mtime_sec;
  p.mtime_nsec = attr.mtime_nsec;
  if (attr.type == EntryType::kSymlink) symlink_targets_[{node, p.slot}] = attr.symlink_target;
}

void VirtualTree::forget_target(const Node* node, OriginSlot slot) { symlink_targets_.erase({node, slot}); }

VirtualTree::Node* VirtualTree::find(std::string_view path) const {
  Node* n = root_;
  bool ok = for_each_component(path, [&](std::string_view comp, size_t) {
    n = n->child(comp);
    return n != nullptr;
  });
  return ok ? n : nullptr;
}

VirtualTree::Node* VirtualTree::find_or_create(std::string_view path, OriginSlot slot, TreeChanges* changes) {
  const uint32_t generation = slots_[slot].generation;
  Node* n = root_;
  size_t consumed = 0;  // path[0, consumed) is n's path
  bool ok = for_each_component(path, [&](std::string_view comp, size_t end) {
    if (comp.size() > UINT16_MAX) return false;  // no filesystem has such names
    // A parent on the way down is a directory this slot holds (and, in a listing,
    // one it has just shown, since listings stream parents first).
    if (PackedAttr* r = n->replica(slot)) {
      r->generation = generation;
    } else {
      PackedAttr& added = n->add_replica(slot);
      store(added, n, directory_attr());
      added.generation = generation;
      if (changes != nullptr && n != root_) {
        changes->push_back(change(TreeChange::Kind::kAdded, path.substr(0, consumed), directory_attr()));
      }
    }
    n = n->child_or_create(comp);
    consumed = end;
    return true;
  });
  return ok ? n : nullptr;
}

void VirtualTree::set_locked(OriginSlot slot, Node* node, std::string_view path, const EntryAttr& attr,
                             TreeChanges* changes) {
  SlotState& state = slots_[slot];
  PackedAttr* r = node->replica(slot);
  if (r == nullptr) {
    PackedAttr& added = node->add_replica(slot);
    store(added, node, attr);
    added.generation = state.generation;
    if (counts_as_file(attr.type)) ++state.files;
    if (changes != nullptr) changes->push_back(change(TreeChange::Kind::kAdded, path, attr));
    return;
  }
  r->generation = state.generation;
  bool same = r->type == attr.type && r->mode == (attr.mode & 07777) && r->size == attr.size &&
              r->mtime_sec == attr.mtime_sec && r->mtime_nsec == attr.mtime_nsec;
  if (same && attr.type == EntryType::kSymlink) {
    auto it = symlink_targets_.find({node, slot});
    same = it != symlink_targets_.end() && it->second == attr.symlink_target;
  }
  if (same) return;
  const EntryType old_type = r->type;
  const bool content = old_type != attr.type ||
                       (attr.type != EntryType::kDirectory && (r->size != attr.size || r->mtime_sec != attr.mtime_sec ||
                                                                r->mtime_nsec != attr.mtime_nsec));
  if (old_type != attr.type) {
    // What the slot held below the old entry is gone with it. (Removing descendants
    // touches only child nodes, never this node's replicas, so r stays valid.)
    std::string p(path);
    remove_below(slot, node, p, changes);
  }
  if (counts_as_file(old_type) && !counts_as_file(attr.type)) --state.files;
  if (!counts_as_file(old_type) && counts_as_file(attr.type)) ++state.files;
  store(*r, node, attr);
  if (changes != nullptr) changes->push_back(change(TreeChange::Kind::kChanged, path, attr, content));
}

void VirtualTree::upsert(OriginSlot slot, std::string_view path, const EntryAttr& attr, TreeChanges* changes) {
  std::unique_lock lock(mu_);
  change_count_.fetch_add(1, std::memory_order_relaxed);
  Node* n = find_or_create(path, slot, changes);
  if (n == nullptr) return;
  if (n == root_) {
    if (PackedAttr* r = n->replica(slot)) {
      store(*r, n, attr);
    } else {
      store(n->add_replica(slot), n, attr);
    }
    return;
  }
  set_locked(slot, n, path, attr, changes);
}

void VirtualTree::drop_replica(OriginSlot slot, Node* node, std::string_view path, TreeChanges* changes) {
  PackedAttr* r = node->replica(slot);
  if (r == nullptr) return;
  if (changes != nullptr && node != root_) {
    changes->push_back(change(TreeChange::Kind::kRemoved, path, unpack(*r, node)));
  }
  if (counts_as_file(r->type)) {
    auto it = slots_.find(slot);
    if (it != slots_.end() && it->second.files > 0) --it->second.files;
  }
  if (r->type == EntryType::kSymlink) forget_target(node, slot);
  node->erase_replica(slot);
}

void VirtualTree::remove_below(OriginSlot slot, Node* node, std::string& path, TreeChanges* changes) {
  uint32_t kept = 0;
  for (uint32_t i = 0; i < node->nkids; ++i) {
    Node* kid = node->kids[i];
    const size_t len = path.size();
    path += '/';
    path += kid->name();
    remove_below(slot, kid, path, changes);
    drop_replica(slot, kid, path, changes);
    path.resize(len);
    if (kid->empty()) {
      Node::destroy(kid);
    } else {
      node->kids[kept++] = kid;
    }
  }
  // Compacted in place; erase the tail one by one so the array keeps its exact capacity.
  while (node->nkids > kept) node->erase_child_at(node->nkids - 1);
}

void VirtualTree::prune_up(Node* node) {
  while (node != nullptr && node != root_ && node->empty()) {
    Node* parent = node->parent;
    parent->erase_child(node);
    Node::destroy(node);
    node = parent;
  }
}

void VirtualTree::remove(OriginSlot slot, std::string_view path, TreeChanges* changes) {
  std::unique_lock lock(mu_);
  change_count_.fetch_add(1, std::memory_order_relaxed);
  Node* n = find(path);
  if (n == nullptr) return;
  std::string p = n == root_ ? std::string() : std::string(path);
  remove_below(slot, n, p, changes);
  drop_replica(slot, n, path, changes);
  prune_up(n);
}

void VirtualTree::set_root(OriginSlot slot, const EntryAttr& attr) {
  std::unique_lock lock(mu_);
  change_count_.fetch_add(1, std::memory_order_relaxed);
  SlotState& state = slots_[slot];
  PackedAttr* r = root_->replica(slot);
  if (r == nullptr) r = &root_->add_replica(slot);
  store(*r, root_, attr);
  r->generation = state.generation;
}

void VirtualTree::remove_origin(OriginSlot slot) {
  std::unique_lock lock(mu_);
  change_count_.fetch_add(1, std::memory_order_relaxed);
  std::string p;
  remove_below(slot, root_, p, nullptr);
  drop_replica(slot, root_, "/", nullptr);
  slots_.erase(slot);
}

void VirtualTree::begin_listing(OriginSlot slot) {
  std::unique_lock lock(mu_);
  change_count_.fetch_add(1, std::memory_order_relaxed);
  ++slots_[slot].generation;
}

void VirtualTree::apply_listed(OriginSlot slot, std::vector<ListedEntry>& batch, TreeChanges* changes) {
  std::unique_lock lock(mu_);
  change_count_.fetch_add(1, std::memory_order_relaxed);
  for (const auto& e : batch) {
    Node* n = find_or_create(e.path, slot, changes);
    if (n == nullptr || n == root_) continue;
    set_locked(slot, n, e.path, e.attr, changes);
  }
}

void VirtualTree::collect_stale(const Node* node, OriginSlot slot, uint32_t generation, std::string& path,
                                std::vector<std::string>& out) const {
  for (uint32_t i = 0; i < node->nkids; ++i) {
    const Node* kid = node->kids[i];
    const PackedAttr* r = kid->replica(slot);
    // Nothing of the slot lies below a node the slot does not hold.
    if (r == nullptr) continue;
    const size_t len = path.size();
    path += '/';
    path += kid->name();
    if (r->generation != generation) {
      out.push_back(path);  // its whole subtree goes with it
    } else {
      collect_stale(kid, slot, generation, path, out);
    }
    path.resize(len);
  }
}

void VirtualTree::end_listing(OriginSlot slot, TreeChanges* changes) {
  // Finding what the listing did not show walks the whole slot; do that under the
  // shared lock so readers keep going, and lock exclusively only to remove.
  std::vector<std::string> stale;
  uint32_t generation = 0;
  {
    std::shared_lock lock(mu_);
    auto it = slots_.find(slot);
    if (it == slots_.end()) return;
    generation = it->second.generation;
    std::string path;
    collect_stale(root_, slot, generation, path, stale);
  }
  if (stale.empty()) return;
  std::unique_lock lock(mu_);
  change_count_.fetch_add(1, std::memory_order_relaxed);
  for (auto& p : stale) {
    Node* n = find(p);
    if (n == nullptr) continue;
    const PackedAttr* r = n->replica(slot);
    if (r == nullptr || r->generation == generation) continue;
    remove_below(slot, n, p, changes);
    drop_replica(slot, n, p, changes);
    prune_up(n);
  }
}

void VirtualTree::replace_origin(OriginSlot slot, const EntryAttr& root_attr, std::vector<ListedEntry> entries,
                                 TreeChanges* changes) {
  begin_listing(slot);
  set_root(slot, root_attr);
  apply_listed(slot, entries, changes);
  end_listing(slot, changes);
}

std::vector<Replica> VirtualTree::replicas(std::string_view path) const {
  std::shared_lock lock(mu_);
  const Node* n = find(path);
  std::vector<Replica> out;
  if (n == nullptr) return out;
  out.reserve(n->nreplicas);
  for (size_t i = 0; i < n->nreplicas; ++i) {
    const PackedAttr& r = n->replica_at(i);
    out.push_back({r.slot, unpack(r, n)});
  }
  return out;
}

std::optional<std::vector<DirEntryView>> VirtualTree::list_dir(std::string_view path) const {
  std::shared_lock lock(mu_);
  const Node* n = find(path);
  if (n == nullptr || n->nreplicas == 0) return std::nullopt;
  std::vector<DirEntryView> out;
  out.reserve(n->nkids);
  for (uint32_t i = 0; i < n->nkids; ++i) {
    const Node* kid = n->kids[i];
    if (kid->nreplicas == 0) continue;
    out.push_back({std::string(kid->name()), kid->first.type});
  }
  return out;
}

std::optional<std::vector<DirEntryAttr>> VirtualTree::list_dir_attrs(std::string_view path,
                                                                     const std::vector<OriginSlot>& ranked) const {
  std::shared_lock lock(mu_);
  const Node* n = find(path);
  if (n == nullptr || n->nreplicas == 0) return std::nullopt;
  std::vector<DirEntryAttr> out;
  out.reserve(n->nkids);
  for (uint32_t i = 0; i < n->nkids; ++i) {
    const Node* kid = n->kids[i];
    if (kid->nreplicas == 0) continue;
    const PackedAttr* best = &kid->replica_at(0);
    if (kid->nreplicas > 1) {
      auto rank_of = [&](OriginSlot s) {
        auto it = std::find(ranked.begin(), ranked.end(), s);
        return static_cast<size_t>(it - ranked.begin());
      };
      size_t best_rank = rank_of(best->slot);
      for (size_t j = 1; j < kid->nreplicas; ++j) {
        size_t r = rank_of(kid->replica_at(j).slot);
        if (r < best_rank) {
          best_rank = r;
          best = &kid->replica_at(j);
        }
      }
    }
    DirEntryAttr entry{std::string(kid->name()), unpack(*best, kid)};
    // A listing's directories carry the same merged mtime as their own getattr.
    if (entry.attr.type == EntryType::kDirectory) {
      std::tie(entry.attr.mtime_sec, entry.attr.mtime_nsec) = merged_directory_mtime_locked(kid);
    }
    out.push_back(std::move(entry));
  }
  return out;
}

std::vector<OriginSlot> VirtualTree::contributors(std::string_view dir) const {
  std::shared_lock lock(mu_);
  const Node* n = find(dir);
  std::vector<OriginSlot> out;
  if (n == nullptr) return out;
  for (uint32_t i = 0; i < n->nkids; ++i) {
    const Node* kid = n->kids[i];
    for (size_t j = 0; j < kid->nreplicas; ++j) {
      OriginSlot s = kid->replica_at(j).slot;
      if (std::find(out.begin(), out.end(), s) == out.end()) out.push_back(s);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t VirtualTree::file_count(OriginSlot slot) const {
  std::shared_lock lock(mu_);
  auto it = slots_.find(slot);
  return it == slots_.end() ? 0 : it->second.files;
}

size_t VirtualTree::distinct_file_count() const {
  std::shared_lock lock(mu_);
  size_t count = 0;
  std::vector<const Node*> stack{root_};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    // The type a path shows is its first replica's (list_dir's rule).
    if (n != root_ && n->nreplicas > 0 && counts_as_file(n->first.type)) ++count;
    for (uint32_t i = 0; i < n->nkids; ++i) stack.push_back(n->kids[i]);
  }
  return count;
}

size_t VirtualTree::node_count() const {
  std::shared_lock lock(mu_);
  size_t count = 0;
  std::vector<const Node*> stack{root_};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++count;
    for (uint32_t i = 0; i < n->nkids; ++i) stack.push_back(n->kids[i]);
  }
  return count;
}

void VirtualTree::for_each(OriginSlot slot,
                           const std::function<void(const std::string&, const EntryAttr&)>& fn) const {
  std::shared_lock lock(mu_);
  std::string path;
  auto visit = [&](auto& self, const Node* n) -> void {
    for (uint32_t i = 0; i < n->nkids; ++i) {
      const Node* kid = n->kids[i];
      const PackedAttr* r = kid->replica(slot);
      if (r == nullptr) continue;  // nothing of the slot below it
      const size_t len = path.size();
      path += '/';
      path += kid->name();
      fn(path, unpack(*r, kid));
      self(self, kid);
      path.resize(len);
    }
  };
  visit(visit, root_);
}

void VirtualTree::for_each_file(const std::function<void(const std::string&, const std::vector<Replica>&)>& fn) const {
  std::shared_lock lock(mu_);
  std::string path;
  std::vector<Replica> holders;
  auto visit = [&](auto& self, const Node* n) -> void {
    for (uint32_t i = 0; i < n->nkids; ++i) {
      const Node* kid = n->kids[i];
      const size_t len = path.size();
      path += '/';
      path += kid->name();
      // The type a path shows is its first replica's (list_dir's rule).
      if (kid->nreplicas > 0 && kid->first.type == EntryType::kFile) {
        holders.clear();
        for (size_t j = 0; j < kid->nreplicas; ++j) {
          const PackedAttr& r = kid->replica_at(j);
          if (r.type == EntryType::kFile) holders.push_back({r.slot, unpack(r, kid)});
        }
        fn(path, holders);
      }
      self(self, kid);
      path.resize(len);
    }
  };
  visit(visit, root_);
}

std::pair<int64_t, uint32_t> VirtualTree::merged_directory_mtime_locked(const Node* node) {
  std::pair<int64_t, uint32_t> newest{INT64_MIN, 0};
  auto consider = [&](const Node* n) {
    for (size_t j = 0; j < n->nreplicas; ++j) {
      const PackedAttr& a = n->replica_at(j);
      newest = std::max(newest, std::make_pair(a.mtime_sec, a.mtime_nsec));
    }
  };
  consider(node);
  for (uint32_t i = 0; i < node->nkids; ++i) consider(node->kids[i]);
  return newest;
}

std::optional<std::pair<int64_t, uint32_t>> VirtualTree::merged_directory_mtime(std::string_view dir) const {
  std::shared_lock lock(mu_);
  const Node* n = find(dir);
  if (n == nullptr || n->nreplicas == 0) return std::nullopt;
  return merged_directory_mtime_locked(n);
}

}  // namespace musicfs
