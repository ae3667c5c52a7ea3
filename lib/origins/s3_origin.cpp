#include "origins/s3_origin.h"

#include <spdlog/spdlog.h>

#include "origins/origin_types.h"
#include "origins/readahead_file.h"
#include "origins/s3_listing.h"

namespace musicfs {

namespace {

// ListObjectsV2 gives at most 1000 keys a page; fewer requests per listing are better.
constexpr const char* kMaxKeys = "1000";
// A listing may run for many pages under a long deadline, but one page answers in
// seconds from a live server: a frozen one must not hold the indexer for the whole
// listing deadline.
constexpr auto kPageTimeout = std::chrono::seconds(60);

std::string path_for_messages(std::string_view path) { return path.empty() ? "/" : std::string(path); }

// Ranged GETs of one object, of the version whose size open() saw. Fewer bytes than
// asked only at the end of the object (the RangeFetch contract of ReadaheadFile).
class S3ObjectReader {
 public:
  S3ObjectReader(std::shared_ptr<S3Endpoint> endpoint, std::string path, std::string url, uint64_t size)
      : endpoint_(std::move(endpoint)), path_(std::move(path)), url_(std::move(url)), size_(size) {}

  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline deadline) const {
    if (offset >= size_ || buf.empty()) return size_t{0};
    const uint64_t last = std::min<uint64_t>(size_, offset + buf.size()) - 1;
    HttpRequest req = endpoint_->request(HttpMethod::kGet, url_, deadline);
    req.range = ByteRange{offset, last};
    req.sink = buf.first(static_cast<size_t>(last - offset + 1));
    auto resp = endpoint_->perform(req);
    if (!resp) return resp.error().with_context("origin " + endpoint_->origin_id() + ": read " + path_);
    if (resp->status == 416) return changed("it is now shorter than " + std::to_string(offset + 1) + " bytes");
    if (resp->status != 200 && resp->status != 206) return endpoint_->status_error(req, *resp, "read " + path_);
    if (resp->entity_size && *resp->entity_size != size_) {
      return changed("it is now " + std::to_string(*resp->entity_size) + " bytes");
    }
    if (resp->sink_bytes != req.sink.size()) {
      return make_error(ErrorCode::kIo, "origin " + endpoint_->origin_id() + ": read " + path_ + ": got " +
                                            std::to_string(resp->sink_bytes) + " of " +
                                            std::to_string(req.sink.size()) + " bytes at offset " +
                                            std::to_string(offset));
    }
    return resp->sink_bytes;
  }

 private:
  Error changed(const std::string& now) const {
    return make_error(ErrorCode::kChanged, "origin " + endpoint_->origin_id() + ": " + path_ +
                                          " changed on the server while open (it was " + std::to_string(size_) +
                                          " bytes, " + now + ")");
  }

  std::shared_ptr<S3Endpoint> endpoint_;
  std::string path_;
  std::string url_;
  uint64_t size_;
};

Result<OriginPtr> create_s3(const OriginConfig& c) {
  auto settings = s3_settings_from_config(c);
  if (!settings) return settings.take_error();
  auto creds = load_s3_credentials(c.id, c.string_setting("credentials_file"), c.string_setting("profile", "default"),
                                   aws_environment());
  if (!creds) return creds.take_error();
  if (!settings->tls_verify) {
    spdlog::warn("origin {}: tls_verify = false: the server's TLS certificate is not checked", c.id);
  }
  spdlog::info("origin {}: s3 bucket {}, keys from {}", c.id, settings->bucket, creds->source);
  auto endpoint = std::make_shared<S3Endpoint>(c.id, std::move(*settings), std::move(*creds));
  return OriginPtr(std::make_shared<S3Origin>(c.id, c.type, std::move(endpoint)));
}

}  // namespace

S3Origin::S3Origin(std::string id, std::string type, std::shared_ptr<S3Endpoint> endpoint)
    : id_(std::move(id)), type_(std::move(type)), endpoint_(std::move(endpoint)) {}

std::optional<std::string> S3Origin::key_of(std::string_view path) const {
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return endpoint_->settings().prefix;
  if (!split_s3_key(path)) return std::nullopt;
  return endpoint_->settings().prefix + std::string(path);
}

