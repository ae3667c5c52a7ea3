#include "fuse/fuse_conf.h"

#include <fstream>

namespace musicfs {

bool fuse_conf_allows_other(const std::string& path) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    const auto last = line.find_last_not_of(" \t\r");
    if (line.compare(first, last - first + 1, "user_allow_other") == 0) return true;
  }
  return false;
}

}  // namespace musicfs
