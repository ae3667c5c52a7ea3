#include "layout/name_sanitizer.h"

#include "util/virtual_path.h"

namespace musicfs {

namespace {

// How many bytes a UTF-8 sequence that starts with `lead` claims; 1 for ASCII and for
// bytes that cannot start a sequence (those are left alone, as Linux names are bytes).
size_t sequence_length(unsigned char lead) {
  if ((lead & 0xE0) == 0xC0) return 2;
  if ((lead & 0xF0) == 0xE0) return 3;
  if ((lead & 0xF8) == 0xF0) return 4;
  return 1;
}

bool is_continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// The longest prefix of s of at most `limit` bytes that does not end inside a
// multi-byte sequence. Only the bytes just before the cut matter: a sequence that
// starts within the last three bytes and claims more bytes than remain is dropped.
size_t utf8_cut_point(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  for (size_t back = 1; back <= 3 && back <= limit; ++back) {
    auto c = static_cast<unsigned char>(s[limit - back]);
    if (is_continuation(c)) continue;
    return sequence_length(c) > back ? limit - back : limit;
  }
  // Only continuation bytes before the cut: no lead byte of ours to split.
  return limit;
}

void trim_trailing_spaces(std::string& s) {
  size_t end = s.size();
  while (end > 0 && s[end - 1] == ' ') --end;
  s.resize(end);
}

}  // namespace

std::string cut_name(std::string name, size_t max_bytes, std::string_view keep_suffix) {
  if (name.size() <= max_bytes) return name;
  std::string_view whole(name);
  if (!keep_suffix.empty() && keep_suffix.size() < max_bytes && whole.ends_with(keep_suffix)) {
    std::string_view stem = whole.substr(0, whole.size() - keep_suffix.size());
    size_t cut = utf8_cut_point(stem, max_bytes - keep_suffix.size());
    if (cut > 0) return std::string(stem.substr(0, cut)).append(keep_suffix);
  }
  name.resize(utf8_cut_point(whole, max_bytes));
  return name;
}

std::string sanitize_name(std::string_view name, std::string_view keep_suffix) {
  std::string s(name);
  size_t suffix_len = (!keep_suffix.empty() && name.ends_with(keep_suffix)) ? keep_suffix.size() : 0;
  // Every replacement is one byte for one byte, so the suffix keeps its length.
  for (char& c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '/' || u < 0x20 || u == 0x7f) c = '_';
  }
  for (size_t i = 0; i < s.size() && s[i] == '.'; ++i) s[i] = '_';
  if (suffix_len == s.size()) suffix_len = 0;  // a suffix with no name before it is no suffix

  size_t before_trim = s.size();
  trim_trailing_spaces(s);
  size_t dropped = before_trim - s.size();
  suffix_len = suffix_len > dropped ? suffix_len - dropped : 0;

  std::string suffix = s.substr(s.size() - suffix_len);
  s = cut_name(std::move(s), kMaxEntryNameBytes, suffix);
  trim_trailing_spaces(s);  // a cut can end on a space
  if (s.empty()) return "_";
  return s;
}

std::string disambiguate(std::string_view path, int n) {
  if (n < 2) return std::string(path);
  size_t slash = path.rfind('/');
  std::string_view parent = slash == std::string_view::npos ? std::string_view() : path.substr(0, slash + 1);
  std::string_view name = path.substr(parent.size());

  std::string_view ext;
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0 && dot + 1 < name.size() &&
      name.find(' ', dot) == std::string_view::npos) {
    ext = name.substr(dot);
  }
  std::string_view stem = name.substr(0, name.size() - ext.size());
  std::string suffix = " (" + std::to_string(n) + ")";
  suffix.append(ext);
  std::string renamed = cut_name(std::string(stem) + suffix, kMaxEntryNameBytes, suffix);
  return std::string(parent) + renamed;
}

}  // namespace musicfs
