#include "index/virtual_tree.h"

#include <algorithm>
#include <mutex>

namespace musicfs {

struct VirtualTree::Node {
  std::string name;
  Node* parent = nullptr;
  std::vector<Replica> replicas;
  std::map<std::string, std::unique_ptr<Node>, std::less<>> children;

  Replica* replica(OriginSlot slot) {
    for (auto& r : replicas) {
      if (r.slot == slot) return &r;
    }
    return nullptr;
  }
};

namespace {
// Calls fn for each component of a normalized virtual path.
template <typename Fn>
bool for_each_component(std::string_view path, Fn&& fn) {
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (!fn(path.substr(i, j - i))) return false;
    i = j;
  }
  return true;
}

EntryAttr directory_attr() {
  EntryAttr a;
  a.type = EntryType::kDirectory;
  a.mode = 0755;
  return a;
}
}  // namespace

VirtualTree::VirtualTree() : root_(std::make_unique<Node>()) {}
VirtualTree::~VirtualTree() = default;

VirtualTree::Node* VirtualTree::find(std::string_view path) const {
  Node* n = root_.get();
  bool ok = for_each_component(path, [&](std::string_view comp) {
    auto it = n->children.find(comp);
    if (it == n->children.end()) return false;
    n = it->second.get();
    return true;
  });
  return ok ? n : nullptr;
}

VirtualTree::Node* VirtualTree::find_or_create(std::string_view path, OriginSlot slot) {
  Node* n = root_.get();
  for_each_component(path, [&](std::string_view comp) {
    auto it = n->children.find(comp);
    if (it == n->children.end()) {
      auto child = std::make_unique<Node>();
      child->name = std::string(comp);
      child->parent = n;
      it = n->children.emplace(child->name, std::move(child)).first;
    }
    // A parent created on the way down is a directory this slot holds.
    if (n->replica(slot) == nullptr) n->replicas.push_back({slot, directory_attr()});
    n = it->second.get();
    return true;
  });
  return n;
}

void VirtualTree::insert_locked(OriginSlot slot, std::string_view path, const EntryAttr& attr) {
  Node* n = find_or_create(path, slot);
  if (Replica* r = n->replica(slot)) {
    if (r->attr.type != EntryType::kDirectory) --files_[slot];
    r->attr = attr;
  } else {
    n->replicas.push_back({slot, attr});
  }
  if (attr.type != EntryType::kDirectory) ++files_[slot];
}

void VirtualTree::upsert(OriginSlot slot, std::string_view path, const EntryAttr& attr) {
  std::unique_lock lock(mu_);
  // A path that changes type (file replaced by a directory) drops the old subtree first.
  if (Node* n = find(path)) {
    if (Replica* r = n->replica(slot); r != nullptr && r->attr.type != attr.type) remove_locked(slot, n);
  }
  insert_locked(slot, path, attr);
}

void VirtualTree::remove_locked(OriginSlot slot, Node* node) {
  for (auto it = node->children.begin(); it != node->children.end();) {
    Node* child = it->second.get();
    remove_locked(slot, child);
    if (child->replicas.empty() && child->children.empty()) {
      it = node->children.erase(it);
    } else {
      ++it;
    }
  }
  auto& reps = node->replicas;
  for (auto it = reps.begin(); it != reps.end(); ++it) {
    if (it->slot == slot) {
      if (it->attr.type != EntryType::kDirectory) --files_[slot];
      reps.erase(it);
      break;
    }
  }
}

void VirtualTree::prune_up(Node* node) {
  while (node != nullptr && node != root_.get() && node->replicas.empty() && node->children.empty()) {
    Node* parent = node->parent;
    parent->children.erase(node->name);
    node = parent;
  }
}

void VirtualTree::remove(OriginSlot slot, std::string_view path) {
  std::unique_lock lock(mu_);
  Node* n = find(path);
  if (n == nullptr) return;
  remove_locked(slot, n);
  if (n != root_.get()) prune_up(n);
}

void VirtualTree::replace_origin(OriginSlot slot, const EntryAttr& root_attr, std::vector<ListedEntry> entries) {
  std::unique_lock lock(mu_);
  remove_locked(slot, root_.get());
  files_[slot] = 0;
  root_->replicas.push_back({slot, root_attr});
  for (auto& e : entries) insert_locked(slot, e.path, e.attr);
}

void VirtualTree::remove_origin(OriginSlot slot) {
  std::unique_lock lock(mu_);
  remove_locked(slot, root_.get());
  files_.erase(slot);
}

std::vector<Replica> VirtualTree::replicas(std::string_view path) const {
  std::shared_lock lock(mu_);
  Node* n = find(path);
  if (n == nullptr) return {};
  return n->replicas;
}

std::optional<std::vector<DirEntryView>> VirtualTree::list_dir(std::string_view path) const {
  std::shared_lock lock(mu_);
  Node* n = find(path);
  if (n == nullptr || n->replicas.empty()) return std::nullopt;
  std::vector<DirEntryView> out;
  out.reserve(n->children.size());
  for (const auto& [name, child] : n->children) {
    if (child->replicas.empty()) continue;
    out.push_back({name, child->replicas.front().attr.type});
  }
  return out;
}

std::vector<OriginSlot> VirtualTree::contributors(std::string_view dir) const {
  std::shared_lock lock(mu_);
  Node* n = find(dir);
  std::vector<OriginSlot> out;
  if (n == nullptr) return out;
  for (const auto& [name, child] : n->children) {
    for (const auto& r : child->replicas) {
      if (std::find(out.begin(), out.end(), r.slot) == out.end()) out.push_back(r.slot);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

size_t VirtualTree::file_count(OriginSlot slot) const {
  std::shared_lock lock(mu_);
  auto it = files_.find(slot);
  return it == files_.end() ? 0 : it->second;
}

size_t VirtualTree::node_count() const {
  std::shared_lock lock(mu_);
  size_t count = 0;
  std::vector<const Node*> stack{root_.get()};
  while (!stack.empty()) {
    const Node* n = stack.back();
    stack.pop_back();
    ++count;
    for (const auto& [name, child] : n->children) stack.push_back(child.get());
  }
  return count;
}

void VirtualTree::for_each(OriginSlot slot,
                           const std::function<void(const std::string&, const EntryAttr&)>& fn) const {
  std::shared_lock lock(mu_);
  struct Item {
    const Node* node;
    std::string path;
  };
  std::vector<Item> stack{{root_.get(), ""}};
  while (!stack.empty()) {
    Item it = std::move(stack.back());
    stack.pop_back();
    for (const auto& [name, child] : it.node->children) {
      std::string p = it.path + "/" + name;
      for (const auto& r : child->replicas) {
        if (r.slot == slot) fn(p, r.attr);
      }
      stack.push_back({child.get(), std::move(p)});
    }
  }
}

}  // namespace musicfs
