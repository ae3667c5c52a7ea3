#include "protocol/socket_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace musicfs {

std::string resolve_socket_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  if (const char* env = std::getenv("MUSICFS_SOCKET"); env != nullptr && *env != '\0') return env;
  if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg != nullptr && *xdg == '/') {
    return std::string(xdg) + "/musicfs/musicfsd.sock";
  }
  return "/tmp/musicfs-" + std::to_string(getuid()) + "/musicfsd.sock";
}

namespace {
std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}
}  // namespace

std::string socket_dir_of(const std::string& socket_path) {
  auto slash = socket_path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return socket_path.substr(0, slash);
}

Status check_private_socket_dir(const std::string& socket_path) {
  const std::string dir = socket_dir_of(socket_path);
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return {};  // nothing there, so nothing to trust or distrust
    return Error::from_errno(errno, "cannot stat socket directory " + dir);
  }
  if (!S_ISDIR(st.st_mode)) {
    return make_error(ErrorCode::kPermission, "socket directory " + dir + " is not a directory");
  }
  if (st.st_uid != getuid()) {
    return make_error(ErrorCode::kPermission,
                      "socket directory " + dir + " belongs to uid " + std::to_string(st.st_uid) + ", not to you");
  }
  if ((st.st_mode & 077) != 0) {
    return make_error(ErrorCode::kPermission, "socket directory " + dir +
                                                  " is accessible to other users (mode " + octal(st.st_mode & 0777) +
                                                  "); make it 0700");
  }
  return {};
}

Status ensure_private_socket_dir(const std::string& socket_path) {
  const std::string dir = socket_dir_of(socket_path);
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return Error::from_errno(errno, "cannot create socket directory " + dir);
  }
  return check_private_socket_dir(socket_path);
}

}  // namespace musicfs
