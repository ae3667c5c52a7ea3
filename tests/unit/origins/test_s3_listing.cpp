#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "origins/s3_listing.h"

using namespace musicfs;

namespace {

std::string contents(const std::string& key, uint64_t size, const std::string& modified = "2026-11-25T05:01:31.250Z") {
  return "<Contents><Key>" + key + "</Key><LastModified>" + modified + "</LastModified><ETag>&quot;x&quot;</ETag><Size>" +
         std::to_string(size) + "</Size><StorageClass>STANDARD</StorageClass></Contents>";
}

std::string page(const std::string& body, bool truncated, const std::string& next = "") {
  std::string xml =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>music</Name><Prefix></Prefix>"
      "<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>" +
      std::string(truncated ? "true" : "false") + "</IsTruncated>";
  if (!next.empty()) xml += "<NextContinuationToken>" + next + "</NextContinuationToken>";
  return xml + body + "</ListBucketResult>";
}

struct Collected {
  std::vector<ListedEntry> entries;
  std::vector<std::string> paths() const {
    std::vector<std::string> out;
    for (const auto& e : entries) out.push_back(e.path + (e.attr.type == EntryType::kDirectory ? "/" : ""));
    return out;
  }
};

}  // namespace

TEST_CASE("s3 listing: one page with objects") {
  auto p = parse_list_objects_v2(page(contents("A/B/01 one.flac", 1234) + contents("A/cover &amp; art.jpg", 5), false));
  REQUIRE(p.ok());
  CHECK_FALSE(p->truncated);
  REQUIRE(p->objects.size() == 2);
  CHECK(p->objects[0].key == "A/B/01 one.flac");
  CHECK(p->objects[0].size == 1234);
  CHECK(p->objects[0].mtime_sec == 1795582891);  // 2026-11-25T05:01:31Z
  CHECK(p->objects[0].mtime_nsec == 250000000);
  CHECK(p->objects[1].key == "A/cover & art.jpg");
}

TEST_CASE("s3 listing: continuation token of a truncated page") {
  auto p = parse_list_objects_v2(page(contents("a", 1), true, "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM="));
  REQUIRE(p.ok());
  CHECK(p->truncated);
  CHECK(p->next_token == "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=");
  auto bad = parse_list_objects_v2(page(contents("a", 1), true));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == ErrorCode::kIo);
}

TEST_CASE("s3 listing: empty bucket") {
  auto p = parse_list_objects_v2(page("", false));
  REQUIRE(p.ok());
  CHECK(p->objects.empty());
}

TEST_CASE("s3 listing: malformed XML and wrong documents are errors") {
  for (const std::string& xml :
       {std::string("<ListBucketResult><Contents><Key>a</Key>"), std::string("not xml at all"), std::string(""),
        std::string("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"),
        page(contents("a", 1).replace(contents("a", 1).find("<Size>1"), 7, "<Size>x1"), false),
        page("<Contents><Size>3</Size><LastModified>2026-11-25T05:01:31Z</LastModified></Contents>", false),
        page(contents("a", 1, "yesterday"), false)}) {
    auto p = parse_list_objects_v2(xml);
    INFO(xml);
    REQUIRE_FALSE(p.ok());
    CHECK(p.error().code == ErrorCode::kIo);
    CHECK(p.error().message.rfind("malformed ListObjectsV2 answer: ", 0) == 0);
  }
}

TEST_CASE("s3 listing: error document summary") {
  CHECK(s3_error_summary("<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not exist</Message></Error>") ==
        "NoSuchBucket: The specified bucket does not exist");
  CHECK(s3_error_summary("").empty());
  CHECK(s3_error_summary("<ListBucketResult/>").empty());
}

