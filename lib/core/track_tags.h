#pragma once
// What a music file says about itself: its tags and audio properties, as the tag
// reader (lib/tags) found them and the index keeps them. A value a file does not
// carry is empty or 0; the layout (lib/layout) decides what an empty field shows.
#include <cstdint>
#include <string>

namespace musicfs {

struct TrackTags {
  std::string artist;
  std::string albumartist;
  std::string album;
  std::string title;
  std::string genre;
  int track = 0;
  int track_total = 0;
  int disc = 0;
  int disc_total = 0;
  int year = 0;
  int64_t duration_ms = 0;
  int sample_rate = 0;
  int channels = 0;
  std::string flac_md5;  // STREAMINFO's MD5 of the decoded audio, hex; "" when absent or unset
};

}  // namespace musicfs
