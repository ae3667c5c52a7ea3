#include "layout/layout_template.h"

#include <algorithm>
#include <array>
#include <optional>

#include "layout/name_sanitizer.h"
#include "util/suggest.h"

namespace musicfs {

namespace {

using Field = LayoutTemplate::Field;

struct FieldSpec {
  std::string_view name;
  Field field;
  bool numeric;
  std::string_view when_empty;  // for text fields; a number prints itself
};

// The one list of fields: parsing, the "known fields" hint and the defaults read it.
constexpr std::array<FieldSpec, 10> kFields{{
    {"artist", Field::kArtist, false, "Unknown Artist"},
    {"albumartist", Field::kAlbumArtist, false, "Unknown Artist"},
    {"album", Field::kAlbum, false, "Unknown Album"},
    {"title", Field::kTitle, false, "Unknown Title"},
    {"track", Field::kTrack, true, ""},
    {"disc", Field::kDisc, true, ""},
    {"year", Field::kYear, true, ""},
    {"genre", Field::kGenre, false, "Unknown Genre"},
    {"ext", Field::kExt, false, ""},
    {"origin_path", Field::kOriginPath, false, ""},
}};

// A year is written with four digits (ISO 8601), so year 0 sorts as "0000".
constexpr int kYearWidth = 4;

const FieldSpec& spec_of(Field field) {
  return *std::find_if(kFields.begin(), kFields.end(), [&](const FieldSpec& s) { return s.field == field; });
}

std::optional<Field> field_named(std::string_view name) {
  for (const auto& s : kFields) {
    if (s.name == name) return s.field;
  }
  return std::nullopt;
}

std::string known_fields() {
  std::string out;
  for (const auto& s : kFields) {
    if (!out.empty()) out += ", ";
    out += s.name;
  }
  return out;
}

// Columns count characters, not bytes: a template is UTF-8 text a person wrote.
size_t column_of(std::string_view text, size_t byte_pos) {
  size_t col = 1;
  for (size_t i = 0; i < byte_pos && i < text.size(); ++i) {
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++col;
  }
  return col;
}

Error template_error(std::string_view text, size_t byte_pos, const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument,
                    "layout template: column " + std::to_string(column_of(text, byte_pos)) + ": " + what);
}

// "/A/b.flac" -> "b": the file's own name when it has no title tag.
std::string origin_stem(std::string_view origin_path) {
  size_t slash = origin_path.rfind('/');
  std::string_view name = slash == std::string_view::npos ? origin_path : origin_path.substr(slash + 1);
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) name = name.substr(0, dot);
  return std::string(name);
}

std::string zero_padded(int n, int width) {
  std::string digits = std::to_string(n);
  if (static_cast<int>(digits.size()) < width) digits.insert(0, static_cast<size_t>(width) - digits.size(), '0');
  return digits;
}

}  // namespace

