#pragma once
// Virtual paths name entries inside the federated tree: "/" or "/Artist/Album/01.flac".
// They are never relative, never contain "." or ".." components, and never end in "/"
// (except the root). Every path that comes from outside (a client, a config) goes
// through normalize_virtual_path before it reaches an index or an origin.
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace musicfs {

Result<std::string> normalize_virtual_path(std::string_view raw);

// "/a/b/c" -> {"/a/b", "c"}; "/a" -> {"/", "a"}; "/" -> {"/", ""}.
std::pair<std::string_view, std::string_view> split_parent(std::string_view path);

// Joins a normalized virtual path under a parent: ("/a", "b") -> "/a/b", ("/", "b") -> "/b".
std::string join_virtual(std::string_view parent, std::string_view name);

// A single entry name is safe when it is not empty, ".", ".." and has no '/'.
bool is_safe_entry_name(std::string_view name);

// What the tree can serve: the kernel refuses a name longer than NAME_MAX, and a
// local origin cannot open a path of PATH_MAX bytes or more (below its root). The
// indexer leaves out (and counts) entries beyond these limits.
constexpr size_t kMaxEntryNameBytes = 255;
constexpr size_t kMaxPathBytes = 4096;
bool within_path_limits(std::string_view path);

// Calls fn(component, end offset) for each '/'-separated component of `path`, skipping
// empty ones; stops and returns false as soon as fn does.
template <typename Fn>
bool for_each_component(std::string_view path, Fn&& fn) {
  size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    if (i >= path.size()) break;
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (!fn(path.substr(i, j - i), j)) return false;
    i = j;
  }
  return true;
}

}  // namespace musicfs
