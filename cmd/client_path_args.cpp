#include "client_path_args.h"
#include "protocol/path_encoding.h"

#include <climits>
#include <cstdlib>
#include <unistd.h>

#include <vector>

namespace musicfs::cli {

namespace {
// Absolute, lexically normalised; symlinks inside the mount are not followed, since
// the question is about the path itself.
std::string absolute_lexical(const std::string& p) {
  std::string abs = p;
  if (abs.empty() || abs.front() != '/') {
    char cwd[PATH_MAX];
    if (::getcwd(cwd, sizeof cwd) == nullptr) return p;
    abs = std::string(cwd) + "/" + p;
  }
  std::vector<std::string> parts;
  size_t i = 0;
  while (i <= abs.size()) {
    size_t j = abs.find('/', i);
    if (j == std::string::npos) j = abs.size();
    std::string c = abs.substr(i, j - i);
    if (c == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!c.empty() && c != ".") {
      parts.push_back(c);
    }
    i = j + 1;
  }
  std::string out;
  for (const auto& c : parts) out += "/" + c;
  return out.empty() ? "/" : out;
}
}  // namespace

nlohmann::json path_request_args(const std::string& path, const std::string& mount) {
  if (mount.empty()) return {{"path", encode_path(absolute_lexical(path))}};
  char buf[PATH_MAX];
  std::string mp = ::realpath(mount.c_str(), buf) ? std::string(buf) : mount;
  return {{"path", encode_path(path.empty() || path.front() != '/' ? "/" + path : path)}, {"mount", encode_path(mp)}};
}

std::string absolute_path(const std::string& p) {
  if (p.empty() || p.front() == '/') return p;
  char buf[PATH_MAX];
  if (::realpath(p.c_str(), buf) != nullptr) return buf;
  char cwd[PATH_MAX];
  if (::getcwd(cwd, sizeof cwd) == nullptr) return p;
  return std::string(cwd) + "/" + p;
}

}  // namespace musicfs::cli
