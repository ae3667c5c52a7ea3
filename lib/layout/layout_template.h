#pragma once
// A layout template: how a track's tags become its path in the tree.
//
//   layout = "{albumartist}/{album}/{track:02} - {title}.{ext}"
//
// A template is text with fields in braces. '/' separates directories. The path is
// always below the mount's root, so a template does not start with '/', and has no
// empty directory ("a//b", "a/") and no "." or ".." directory. Its last part, the file
// name, holds at least one field, or every track would get the same name.
//
// Fields, and what each prints when it is empty:
//   artist        the track's artist                                 "Unknown Artist"
//   albumartist   the album's artist, else the track's artist        "Unknown Artist"
//   album         the album                                          "Unknown Album"
//   title         the title, else the file's name on its origin
//                 without its extension ("/A/b.flac" gives "b")      "Unknown Title"
//   genre         the genre                                          "Unknown Genre"
//   track         the track number                                   "0"
//   disc          the disc number                                    the number, "0" or "1"
//   year          the year, in 4 digits ("0800")                     "0000"
//   ext           the file's extension, without the dot ("flac")     nothing
//   origin_path   the file's path on its origin ("/A/b.flac")        nothing
// A text field is empty when it has no value after the fallback shown ("else ...").
// A number is empty when it is 0 (a negative number, a broken tag, counts as 0); disc
// is also empty on a single-disc album, when disc and the disc total are both 1 or less.
//
//   {track:02}     the number zero-padded to 2 digits ("7" gives "07"); widths :01 to
//                  :09, for track, disc and year only. A longer number is printed whole.
//                  For year the width replaces its usual 4 digits.
//   {field|TEXT}   TEXT instead of the field when the field is empty: {disc|} prints
//                  nothing on a single-disc album, {genre|Misc} prints "Misc". TEXT is
//                  literal and holds no '{', '}' or '/'. A width comes first: {disc:02|}.
//                  A directory that renders to nothing at all is left out, so
//                  "{album}/{disc|}/{track:02}.{ext}" files a single disc in the
//                  album's directory and disc 2 of a set in a "2" under it.
//   {{  }}         a literal '{' and '}'.
//
// The value of a field never makes a directory. Each part of the path is made a valid
// name once its fields are filled in (name_sanitizer.h): a '/' or control character
// becomes '_', so does each leading '.', trailing spaces are dropped, an empty part
// becomes "_", and a part longer than 255 bytes is cut between two characters. The
// cut keeps the file name's extension: the text from the first literal '.' after the
// last field other than {ext} in the template's file name part (".{ext}", ".mp3").
//
// Two tracks can render to one path; the caller tells them apart (disambiguate() in
// name_sanitizer.h). This module does no I/O.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "layout/layout_track.h"

namespace musicfs {

class LayoutTemplate {
 public:
  // Errors are kInvalidArgument, one line naming the 1-based column (in characters)
  // of what is wrong: "layout template: column 12: unknown field 'albm' ...".
  static Result<LayoutTemplate> parse(std::string_view text);

  // The track's path below the mount's root: "/Artist/Album/01 - Title.flac".
  std::string render(const LayoutTrack& tags) const;

  // The text this template was parsed from.
  const std::string& text() const { return text_; }

  enum class Field { kArtist, kAlbumArtist, kAlbum, kTitle, kTrack, kDisc, kYear, kGenre, kExt, kOriginPath };

 private:
  struct Piece {
    bool is_field = false;
    std::string literal;  // when !is_field
    Field field = Field::kArtist;
    int width = 0;               // 0: none given
    bool has_fallback = false;   // {field|TEXT}
    std::string fallback;
  };
  struct Component {
    std::vector<Piece> pieces;
  };

  LayoutTemplate() = default;
  std::string render_field(const Piece& piece, const LayoutTrack& tags) const;

  std::string text_;
  std::vector<Component> components_;
  // Where the file name's extension starts: the piece holding its '.' and the '.''s
  // offset in that piece's literal; ext_piece_ is kNone when there is none.
  static constexpr size_t kNone = static_cast<size_t>(-1);
  size_t ext_piece_ = kNone;
  size_t ext_offset_ = 0;
};

}  // namespace musicfs
