#pragma once
// The virtual paths taken while a layout tree is built. Every file must stay visible,
// so a file that wants a taken path gets the first free numbered one instead
// (disambiguate() in name_sanitizer.h): a path that is already a file or a directory,
// and a directory of its path that is already a file, are both taken.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "layout/string_view_hash.h"

namespace musicfs {

class PathClaims {
 public:
  PathClaims();

  // Takes `path` for a file when it is free and every directory of it is free or a
  // directory; false (nothing taken) otherwise.
  bool claim_exact(const std::string& path);

  // Takes the first free path for a file that wants `path`: each directory of it that
  // is a file becomes "dir (2)", "dir (3)"... and then the file's own name is numbered
  // the same way until it is free. Returns the path taken.
  std::string claim_numbered(const std::string& path);

 private:
  enum class Kind : uint8_t { kFile, kDirectory };
  bool is_file(std::string_view path) const;
  void take(const std::string& path);

  std::unordered_map<std::string, Kind, StringViewHash, std::equal_to<>> kinds_;
};

}  // namespace musicfs
