// The `http` origin type: a directory tree served over HTTP(S) by a web server that
// lists directories as JSON the way nginx does with
//   autoindex on; autoindex_format json;
// i.e. an array of {"name", "type": "directory"|"file"|"other", "mtime": HTTP-date,
// "size"}. Files are read with ranged GETs through a ReadaheadFile, so a sequential
// stream turns into a few large requests on a kept-alive connection.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <vector>

#include "origins/http_client.h"
#include "origins/origin_types.h"
#include "origins/readahead_file.h"

namespace musicfs {

namespace {

constexpr uint32_t kFileMode = 0444;
constexpr uint32_t kDirMode = 0555;

std::string canonical(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& p : parts) out += "/" + p;
  return out.empty() ? "/" : out;
}

bool valid_name(std::string_view name) {
  return !name.empty() && name != "." && name != ".." && name.find('/') == std::string_view::npos &&
         name.find('\0') == std::string_view::npos;
}

// Splits "/A/B/c.flac" into components; nullopt when one would escape the root.
std::optional<std::vector<std::string>> components(std::string_view path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view part = path.substr(i, j - i);
    if (!part.empty()) {
      if (!valid_name(part)) return std::nullopt;
      parts.emplace_back(part);
    }
    i = j + 1;
  }
  return parts;
}

// What the last listing (or stat) said about a file, to catch a file that changed on
// the server before the index caught up: its bytes must not be read (and cached) as
// the version the index describes.
struct Seen {
  uint64_t size = 0;
  int64_t mtime = 0;
};

class HttpOrigin : public Origin {
 public:
  HttpOrigin(std::string id, std::string base_url, bool tls_verify)
      : id_(std::move(id)), base_(std::move(base_url)), tls_verify_(tls_verify),
        client_(std::make_shared<HttpClient>()) {}

  const std::string& id() const override { return id_; }
  const std::string& type() const override { return type_; }
  std::string location() const override { return redact_url(base_); }

  Status list(std::string_view under, const std::function<void(ListedEntry&&)>& sink, Deadline deadline) override;
  Result<EntryAttr> stat(std::string_view path, Deadline deadline) override;
  Result<std::unique_ptr<OriginFile>> open(std::string_view path, Deadline deadline) override;
  Status probe(Deadline deadline) override;

 private:
  void remember(const std::string& path, const EntryAttr& attr) {
    std::lock_guard lock(seen_mu_);
    seen_[path] = Seen{attr.size, attr.mtime_sec};
  }
  std::optional<Seen> seen(const std::string& path) const {
    std::lock_guard lock(seen_mu_);
    auto it = seen_.find(path);
    if (it == seen_.end()) return std::nullopt;
    return it->second;
  }

  // URL of a file, or of a directory (with its trailing slash) when `dir`.
  Result<std::string> url_of(std::string_view path, bool dir) const;
  HttpRequest request(HttpMethod method, std::string url, Deadline deadline) const {
    HttpRequest r;
    r.method = method;
    r.url = std::move(url);
    r.tls_verify = tls_verify_;
    r.deadline = deadline;
    return r;
  }
  Error not_found(std::string_view path) const {
    return make_error(ErrorCode::kNotFound, "origin " + id_ + ": " + std::string(path) + ": no such file");
  }
  // One directory's listing, parsed; `vpath` is its origin path ("" for the root).
  Status list_one(const std::string& vpath, std::vector<ListedEntry>& out, Deadline deadline);

  std::string id_;
  std::string type_ = "http";
  std::string base_;  // always ends with '/'
  bool tls_verify_;
  // Shared with open files, which may outlive a removed origin by a read or two.
  std::shared_ptr<HttpClient> client_;
  mutable std::mutex seen_mu_;
  std::unordered_map<std::string, Seen> seen_;
};

Result<std::string> HttpOrigin::url_of(std::string_view path, bool dir) const {
  auto parts = components(path);
  if (!parts) return not_found(path);
  std::string url = base_;
  for (size_t i = 0; i < parts->size(); ++i) {
    if (i > 0) url.push_back('/');
    url += url_encode_component((*parts)[i]);
  }
  if (dir && !parts->empty()) url.push_back('/');
  return url;
}

