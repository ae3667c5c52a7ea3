#include "service_notifier.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include <cstdlib>

namespace musicfs {

namespace {
// A STATUS= value is one line of the protocol: a newline in it would start a new
// assignment.
std::string one_status_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

uint64_t monotonic_usec() {
  struct timespec ts {};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}
}  // namespace

ServiceNotifier::ServiceNotifier() {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && *socket != '\0';
}

void ServiceNotifier::send(const std::string& message) {
  if (!enabled_) return;
  // unset_environment = 0: the variable stays for a reload's notifications later.
  const int r = ::sd_notify(0, message.c_str());
  if (r < 0) spdlog::warn("cannot notify the service manager ({}): {}", message.substr(0, message.find('\n')), r);
}

void ServiceNotifier::ready(const std::string& status) {
  last_status_ = one_status_line(status);
  send("READY=1\nSTATUS=" + last_status_);
}

void ServiceNotifier::reloading() {
  // MONOTONIC_USEC lets systemd (253+, Type=notify-reload) match the reload to this
  // notification; older managers ignore it.
  send("RELOADING=1\nMONOTONIC_USEC=" + std::to_string(monotonic_usec()) + "\nSTATUS=reloading the configuration");
}

void ServiceNotifier::stopping() { send("STOPPING=1\nSTATUS=stopping: unmounting"); }

void ServiceNotifier::status(const std::string& text) {
  std::string line = one_status_line(text);
  if (line == last_status_) return;
  last_status_ = line;
  send("STATUS=" + line);
}

}  // namespace musicfs
