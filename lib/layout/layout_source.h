#pragma once
// One file of the federated path tree as the layout tree sees it: where it is, its
// attributes, and what the caller knows of its tags. The caller decides which files
// are audio (the tag reader's has_tag_format), so lib/layout needs no lib/tags.
#include <optional>
#include <string>

#include "core/entry_attr.h"
#include "core/track_tags.h"

namespace musicfs {

struct LayoutSource {
  std::string path;               // its path in the path tree: "/Music/A/01 x.flac"
  EntryAttr attr;                 // a kFile; the caller leaves symlinks out
  bool is_audio = false;          // a format the tag reader reads
  std::optional<TrackTags> tags;  // audio only; nullopt: not read yet, so not shown yet.
                                  // A failed read is an empty TrackTags, not nullopt.
};

}  // namespace musicfs
