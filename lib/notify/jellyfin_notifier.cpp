// type = "jellyfin": POST {url}/Library/Media/Updated with the changed directories,
// each as the server sees it (path_prefix + the mount-relative directory), so that
// Jellyfin rescans only those. The API key goes in Jellyfin's documented
// Authorization header, read from api_key_file at each attempt.
#include <nlohmann/json.hpp>

#include "notify/notifier.h"
#include "notify/notify_http.h"

namespace musicfs {

namespace {

class JellyfinNotifier : public Notifier {
 public:
  explicit JellyfinNotifier(const NotifyConfig& c)
      : url_(trim_url(c.string_setting("url"))),
        api_key_file_(c.string_setting("api_key_file")),
        path_prefix_(c.string_setting("path_prefix")) {}

  void cancel() override { cancelled_.store(true); }
  std::string describe() const override { return "jellyfin " + url_; }

  Status deliver(const std::vector<std::string>& dirs, SteadyClock::time_point deadline,
                 std::string& detail) override {
    const std::string what = describe();
    auto key = read_secret_file("api_key_file", api_key_file_);
    if (!key) return make_error(key.error().code, what + ": " + key.error().message);
    if (key->find('"') != std::string::npos) {
      return make_error(ErrorCode::kConfig, what + ": api_key_file " + api_key_file_ + " holds a double quote");
    }
    nlohmann::json updates = nlohmann::json::array();
    for (const auto& d : dirs) updates.push_back({{"Path", server_path(path_prefix_, d)}, {"UpdateType", "Modified"}});
    NotifyHttpRequest req;
    req.method = "POST";
    req.url = url_ + "/Library/Media/Updated";
    req.headers = {"Content-Type: application/json", "Authorization: MediaBrowser Token=\"" + *key + "\""};
    req.body = nlohmann::json{{"Updates", updates}}.dump();
    auto resp = notify_http_request(req, deadline, cancelled_, what);
    if (!resp) return resp.error();
    if (auto s = require_2xx(*resp, what); !s) return s;
    detail = std::to_string(dirs.size()) + " path(s) reported";
    return {};
  }

 private:
  const std::string url_;
  const std::string api_key_file_;
  const std::string path_prefix_;
  std::atomic<bool> cancelled_{false};
};

}  // namespace

NotifierTypeInfo jellyfin_notifier_type() {
  NotifierTypeInfo t;
  t.name = "jellyfin";
  t.summary = "reports the changed directories to Jellyfin";
  t.settings = {
      {"url", SettingKind::kString, true, "the server's base URL, such as http://127.0.0.1:8096"},
      {"api_key_file", SettingKind::kAbsolutePath, true, "a file whose first line is a Jellyfin API key", 0, 0, true},
      {"path_prefix", SettingKind::kString, false, "the server's path of the mount's root, such as /srv/music"},
      {"timeout_ms", SettingKind::kInteger, false, "how long one attempt may take (default 10000)", 100, 600'000},
  };
  t.check = [](const NotifyConfig& c) { return check_http_url(c.string_setting("url")); };
  t.create = [](const NotifyConfig& c) -> Result<NotifierPtr> { return NotifierPtr(new JellyfinNotifier(c)); };
  return t;
}

}  // namespace musicfs
