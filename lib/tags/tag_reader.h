#pragma once
// Reads a music file's tags and audio properties with TagLib, through the origin
// interface: TagLib asks for bytes at offsets, and only the blocks holding those
// bytes are read from the origin, so a remote file costs what its headers (and an
// ID3v1 tail, an MP4 index at the end) take, never a whole download.
//
// Formats, chosen by the name's extension: FLAC, MP3 (ID3v2, ID3v1, APE), Ogg Vorbis
// (.ogg, .oga), Opus, M4A/MP4 (.m4a, .mp4, .m4b).
#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "core/track_tags.h"
#include "origins/origin.h"
#include "util/time_util.h"

namespace musicfs {

// True when the name's extension is a format read_tags reads.
bool has_tag_format(std::string_view name);

struct TagReadStats {
  uint64_t bytes_read = 0;  // fetched from the origin
  uint64_t requests = 0;    // reads issued to the origin
};

// The tags of the file open as `file`, `size` bytes long, named `name` (its
// extension picks the format). The whole read ends by `deadline`. An origin that
// fails a read fails the whole call with its error (no tags from half a header);
// a file TagLib cannot parse is kInvalidArgument ("not a valid FLAC file").
Result<TrackTags> read_tags(OriginFile& file, uint64_t size, std::string_view name, Deadline deadline,
                            TagReadStats* stats = nullptr);

}  // namespace musicfs
