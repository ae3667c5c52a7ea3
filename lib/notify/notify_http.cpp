#include "notify/notify_http.h"

#include <curl/curl.h>

#include <fstream>
#include <memory>
#include <mutex>

namespace musicfs {

namespace {

constexpr size_t kMaxBody = 64 * 1024;
// The multi loop wakes this often to notice cancel() and the deadline.
constexpr int64_t kStepMs = 100;

void curl_init_once() {
  // curl_global_init is not thread-safe; it is reference counted, so the origins'
  // own call elsewhere does no harm.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct EasyFree {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct MultiFree {
  void operator()(CURLM* m) const { curl_multi_cleanup(m); }
};
struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

// Removes the easy handle from the multi handle before either is freed.
class MultiAttach {
 public:
  MultiAttach(CURLM* m, CURL* h) : m_(m), h_(h) { curl_multi_add_handle(m_, h_); }
  ~MultiAttach() { curl_multi_remove_handle(m_, h_); }
  MultiAttach(const MultiAttach&) = delete;
  MultiAttach& operator=(const MultiAttach&) = delete;

 private:
  CURLM* m_;
  CURL* h_;
};

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  auto& body = *static_cast<std::string*>(user);
  size_t n = size * nmemb;
  if (body.size() < kMaxBody) body.append(data, std::min(n, kMaxBody - body.size()));
  return n;
}

template <typename T>
void setopt(CURL* h, CURLoption opt, T value) {
  (void)curl_easy_setopt(h, opt, value);
}

}  // namespace

Result<NotifyHttpResponse> notify_http_request(const NotifyHttpRequest& req, SteadyClock::time_point deadline,
                                               const std::atomic<bool>& cancelled, const std::string& what) {
  curl_init_once();
  std::unique_ptr<CURL, EasyFree> easy(curl_easy_init());
  std::unique_ptr<CURLM, MultiFree> multi(curl_multi_init());
  if (!easy || !multi) return make_error(ErrorCode::kInternal, what + ": curl init failed");
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
  if (left <= 0) return make_error(ErrorCode::kTimedOut, what + ": timed out");

  NotifyHttpResponse resp;
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* h = easy.get();
  setopt(h, CURLOPT_URL, req.url.c_str());
  setopt(h, CURLOPT_NOSIGNAL, 1L);
  setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  // Never verbose: it would print headers that carry a token.
  setopt(h, CURLOPT_VERBOSE, 0L);
  // The servers told are the user's own; a proxy from the environment is not asked
  // to carry their tokens.
  setopt(h, CURLOPT_PROXY, "");
  setopt(h, CURLOPT_USERAGENT, "musicfs/0.1");
  setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(left));
  setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(left));
  setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  setopt(h, CURLOPT_WRITEDATA, &resp.body);
  if (req.method == "POST") {
    setopt(h, CURLOPT_POST, 1L);
    setopt(h, CURLOPT_POSTFIELDS, req.body.c_str());
    setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(req.body.size()));
  } else {
    setopt(h, CURLOPT_HTTPGET, 1L);
  }
  std::unique_ptr<curl_slist, SlistFree> headers;
  for (const auto& line : req.headers) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return make_error(ErrorCode::kInternal, what + ": out of memory");
    (void)headers.release();
    headers.reset(next);
  }
  // Without this, curl waits a second for "100 Continue" on a POST body.
  curl_slist* expect = curl_slist_append(headers.get(), "Expect:");
  if (expect != nullptr) {
    (void)headers.release();
    headers.reset(expect);
  }
  setopt(h, CURLOPT_HTTPHEADER, headers.get());

  MultiAttach attach(multi.get(), h);
  for (;;) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi.get(), &running);
    if (mc != CURLM_OK) return make_error(ErrorCode::kIo, what + ": " + curl_multi_strerror(mc));
    if (running == 0) break;
    if (cancelled.load()) return make_error(ErrorCode::kUnavailable, what + ": the daemon is stopping");
    auto now = SteadyClock::now();
    if (now >= deadline) return make_error(ErrorCode::kTimedOut, what + ": timed out");
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count();
    curl_multi_poll(multi.get(), nullptr, 0, static_cast<int>(std::min<int64_t>(wait + 1, kStepMs)), nullptr);
  }
  CURLcode rc = CURLE_OK;
  int queued = 0;
  while (CURLMsg* m = curl_multi_info_read(multi.get(), &queued)) {
    if (m->msg == CURLMSG_DONE) rc = m->data.result;
  }
  if (rc == CURLE_OPERATION_TIMEDOUT) return make_error(ErrorCode::kTimedOut, what + ": timed out");
  if (rc != CURLE_OK) {
    std::string why = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
    return make_error(ErrorCode::kUnavailable, what + ": " + why);
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);
  return resp;
}

Status require_2xx(const NotifyHttpResponse& r, const std::string& what) {
  if (r.status >= 200 && r.status <= 299) return {};
  return make_error(ErrorCode::kIo, what + ": HTTP " + std::to_string(r.status));
}

std::string url_encode(std::string_view s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Result<std::string> read_secret_file(const std::string& key, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return make_error(ErrorCode::kConfig, key + " " + path + ": cannot read it");
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return make_error(ErrorCode::kConfig, key + " " + path + ": its first line is empty");
  return line;
}

std::string trim_url(std::string url) {
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

std::string server_path(const std::string& path_prefix, const std::string& dir) {
  std::string prefix = trim_url(path_prefix);
  if (dir == "/") return prefix.empty() ? "/" : prefix;
  return prefix + dir;
}

std::string check_http_url(const std::string& url) {
  if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
    return "url '" + url + "' must start with http:// or https://";
  }
  // user:password@ would put a secret in the config, the events and the logs.
  const size_t authority = url.find("//") + 2;
  const size_t end = url.find_first_of("/?#", authority);
  if (url.substr(authority, end == std::string::npos ? std::string::npos : end - authority).find('@') !=
      std::string::npos) {
    return "url must not carry credentials (user@ or user:password@); give them by file";
  }
  return {};
}

}  // namespace musicfs