Status HttpOrigin::list_one(const std::string& vpath, std::vector<ListedEntry>& out, Deadline deadline) {
  auto url = url_of(vpath.empty() ? "/" : vpath, true);
  if (!url) return url.take_error();
  HttpRequest req = request(HttpMethod::kGet, *url, deadline);
  req.headers.push_back("Accept: application/json");
  std::string context = "origin " + id_ + ": list " + redact_url(*url);
  auto resp = client_->perform(req);
  if (!resp) return resp.error().with_context("origin " + id_ + ": list");
  if (resp->status != 200) return error_for_status(resp->status, context);
  auto doc = nlohmann::json::parse(resp->body, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_array()) {
    return make_error(ErrorCode::kIo, context +
                                          ": the listing is not a JSON array (expected nginx "
                                          "'autoindex on; autoindex_format json;')");
  }
  for (const auto& item : doc) {
    if (!item.is_object()) {
      return make_error(ErrorCode::kIo, context + ": a listing entry is not a JSON object");
    }
    auto name_it = item.find("name");
    auto type_it = item.find("type");
    if (name_it == item.end() || !name_it->is_string() || type_it == item.end() || !type_it->is_string()) {
      return make_error(ErrorCode::kIo, context + ": a listing entry lacks a string \"name\" or \"type\"");
    }
    const std::string& name = name_it->get_ref<const std::string&>();
    const std::string& kind = type_it->get_ref<const std::string&>();
    if (!valid_name(name)) {
      // A server must never be able to name a path outside the origin's root.
      spdlog::warn("{}: skipping entry with an invalid name", context);
      continue;
    }
    ListedEntry e;
    e.path = vpath + "/" + name;
    if (kind == "directory") {
      e.attr.type = EntryType::kDirectory;
      e.attr.mode = kDirMode;
    } else if (kind == "file") {
      e.attr.type = EntryType::kFile;
      e.attr.mode = kFileMode;
      auto size_it = item.find("size");
      if (size_it != item.end() && size_it->is_number_unsigned()) e.attr.size = size_it->get<uint64_t>();
    } else {
      continue;  // "other": sockets, devices; nothing to serve
    }
    auto mtime_it = item.find("mtime");
    if (mtime_it != item.end() && mtime_it->is_string()) {
      if (auto t = parse_http_date(mtime_it->get_ref<const std::string&>())) e.attr.mtime_sec = *t;
    }
    out.push_back(std::move(e));
  }
  return {};
}

Status HttpOrigin::list(std::string_view under, const std::function<void(ListedEntry&&)>& sink, Deadline deadline) {
  auto start = components(under);
  if (!start) return not_found(under);
  std::string base;
  for (const auto& p : *start) base += "/" + p;
  // Depth-first with an explicit stack; each directory's entries are sent before any
  // of its subdirectories are listed, so parents always precede children.
  std::vector<std::string> pending{base};
  bool first = true;
  while (!pending.empty()) {
    std::string dir = std::move(pending.back());
    pending.pop_back();
    std::vector<ListedEntry> entries;
    Status s = list_one(dir, entries, deadline);
    if (!s) {
      // A directory that vanished or is closed to us after its parent was listed is
      // skipped; the origin's root failing is the listing failing.
      ErrorCode c = s.error().code;
      if (!first && (c == ErrorCode::kNotFound || c == ErrorCode::kPermission)) {
        spdlog::debug("{}", s.error().message);
        continue;
      }
      return s;
    }
    first = false;
    size_t sub = pending.size();
    for (auto& e : entries) {
      if (e.attr.type == EntryType::kDirectory) pending.push_back(e.path);
      if (e.attr.type == EntryType::kFile) remember(e.path, e.attr);
      sink(std::move(e));
    }
    std::reverse(pending.begin() + static_cast<std::ptrdiff_t>(sub), pending.end());
  }
  return {};
}

Result<EntryAttr> HttpOrigin::stat(std::string_view path, Deadline deadline) {
  auto parts = components(path);
  if (!parts) return not_found(path);
  const std::string context = "origin " + id_ + ": stat " + std::string(path);
  auto head = [&](bool dir) -> Result<HttpResponse> {
    auto url = url_of(path, dir);
    if (!url) return url.take_error();
    auto r = client_->perform(request(HttpMethod::kHead, *url, deadline));
    if (!r) return r.error().with_context("origin " + id_);
    return r;
  };
  auto attr_of = [](const HttpResponse& r, EntryType type) {
    EntryAttr a;
    a.type = type;
    a.mode = type == EntryType::kDirectory ? kDirMode : kFileMode;
    if (type == EntryType::kFile && r.entity_size) a.size = *r.entity_size;
    if (const std::string* lm = r.header("last-modified")) {
      if (auto t = parse_http_date(*lm)) a.mtime_sec = *t;
    }
    return a;
  };
  if (parts->empty()) {
    auto r = head(true);
    if (!r) return r.take_error();
    if (r->status != 200) return error_for_status(r->status, context);
    return attr_of(*r, EntryType::kDirectory);
  }
  auto r = head(false);
  if (!r) return r.take_error();
  if (r->status == 200) {
    EntryAttr a = attr_of(*r, EntryType::kFile);
    remember(canonical(*parts), a);
    return a;
  }
  if (r->status == 301 || r->status == 302 || r->status == 307 || r->status == 308) {
    // A directory asked for without its slash: servers redirect to the slashed URL.
    auto d = head(true);
    if (!d) return d.take_error();
    if (d->status == 200) return attr_of(*d, EntryType::kDirectory);
    return error_for_status(d->status, context);
  }
  return error_for_status(r->status, context);
}

