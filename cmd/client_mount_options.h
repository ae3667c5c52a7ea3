#pragma once
// `musicfsctl mount -o OPTIONS`: the mount options of mount(8) and fstab(5), which
// override the config file for this mount only (the file is never rewritten).
//   allow_other  mount with allow_other even if the config says false
//   ro           accepted: musicfs is always read-only
//   rw           refused: musicfs is read-only
// Options that fstab and mount(8) use for themselves (defaults, noauto, _netdev,
// nofail, x-*, ...) or that mean nothing to a read-only FUSE tree (nodev, noexec,
// noatime, ...) are accepted and ignored; any other is an error naming it.
#include <string>
#include <vector>

#include "core/error.h"

namespace musicfs::cli {

struct MountOptions {
  bool allow_other = false;
};

// `lists` are the -o arguments, each comma-separated; several -o add up, as with
// mount(8). The error's message names the option, without "musicfsctl: ".
Result<MountOptions> parse_mount_options(const std::vector<std::string>& lists);

}  // namespace musicfs::cli