Status S3Origin::list(std::string_view under, const std::function<void(ListedEntry&&)>& sink, Deadline deadline) {
  auto base_key = key_of(under);
  if (!base_key) return make_error(ErrorCode::kNotFound, "origin " + id_ + ": no directory " + std::string(under));
  std::string list_prefix = *base_key;
  if (!list_prefix.empty() && list_prefix.back() != '/') list_prefix += '/';
  const std::string& origin_prefix = endpoint_->settings().prefix;
  const bool whole = list_prefix == origin_prefix;

  std::unordered_map<std::string, uint64_t> sizes;
  S3TreeBuilder tree([&](ListedEntry&& e) {
    if (e.attr.type == EntryType::kFile) sizes[e.path] = e.attr.size;
    sink(std::move(e));
  });
  // `under` and its parents are not part of this listing.
  std::string dir;
  auto parts = split_s3_key(list_prefix.substr(origin_prefix.size()));
  for (std::string_view p : parts.value_or(std::vector<std::string_view>{})) {
    dir += "/";
    dir += p;
    tree.assume_directory(dir);
  }

  std::string token;
  size_t pages = 0;
  do {
    // Parameters in sorted order and encoded once: the canonical query SigV4 signs.
    std::string query;
    if (!token.empty()) query += "continuation-token=" + url_encode_component(token) + "&";
    query += "list-type=2&max-keys=" + std::string(kMaxKeys) + "&prefix=" + url_encode_component(list_prefix);
    Deadline page_deadline = std::min(deadline, SteadyClock::now() + kPageTimeout);
    HttpRequest req = endpoint_->request(HttpMethod::kGet, endpoint_->bucket_url() + "?" + query, page_deadline);
    auto resp = endpoint_->perform(req);
    if (!resp) return resp.error().with_context("origin " + id_ + ": list");
    if (resp->status != 200) return endpoint_->status_error(req, *resp, "list");
    auto page = parse_list_objects_v2(resp->body);
    if (!page) {
      return make_error(ErrorCode::kIo, "origin " + id_ + ": list: " + describe_request(req) + ": " +
                                            page.error().message);
    }
    for (const S3Object& o : page->objects) {
      if (o.key.compare(0, origin_prefix.size(), origin_prefix) != 0) continue;  // not ours: ignore
      std::string_view rel = std::string_view(o.key).substr(origin_prefix.size());
      if (!tree.add(rel, o)) spdlog::debug("origin {}: skipping key '{}': not a safe path", id_, o.key);
    }
    ++pages;
    if (page->truncated && page->next_token == token) {
      return make_error(ErrorCode::kIo, "origin " + id_ + ": list: the server repeated a continuation token");
    }
    token = page->truncated ? page->next_token : std::string();
  } while (!token.empty());

  if (tree.rejected() > 0) {
    spdlog::warn("origin {}: {} key(s) skipped: empty, '.' or '..' components, or a name that is both a file and "
                 "a directory",
                 id_, tree.rejected());
  }
  spdlog::debug("origin {}: listed {} file(s) in {} page(s)", id_, sizes.size(), pages);
  std::lock_guard lock(sizes_mu_);
  if (whole) {
    listed_sizes_ = std::move(sizes);
  } else {
    for (auto& [p, s] : sizes) listed_sizes_[p] = s;
  }
  return {};
}

Result<HttpResponse> S3Origin::head_object(std::string_view path, Deadline deadline) {
  auto key = key_of(path);
  if (!key || key->empty() || key->back() == '/') {
    return make_error(ErrorCode::kNotFound, "origin " + id_ + ": no object for " + path_for_messages(path));
  }
  HttpRequest req = endpoint_->request(HttpMethod::kHead, endpoint_->object_url(*key), deadline);
  auto resp = endpoint_->perform(req);
  if (!resp) return resp.error().with_context("origin " + id_ + ": stat " + std::string(path));
  if (resp->status != 200) return endpoint_->status_error(req, *resp, "stat " + std::string(path));
  return resp;
}

