#pragma once
// Tells a service manager how the daemon is doing, over the sd_notify protocol
// (sd_notify(3), from libsystemd): READY=1 once every `-c` mount answers, STATUS=
// lines, RELOADING=1 around a SIGHUP, STOPPING=1 on the way out. Without
// $NOTIFY_SOCKET (not started by systemd with Type=notify) every call does nothing.
#include <string>

namespace musicfs {

class ServiceNotifier {
 public:
  ServiceNotifier();
  bool enabled() const { return enabled_; }

  void ready(const std::string& status);
  void reloading();
  void stopping();
  // Sends STATUS= only when the text changed since the last one sent.
  void status(const std::string& text);

 private:
  void send(const std::string& message);

  bool enabled_ = false;
  std::string last_status_;
};

}  // namespace musicfs
