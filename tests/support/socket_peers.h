#pragma once
// Both ends of the control socket, played by the test: a raw client that sends any
// bytes to a real daemon, and a fake daemon that answers a real musicfsctl with any
// line (or never). Each owns its descriptors and threads and releases them in its
// destructor, also when the test fails.
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

namespace musicfs::test {

class RawSocketClient {
 public:
  // Connects to the Unix socket at `path`; throws when it cannot.
  explicit RawSocketClient(const std::string& path);
  ~RawSocketClient();
  RawSocketClient(const RawSocketClient&) = delete;
  RawSocketClient& operator=(const RawSocketClient&) = delete;
  bool send(const std::string& bytes);
  // The next complete line (without '\n'), or nullopt on timeout or end of stream.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout);
  // True when the peer closes the connection within `timeout` (lines before are dropped).
  bool closed_by_peer(std::chrono::milliseconds timeout);
  void close();

 private:
  int fd_ = -1;
  std::string buf_;
};

// Listens on `socket_path` (whose directory the test creates with the mode it wants).
// Every request line gets `reply` written back verbatim, except that a ping gets a
// proper reply when `answer_ping` (so `musicfsctl mount` sees a daemon and does not
// start one). With no reply, requests are read and never answered.
class FakeDaemon {
 public:
  FakeDaemon(const std::string& socket_path, std::optional<std::string> reply, bool answer_ping = true);
  ~FakeDaemon();
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;
  int connections() const { return connections_.load(); }

 private:
  void serve();
  std::string path_;
  std::optional<std::string> reply_;
  bool answer_ping_;
  int listen_fd_ = -1;
  int stop_fd_ = -1;
  std::atomic<int> connections_{0};
  std::thread thread_;
};

}  // namespace musicfs::test