Result<std::unique_ptr<OriginFile>> HttpOrigin::open(std::string_view path, Deadline deadline) {
  auto url = url_of(path, false);
  if (!url) return url.take_error();
  const std::string what = "origin " + id_ + ": " + std::string(path);
  auto head = client_->perform(request(HttpMethod::kHead, *url, deadline));
  if (!head) return head.error().with_context("origin " + id_ + ": open");
  if (head->status != 200) return error_for_status(head->status, what + ": open");
  if (!head->entity_size) {
    return make_error(ErrorCode::kIo, what + ": open: the server gave no Content-Length");
  }
  const uint64_t size = *head->entity_size;
  std::string last_modified;
  int64_t mtime = 0;
  if (const std::string* lm = head->header("last-modified")) {
    last_modified = *lm;
    mtime = parse_http_date(*lm).value_or(0);
  }
  auto parts = components(path);
  const std::string key = canonical(*parts);
  if (auto listed = seen(key)) {
    bool size_differs = listed->size != size;
    bool mtime_differs = listed->mtime != 0 && mtime != 0 && listed->mtime != mtime;
    if (size_differs || mtime_differs) {
      std::string how = size_differs ? "size " + std::to_string(listed->size) + " listed, " + std::to_string(size) + " now"
                                     : "Last-Modified differs from the listing";
      // The read path looks the path up again (kChanged), as for every remote type.
      return make_error(ErrorCode::kChanged, what + ": changed on the server since it was listed (" + how + ")");
    }
  }

  RangeFetch fetch = [client = client_, url = *url, what, size, last_modified, tls = tls_verify_](
                         uint64_t offset, std::span<char> buf, Deadline until) -> Result<size_t> {
    if (buf.empty() || offset >= size) return size_t{0};
    HttpRequest req;
    req.url = url;
    req.tls_verify = tls;
    req.deadline = until;
    req.range = ByteRange{offset, offset + std::min<uint64_t>(buf.size(), size - offset) - 1};
    req.sink = buf.first(static_cast<size_t>(req.range->length()));
    // The server refuses (412) when the file changed since open, even if its size
    // did not: bytes of two versions must never be mixed in one file.
    if (!last_modified.empty()) req.headers.push_back("If-Unmodified-Since: " + last_modified);
    auto changed = [&](const std::string& how) {
      return make_error(ErrorCode::kChanged, what + ": changed on the server since it was opened (" + how + ")");
    };
    auto r = client->perform(req);
    if (!r) return r.error().with_context(what + ": read");
    if (r->status == 412) return changed("Last-Modified differs");
    if (r->status == 416) return changed("now shorter than " + std::to_string(offset + 1) + " bytes");
    if (r->status != 206 && r->status != 200) return error_for_status(r->status, what + ": read");
    if (r->entity_size && *r->entity_size != size) {
      return changed("size " + std::to_string(size) + " at open, " + std::to_string(*r->entity_size) + " now");
    }
    if (r->sink_bytes != req.sink.size()) {
      return make_error(ErrorCode::kIo, what + ": read at " + std::to_string(offset) + ": got " +
                                            std::to_string(r->sink_bytes) + " of " +
                                            std::to_string(req.sink.size()) + " bytes");
    }
    return r->sink_bytes;
  };
  return std::unique_ptr<OriginFile>(std::make_unique<ReadaheadFile>(std::move(fetch), size, what));
}

Status HttpOrigin::probe(Deadline deadline) {
  auto r = client_->perform(request(HttpMethod::kHead, base_, deadline));
  if (!r) return r.error().with_context("origin " + id_ + ": probe");
  if (r->status < 200 || r->status > 299) return error_for_status(r->status, "origin " + id_ + ": probe " + location());
  return {};
}

Result<OriginPtr> create_http(const OriginConfig& c) {
  std::string url = c.string_setting("url");
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return make_error(ErrorCode::kConfig, "origin '" + c.id + "': url must start with http:// or https://");
  }
  if (url.find_first_of("?#") != std::string::npos) {
    return make_error(ErrorCode::kConfig, "origin '" + c.id + "': url must be a directory URL without ?query or #fragment");
  }
  if (url.back() != '/') url.push_back('/');
  bool tls_verify = c.bool_setting("tls_verify", true);
  if (!tls_verify) {
    spdlog::warn("origin {}: tls_verify = false: the server's TLS certificate is NOT checked, so anyone "
                 "between here and {} can impersonate it",
                 c.id, redact_url(url));
  }
  return OriginPtr(std::make_shared<HttpOrigin>(c.id, std::move(url), tls_verify));
}

}  // namespace

OriginTypeInfo http_origin_type() {
  return {"http",
          true,
          "a directory served over HTTP(S) with JSON listings (nginx autoindex_format json)",
          {
              {"url", SettingKind::kString, true, "http:// or https:// URL of the music directory"},
              {"tls_verify", SettingKind::kBool, false, "check the server's TLS certificate (true)"},
              {"refresh_interval_secs", SettingKind::kInteger, false, "index polling interval", 10, 86400},
          },
          create_http};
}

}  // namespace musicfs