Result<LayoutTemplate> LayoutTemplate::parse(std::string_view text) {
  if (text.empty()) return make_error(ErrorCode::kInvalidArgument, "layout template is empty");
  if (text.front() == '/') {
    return template_error(text, 0, "starts with '/' (the path is relative to the mount's root)");
  }

  LayoutTemplate t;
  t.text_ = std::string(text);
  t.components_.emplace_back();
  size_t component_start = 0;
  std::string literal;

  auto flush_literal = [&] {
    if (literal.empty()) return;
    Piece p;
    p.literal = std::move(literal);
    literal.clear();
    t.components_.back().pieces.push_back(std::move(p));
  };
  // A directory of literal text only that is "." or ".." would not be a directory.
  auto check_component = [&](size_t end) -> std::optional<Error> {
    std::string_view part = text.substr(component_start, end - component_start);
    if (part == "." || part == "..") {
      return template_error(text, component_start, "'" + std::string(part) + "' is not a directory name");
    }
    return std::nullopt;
  };

  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '{' || c == '}') {
      if (i + 1 < text.size() && text[i + 1] == c) {
        literal += c;
        i += 2;
        continue;
      }
      if (c == '}') return template_error(text, i, "stray '}' (write '}}' for a literal '}')");
      size_t close = text.find('}', i + 1);
      size_t open = text.find('{', i + 1);
      if (close == std::string_view::npos || open < close) {
        return template_error(text, i, "unclosed '{' (write '{{' for a literal '{')");
      }
      std::string_view spec = text.substr(i + 1, close - i - 1);
      size_t name_len = std::min(spec.find_first_of(":|"), spec.size());
      std::string_view name = spec.substr(0, name_len);
      if (name.empty()) {
        return template_error(text, i, "a field with no name (known fields: " + known_fields() + ")");
      }
      auto field = field_named(name);
      if (!field) {
        std::vector<std::string> names;
        for (const auto& s : kFields) names.emplace_back(s.name);
        std::string hint;
        if (auto near = closest_match(name, names)) hint = " (did you mean '" + *near + "'?)";
        return template_error(text, i + 1,
                              "unknown field '" + std::string(name) + "'" + hint + "; known fields: " + known_fields());
      }
      Piece p;
      p.is_field = true;
      p.field = *field;
      std::string_view rest = spec.substr(name_len);
      size_t rest_pos = i + 1 + name_len;  // where `rest` starts in text
      if (!rest.empty() && rest.front() == ':') {
        size_t bar = std::min(rest.find('|'), rest.size());
        std::string_view width = rest.substr(1, bar - 1);
        if (!spec_of(*field).numeric) {
          return template_error(text, rest_pos,
                                "'" + std::string(name) + "' takes no width (only track, disc and year are numbers)");
        }
        if (width.size() != 2 || width[0] != '0' || width[1] < '1' || width[1] > '9') {
          return template_error(text, rest_pos,
                                "bad width ':" + std::string(width) + "' for '" + std::string(name) +
                                    "' (write :01 to :09, a zero and a digit)");
        }
        p.width = width[1] - '0';
        rest = rest.substr(bar);
        rest_pos += bar;
      }
      if (!rest.empty() && rest.front() == '|') {
        size_t slash = rest.find('/');
        if (slash != std::string_view::npos) {
          return template_error(text, rest_pos + slash,
                                "'/' in the text after '|' (the text for an empty field cannot make a directory)");
        }
        p.has_fallback = true;
        p.fallback = std::string(rest.substr(1));
      }
      flush_literal();
      t.components_.back().pieces.push_back(std::move(p));
      i = close + 1;
      continue;
    }
    if (c == '/') {
      flush_literal();
      if (t.components_.back().pieces.empty()) {
        return template_error(text, i, "empty directory name ('//')");
      }
      if (auto err = check_component(i)) return *err;
      t.components_.emplace_back();
      component_start = i + 1;
      ++i;
      continue;
    }
    literal += c;
    ++i;
  }
  flush_literal();

  const Component& file = t.components_.back();
  if (file.pieces.empty()) {
    return template_error(text, text.size() - 1, "ends with '/' (the last part names the file)");
  }
  bool has_field = std::any_of(file.pieces.begin(), file.pieces.end(), [](const Piece& p) { return p.is_field; });
  if (!has_field) {
    return template_error(text, component_start,
                          "the file name '" + std::string(text.substr(component_start)) +
                              "' has no field, so every track would get the same name");
  }

  // The extension is kept whole when a long name is cut: it starts at the first
  // literal '.' after the file name's last field other than {ext}, so
  // "{title}.{ext}.part" keeps ".flac.part" and "{track}.{title}" has none.
  size_t after = 0;
  for (size_t k = 0; k < file.pieces.size(); ++k) {
    if (file.pieces[k].is_field && file.pieces[k].field != Field::kExt) after = k + 1;
  }
  for (size_t k = after; k < file.pieces.size(); ++k) {
    const Piece& p = file.pieces[k];
    if (p.is_field) continue;
    size_t dot = p.literal.find('.');
    if (dot != std::string::npos) {
      t.ext_piece_ = k;
      t.ext_offset_ = dot;
      break;
    }
  }
  return t;
}

std::string LayoutTemplate::render_field(const Piece& piece, const LayoutTrack& tags) const {
  const FieldSpec& spec = spec_of(piece.field);
  if (spec.numeric) {
    int n = 0;
    bool empty = false;
    int width = piece.width;
    switch (piece.field) {
      case Field::kTrack:
        n = std::max(tags.track, 0);
        empty = n == 0;
        break;
      case Field::kDisc:
        n = std::max(tags.disc, 0);
        // A disc number says nothing on a single-disc album.
        empty = tags.disc <= 1 && tags.disc_total <= 1;
        break;
      default:  // kYear
        n = std::max(tags.year, 0);
        empty = n == 0;
        if (width == 0) width = kYearWidth;
        break;
    }
    if (empty && piece.has_fallback) return piece.fallback;
    return zero_padded(n, width);
  }

  std::string value;
  switch (piece.field) {
    case Field::kArtist: value = tags.artist; break;
    case Field::kAlbumArtist: value = tags.albumartist.empty() ? tags.artist : tags.albumartist; break;
    case Field::kAlbum: value = tags.album; break;
    case Field::kTitle: value = tags.title.empty() ? origin_stem(tags.origin_path) : tags.title; break;
    case Field::kGenre: value = tags.genre; break;
    case Field::kExt: value = tags.ext; break;
    default: value = tags.origin_path; break;  // kOriginPath
  }
  if (!value.empty()) return value;
  return piece.has_fallback ? piece.fallback : std::string(spec.when_empty);
}

std::string LayoutTemplate::render(const LayoutTrack& tags) const {
  std::string path;
  for (size_t c = 0; c < components_.size(); ++c) {
    const bool is_file = c + 1 == components_.size();
    const auto& pieces = components_[c].pieces;
    std::string name;
    size_t ext_at = std::string::npos;
    for (size_t k = 0; k < pieces.size(); ++k) {
      if (is_file && k == ext_piece_) ext_at = name.size() + ext_offset_;
      name += pieces[k].is_field ? render_field(pieces[k], tags) : pieces[k].literal;
    }
    // Only a field with '|' renders to nothing; leaving the directory out is what
    // "{album}/{disc|}/..." asks for on a single-disc album.
    if (!is_file && name.empty()) continue;
    std::string_view suffix;
    if (ext_at != std::string::npos && ext_at > 0) suffix = std::string_view(name).substr(ext_at);
    path += '/';
    path += sanitize_name(name, suffix);
  }
  return path;
}

}  // namespace musicfs
