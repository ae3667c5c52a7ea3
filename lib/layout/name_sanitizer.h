#pragma once
// Turns rendered text into names the tree can serve. A tag value is arbitrary bytes
// from a file someone else wrote; once it is part of a virtual path it must be one
// valid entry name (util/virtual_path.h: not empty, not "." or "..", no '/', at most
// kMaxEntryNameBytes). Linux names are bytes, so invalid UTF-8 is left as it is;
// only a cut is UTF-8 aware, so that it never ends a name inside a character.
#include <cstddef>
#include <string>
#include <string_view>

namespace musicfs {

// One path component made a valid single name, in this order:
// - '/', NUL, the other ASCII control characters (0x01-0x1f) and DEL (0x7f) become '_'
//   (a value's '/' must never make a directory; control characters break listings);
// - each leading '.' becomes '_', so no name is hidden, "." or "..";
// - trailing spaces are dropped (they are invisible in every listing);
// - an empty result becomes "_";
// - a name longer than kMaxEntryNameBytes is cut with cut_name, keeping keep_suffix
//   (the template's extension, ".flac") when `name` ends with it.
std::string sanitize_name(std::string_view name, std::string_view keep_suffix = {});

// `name` cut to at most max_bytes, never inside a UTF-8 sequence: a multi-byte
// character that would not fit whole is dropped whole. When `name` ends with
// keep_suffix, the suffix stays and the text before it is cut instead, unless the
// suffix leaves no room for at least one character of it. A name that fits is
// returned as it is.
std::string cut_name(std::string name, size_t max_bytes, std::string_view keep_suffix);

// The n-th of several tracks that render to one path (n >= 2): " (n)" goes before the
// extension of the last component, or at its end when it has none, and the name is
// cut to kMaxEntryNameBytes keeping " (n)" and the extension.
// "/A/B/01 - Same.flac", 2 -> "/A/B/01 - Same (2).flac". For n < 2 the path is
// returned unchanged (the first of the tracks keeps its name). The extension is the
// text from the last '.' of the last component, when that '.' is neither its first
// nor its last byte and no space follows it ("Mr. Blue Sky" has no extension).
std::string disambiguate(std::string_view path, int n);

}  // namespace musicfs
