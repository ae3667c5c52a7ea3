#include "tags/tag_reader.h"

#include <taglib/audioproperties.h>
#include <taglib/fileref.h>
#include <taglib/flacfile.h>
#include <taglib/flacproperties.h>
#include <taglib/tag.h>
#include <taglib/tpropertymap.h>

#include <array>
#include <cctype>
#include <string>

#include "tags/origin_stream.h"

namespace musicfs {

namespace {

constexpr std::array<std::string_view, 8> kExtensions = {"flac", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "m4b"};

std::string extension_of(std::string_view name) {
  const auto slash = name.rfind('/');
  const auto dot = name.rfind('.');
  if (dot == std::string_view::npos || (slash != std::string_view::npos && dot < slash)) return {};
  std::string ext(name.substr(dot + 1));
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::string utf8(const TagLib::String& s) { return s.to8Bit(true); }

// The first value of a property, "" when there is none.
std::string property(const TagLib::PropertyMap& props, const char* key) {
  auto it = props.find(key);
  if (it == props.end() || it->second.isEmpty()) return {};
  return utf8(it->second.front());
}

// "3/12" -> {3, 12}; "3" -> {3, 0}; anything else -> {0, 0}.
std::pair<int, int> number_and_total(const std::string& s) {
  auto leading = [](std::string_view v) {
    int n = 0;
    size_t i = 0;
    while (i < v.size() && v[i] == ' ') ++i;
    for (; i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])) && n < 100000; ++i) n = n * 10 + (v[i] - '0');
    return n;
  };
  const auto slash = s.find('/');
  if (slash == std::string::npos) return {leading(s), 0};
  return {leading(std::string_view(s).substr(0, slash)), leading(std::string_view(s).substr(slash + 1))};
}

std::string hex_unless_zero(const TagLib::ByteVector& v) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  bool any = false;
  for (unsigned char c : v) {
    any = any || c != 0;
    out += digits[c >> 4];
    out += digits[c & 15];
  }
  return any ? out : std::string();
}

}  // namespace

bool has_tag_format(std::string_view name) {
  const std::string ext = extension_of(name);
  for (auto e : kExtensions) {
    if (ext == e) return true;
  }
  return false;
}

Result<TrackTags> read_tags(OriginFile& file, uint64_t size, std::string_view name, Deadline deadline,
                            TagReadStats* stats) {
  const std::string ext = extension_of(name);
  if (!has_tag_format(name)) {
    return make_error(ErrorCode::kUnsupported, std::string(name) + ": not a format whose tags are read");
  }
  // TagLib picks the format by the stream's name: give it the extension only, so a
  // name with odd bytes is nothing TagLib needs to understand.
  OriginStream stream(file, size, "track." + ext, deadline);
  TrackTags t;
  bool valid = false;
  {
    TagLib::FileRef ref(&stream, true, TagLib::AudioProperties::Average);
    // TagLib's MPEG reader takes almost anything; a file whose audio it cannot find
    // (no frame, an empty file) is no track either.
    valid = !ref.isNull() && ref.file()->isValid() && ref.audioProperties() != nullptr &&
            ref.audioProperties()->sampleRate() > 0;
    if (valid) {
      if (const TagLib::Tag* tag = ref.tag()) {
        t.artist = utf8(tag->artist());
        t.album = utf8(tag->album());
        t.title = utf8(tag->title());
        t.genre = utf8(tag->genre());
        t.year = static_cast<int>(tag->year());
        t.track = static_cast<int>(tag->track());
      }
      const TagLib::PropertyMap props = ref.file()->properties();
      t.albumartist = property(props, "ALBUMARTIST");
      auto [track, track_total] = number_and_total(property(props, "TRACKNUMBER"));
      if (track > 0) t.track = track;
      t.track_total = track_total;
      std::tie(t.disc, t.disc_total) = number_and_total(property(props, "DISCNUMBER"));
      if (const TagLib::AudioProperties* ap = ref.audioProperties()) {
        t.duration_ms = ap->lengthInMilliseconds();
        t.sample_rate = ap->sampleRate();
        t.channels = ap->channels();
      }
      if (auto* flac = dynamic_cast<TagLib::FLAC::File*>(ref.file())) {
        if (flac->audioProperties() != nullptr) t.flac_md5 = hex_unless_zero(flac->audioProperties()->signature());
      }
    }
  }
  if (stats != nullptr) {
    stats->bytes_read += stream.bytes_read();
    stats->requests += stream.requests();
  }
  if (stream.error()) {
    return make_error(stream.error()->code, std::string(name) + ": reading tags: " + stream.error()->message);
  }
  if (!valid) return make_error(ErrorCode::kInvalidArgument, std::string(name) + ": not a valid " + ext + " file");
  return t;
}

}  // namespace musicfs
