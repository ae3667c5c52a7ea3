#pragma once
// The addressing, signing and error wording shared by every request of one s3 origin
// (listings, HEADs, ranged GETs), and the checking of its settings.
#include <string>
#include <string_view>

#include "origins/http_client.h"
#include "origins/origin_config.h"
#include "origins/s3_credentials.h"

namespace musicfs {

struct S3Settings {
  std::string bucket;
  std::string prefix;    // "" or "music/" (no leading '/', one trailing '/')
  std::string region = "us-east-1";
  std::string endpoint;  // "" for AWS, else "http(s)://host[:port]" without a trailing '/'
  bool path_style = false;
  bool tls_verify = true;
};

// Checks and normalizes the settings of one origin config (bucket name, prefix,
// endpoint URL); kConfig errors name the origin and the key.
Result<S3Settings> s3_settings_from_config(const OriginConfig& config);

// What every request of one origin needs: addresses, keys and the connection pool.
// Shared with the origin's open files, which may outlive a listing in flight.
class S3Endpoint {
 public:
  S3Endpoint(std::string origin_id, S3Settings settings, S3Credentials credentials);

  const std::string& origin_id() const { return id_; }
  const S3Settings& settings() const { return settings_; }
  // URL of the bucket (for HEAD bucket and listings) and of one object key.
  std::string bucket_url() const;
  std::string object_url(std::string_view key) const;
  // Where the origin points, for status output: no keys, ever.
  std::string location() const;

  // A GET or HEAD with the signing headers set.
  HttpRequest request(HttpMethod method, std::string url, Deadline deadline) const;
  Result<HttpResponse> perform(const HttpRequest& request) const { return client_.perform(request); }
  // The error for a non-2xx answer to `request`: names the origin and what was asked
  // (`what`: "bucket", a path), adds S3's error code and, for 403, where the keys came
  // from. 404 of the bucket itself is kUnavailable: the origin is gone, not a file.
  Error status_error(const HttpRequest& request, const HttpResponse& response, const std::string& what) const;

 private:
  std::string base_url() const;  // scheme://host[/bucket] with no trailing '/'

  std::string id_;
  S3Settings settings_;
  S3Credentials credentials_;
  mutable HttpClient client_;  // thread-safe; mutable so const users can send requests
};

}  // namespace musicfs
