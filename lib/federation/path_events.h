#pragma once
// Turns the index's changes into path events and changed directories. A FUSE
// filesystem raises no inotify events for the programs reading it, so this is how a
// music server (through a notifier) and a script (through `events`) hear that files
// came, changed or went.
//
// Copying an album in changes hundreds of entries within moments; one event per entry
// would bury everything else in the log. So changes are held until the feed has been
// quiet for `quiet` (or has held changes for `max_hold`), then coalesced: one event
// per (kind, origin, directory), naming the directory and how many of its entries
// changed (the entry itself when it was one), and one batch of changed directories
// for the notifiers.
//
// Only the indexer feeds it, from the one place where changes to the tree are applied
// (Indexer::publish). Loading a persisted index and an origin going offline or coming
// back change nothing in the tree, so they raise no path events.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "federation/event_log.h"
#include "index/virtual_tree.h"

namespace musicfs {

// The directories to rescan for a set of changes: an added directory itself, the
// parent of anything else; a directory below another one in the set is dropped (a
// rescan of a directory covers what is below it). Sorted.
std::vector<std::string> directories_to_rescan(const TreeChanges& changes);
// Drops every directory that is below another one of the set.
std::vector<std::string> outermost_directories(std::set<std::string> dirs);

class PathEventFeed {
 public:
  using DirsSink = std::function<void(const std::vector<std::string>& dirs)>;
  struct Options {
    std::chrono::milliseconds quiet{300};
    // Below a notifier's default debounce (2 s): during a long copy the batches come
    // closer together than that, so the notifier still sends them as one.
    std::chrono::milliseconds max_hold{1000};
  };

  PathEventFeed(std::string mount_point, EventLog& events, DirsSink sink, Options options);
  PathEventFeed(std::string mount_point, EventLog& events, DirsSink sink)
      : PathEventFeed(std::move(mount_point), events, std::move(sink), Options{}) {}
  ~PathEventFeed();  // flushes what is held
  PathEventFeed(const PathEventFeed&) = delete;
  PathEventFeed& operator=(const PathEventFeed&) = delete;

  // Never blocks on anything but the feed's own short lock.
  void add(const std::string& origin, const TreeChanges& changes);
  // Emits everything held now (stop, tests).
  void flush();

 private:
  struct Group {
    int64_t count = 0;
    std::string only_path;  // the entry, while the group has one
    std::vector<std::string> names;
  };
  using Key = std::tuple<std::string, std::string, std::string>;  // kind, origin, directory
  struct Pending {
    std::map<Key, Group> groups;
    std::set<std::string> dirs;
  };

  void loop();
  void emit(Pending pending);

  const std::string mount_point_;
  EventLog& events_;
  const DirsSink sink_;
  const Options options_;

  // Held while emitting, so that two flushes keep the order of what they held;
  // taken before mu_, never while holding it.
  std::mutex emit_mu_;
  std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  Pending pending_;
  std::chrono::steady_clock::time_point first_{}, last_{};
  bool stopping_ = false;
  std::thread thread_;  // last: starts once the fields above exist
};

}  // namespace musicfs
