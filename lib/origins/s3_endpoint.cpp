#include "origins/s3_endpoint.h"

#include "origins/s3_listing.h"

namespace musicfs {

namespace {

// SHA-256 of an empty body: GET and HEAD send none. Debian's libcurl signs with
// CURLOPT_AWS_SIGV4 but leaves this header to the caller, and S3 requires it.
constexpr const char* kEmptyPayloadSha256 =
    "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

bool valid_bucket_name(const std::string& b) {
  if (b.empty() || b.size() > 255) return false;
  for (char c : b) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
              c == '_';
    if (!ok) return false;
  }
  return b != "." && b != "..";
}

bool valid_region(const std::string& r) {
  if (r.empty()) return false;
  for (char c : r) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

}  // namespace

Result<S3Settings> s3_settings_from_config(const OriginConfig& c) {
  auto bad = [&](const std::string& key, const std::string& why) {
    return make_error(ErrorCode::kConfig, "origin " + c.id + ": " + key + ": " + why);
  };
  S3Settings s;
  s.bucket = c.string_setting("bucket");
  if (!valid_bucket_name(s.bucket)) {
    return bad("bucket", "'" + s.bucket + "' is not a bucket name (letters, digits, '.', '-', '_')");
  }
  s.region = c.string_setting("region", "us-east-1");
  if (!valid_region(s.region)) return bad("region", "'" + s.region + "' is not a region name such as us-east-1");

  std::string prefix = c.string_setting("prefix");
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  if (!prefix.empty()) {
    if (!split_s3_key(prefix)) return bad("prefix", "'" + prefix + "' has an empty, '.' or '..' component");
    s.prefix = prefix + "/";
  }

  s.endpoint = c.string_setting("endpoint");
  if (!s.endpoint.empty()) {
    if (s.endpoint.rfind("http://", 0) != 0 && s.endpoint.rfind("https://", 0) != 0) {
      return bad("endpoint", "'" + s.endpoint + "' is not an http:// or https:// URL");
    }
    // Keys go in credentials_file or the environment, never in a URL that is shown.
    if (s.endpoint.find('@') != std::string::npos) {
      return bad("endpoint", "user info in the URL is not accepted (use credentials_file or the environment)");
    }
    if (s.endpoint.find_first_of("?# ") != std::string::npos) {
      return bad("endpoint", "'" + s.endpoint + "' must not have a query, fragment or space");
    }
    while (s.endpoint.back() == '/') s.endpoint.pop_back();
  }
  // S3-compatible servers are mostly addressed by path (an IP address or localhost
  // cannot carry the bucket as a subdomain); AWS prefers virtual-hosted style.
  s.path_style = c.bool_setting("path_style", !s.endpoint.empty());
  s.tls_verify = c.bool_setting("tls_verify", true);
  return s;
}

S3Endpoint::S3Endpoint(std::string origin_id, S3Settings settings, S3Credentials credentials)
    : id_(std::move(origin_id)), settings_(std::move(settings)), credentials_(std::move(credentials)) {}

std::string S3Endpoint::base_url() const {
  const S3Settings& s = settings_;
  std::string endpoint = s.endpoint.empty() ? "https://s3." + s.region + ".amazonaws.com" : s.endpoint;
  if (s.path_style) return endpoint + "/" + s.bucket;
  size_t host = endpoint.find("://") + 3;
  return endpoint.substr(0, host) + s.bucket + "." + endpoint.substr(host);
}

std::string S3Endpoint::bucket_url() const {
  // Path style names the bucket as the path ("/bucket"); virtual-hosted style asks
  // for the root of the bucket's own host ("/").
  return settings_.path_style ? base_url() : base_url() + "/";
}

std::string S3Endpoint::object_url(std::string_view key) const {
  // Each component percent-encoded once, '/' kept: the form SigV4 signs for S3.
  std::string url = base_url();
  size_t start = 0;
  while (start <= key.size()) {
    size_t slash = key.find('/', start);
    size_t end = slash == std::string_view::npos ? key.size() : slash;
    url += "/";
    url += url_encode_component(key.substr(start, end - start));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return url;
}

std::string S3Endpoint::location() const {
  std::string where = "s3://" + settings_.bucket + "/" + settings_.prefix;
  if (!settings_.endpoint.empty()) return where + " at " + settings_.endpoint;
  return where + " (" + settings_.region + ")";
}

HttpRequest S3Endpoint::request(HttpMethod method, std::string url, Deadline deadline) const {
  HttpRequest r;
  r.method = method;
  r.url = std::move(url);
  r.deadline = deadline;
  r.tls_verify = settings_.tls_verify;
  r.headers.emplace_back(kEmptyPayloadSha256);
  if (!credentials_.access_key_id.empty()) {
    r.aws_sigv4 = "aws:amz:" + settings_.region + ":s3";
    r.userpwd = credentials_.userpwd();
    if (!credentials_.session_token.empty()) {
      r.headers.push_back("x-amz-security-token: " + credentials_.session_token);
    }
  }
  return r;
}

Error S3Endpoint::status_error(const HttpRequest& request, const HttpResponse& response,
                               const std::string& what) const {
  const std::string summary = s3_error_summary(response.body);
  const bool bucket_level = what == "bucket";
  if (response.status == 404 && (bucket_level || summary.rfind("NoSuchBucket", 0) == 0)) {
    std::string where = settings_.endpoint.empty() ? "region " + settings_.region : settings_.endpoint;
    return make_error(ErrorCode::kUnavailable, "origin " + id_ + ": bucket '" + settings_.bucket +
                                                   "' does not exist at " + where + " (HTTP status 404" +
                                                   (summary.empty() ? "" : ", " + summary) + ")");
  }
  Error e = error_for_status(response.status, "origin " + id_ + ": " + what + ": " + describe_request(request));
  if (!summary.empty()) e.message += " (" + summary + ")";
  if (response.status == 401 || response.status == 403) {
    e.message += "; access denied with keys from " + credentials_.source;
  }
  return e;
}

}  // namespace musicfs
