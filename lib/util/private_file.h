#pragma once
// Files the daemon writes (the state and cache databases, the log) hold the paths of
// the user's music: they are private to the user whatever the umask and whatever the
// mode of a directory that already existed.
#include <string>

#include "core/error.h"

namespace musicfs {

// Creates `path` if it is missing and sets its mode to 0600 (an existing file too).
// A symlink at `path` is refused, not followed.
Status make_private_file(const std::string& path);

}  // namespace musicfs
