#pragma once
// What a cached chunk belongs to: one version of one file at one origin of one mount.
// The version is the (size, mtime) the index holds for that origin's replica, so a
// file that changes at its origin gets new keys, and its old chunks can never be
// mixed with new bytes: they are simply other names (and are deleted when the index
// notices the change).
#include <cstdint>
#include <string>

#include "core/entry_attr.h"

namespace musicfs {

struct FileVersion {
  std::string mount;
  std::string origin;
  std::string path;  // virtual path
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;

  static FileVersion of(std::string mount, std::string origin, std::string path, const EntryAttr& attr) {
    return {std::move(mount), std::move(origin), std::move(path), attr.size, attr.mtime_sec, attr.mtime_nsec};
  }
  bool same_version(const FileVersion& o) const {
    return size == o.size && mtime_sec == o.mtime_sec && mtime_nsec == o.mtime_nsec;
  }
};

// The file name of chunk `index` of `v`: 32 hex digits of an XXH3-128 over an
// unambiguous encoding of every field (lengths before strings), so no two
// (file, version, chunk) triples share a name.
std::string chunk_name(const FileVersion& v, uint32_t index);
// The name of the cache file that holds the chunks of `v` (32 hex digits, likewise).
std::string segment_name(const FileVersion& v);

}  // namespace musicfs
