#pragma once
// A notifier tells one program (a music server, a script) which directories of a
// mount changed, because a FUSE filesystem cannot raise inotify events for it. Each
// type lives in one file of lib/notify/ and contributes one NotifierTypeInfo, listed
// once in notifier_types.cpp. A Notifier makes one delivery attempt per call; the
// NotifierRunner around it debounces, retries and records the events.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/setting_spec.h"
#include "notify/notify_config.h"
#include "util/time_util.h"

namespace musicfs {

class Notifier {
 public:
  virtual ~Notifier() = default;
  // Tells the program that `dirs` (mount-relative virtual paths, outermost only)
  // changed; returns within `deadline`. A failure is retried by the runner. The
  // message of an error (and of success, in `detail`) becomes an event: never a secret.
  virtual Status deliver(const std::vector<std::string>& dirs, SteadyClock::time_point deadline,
                         std::string& detail) = 0;
  // "exec /usr/local/bin/rescan", "mpd 127.0.0.1:6600": for events and logs.
  virtual std::string describe() const = 0;
  // The daemon is stopping: a delivery in flight ends as soon as it can. Any thread.
  virtual void cancel() {}
};

using NotifierPtr = std::unique_ptr<Notifier>;

struct NotifierTypeInfo {
  std::string name;
  std::string summary;
  std::vector<SettingSpec> settings;
  bool takes_command = false;  // a `command` array of strings (exec)
  // Checks what the key specs cannot (one of two keys, say): an error message, or "".
  std::function<std::string(const NotifyConfig&)> check;
  std::function<Result<NotifierPtr>(const NotifyConfig&)> create;
};

const std::vector<NotifierTypeInfo>& notifier_types();
const NotifierTypeInfo* find_notifier_type(const std::string& name);
std::vector<std::string> notifier_type_names();

// Each type's descriptor, defined in its own file.
NotifierTypeInfo exec_notifier_type();
NotifierTypeInfo mpd_notifier_type();
NotifierTypeInfo subsonic_notifier_type();
NotifierTypeInfo jellyfin_notifier_type();
NotifierTypeInfo plex_notifier_type();

}  // namespace musicfs
