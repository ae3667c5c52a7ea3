#pragma once
#include <memory>
#include <string>

#include "origins/origin.h"

namespace musicfs {

// Watches a directory tree with inotify on a thread of its own. The returned handle
// owns the inotify descriptor, every watch and the thread; destroying it stops all three.
// Returns nullptr (and logs why) when inotify cannot be had.
std::unique_ptr<WatchHandle> start_local_watcher(std::string origin_id, std::string root,
                                                 ChangeCallback callback);

}  // namespace musicfs
