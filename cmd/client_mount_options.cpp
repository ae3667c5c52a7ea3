#include "client_mount_options.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace musicfs::cli {

namespace {

// Meaningful to mount(8), fstab(5) or the kernel's generic mount flags, not to
// musicfs: fstab lines carry them and mount.fuse3 passes some on (dev, suid).
// An empty item (",,", a trailing comma) is nothing, as for mount.fuse3.
constexpr std::array<std::string_view, 18> kIgnored = {
    "",      "defaults", "auto",   "noauto", "user", "nouser", "users",   "_netdev",  "nofail",
    "nodev", "nosuid",   "dev",    "suid",   "exec", "noexec", "atime",   "noatime",  "relatime",
};

bool ignored(std::string_view opt) {
  // x-systemd.automount, x-gvfs-show, comment=systemd.automount: userspace notes for
  // other programs, by their documented prefixes.
  if (opt.rfind("x-", 0) == 0 || opt.rfind("comment=", 0) == 0) return true;
  return std::find(kIgnored.begin(), kIgnored.end(), opt) != kIgnored.end();
}

}  // namespace

Result<MountOptions> parse_mount_options(const std::vector<std::string>& lists) {
  MountOptions out;
  for (const auto& list : lists) {
    std::string_view rest = list;
    for (;;) {
      const auto comma = rest.find(',');
      const std::string_view opt = rest.substr(0, comma);
      if (opt == "allow_other") {
        out.allow_other = true;
      } else if (opt == "ro") {
        // Always so: the FUSE mount is made ro and every write answers EROFS.
      } else if (opt == "rw") {
        return make_error(ErrorCode::kInvalidArgument, "-o rw: musicfs is read-only (leave rw out, or say ro)");
      } else if (!ignored(opt)) {
        return make_error(ErrorCode::kInvalidArgument,
                          "-o " + std::string(opt) +
                              ": unknown mount option (musicfs takes allow_other and ro; see musicfsctl(1))");
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

}  // namespace musicfs::cli
