#pragma once
// What /etc/fuse.conf allows a user who is not root (fusermount3 reads it; we read it
// first so that a refused allow_other is one clear line of ours, not fusermount3's).
#include <string>

namespace musicfs {

inline constexpr const char* kFuseConfPath = "/etc/fuse.conf";

// True when the file has an uncommented `user_allow_other` line (fusermount3's rule:
// leading and trailing blanks ignored, '#' starts a comment line). A missing or
// unreadable file allows nothing.
bool fuse_conf_allows_other(const std::string& path);

}  // namespace musicfs
