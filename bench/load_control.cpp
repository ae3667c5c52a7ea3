// load_control: the control-request half of bench/load. For SECONDS it sends RATE
// requests per second to the daemon's socket, cycling through the request lines given
// with -c (one JSON request each, as musicfsctl sends them), one connection per
// request like the client; it times each from connect to the end of the reply line.
// A request that cannot connect, gets no reply within 5 s, or gets a reply that is not
// {"ok":true,...} is a control error. Every second it samples the daemon's VmRSS from
// /proc/PID/status; at the end it reads VmHWM (the kernel's own peak) too.
//
// Usage: load_control -S SOCKET -p DAEMON_PID -d SECONDS [-r RATE] -c REQUEST [-c REQUEST...]
// Prints key=value lines:
//   requests= control_errors= p50_ms= p99_ms= max_ms= rss_peak_kib= rss_last_kib= hwm_kib=
// and one "error: ..." line on stderr per control error (the first 20).
// Exit status: 0 when there was no control error, 1 otherwise, 2 on bad usage.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "util/unique_fd.h"  // lib/util: the project's one fd owner

namespace {

using Clock = std::chrono::steady_clock;

// One request over a fresh connection; the reply line, or an error text.
struct Outcome {
  bool ok = false;
  std::string error;
};

Outcome call(const std::string& socket_path, const std::string& request) {
  musicfs::UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (fd.get() < 0) return {false, std::string("socket: ") + std::strerror(errno)};
  sockaddr_un addr = {};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", socket_path.c_str());
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return {false, std::string("connect: ") + std::strerror(errno)};
  }
  std::string line = request + "\n";
  for (size_t sent = 0; sent < line.size();) {
    ssize_t n = ::send(fd.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n < 0) return {false, std::string("send: ") + std::strerror(errno)};
    sent += static_cast<size_t>(n);
  }
  auto deadline = Clock::now() + std::chrono::seconds(5);
  std::string reply;
  char buf[65536];
  while (reply.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return {false, "no reply within 5 s"};
    pollfd p = {fd.get(), POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return {false, "no reply within 5 s"};
    ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) return {false, std::string("recv: ") + std::strerror(errno)};
    if (n == 0) return {false, "the daemon closed the connection without a reply"};
    reply.append(buf, static_cast<size_t>(n));
  }
  reply.resize(reply.find('\n'));
  auto j = nlohmann::json::parse(reply, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return {false, "malformed reply: " + reply.substr(0, 200)};
  auto ok = j.find("ok");
  if (ok == j.end() || !ok->is_boolean() || !ok->get<bool>()) return {false, "refused: " + reply.substr(0, 200)};
  return {true, {}};
}

// The value of a "Key:   123 kB" line of /proc/PID/status, in KiB.
std::optional<long> status_kib(int pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key + ":", 0) == 0) return std::strtol(line.c_str() + key.size() + 1, nullptr, 10);
  }
  return std::nullopt;
}

double percentile_ms(std::vector<double> v_us, double q) {
  if (v_us.empty()) return 0;
  std::sort(v_us.begin(), v_us.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v_us.size() - 1) + 0.5);
  return v_us[std::min(i, v_us.size() - 1)] / 1000.0;
}

int usage() {
  std::fprintf(stderr, "usage: load_control -S SOCKET -p DAEMON_PID -d SECONDS [-r RATE] -c REQUEST [-c REQUEST...]\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path;
  int pid = 0;
  double seconds = 0;
  double rate = 10;
  std::vector<std::string> requests;
  int opt;
  while ((opt = ::getopt(argc, argv, "S:p:d:r:c:")) != -1) {
    switch (opt) {
      case 'S': socket_path = optarg; break;
      case 'p': pid = std::atoi(optarg); break;
      case 'd': seconds = std::atof(optarg); break;
      case 'r': rate = std::atof(optarg); break;
      case 'c': requests.emplace_back(optarg); break;
      default: return usage();
    }
  }
  if (socket_path.empty() || pid <= 0 || seconds <= 0 || rate <= 0 || requests.empty()) return usage();

  std::atomic<bool> done{false};
  std::atomic<long> rss_peak{0};
  std::atomic<long> rss_last{0};
  std::thread sampler([&] {
    while (!done) {
      if (auto kib = status_kib(pid, "VmRSS")) {
        rss_last = *kib;
        rss_peak = std::max(rss_peak.load(), *kib);
      }
      for (int i = 0; i < 10 && !done; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  std::vector<double> latencies_us;
  long errors = 0;
  const auto start = Clock::now();
  const auto period = std::chrono::duration<double>(1.0 / rate);
  for (long k = 0;; ++k) {
    // Fixed schedule: a slow reply delays the next request, never the rate overall.
    auto due = start + std::chrono::duration_cast<Clock::duration>(period * static_cast<double>(k));
    if (due - start >= std::chrono::duration<double>(seconds)) break;
    std::this_thread::sleep_until(due);
    const std::string& request = requests[static_cast<size_t>(k) % requests.size()];
    auto t0 = Clock::now();
    Outcome out = call(socket_path, request);
    latencies_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    if (!out.ok) {
      if (errors++ < 20) std::fprintf(stderr, "error: %s: %s\n", request.c_str(), out.error.c_str());
    }
  }
  done = true;
  sampler.join();
  long hwm = status_kib(pid, "VmHWM").value_or(0);

  std::printf("requests=%zu\ncontrol_errors=%ld\n", latencies_us.size(), errors);
  std::printf("p50_ms=%.2f\np99_ms=%.2f\nmax_ms=%.2f\n", percentile_ms(latencies_us, 0.50),
              percentile_ms(latencies_us, 0.99), percentile_ms(latencies_us, 1.0));
  std::printf("rss_peak_kib=%ld\nrss_last_kib=%ld\nhwm_kib=%ld\n", rss_peak.load(), rss_last.load(), hwm);
  return errors == 0 ? 0 : 1;
}
