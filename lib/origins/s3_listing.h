#pragma once
// ListObjectsV2 for the s3 origin: parsing one page of the XML answer, and turning the
// flat, sorted key space below a prefix into the tree an origin lists (directories
// synthesized from key prefixes, parents before children, unsafe keys rejected).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "core/error.h"
#include "origins/origin.h"

namespace musicfs {

struct S3Object {
  std::string key;
  uint64_t size = 0;
  int64_t mtime_sec = 0;
  uint32_t mtime_nsec = 0;
};

struct S3ListPage {
  std::vector<S3Object> objects;
  bool truncated = false;
  std::string next_token;  // NextContinuationToken; set when truncated
};

// Parses one ListObjectsV2 response body. Malformed XML, a root other than
// ListBucketResult, or an object without a usable Key/Size/LastModified is a kIo error
// (a server that answers nonsense must not become an empty or half-read tree).
Result<S3ListPage> parse_list_objects_v2(std::string_view xml);

// The <Code> and <Message> of an S3 error document ("NoSuchBucket: The specified
// bucket does not exist"), or empty when the body is not one.
std::string s3_error_summary(std::string_view xml);

// "2026-11-25T05:01:31.000Z" (also without fraction, or with +00:00) -> unix time.
bool parse_iso8601_timestamp(std::string_view text, int64_t& sec, uint32_t& nsec);

// Builds the origin's tree from keys relative to the origin's prefix, in any order.
// Each file is emitted after every directory above it; a directory is emitted once.
class S3TreeBuilder {
 public:
  explicit S3TreeBuilder(std::function<void(ListedEntry&&)> sink) : sink_(std::move(sink)) {}

  // `rel` is the key with the origin's prefix removed. A trailing '/' marks a directory
  // (an S3 "folder" marker). Returns false when the key was rejected: an empty, "." or
  // ".." component, or a path that is a file and a directory at once.
  bool add(std::string_view rel, const S3Object& object);

  // Marks a directory as already known (listing below `under`: it and its parents
  // are not emitted again).
  void assume_directory(std::string path) { dirs_.insert(std::move(path)); }

  size_t rejected() const { return rejected_; }

 private:
  bool ensure_directory(const std::string& path, const S3Object& object);

  std::function<void(ListedEntry&&)> sink_;
  std::unordered_set<std::string> dirs_;
  std::unordered_set<std::string> files_;
  size_t rejected_ = 0;
};

// Splits a relative key ("Artist/Album/01.flac", or "Artist/" for a marker) into its
// components; nullopt when a component is empty, "." or "..".
std::optional<std::vector<std::string_view>> split_s3_key(std::string_view rel);

}  // namespace musicfs