Result<EntryAttr> S3Origin::stat(std::string_view path, Deadline deadline) {
  EntryAttr attr;
  auto key = key_of(path);
  if (!key) return make_error(ErrorCode::kNotFound, "origin " + id_ + ": no such path " + std::string(path));
  if (*key == endpoint_->settings().prefix) {
    attr.type = EntryType::kDirectory;
    attr.mode = 0555;
    return attr;
  }
  auto resp = head_object(path, deadline);
  if (resp) {
    attr.type = EntryType::kFile;
    attr.mode = 0444;
    attr.size = resp->entity_size.value_or(0);
    if (const std::string* lm = resp->header("last-modified")) {
      if (auto t = parse_http_date(*lm)) attr.mtime_sec = *t;
    }
    // The index takes this size for the path (a refresh after a change): opens compare
    // against it from now on.
    std::lock_guard lock(sizes_mu_);
    listed_sizes_[std::string(path)] = attr.size;
    return attr;
  }
  if (resp.error().code != ErrorCode::kNotFound) return resp.take_error();
  // Not an object: a directory exists when any key lies below it.
  std::string query = "list-type=2&max-keys=1&prefix=" + url_encode_component(*key + "/");
  HttpRequest req = endpoint_->request(HttpMethod::kGet, endpoint_->bucket_url() + "?" + query, deadline);
  auto listed = endpoint_->perform(req);
  if (!listed) return listed.error().with_context("origin " + id_ + ": stat " + std::string(path));
  if (listed->status != 200) return endpoint_->status_error(req, *listed, "stat " + std::string(path));
  auto page = parse_list_objects_v2(listed->body);
  if (!page) return page.error().with_context("origin " + id_ + ": stat " + std::string(path));
  if (page->objects.empty()) return resp.take_error();
  attr.type = EntryType::kDirectory;
  attr.mode = 0555;
  attr.mtime_sec = page->objects.front().mtime_sec;
  return attr;
}

Result<std::unique_ptr<OriginFile>> S3Origin::open(std::string_view path, Deadline deadline) {
  auto resp = head_object(path, deadline);
  if (!resp) return resp.take_error();
  if (!resp->entity_size) {
    return make_error(ErrorCode::kIo, "origin " + id_ + ": open " + std::string(path) +
                                          ": the server did not say the object's size");
  }
  const uint64_t size = *resp->entity_size;
  {
    std::lock_guard lock(sizes_mu_);
    auto it = listed_sizes_.find(std::string(path));
    if (it != listed_sizes_.end() && it->second != size) {
      return make_error(ErrorCode::kChanged, "origin " + id_ + ": " + std::string(path) +
                                            " changed on the server since it was listed (listed " +
                                            std::to_string(it->second) + " bytes, now " + std::to_string(size) +
                                            ")");
    }
  }
  auto key = key_of(path);
  auto reader = std::make_shared<const S3ObjectReader>(endpoint_, std::string(path), endpoint_->object_url(*key), size);
  RangeFetch fetch = [reader](uint64_t offset, std::span<char> buf, Deadline until) {
    return reader->read(offset, buf, until);
  };
  // A sequential reader (playback, the content cache filling 1 MiB chunks) gets a few
  // large GETs instead of one round trip per chunk.
  return std::unique_ptr<OriginFile>(
      std::make_unique<ReadaheadFile>(std::move(fetch), size, "origin " + id_ + ": " + std::string(path)));
}

Status S3Origin::probe(Deadline deadline) {
  HttpRequest req = endpoint_->request(HttpMethod::kHead, endpoint_->bucket_url(), deadline);
  auto resp = endpoint_->perform(req);
  if (!resp) return resp.error().with_context("origin " + id_ + ": probe");
  if (resp->status != 200) return endpoint_->status_error(req, *resp, "bucket");
  return {};
}

OriginTypeInfo s3_origin_type() {
  return {"s3",
          true,
          "an S3 or S3-compatible bucket",
          {
              {"bucket", SettingKind::kString, true, "the bucket name"},
              {"prefix", SettingKind::kString, false, "key prefix of the music tree (default: the whole bucket)"},
              {"region", SettingKind::kString, false, "the bucket's region (us-east-1)"},
              {"endpoint", SettingKind::kString, false, "http(s) URL of an S3-compatible server (default: AWS)"},
              {"path_style", SettingKind::kBool, false,
               "path-style addressing (default: true with endpoint, false for AWS)"},
              {"credentials_file", SettingKind::kAbsolutePath, false,
               "AWS shared-credentials file (default: the daemon's AWS_* environment)"},
              {"profile", SettingKind::kString, false, "profile in credentials_file (default)"},
              {"tls_verify", SettingKind::kBool, false, "check the server's TLS certificate (true)"},
              {"refresh_interval_secs", SettingKind::kInteger, false, "index polling interval", 10, 86400},
          },
          create_s3};
}

}  // namespace musicfs
