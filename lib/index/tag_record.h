#pragma once
// The tags read from one file of one origin, with the version of the file they were
// read from: the index keeps them (state store table index_tags) so that a file is
// read again only when its size or mtime changes.
#include <cstdint>
#include <string>

#include "core/entry_attr.h"
#include "core/track_tags.h"

namespace musicfs {

struct TagRecord {
  std::string path;  // relative to the origin root: "/Artist/Album/01.flac"
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  // False when the tag reader found no audio it could parse (a broken or mislabelled
  // file): remembered so that it is not read again until it changes.
  bool readable = true;
  TrackTags tags;

  bool same_version(const EntryAttr& a) const {
    return a.size == size && a.mtime_sec == mtime_sec && a.mtime_nsec == mtime_nsec;
  }
};

}  // namespace musicfs
