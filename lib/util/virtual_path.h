#pragma once
// Virtual paths name entries inside the federated tree: "/" or "/Artist/Album/01.flac".
// They are never relative, never contain "." or ".." components, and never end in "/"
// (except the root). Every path that comes from outside (a client, a config) goes
// through normalize_virtual_path before it reaches an index or an origin.
#include <string>
#include <string_view>
#include <utility>

#include "util/error.h"

namespace musicfs {

Result<std::string> normalize_virtual_path(std::string_view raw);

// "/a/b/c" -> {"/a/b", "c"}; "/a" -> {"/", "a"}; "/" -> {"/", ""}.
std::pair<std::string_view, std::string_view> split_parent(std::string_view path);

// Joins a normalized virtual path under a parent: ("/a", "b") -> "/a/b", ("/", "b") -> "/b".
std::string join_virtual(std::string_view parent, std::string_view name);

// A single entry name is safe when it is not empty, ".", ".." and has no '/'.
bool is_safe_entry_name(std::string_view name);

}  // namespace musicfs
