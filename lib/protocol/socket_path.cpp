#include "protocol/socket_path.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

namespace musicfs {

std::string resolve_socket_path(const std::string& flag) {
  if (!flag.empty()) return flag;
  return default_socket_path(PathEnv::process());
}

std::string default_socket_path(const PathEnv& env) {
  if (std::string s = env.get("MUSICFS_SOCKET"); !s.empty()) return s;
  // Root's socket is one place whatever the session: a daemon started at boot by
  // mount(8) (fstab) has no XDG_RUNTIME_DIR, while a root login has /run/user/0, and
  // both must find the same daemon.
  if (env.root()) return "/run/musicfs/musicfsd.sock";
  if (std::string xdg = env.absolute("XDG_RUNTIME_DIR"); !xdg.empty()) return xdg + "/musicfs/musicfsd.sock";
  // Created 0700 and checked to be ours and private (ensure_private_socket_dir):
  // /tmp is shared, and another user may have made the directory first.
  return "/tmp/musicfs-" + std::to_string(env.uid) + "/musicfsd.sock";
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
