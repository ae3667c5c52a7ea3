#include "origins/s3_listing.h"

#include <pugixml.hpp>

#include <charconv>
#include <ctime>

namespace musicfs {

namespace {

constexpr uint32_t kFileMode = 0444;
constexpr uint32_t kDirMode = 0555;

bool parse_digits(std::string_view s, size_t pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

Error malformed(const std::string& why) { return make_error(ErrorCode::kIo, "malformed ListObjectsV2 answer: " + why); }

}  // namespace

bool parse_iso8601_timestamp(std::string_view t, int64_t& sec, uint32_t& nsec) {
  // YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)
  struct tm tm {};
  int year = 0, mon = 0, day = 0, hour = 0, min = 0, s = 0;
  if (!parse_digits(t, 0, 4, year) || t.size() < 19 || t[4] != '-' || !parse_digits(t, 5, 2, mon) || t[7] != '-' ||
      !parse_digits(t, 8, 2, day) || (t[10] != 'T' && t[10] != 't' && t[10] != ' ') || !parse_digits(t, 11, 2, hour) ||
      t[13] != ':' || !parse_digits(t, 14, 2, min) || t[16] != ':' || !parse_digits(t, 17, 2, s)) {
    return false;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || s > 60) return false;
  size_t pos = 19;
  uint32_t frac = 0;
  if (pos < t.size() && t[pos] == '.') {
    ++pos;
    uint32_t scale = 100000000;
    size_t digits = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (scale > 0) {
        frac += static_cast<uint32_t>(t[pos] - '0') * scale;
        scale /= 10;
      }
      ++pos;
      ++digits;
    }
    if (digits == 0) return false;
  }
  int64_t offset = 0;
  if (pos < t.size() && (t[pos] == 'Z' || t[pos] == 'z')) {
    ++pos;
  } else if (pos < t.size() && (t[pos] == '+' || t[pos] == '-')) {
    int oh = 0, om = 0;
    if (!parse_digits(t, pos + 1, 2, oh) || pos + 3 >= t.size() || t[pos + 3] != ':' || !parse_digits(t, pos + 4, 2, om)) {
      return false;
    }
    offset = (t[pos] == '+' ? 1 : -1) * (int64_t{oh} * 3600 + int64_t{om} * 60);
    pos += 6;
  } else {
    return false;  // S3 always says the zone; a local time would be a guess
  }
  if (pos != t.size()) return false;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = s;
  sec = static_cast<int64_t>(::timegm(&tm)) - offset;
  nsec = frac;
  return true;
}

Result<S3ListPage> parse_list_objects_v2(std::string_view xml) {
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
  if (!parsed) {
    return malformed(std::string(parsed.description()) + " at byte " + std::to_string(parsed.offset));
  }
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) {
    pugi::xml_node first = doc.first_child();
    return malformed(std::string("root element is <") + (first ? first.name() : "") + ">, not <ListBucketResult>");
  }
  S3ListPage page;
  std::string_view truncated = root.child_value("IsTruncated");
  page.truncated = truncated == "true";
  if (page.truncated) {
    page.next_token = root.child_value("NextContinuationToken");
    if (page.next_token.empty()) return malformed("IsTruncated without NextContinuationToken");
  }
  for (pugi::xml_node c = root.child("Contents"); c; c = c.next_sibling("Contents")) {
    S3Object o;
    pugi::xml_node key = c.child("Key");
    if (!key) return malformed("<Contents> without <Key>");
    o.key = key.text().get();
    if (o.key.empty()) return malformed("<Contents> with an empty <Key>");
    std::string_view size = c.child_value("Size");
    auto [end, ec] = std::from_chars(size.data(), size.data() + size.size(), o.size);
    if (size.empty() || ec != std::errc() || end != size.data() + size.size()) {
      return malformed("key '" + o.key + "': bad <Size> '" + std::string(size) + "'");
    }
    std::string_view modified = c.child_value("LastModified");
    if (!parse_iso8601_timestamp(modified, o.mtime_sec, o.mtime_nsec)) {
      return malformed("key '" + o.key + "': bad <LastModified> '" + std::string(modified) + "'");
    }
    page.objects.push_back(std::move(o));
  }
  return page;
}

std::string s3_error_summary(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size())) return {};
  pugi::xml_node err = doc.child("Error");
  if (!err) return {};
  std::string code = err.child_value("Code");
  std::string message = err.child_value("Message");
  if (code.empty()) return message;
  return message.empty() ? code : code + ": " + message;
}

std::optional<std::vector<std::string_view>> split_s3_key(std::string_view rel) {
  if (!rel.empty() && rel.back() == '/') rel.remove_suffix(1);
  std::vector<std::string_view> parts;
  if (rel.empty()) return parts;
  size_t start = 0;
  while (true) {
    size_t slash = rel.find('/', start);
    std::string_view part = rel.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty() || part == "." || part == "..") return std::nullopt;
    parts.push_back(part);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return parts;
}

bool S3TreeBuilder::ensure_directory(const std::string& path, const S3Object& object) {
  if (files_.count(path) != 0) return false;
  if (!dirs_.insert(path).second) return true;
  ListedEntry e;
  e.path = path;
  e.attr.type = EntryType::kDirectory;
  e.attr.mode = kDirMode;
  e.attr.mtime_sec = object.mtime_sec;
  e.attr.mtime_nsec = object.mtime_nsec;
  sink_(std::move(e));
  return true;
}

bool S3TreeBuilder::add(std::string_view rel, const S3Object& object) {
  auto parts = split_s3_key(rel);
  if (!parts) {
    ++rejected_;
    return false;
  }
  if (parts->empty()) return true;  // the marker of the prefix itself: the root
  const bool marker = rel.back() == '/';
  std::string path;
  for (size_t i = 0; i + 1 < parts->size(); ++i) {
    path += "/";
    path += (*parts)[i];
    if (!ensure_directory(path, object)) {
      ++rejected_;
      return false;
    }
  }
  path += "/";
  path += parts->back();
  if (marker) {
    if (!ensure_directory(path, object)) {
      ++rejected_;
      return false;
    }
    return true;
  }
  if (dirs_.count(path) != 0 || !files_.insert(path).second) {
    ++rejected_;
    return false;
  }
  ListedEntry e;
  e.path = std::move(path);
  e.attr.type = EntryType::kFile;
  e.attr.mode = kFileMode;
  e.attr.size = object.size;
  e.attr.mtime_sec = object.mtime_sec;
  e.attr.mtime_nsec = object.mtime_nsec;
  sink_(std::move(e));
  return true;
}

}  // namespace musicfs
