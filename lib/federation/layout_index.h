#pragma once
// A layout mount's tree: the tags of every audio file, read in the background, and
// the LayoutTree the template renders from them (layout/layout_tree.h), published
// for the read side to use with one atomic load.
//
// One thread does it all, in rounds. A round snapshots the path tree (every file and
// its holders), loads the persisted tags of origins it has not seen yet, builds the
// layout from the tags it has, publishes it when it differs, and then reads the tags
// that are missing or stale (the file's size or mtime moved), several files at once,
// for at most a second before the next round shows what it found. So a mount never
// waits for tags, a first scan fills the tree in as it goes, and a restart shows the
// whole tree from the persisted tags before a single file is read.
//
// Tags are read from the best holder of a path (the router's ranking), through the
// origin's bounded interface, and only the bytes TagLib asks for (tags/tag_reader.h).
// A file with no audio TagLib can parse is remembered as such and filed under
// Unknown Artist / Unknown Album; a read that fails (the origin is down) is tried
// again in a later round. An audio file whose tags are not read yet is not shown.
//
// What a publication changes (files that came, went or moved to another path) goes
// to the path event feed in layout paths, and the kernel's caches of those paths and
// their directories are dropped.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "federation/index_gate.h"
#include "federation/path_events.h"
#include "federation/registry.h"
#include "index/index_store.h"
#include "index/tag_record.h"
#include "index/virtual_tree.h"
#include "layout/layout_template.h"
#include "layout/layout_tree.h"

namespace musicfs {

struct LayoutIndexHooks {
  std::function<void(const std::string& vpath)> invalidate;  // kernel caches of a layout path
  PathEventFeed* feed = nullptr;                              // layout path events; may be null
  std::shared_ptr<IndexStore> store;                          // persisted tags; may be null
};

// The tags an entry was placed by, and the copy they were read from.
struct PlacedTags {
  std::string origin;
  std::string origin_path;
  TagRecord record;
};

struct TagProgress {
  size_t tagged = 0;  // audio files whose tags are read at their current version
  size_t total = 0;   // audio files in the tree
};

class LayoutIndex {
 public:
  LayoutIndex(LayoutTemplate tmpl, const VirtualTree& tree, const OriginRegistry& registry, const IndexGate& gate,
              LayoutIndexHooks hooks, std::chrono::milliseconds read_timeout);
  ~LayoutIndex();
  LayoutIndex(const LayoutIndex&) = delete;
  LayoutIndex& operator=(const LayoutIndex&) = delete;
  void stop();

  const LayoutTemplate& layout() const { return template_; }
  // The tree as last published (never null: empty until the first round).
  std::shared_ptr<const LayoutTree> view() const;
  // Waits until the first round has published (the index gate opened and the persisted
  // tags are loaded), at most `timeout`. True when it has.
  bool await_first(std::chrono::milliseconds timeout) const;
  // The path tree changed, or a file of it did: look again now, not at the next tick.
  void poke();
  // A path-tree path changed (the indexer's invalidation): the layout paths it shows
  // at lose their kernel caches now, and the next round re-files it.
  void path_changed(const std::string& source_path);
  void origin_removed(const std::string& id);
  TagProgress progress() const;
  std::optional<PlacedTags> tags_of(const std::string& source_path) const;
  // Waits until a round found nothing left to read (tests), at most `timeout`.
  bool wait_settled(std::chrono::milliseconds timeout) const;

 private:
  struct TagJob {
    std::string path;
    OriginRuntimePtr holder;
    EntryAttr attr;
  };
  using OriginTags = std::unordered_map<std::string, TagRecord>;

  void loop();
  // One round; returns the reads it wants done.
  std::vector<TagJob> round();
  void read_tags_of(const std::vector<TagJob>& jobs, SteadyClock::time_point slice_end);
  void publish(std::shared_ptr<const LayoutTree> next);
  const TagRecord* find_tags(const std::string& origin, const std::string& path) const;  // under mu_

  const LayoutTemplate template_;
  const VirtualTree& tree_;
  const OriginRegistry& registry_;
  const IndexGate& gate_;
  const LayoutIndexHooks hooks_;
  const std::chrono::milliseconds read_timeout_;

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopping_ = false;
  bool poked_ = true;
  bool published_ = false;
  bool settled_ = false;
  bool ever_settled_ = false;  // path events start after the first fill
  std::shared_ptr<const LayoutTree> view_;
  std::unordered_map<std::string, OriginTags> tags_;  // origin id -> path -> tags
  std::set<std::string> loaded_;                      // origins whose persisted tags are in tags_
  // Reads that failed, by "origin\npath", with the round that may try again.
  std::unordered_map<std::string, uint64_t> failed_until_round_;
  uint64_t round_no_ = 0;
  TagProgress progress_;
  uint64_t built_from_changes_ = UINT64_MAX;  // the tree's change_count the view was built from
  uint64_t tags_added_ = 0;                   // grows with each tag record learned
  uint64_t built_from_tags_ = UINT64_MAX;
  std::thread thread_;
};

}  // namespace musicfs
