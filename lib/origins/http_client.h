#pragma once
// A small HTTP client on libcurl, shared by the remote origin types that speak HTTP
// (http, s3). One HttpClient per origin keeps a few curl easy handles; each carries
// its own connection cache, so consecutive requests reuse a kept-alive connection
// instead of paying a TCP (and TLS) handshake per read. A handle is used by one
// thread at a time: perform() takes one from the pool and gives it back after.
//
// Every request is bounded by its Deadline (curl's total and connect timeouts), so a
// frozen server never holds a thread past the caller's deadline.
//
// Secrets: `userpwd` and any Authorization header are never logged or put in an
// error message, and error messages show the URL without user info or query string
// (presigned or signed URLs carry credentials there). CURLOPT_VERBOSE stays off.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <curl/curl.h>

#include "core/error.h"
#include "util/time_util.h"

namespace musicfs {

enum class HttpMethod { kGet, kHead };

// Inclusive byte range, as in "Range: bytes=first-last".
struct ByteRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t length() const { return last - first + 1; }
};

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::optional<ByteRange> range;
  // Request signing through CURLOPT_AWS_SIGV4, e.g. "aws:amz:us-east-1:s3", with
  // userpwd "ACCESS_KEY:SECRET_KEY". Empty: no signing.
  std::string aws_sigv4;
  std::string userpwd;  // secret: never logged
  bool tls_verify = true;
  Deadline deadline = deadline_in(Millis(10000));
  // When non-empty, a 2xx body is written here (no extra copy) instead of into
  // HttpResponse::body; at most sink.size() bytes are kept. With `range` set and a
  // server that ignores ranges (200 with the whole entity), the bytes before
  // range->first are skipped and only the asked-for range lands in the sink.
  std::span<char> sink;
  // Bodies that go to HttpResponse::body (listings, error documents) are capped.
  size_t max_body_bytes = 64u << 20;
};

struct HttpResponse {
  long status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased; repeats joined by ", "
  std::string body;        // when the request had no sink, or the status was not 2xx
  size_t sink_bytes = 0;   // bytes written into the request's sink
  // Size of the whole entity when the server said it: the total of Content-Range on a
  // 206, else Content-Length of a 200 (also for HEAD).
  std::optional<uint64_t> entity_size;
  // True when a ranged request was answered 200 with the full entity (handled: the
  // sink holds the asked-for range all the same).
  bool range_ignored = false;

  const std::string* header(std::string_view lower_name) const;
};

// An owned curl easy handle: movable, not copyable.
class CurlEasy {
 public:
  CurlEasy();
  ~CurlEasy();
  CurlEasy(CurlEasy&& other) noexcept;
  CurlEasy& operator=(CurlEasy&& other) noexcept;
  CurlEasy(const CurlEasy&) = delete;
  CurlEasy& operator=(const CurlEasy&) = delete;

  CURL* get() const { return handle_; }
  explicit operator bool() const { return handle_ != nullptr; }

 private:
  CURL* handle_ = nullptr;
};

class HttpClient {
 public:
  // max_idle: handles (and so kept-alive connections) kept between requests.
  explicit HttpClient(size_t max_idle = 8);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Performs one request. Transport failures are errors (kUnavailable for a refused
  // connection or an unknown host, kTimedOut at the deadline, kIo otherwise); any
  // HTTP status is a response: the caller decides, e.g. with error_for_status().
  Result<HttpResponse> perform(const HttpRequest& request);

  size_t idle_handles() const;

 private:
  CurlEasy acquire();
  void release(CurlEasy handle);

  mutable std::mutex mu_;
  std::vector<CurlEasy> idle_;
  size_t max_idle_;
};

// The error for a non-success HTTP status: 404 kNotFound, 401/403 kPermission,
// 408/504 kTimedOut, 502/503 kUnavailable, other kIo. `context` comes first in the
// message ("origin web: GET http://host/x"); the status follows.
Error error_for_status(long status, std::string_view context);

// "GET url" for messages, with the URL redacted.
std::string describe_request(const HttpRequest& request);

// The URL without user info and with any query string replaced by "?…": safe to log.
std::string redact_url(std::string_view url);

// Percent-encodes one path component (everything but RFC 3986 unreserved characters).
std::string url_encode_component(std::string_view component);
// Decodes %XX escapes; nullopt for a malformed escape.
std::optional<std::string> url_decode(std::string_view text);

// Parses an HTTP date ("Wed, 25 Nov 2026 05:01:31 GMT", RFC 7231 IMF-fixdate) to unix
// seconds; nullopt when it is not one.
std::optional<int64_t> parse_http_date(std::string_view text);

}  // namespace musicfs
