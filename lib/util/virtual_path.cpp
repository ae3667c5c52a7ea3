#include "util/virtual_path.h"

namespace musicfs {

Result<std::string> normalize_virtual_path(std::string_view raw) {
  if (raw.empty() || raw.front() != '/') {
    return make_error(ErrorCode::kInvalidArgument,
                      "virtual path '" + std::string(raw) + "' must be absolute");
  }
  std::string out;
  out.reserve(raw.size());
  size_t i = 0;
  while (i < raw.size()) {
    while (i < raw.size() && raw[i] == '/') ++i;
    size_t j = raw.find('/', i);
    if (j == std::string_view::npos) j = raw.size();
    std::string_view comp = raw.substr(i, j - i);
    i = j;
    if (comp.empty() || comp == ".") continue;
    if (comp == "..") {
      return make_error(ErrorCode::kInvalidArgument,
                        "path '" + std::string(raw) + "' uses '..', which could escape the tree");
    }
    if (comp.find('\0') != std::string_view::npos) {
      return make_error(ErrorCode::kInvalidArgument, "path contains a NUL byte");
    }
    out += '/';
    out += comp;
  }
  if (out.empty()) out = "/";
  return out;
}

std::pair<std::string_view, std::string_view> split_parent(std::string_view path) {
  if (path == "/") return {"/", ""};
  size_t slash = path.rfind('/');
  if (slash == 0) return {"/", path.substr(1)};
  return {path.substr(0, slash), path.substr(slash + 1)};
}

std::string join_virtual(std::string_view parent, std::string_view name) {
  std::string out(parent);
  if (out.empty() || out.back() != '/') out += '/';
  out += name;
  return out;
}

bool within_path_limits(std::string_view path) {
  if (path.size() >= kMaxPathBytes) return false;
  return for_each_component(path, [](std::string_view name, size_t) { return name.size() <= kMaxEntryNameBytes; });
}

bool is_safe_entry_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

}  // namespace musicfs
