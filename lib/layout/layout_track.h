#pragma once
// What a layout template sees of one track: its tags as the tag reader found them
// (core/track_tags.h), plus where the file lives on its origin. Missing tags are
// empty strings or 0; the template, not the reader, decides what an absent value
// prints (layout_template.h).
#include <string>

#include "core/track_tags.h"

namespace musicfs {

struct LayoutTrack : TrackTags {
  std::string ext;          // without the dot, lower-case as on disk: "flac"
  std::string origin_path;  // the file's path on its origin: "/A/b.flac"
};

}  // namespace musicfs
