#include "util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "util/unique_fd.h"

namespace musicfs {

Status make_private_file(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600));
  if (!fd.valid()) return Error::from_errno(errno, "cannot create " + path);
  // The mode given to open() is cut by the umask, and an existing file keeps its own.
  if (::fchmod(fd.get(), 0600) != 0) return Error::from_errno(errno, "cannot make " + path + " private (chmod 600)");
  return {};
}

}  // namespace musicfs
