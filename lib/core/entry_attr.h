#pragma once
// What an origin, the index and the cache all say about one entry: its type and
// attributes, and a listed entry (path + attributes). Kept below origins so that the
// index and the cache describe entries without depending on the origin interface.
#include <cstdint>
#include <string>

namespace musicfs {

enum class EntryType : uint8_t { kFile, kDirectory, kSymlink };

struct EntryAttr {
  EntryType type = EntryType::kFile;
  uint32_t mode = 0;  // permission bits only (07777)
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
  std::string symlink_target;  // only for kSymlink, verbatim
};

struct ListedEntry {
  std::string path;  // virtual path relative to the origin's root: "/Artist/Album/01.flac"
  EntryAttr attr;
};

}  // namespace musicfs
