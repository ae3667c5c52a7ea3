#include <algorithm>

#include "layout/layout_tree.h"

namespace musicfs {

LayoutDiff diff(const LayoutTree* before, const LayoutTree& after) {
  const LayoutTree empty;
  const LayoutTree& old = before != nullptr ? *before : empty;
  LayoutDiff out;

  // Both file lists are sorted by vpath: one merge walk.
  const auto& a = old.files_;
  const auto& b = after.files_;
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() || j < b.size()) {
    if (j == b.size() || (i < a.size() && a[i].vpath < b[j].vpath)) {
      out.removed.push_back(a[i++].vpath);
    } else if (i == a.size() || b[j].vpath < a[i].vpath) {
      out.added.push_back(b[j++].vpath);
    } else {
      if (a[i].source != b[j].source) {
        out.removed.push_back(a[i].vpath);
        out.added.push_back(b[j].vpath);
      }
      ++i;
      ++j;
    }
  }

  for (const auto& [path, dir] : after.directories_) {
    const LayoutTree::Directory* was = old.find_directory(path);
    if (was == nullptr || !LayoutTree::same_entries(old, *was, after, dir)) out.dirs_changed.push_back(path);
  }
  for (const auto& [path, dir] : old.directories_) {
    if (after.find_directory(path) == nullptr) out.dirs_changed.push_back(path);
  }
  std::sort(out.dirs_changed.begin(), out.dirs_changed.end());
  return out;
}

}  // namespace musicfs
