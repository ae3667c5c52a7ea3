// type = "plex": a partial scan of one library section per changed directory,
// GET {url}/library/sections/N/refresh?path=... with the server's view of the
// directory (path_prefix + the mount-relative directory). The token goes in the
// X-Plex-Token header, never the query, so it is in no URL that could be logged.
#include "notify/notifier.h"
#include "notify/notify_http.h"

namespace musicfs {

namespace {

class PlexNotifier : public Notifier {
 public:
  explicit PlexNotifier(const NotifyConfig& c)
      : url_(trim_url(c.string_setting("url"))),
        token_file_(c.string_setting("token_file")),
        section_(c.int_setting("section", 0)),
        path_prefix_(c.string_setting("path_prefix")) {}

  void cancel() override { cancelled_.store(true); }
  std::string describe() const override { return "plex " + url_ + " section " + std::to_string(section_); }

  Status deliver(const std::vector<std::string>& dirs, SteadyClock::time_point deadline,
                 std::string& detail) override {
    const std::string what = describe();
    auto token = read_secret_file("token_file", token_file_);
    if (!token) return make_error(token.error().code, what + ": " + token.error().message);
    size_t sent = 0;
    for (const auto& d : dirs) {
      NotifyHttpRequest req;
      req.url = url_ + "/library/sections/" + std::to_string(section_) +
                "/refresh?path=" + url_encode(server_path(path_prefix_, d));
      req.headers = {"X-Plex-Token: " + *token};
      auto resp = notify_http_request(req, deadline, cancelled_, what);
      if (!resp) return resp.error();
      if (auto s = require_2xx(*resp, what); !s) return s;
      ++sent;
    }
    detail = std::to_string(sent) + " refresh(es) requested";
    return {};
  }

 private:
  const std::string url_;
  const std::string token_file_;
  const int64_t section_;
  const std::string path_prefix_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

NotifierTypeInfo plex_notifier_type() {
  NotifierTypeInfo t;
  t.name = "plex";
  t.summary = "asks Plex to scan the changed directories of one library section";
  t.settings = {
      {"url", SettingKind::kString, true, "the server's base URL, such as http://127.0.0.1:32400"},
      {"token_file", SettingKind::kAbsolutePath, true, "a file whose first line is a Plex token", 0, 0, true},
      {"section", SettingKind::kInteger, true, "the library section's number", 1, 1'000'000},
      {"path_prefix", SettingKind::kString, false, "the server's path of the mount's root, such as /srv/music"},
      {"timeout_ms", SettingKind::kInteger, false, "how long one attempt may take (default 10000)", 100, 600'000},
  };
  t.check = [](const NotifyConfig& c) { return check_http_url(c.string_setting("url")); };
  t.create = [](const NotifyConfig& c) -> Result<NotifierPtr> { return NotifierPtr(new PlexNotifier(c)); };
  return t;
}

}  // namespace musicfs
