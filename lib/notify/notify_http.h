#pragma once
// What the HTTP notifiers (subsonic, jellyfin, plex) share: one bounded, cancellable
// HTTP request through libcurl, URL encoding, and reading a secret from its file.
// A secret never reaches an error message: errors name the file or the server only.
#include <atomic>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "util/time_util.h"

namespace musicfs {

struct NotifyHttpRequest {
  std::string method = "GET";         // "GET" or "POST"
  std::string url;                    // may carry derived values (a token hash), never logged
  std::vector<std::string> headers;   // "Name: value"
  std::string body;                   // sent with POST
};

struct NotifyHttpResponse {
  long status = 0;
  std::string body;  // at most 64 KiB are kept
};

// One request, ended by `deadline` or as soon as `cancelled` is set. `what` starts
// every error message ("subsonic http://host:4533"), e.g. "WHAT: timed out".
Result<NotifyHttpResponse> notify_http_request(const NotifyHttpRequest& req, SteadyClock::time_point deadline,
                                               const std::atomic<bool>& cancelled, const std::string& what);

// "WHAT: HTTP 401" unless the status is 2xx.
Status require_2xx(const NotifyHttpResponse& r, const std::string& what);

// Percent-encodes everything but RFC 3986's unreserved characters (UTF-8 byte-wise).
std::string url_encode(std::string_view s);

// The first line of `path`, its newline (and a carriage return) stripped. An error
// names `key` and the file, never what it holds.
Result<std::string> read_secret_file(const std::string& key, const std::string& path);

// `url` without its trailing slashes: "http://host:4533/" -> "http://host:4533".
std::string trim_url(std::string url);

// A changed mount-relative directory as the server sees it: path_prefix + dir
// ("/srv/music" + "/Artist/Album"); the mount's root is the prefix itself.
std::string server_path(const std::string& path_prefix, const std::string& dir);

// The common check of the HTTP types: `url` is http:// or https://. An error, or "".
std::string check_http_url(const std::string& url);

}  // namespace musicfs
