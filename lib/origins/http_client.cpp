#include "origins/http_client.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cstring>
#include <ctime>
#include <utility>

namespace musicfs {

namespace {

void global_init_once() {
  // curl_global_init is not thread-safe; every entry into curl goes through here first.
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistFree {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using Slist = std::unique_ptr<curl_slist, SlistFree>;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::optional<uint64_t> parse_u64(std::string_view s) {
  s = trim(s);
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

// "bytes FIRST-LAST/TOTAL" (TOTAL may be "*"): FIRST and TOTAL.
struct ContentRange {
  std::optional<uint64_t> first;
  std::optional<uint64_t> total;
};
ContentRange parse_content_range(std::string_view v) {
  ContentRange out;
  v = trim(v);
  if (v.substr(0, 6) != "bytes ") return out;
  v.remove_prefix(6);
  size_t dash = v.find('-');
  size_t slash = v.find('/');
  if (slash == std::string_view::npos) return out;
  if (dash != std::string_view::npos && dash < slash) out.first = parse_u64(v.substr(0, dash));
  out.total = parse_u64(v.substr(slash + 1));
  return out;
}

// The state of one transfer, shared with curl's callbacks.
struct Transfer {
  const HttpRequest* request = nullptr;
  HttpResponse* response = nullptr;
  CURL* handle = nullptr;
  bool decided = false;   // where the body goes is chosen at its first byte
  bool to_sink = false;
  uint64_t skip = 0;      // bytes of a range-ignoring 200 before the asked-for range
  uint64_t want = 0;      // bytes the sink takes
  bool stopped_early = false;  // we cut the transfer once we had what we needed
  bool body_too_large = false;
};

void decide_destination(Transfer& t) {
  t.decided = true;
  long status = 0;
  curl_easy_getinfo(t.handle, CURLINFO_RESPONSE_CODE, &status);
  const HttpRequest& req = *t.request;
  if (req.sink.empty() || status < 200 || status > 299) return;
  t.to_sink = true;
  t.want = req.sink.size();
  if (req.range && status == 200) {
    // The server ignored Range and is sending the whole entity from byte 0.
    t.response->range_ignored = true;
    t.skip = req.range->first;
    t.want = std::min<uint64_t>(t.want, req.range->length());
  }
}

size_t on_body(char* data, size_t size, size_t nmemb, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  if (!t.decided) decide_destination(t);
  if (!t.to_sink) {
    std::string& body = t.response->body;
    if (body.size() + n > t.request->max_body_bytes) {
      t.body_too_large = true;
      return 0;
    }
    body.append(data, n);
    return n;
  }
  std::string_view chunk(data, n);
  if (t.skip > 0) {
    size_t drop = static_cast<size_t>(std::min<uint64_t>(t.skip, chunk.size()));
    chunk.remove_prefix(drop);
    t.skip -= drop;
  }
  size_t& have = t.response->sink_bytes;
  size_t take = static_cast<size_t>(std::min<uint64_t>(chunk.size(), t.want - have));
  if (take > 0) {
    std::memcpy(t.request->sink.data() + have, chunk.data(), take);
    have += take;
  }
  if (have >= t.want && take < chunk.size()) {
    // More than we asked for (a server ignoring Range): stop here rather than
    // download the rest of a large file. The connection is closed, not reused.
    t.stopped_early = true;
    return 0;
  }
  return n;
}

size_t on_header(char* data, size_t size, size_t nmemb, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  size_t n = size * nmemb;
  std::string_view line(data, n);
  if (line.substr(0, 5) == "HTTP/") {
    // A new response (after a 100 Continue, or an interim one): forget earlier headers.
    t.response->headers.clear();
    return n;
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return n;
  std::string name = lower(trim(line.substr(0, colon)));
  std::string value(trim(line.substr(colon + 1)));
  auto [it, inserted] = t.response->headers.emplace(name, value);
  if (!inserted) it->second += ", " + value;
  return n;
}

Error transport_error(CURLcode rc, const char* detail, const HttpRequest& req) {
  ErrorCode code = ErrorCode::kIo;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_GOT_NOTHING:
      code = ErrorCode::kUnavailable;
      break;
    case CURLE_OPERATION_TIMEDOUT:
      code = ErrorCode::kTimedOut;
      break;
    default:
      break;
  }
  std::string why = (detail != nullptr && detail[0] != '\0') ? detail : curl_easy_strerror(rc);
  // curl's messages are single lines, but make sure.
  std::replace(why.begin(), why.end(), '\n', ' ');
  return make_error(code, describe_request(req) + ": " + why);
}

template <typename T>
void setopt(CURL* h, CURLoption opt, T value) {
  // Options set here are all supported by the libcurl we build against; a failure
  // would only mean out of memory, which the transfer itself then reports.
  (void)curl_easy_setopt(h, opt, value);
}

}  // namespace

const std::string* HttpResponse::header(std::string_view lower_name) const {
  auto it = headers.find(std::string(lower_name));
  return it == headers.end() ? nullptr : &it->second;
}

CurlEasy::CurlEasy() {
  global_init_once();
  handle_ = curl_easy_init();
}

CurlEasy::~CurlEasy() {
  if (handle_ != nullptr) curl_easy_cleanup(handle_);
}

CurlEasy::CurlEasy(CurlEasy&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

CurlEasy& CurlEasy::operator=(CurlEasy&& other) noexcept {
  if (this != &other) {
    if (handle_ != nullptr) curl_easy_cleanup(handle_);
    handle_ = std::exchange(other.handle_, nullptr);
  }
  return *this;
}

HttpClient::HttpClient(size_t max_idle) : max_idle_(max_idle) { global_init_once(); }

HttpClient::~HttpClient() = default;

size_t HttpClient::idle_handles() const {
  std::lock_guard lock(mu_);
  return idle_.size();
}

CurlEasy HttpClient::acquire() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      CurlEasy h = std::move(idle_.back());
      idle_.pop_back();
      // Reset clears the options of the last request but keeps the handle's live
      // connections, DNS and TLS session caches: that is the keep-alive we pool for.
      curl_easy_reset(h.get());
      return h;
    }
  }
  return CurlEasy();
}

void HttpClient::release(CurlEasy handle) {
  std::lock_guard lock(mu_);
  if (idle_.size() < max_idle_) idle_.push_back(std::move(handle));
}

Result<HttpResponse> HttpClient::perform(const HttpRequest& req) {
  auto remaining = std::chrono::duration_cast<Millis>(req.deadline - SteadyClock::now());
  if (remaining.count() <= 0) {
    return make_error(ErrorCode::kTimedOut, describe_request(req) + ": deadline passed before the request");
  }
  CurlEasy easy = acquire();
  if (!easy) return make_error(ErrorCode::kInternal, describe_request(req) + ": curl_easy_init failed");
  CURL* h = easy.get();

  HttpResponse resp;
  Transfer t;
  t.request = &req;
  t.response = &resp;
  t.handle = h;
  char errbuf[CURL_ERROR_SIZE] = {0};

  setopt(h, CURLOPT_URL, req.url.c_str());
  // Signals cannot be used for timeouts in a multithreaded daemon.
  setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
  setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  setopt(h, CURLOPT_PROTOCOLS, static_cast<long>(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
  // Redirects are not followed: a signed or authenticated request must not be
  // replayed against a host the configuration did not name.
  setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  setopt(h, CURLOPT_VERBOSE, 0L);
  setopt(h, CURLOPT_USERAGENT, "musicfs/0.1");
  setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(remaining.count()));
  setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(remaining.count()));
  if (req.method == HttpMethod::kHead) {
    setopt(h, CURLOPT_NOBODY, 1L);
  } else {
    setopt(h, CURLOPT_HTTPGET, 1L);
  }
  std::string range_text;
  if (req.range) {
    range_text = std::to_string(req.range->first) + "-" + std::to_string(req.range->last);
    setopt(h, CURLOPT_RANGE, range_text.c_str());
  }
  if (!req.sink.empty()) {
    // Larger receive buffers cut callback overhead on big ranged reads.
    setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
  }
  Slist headers;
  for (const auto& line : req.headers) {
    curl_slist* next = curl_slist_append(headers.get(), line.c_str());
    if (next == nullptr) return make_error(ErrorCode::kInternal, describe_request(req) + ": out of memory");
    (void)headers.release();
    headers.reset(next);
  }
  if (headers) setopt(h, CURLOPT_HTTPHEADER, headers.get());
  if (!req.aws_sigv4.empty()) setopt(h, CURLOPT_AWS_SIGV4, req.aws_sigv4.c_str());
  if (!req.userpwd.empty()) setopt(h, CURLOPT_USERPWD, req.userpwd.c_str());
  if (!req.tls_verify) {
    setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  setopt(h, CURLOPT_WRITEDATA, &t);
  setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  setopt(h, CURLOPT_HEADERDATA, &t);

  CURLcode rc = curl_easy_perform(h);
  // The handle must not keep pointers into this stack frame once it is pooled.
  setopt(h, CURLOPT_ERRORBUFFER, static_cast<char*>(nullptr));
  setopt(h, CURLOPT_HTTPHEADER, static_cast<curl_slist*>(nullptr));
  if (!req.userpwd.empty()) setopt(h, CURLOPT_USERPWD, "");

  if (rc == CURLE_WRITE_ERROR && t.stopped_early) rc = CURLE_OK;
  if (rc == CURLE_WRITE_ERROR && t.body_too_large) {
    return make_error(ErrorCode::kIo, describe_request(req) + ": response body larger than " +
                                          std::to_string(req.max_body_bytes) + " bytes");
  }
  if (rc != CURLE_OK) return transport_error(rc, errbuf, req);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp.status);

  if (resp.status == 206) {
    if (const std::string* cr = resp.header("content-range")) {
      ContentRange parsed = parse_content_range(*cr);
      resp.entity_size = parsed.total;
      if (req.range && parsed.first && *parsed.first != req.range->first) {
        return make_error(ErrorCode::kIo, describe_request(req) + ": server answered range starting at " +
                                              std::to_string(*parsed.first) + " for a request at " +
                                              std::to_string(req.range->first));
      }
    }
  } else if (resp.status == 200) {
    if (const std::string* cl = resp.header("content-length")) resp.entity_size = parse_u64(*cl);
  }
  release(std::move(easy));
  return resp;
}

Error error_for_status(long status, std::string_view context) {
  ErrorCode code = ErrorCode::kIo;
  if (status == 404 || status == 410) {
    code = ErrorCode::kNotFound;
  } else if (status == 401 || status == 403) {
    code = ErrorCode::kPermission;
  } else if (status == 408 || status == 504) {
    code = ErrorCode::kTimedOut;
  } else if (status == 502 || status == 503) {
    code = ErrorCode::kUnavailable;
  }
  return make_error(code, std::string(context) + ": HTTP status " + std::to_string(status));
}

std::string describe_request(const HttpRequest& request) {
  return std::string(request.method == HttpMethod::kHead ? "HEAD " : "GET ") + redact_url(request.url);
}

std::string redact_url(std::string_view url) {
  std::string out;
  size_t scheme = url.find("://");
  size_t auth_start = scheme == std::string_view::npos ? 0 : scheme + 3;
  size_t auth_end = url.find_first_of("/?#", auth_start);
  if (auth_end == std::string_view::npos) auth_end = url.size();
  std::string_view authority = url.substr(auth_start, auth_end - auth_start);
  size_t at = authority.rfind('@');
  out.append(url.substr(0, auth_start));
  out.append(at == std::string_view::npos ? authority : authority.substr(at + 1));
  std::string_view rest = url.substr(auth_end);
  size_t cut = rest.find_first_of("?#");
  out.append(rest.substr(0, cut));
  if (cut != std::string_view::npos && rest[cut] == '?') out.append("?...");
  return out;
}

std::string url_encode_component(std::string_view component) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(component.size());
  for (char ch : component) {
    auto c = static_cast<unsigned char>(ch);
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::optional<std::string> url_decode(std::string_view text) {
  auto hex = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out.push_back(text[i]);
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = hex(text[i + 1]);
    int lo = hex(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

std::optional<int64_t> parse_http_date(std::string_view text) {
  // IMF-fixdate only: "Wed, 25 Nov 2026 05:01:31 GMT". nginx, S3 and every current
  // server send it; the obsolete RFC 850 and asctime forms are not accepted.
  static constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  text = trim(text);
  if (text.size() != 29 || text[3] != ',' || text.substr(26) != "GMT") return std::nullopt;
  auto num = [&](size_t pos, size_t len) -> std::optional<int> {
    int v = 0;
    auto [p, ec] = std::from_chars(text.data() + pos, text.data() + pos + len, v);
    if (ec != std::errc() || p != text.data() + pos + len) return std::nullopt;
    return v;
  };
  auto day = num(5, 2), year = num(12, 4), hour = num(17, 2), min = num(20, 2), sec = num(23, 2);
  if (!day || !year || !hour || !min || !sec) return std::nullopt;
  auto month = std::find(kMonths.begin(), kMonths.end(), text.substr(8, 3));
  if (month == kMonths.end()) return std::nullopt;
  struct tm tm {};
  tm.tm_year = *year - 1900;
  tm.tm_mon = static_cast<int>(month - kMonths.begin());
  tm.tm_mday = *day;
  tm.tm_hour = *hour;
  tm.tm_min = *min;
  tm.tm_sec = *sec;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace musicfs
