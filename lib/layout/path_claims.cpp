#include "layout/path_claims.h"

#include <vector>

#include "layout/name_sanitizer.h"
#include "util/virtual_path.h"

namespace musicfs {

PathClaims::PathClaims() { kinds_.emplace("/", Kind::kDirectory); }

bool PathClaims::is_file(std::string_view path) const {
  auto it = kinds_.find(path);
  return it != kinds_.end() && it->second == Kind::kFile;
}

void PathClaims::take(const std::string& path) {
  kinds_.emplace(path, Kind::kFile);
  std::string_view dir = split_parent(path).first;
  // Stops at the first directory already taken: its own directories are taken too.
  while (kinds_.try_emplace(std::string(dir), Kind::kDirectory).second) dir = split_parent(dir).first;
}

bool PathClaims::claim_exact(const std::string& path) {
  if (kinds_.find(path) != kinds_.end()) return false;
  for (size_t slash = path.find('/', 1); slash != std::string::npos; slash = path.find('/', slash + 1)) {
    if (is_file(std::string_view(path).substr(0, slash))) return false;
  }
  take(path);
  return true;
}

std::string PathClaims::claim_numbered(const std::string& path) {
  std::vector<std::string_view> parts;
  for_each_component(path, [&](std::string_view part, size_t) {
    parts.push_back(part);
    return true;
  });
  std::string dir;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    std::string wanted = dir + "/" + std::string(parts[i]);
    std::string chosen = wanted;
    for (int n = 2; is_file(chosen); ++n) chosen = disambiguate(wanted, n);
    dir = std::move(chosen);
  }
  std::string wanted = dir + "/" + std::string(parts.empty() ? std::string_view("_") : parts.back());
  std::string chosen = wanted;
  for (int n = 2; kinds_.find(chosen) != kinds_.end(); ++n) chosen = disambiguate(wanted, n);
  take(chosen);
  return chosen;
}

}  // namespace musicfs
