// type = "subsonic": the Subsonic API's startScan (Navidrome, Gonic, Airsonic), with
// token authentication: t = md5(password + salt), a fresh random salt per attempt,
// so the password itself never travels. Subsonic scans its whole library; the
// changed directories are not named. A Subsonic error is HTTP 200 with status
// "failed" in the JSON body, so success needs both.
#include <openssl/evp.h>

#include <nlohmann/json.hpp>
#include <random>

#include "notify/notifier.h"
#include "notify/notify_http.h"

namespace musicfs {

namespace {

std::string hex(const unsigned char* p, size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += digits[p[i] >> 4];
    out += digits[p[i] & 15];
  }
  return out;
}

Result<std::string> md5_hex(const std::string& s) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(s.data(), s.size(), md, &len, EVP_md5(), nullptr) != 1) {
    return make_error(ErrorCode::kInternal, "md5 failed");
  }
  return hex(md, len);
}

std::string random_salt() {
  std::random_device rd;
  unsigned char bytes[8];
  for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  return hex(bytes, sizeof bytes);
}

class SubsonicNotifier : public Notifier {
 public:
  explicit SubsonicNotifier(const NotifyConfig& c)
      : url_(trim_url(c.string_setting("url"))),
        user_(c.string_setting("user")),
        password_file_(c.string_setting("password_file")) {}

  void cancel() override { cancelled_.store(true); }
  std::string describe() const override { return "subsonic " + url_; }

  Status deliver(const std::vector<std::string>&, SteadyClock::time_point deadline, std::string& detail) override {
    const std::string what = describe();
    auto password = read_secret_file("password_file", password_file_);
    if (!password) return make_error(password.error().code, what + ": " + password.error().message);
    const std::string salt = random_salt();
    auto token = md5_hex(*password + salt);
    if (!token) return token.error();
    NotifyHttpRequest req;
    req.url = url_ + "/rest/startScan?u=" + url_encode(user_) + "&t=" + *token + "&s=" + salt +
              "&v=1.16.1&c=musicfs&f=json";
    auto resp = notify_http_request(req, deadline, cancelled_, what);
    if (!resp) return resp.error();
    if (resp->status != 200) return make_error(ErrorCode::kIo, what + ": HTTP " + std::to_string(resp->status));
    auto json = nlohmann::json::parse(resp->body, nullptr, false);
    if (json.is_discarded() || !json.is_object() || !json.contains("subsonic-response") ||
        !json["subsonic-response"].is_object()) {
      return make_error(ErrorCode::kProtocol, what + ": the reply is not a Subsonic JSON response");
    }
    const auto& r = json["subsonic-response"];
    const std::string status = r.value("status", std::string());
    if (status == "ok") {
      detail = "scan started";
      return {};
    }
    std::string message = "Subsonic error";
    if (r.contains("error") && r["error"].is_object()) {
      const auto& e = r["error"];
      if (e.contains("code") && e["code"].is_number_integer()) message += " " + std::to_string(e["code"].get<int64_t>());
      if (e.contains("message") && e["message"].is_string()) message += ": " + e["message"].get<std::string>();
    } else {
      message += ": status '" + status + "'";
    }
    // One line in an event, whatever the server sent.
    for (char& ch : message) {
      if (ch == '\n' || ch == '\r') ch = ' ';
    }
    return make_error(ErrorCode::kIo, what + ": " + message);
  }

 private:
  const std::string url_;
  const std::string user_;
  const std::string password_file_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

NotifierTypeInfo subsonic_notifier_type() {
  NotifierTypeInfo t;
  t.name = "subsonic";
  t.summary = "asks a Subsonic server (Navidrome, Gonic, Airsonic) to start a scan";
  t.settings = {
      {"url", SettingKind::kString, true, "the server's base URL, such as http://127.0.0.1:4533"},
      {"user", SettingKind::kString, true, "the Subsonic user"},
      {"password_file", SettingKind::kAbsolutePath, true, "a file whose first line is the user's password", 0, 0,
       true},
      {"timeout_ms", SettingKind::kInteger, false, "how long one attempt may take (default 10000)", 100, 600'000},
  };
  t.check = [](const NotifyConfig& c) { return check_http_url(c.string_setting("url")); };
  t.create = [](const NotifyConfig& c) -> Result<NotifierPtr> { return NotifierPtr(new SubsonicNotifier(c)); };
  return t;
}

}  // namespace musicfs
