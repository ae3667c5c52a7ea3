#pragma once
// The [metrics] textfile: a thread that writes the metrics exposition to a *.prom file
// every interval, for node_exporter's textfile collector, replacing it atomically so
// the collector never reads half a file. The daemon keeps one writer per distinct
// path (Daemon::sync_textfiles); the file is removed when its writer stops, so a
// stopped daemon is absent() in Prometheus rather than frozen at its last figures.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "core/error.h"

namespace musicfs {

// Writes `text` to `path` atomically: a temporary file in the same directory,
// fsync, rename over `path`. The temporary's name starts with '.' and does not end in
// ".prom", so the collector never picks it up.
Status write_textfile_atomically(const std::string& path, const std::string& text);

class MetricsTextfile {
 public:
  using Render = std::function<Result<std::string>()>;

  // Writes at once, then every `interval`, until destroyed.
  MetricsTextfile(std::string path, std::chrono::seconds interval, Render render);
  // Wakes the thread, joins it, and removes the file.
  ~MetricsTextfile();
  MetricsTextfile(const MetricsTextfile&) = delete;
  MetricsTextfile& operator=(const MetricsTextfile&) = delete;

  const std::string& path() const { return path_; }
  std::chrono::seconds interval() const { return interval_; }

 private:
  void run();
  void write_once();

  const std::string path_;
  const std::chrono::seconds interval_;
  const Render render_;
  std::string last_error_;  // only the thread touches it: a failure is logged when it changes
  std::mutex mu_;           // guards stopping_
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace musicfs