TEST_CASE("s3 listing: ISO 8601 timestamps") {
  int64_t s = 0;
  uint32_t ns = 0;
  REQUIRE(parse_iso8601_timestamp("1970-01-01T00:00:00Z", s, ns));
  CHECK(s == 0);
  REQUIRE(parse_iso8601_timestamp("2026-11-25T05:01:31.000Z", s, ns));
  CHECK(s == 1795582891);
  CHECK(ns == 0);
  REQUIRE(parse_iso8601_timestamp("2026-11-25T06:01:31+01:00", s, ns));
  CHECK(s == 1795582891);
  CHECK_FALSE(parse_iso8601_timestamp("2026-11-25T05:01:31", s, ns));
  CHECK_FALSE(parse_iso8601_timestamp("2026-13-25T05:01:31Z", s, ns));
  CHECK_FALSE(parse_iso8601_timestamp("2026-11-25T05:01:31.Z", s, ns));
  CHECK_FALSE(parse_iso8601_timestamp("Wed, 25 Nov 2026 05:01:31 GMT", s, ns));
}

TEST_CASE("s3 listing: key splitting rejects unsafe components") {
  CHECK(split_s3_key("A/B/c.flac").value() == std::vector<std::string_view>{"A", "B", "c.flac"});
  CHECK(split_s3_key("A/").value() == std::vector<std::string_view>{"A"});
  CHECK(split_s3_key("").value().empty());
  CHECK_FALSE(split_s3_key("A/../etc/passwd"));
  CHECK_FALSE(split_s3_key(".."));
  CHECK_FALSE(split_s3_key("../x"));
  CHECK_FALSE(split_s3_key("A/./b"));
  CHECK_FALSE(split_s3_key("A//b"));
  CHECK_FALSE(split_s3_key("/A"));
  CHECK(split_s3_key("A/..b/c..").has_value());  // dots inside a name are fine
}

TEST_CASE("s3 listing: tree with synthesized directories, parents before children") {
  Collected got;
  S3TreeBuilder tree([&](ListedEntry&& e) { got.entries.push_back(std::move(e)); });
  S3Object o{"", 10, 100, 0};
  CHECK(tree.add("Artist/Album/01.flac", o));
  CHECK(tree.add("Artist/Album/02.flac", o));
  CHECK(tree.add("Artist/Other/", o));  // a directory marker
  CHECK(tree.add("Artist B/x.flac", o));
  CHECK(tree.add("", o));  // the prefix's own marker: nothing to emit
  CHECK(tree.add("top.flac", o));
  CHECK(tree.rejected() == 0);
  CHECK(got.paths() == std::vector<std::string>{"/Artist/", "/Artist/Album/", "/Artist/Album/01.flac",
                                                "/Artist/Album/02.flac", "/Artist/Other/", "/Artist B/",
                                                "/Artist B/x.flac", "/top.flac"});
  CHECK(got.entries[2].attr.size == 10);
  CHECK(got.entries[2].attr.mtime_sec == 100);
  CHECK(got.entries[2].attr.type == EntryType::kFile);
}

TEST_CASE("s3 listing: '..' keys, empty components and file/directory clashes are rejected") {
  Collected got;
  S3TreeBuilder tree([&](ListedEntry&& e) { got.entries.push_back(std::move(e)); });
  S3Object o{"", 1, 0, 0};
  CHECK_FALSE(tree.add("../outside.flac", o));
  CHECK_FALSE(tree.add("A/../../etc/passwd", o));
  CHECK_FALSE(tree.add("A//b.flac", o));
  CHECK_FALSE(tree.add("A/./b.flac", o));
  CHECK(tree.add("song", o));
  CHECK_FALSE(tree.add("song/inner.flac", o));  // "song" is already a file
  CHECK_FALSE(tree.add("song", o));             // listed twice
  CHECK(tree.rejected() == 6);
  CHECK(got.paths() == std::vector<std::string>{"/song"});
}

TEST_CASE("s3 listing: a listing below a directory does not emit it again") {
  Collected got;
  S3TreeBuilder tree([&](ListedEntry&& e) { got.entries.push_back(std::move(e)); });
  tree.assume_directory("/A");
  S3Object o{"", 1, 0, 0};
  CHECK(tree.add("A/B/c.flac", o));
  CHECK(got.paths() == std::vector<std::string>{"/A/B/", "/A/B/c.flac"});
}
