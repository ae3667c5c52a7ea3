#include "layout/layout_tree.h"

#include <algorithm>
#include <numeric>
#include <tuple>

#include "layout/layout_placement.h"
#include "util/virtual_path.h"

namespace musicfs {

namespace {

using Mtime = std::pair<int64_t, uint32_t>;  // seconds, nanoseconds

size_t depth_of(std::string_view path) {
  return path == "/" ? 0 : static_cast<size_t>(std::count(path.begin(), path.end(), '/'));
}

// Sorted by path; of two sources of one path the newest is kept, so which one wins
// does not depend on the order they came in.
void sort_and_dedupe(std::vector<LayoutSource>& sources) {
  std::erase_if(sources, [](const LayoutSource& s) { return s.attr.type != EntryType::kFile; });
  std::sort(sources.begin(), sources.end(), [](const LayoutSource& a, const LayoutSource& b) {
    return std::tie(a.path, b.attr.mtime_sec, b.attr.mtime_nsec, b.attr.size) <
           std::tie(b.path, a.attr.mtime_sec, a.attr.mtime_nsec, a.attr.size);
  });
  sources.erase(std::unique(sources.begin(), sources.end(),
                            [](const LayoutSource& a, const LayoutSource& b) { return a.path == b.path; }),
                sources.end());
}

}  // namespace

std::shared_ptr<const LayoutTree> LayoutTree::build(const LayoutTemplate& tmpl, std::vector<LayoutSource> sources,
                                                    const LayoutTree* previous, int64_t now) {
  sort_and_dedupe(sources);
  std::vector<PlacedFile> placed = place_sources(tmpl, sources);
  std::sort(placed.begin(), placed.end(), [](const PlacedFile& a, const PlacedFile& b) { return a.vpath < b.vpath; });

  std::shared_ptr<LayoutTree> tree(new LayoutTree);
  tree->files_.reserve(placed.size());
  std::vector<Mtime> file_mtimes;
  file_mtimes.reserve(placed.size());
  for (PlacedFile& p : placed) {
    const LayoutSource& s = sources[p.source];
    tree->files_.push_back({std::move(p.vpath), s.path});
    file_mtimes.emplace_back(s.attr.mtime_sec, s.attr.mtime_nsec);
    if (p.is_track) ++tree->shown_tracks_;
  }
  tree->by_source_.resize(tree->files_.size());
  std::iota(tree->by_source_.begin(), tree->by_source_.end(), 0U);
  const auto& files = tree->files_;
  std::sort(tree->by_source_.begin(), tree->by_source_.end(), [&](uint32_t a, uint32_t b) {
    return std::tie(files[a].source, files[a].vpath) < std::tie(files[b].source, files[b].vpath);
  });
  tree->add_directories();
  tree->set_mtimes(file_mtimes, previous, now);
  return tree;
}

LayoutTree::Directory& LayoutTree::directory_for(std::string_view path) {
  auto it = directories_.find(path);
  if (it != directories_.end()) return it->second;
  auto [parent, name] = split_parent(path);
  // Node-based map: the parent's reference survives the insertion below.
  directory_for(parent).entries.push_back({std::string(name), EntryType::kDirectory, kNotAFile});
  return directories_.emplace(std::string(path), Directory{}).first->second;
}

void LayoutTree::add_directories() {
  directories_.emplace("/", Directory{});
  for (uint32_t i = 0; i < files_.size(); ++i) {
    auto [dir, name] = split_parent(files_[i].vpath);
    directory_for(dir).entries.push_back({std::string(name), EntryType::kFile, i});
  }
  for (auto& [path, dir] : directories_) {
    std::sort(dir.entries.begin(), dir.entries.end(), [](const Entry& a, const Entry& b) { return a.name < b.name; });
  }
}

void LayoutTree::set_mtimes(const std::vector<Mtime>& file_mtimes, const LayoutTree* previous, int64_t now) {
  // Deepest first, so a subdirectory's mtime is known before its parent's.
  std::vector<std::pair<size_t, Directories::value_type*>> order;
  order.reserve(directories_.size());
  for (auto& d : directories_) order.emplace_back(depth_of(d.first), &d);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second->first < b.second->first;
  });
  for (auto& [depth, node] : order) {
    const std::string& path = node->first;
    Directory& dir = node->second;
    Mtime newest{0, 0};
    for (const Entry& e : dir.entries) {
      if (e.type == EntryType::kFile) {
        newest = std::max(newest, file_mtimes[e.file]);
      } else {
        const Directory& sub = directories_.find(join_virtual(path, e.name))->second;
        newest = std::max(newest, Mtime{sub.mtime_sec, sub.mtime_nsec});
      }
    }
    if (previous != nullptr) {
      const Directory* before = previous->find_directory(path);
      if (before != nullptr && same_entries(*this, dir, *previous, *before)) {
        newest = {before->mtime_sec, before->mtime_nsec};
      } else {
        newest = std::max(newest, Mtime{now, 0});
      }
    }
    dir.mtime_sec = newest.first;
    dir.mtime_nsec = newest.second;
  }
}

bool LayoutTree::same_entries(const LayoutTree& a, const Directory& da, const LayoutTree& b, const Directory& db) {
  if (da.entries.size() != db.entries.size()) return false;
  for (size_t i = 0; i < da.entries.size(); ++i) {
    const Entry& ea = da.entries[i];
    const Entry& eb = db.entries[i];
    if (ea.name != eb.name || ea.type != eb.type) return false;
    if (ea.type == EntryType::kFile && a.files_[ea.file].source != b.files_[eb.file].source) return false;
  }
  return true;
}

const LayoutTree::Directory* LayoutTree::find_directory(std::string_view vpath) const {
  auto it = directories_.find(vpath);
  return it == directories_.end() ? nullptr : &it->second;
}

const std::string* LayoutTree::source_of(std::string_view vpath) const {
  auto it = std::lower_bound(files_.begin(), files_.end(), vpath,
                             [](const LayoutFile& f, std::string_view v) { return f.vpath < v; });
  return it != files_.end() && it->vpath == vpath ? &it->source : nullptr;
}

bool LayoutTree::is_directory(std::string_view vpath) const { return vpath == "/" || find_directory(vpath); }

std::optional<std::vector<std::pair<std::string, EntryType>>> LayoutTree::list(std::string_view vpath) const {
  const Directory* dir = find_directory(vpath);
  if (dir == nullptr) return std::nullopt;
  std::vector<std::pair<std::string, EntryType>> out;
  out.reserve(dir->entries.size());
  for (const Entry& e : dir->entries) out.emplace_back(e.name, e.type);
  return out;
}

std::optional<EntryAttr> LayoutTree::directory_attr(std::string_view vpath) const {
  const Directory* dir = find_directory(vpath);
  if (dir == nullptr) return std::nullopt;
  EntryAttr attr;
  attr.type = EntryType::kDirectory;
  attr.mode = 0555;
  attr.mtime_sec = dir->mtime_sec;
  attr.mtime_nsec = dir->mtime_nsec;
  return attr;
}

std::vector<std::string> LayoutTree::vpaths_of(std::string_view source_path) const {
  auto it = std::lower_bound(by_source_.begin(), by_source_.end(), source_path,
                             [&](uint32_t i, std::string_view s) { return files_[i].source < s; });
  std::vector<std::string> out;
  for (; it != by_source_.end() && files_[*it].source == source_path; ++it) out.push_back(files_[*it].vpath);
  return out;
}

}  // namespace musicfs
