#pragma once
// The music-aware tree (issue 18): every file of the federated path tree shown at a
// path rendered from its tags by a layout template. Built whole from a snapshot of
// the path tree's files and never changed after, so readers share it without locks
// and a rebuild swaps one pointer. Pure: no I/O, the same sources in any order give
// the same tree.
//
// Why the rules are what they are:
// - A track is shown once its tags are read (LayoutSource::tags is set); a failed read
//   is empty tags, so the file still shows, under Unknown Artist / Unknown Album with
//   its own name as title. Nothing readable is ever hidden for want of tags.
// - Two files that want one path both stay visible: the one whose source path sorts
//   first (byte order) keeps the name, the others get " (2)", " (3)"...
//   (disambiguate()). Sorting by source path, not by arrival, gives every build and
//   every mount the same names. A file that wants a directory's path, or a directory
//   where a file already is, is numbered the same way.
// - Covers, cue sheets and logs belong to their album: a non-audio file appears in
//   every layout directory that the shown tracks of its own path-tree directory went
//   to, under its own name. Without such tracks it follows the nearest ancestor
//   directory that has some, at its path below that ancestor ("Scans/back.jpg"); a
//   file with no such ancestor is not shown. Tracks take their names before the
//   other files do.
// - A scanner (MPD) skips a directory whose mtime did not move. A directory's mtime is
//   the newest of its entries' (a subdirectory counting with its own mtime), and when
//   it replaces a `previous` tree: unchanged membership (names, types and the files'
//   sources) keeps previous's mtime, so a rebuild with no change changes nothing; a
//   changed one moves to at least `now`, so the scanner looks again even when the
//   new entries carry old mtimes.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/entry_attr.h"
#include "layout/layout_source.h"
#include "layout/layout_template.h"
#include "layout/string_view_hash.h"

namespace musicfs {

struct LayoutFile {
  std::string vpath;   // in the layout: "/Artist/Album/01 - Title.flac"
  std::string source;  // in the path tree: "/Music/A/01 x.flac"
};

struct LayoutDiff;

class LayoutTree {
 public:
  // `previous` (may be null) is the tree this one replaces; `now` in unix seconds.
  // Sources that are not kFile are left out, and so is a second source of one path.
  static std::shared_ptr<const LayoutTree> build(const LayoutTemplate& tmpl, std::vector<LayoutSource> sources,
                                                 const LayoutTree* previous, int64_t now);

  // The source path of the file at vpath; nullptr when vpath is not a file here.
  const std::string* source_of(std::string_view vpath) const;
  // "/" always is one, even in an empty tree.
  bool is_directory(std::string_view vpath) const;
  // A directory's entries sorted by name (byte order); nullopt when not a directory.
  std::optional<std::vector<std::pair<std::string, EntryType>>> list(std::string_view vpath) const;
  // kDirectory, mode 0555, size 0, the mtime described above; nullopt when not a directory.
  std::optional<EntryAttr> directory_attr(std::string_view vpath) const;

  // Every file, sorted by vpath.
  const std::vector<LayoutFile>& files() const { return files_; }
  // The vpaths a source appears at, sorted; a non-audio file may appear in several
  // album directories, a file not shown at none.
  std::vector<std::string> vpaths_of(std::string_view source_path) const;

  size_t file_count() const { return files_.size(); }
  size_t shown_tracks() const { return shown_tracks_; }

 private:
  static constexpr uint32_t kNotAFile = UINT32_MAX;
  struct Entry {
    std::string name;
    EntryType type = EntryType::kFile;
    uint32_t file = kNotAFile;  // index into files_ for a file
  };
  struct Directory {
    std::vector<Entry> entries;  // sorted by name
    int64_t mtime_sec = 0;
    uint32_t mtime_nsec = 0;
  };
  using Directories = std::unordered_map<std::string, Directory, StringViewHash, std::equal_to<>>;

  LayoutTree() = default;
  const Directory* find_directory(std::string_view vpath) const;
  // The directory at `path`, made with its parents (each entered in its own parent)
  // when new.
  Directory& directory_for(std::string_view path);
  void add_directories();
  void set_mtimes(const std::vector<std::pair<int64_t, uint32_t>>& file_mtimes, const LayoutTree* previous,
                  int64_t now);
  // Same names, types and (for files) sources.
  static bool same_entries(const LayoutTree& a, const Directory& da, const LayoutTree& b, const Directory& db);

  std::vector<LayoutFile> files_;
  std::vector<uint32_t> by_source_;  // indexes into files_, sorted by (source, vpath)
  Directories directories_;
  size_t shown_tracks_ = 0;

  friend LayoutDiff diff(const LayoutTree* before, const LayoutTree& after);
};

// What changed from one tree to the next: files added and removed (vpaths; a file
// whose source changed is both), and the directories whose entries changed, those
// that appeared or went included (for path events). Each list sorted. A null
// `before` is the empty tree: everything is added.
struct LayoutDiff {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> dirs_changed;
};
LayoutDiff diff(const LayoutTree* before, const LayoutTree& after);

}  // namespace musicfs
