// bench/read_timer: reads a file sequentially in fixed-size chunks and times every
// read(2) on its own, for bench/failover. Built by that script with g++ -O2; it is
// not part of the CMake project and never runs in the tests.
//
//   read_timer [-c CHUNK_BYTES] [-a N -x CMD] [-l LOG] [-o] FILE
//
//   -c  chunk size (default 1 MiB)
//   -a  after N chunks have been read, run CMD (sh -c, its stdout sent to stderr) and
//       only then issue read N+1; the first read issued after CMD returned is the one
//       that "crosses" whatever CMD did
//   -l  write one line per read to LOG: "index offset bytes usec" (usec = that read's
//       wall time, CLOCK_MONOTONIC)
//   -o  copy the bytes read to stdout (pipe into sha256sum to check them)
//
// At the end it prints a summary of key=value pairs on stderr (times in microseconds):
//   reads, bytes, total_us, cmd_us, cross_index, cross_us, p50_before_us,
//   p50_after_us, max_after_index, max_after_us (max over the 8 reads from the
//   crossing one on: kernel readahead may already hold the crossing chunk, so the
//   read that actually waits for the daemon can be a few chunks later).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

extern char** environ;

namespace {

int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

double median_us(std::vector<int64_t> ns) {
  if (ns.empty()) return 0;
  std::sort(ns.begin(), ns.end());
  size_t n = ns.size();
  double m = (n % 2 == 1) ? double(ns[n / 2]) : (double(ns[n / 2 - 1]) + double(ns[n / 2])) / 2;
  return m / 1000.0;
}

int run_command(const std::string& cmd) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);  // keep the data stream on stdout clean
  const char* argv[] = {"/bin/sh", "-c", cmd.c_str(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", &fa, nullptr, const_cast<char* const*>(argv), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    std::fprintf(stderr, "read_timer: cannot run '%s': %s\n", cmd.c_str(), std::strerror(rc));
    return -1;
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

bool write_all(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void usage() {
  std::fprintf(stderr, "usage: read_timer [-c CHUNK_BYTES] [-a N -x CMD] [-l LOG] [-o] FILE\n");
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  size_t chunk = 1 << 20;
  long long at = -1;
  std::string cmd;
  std::string log_path;
  bool copy = false;
  int opt;
  while ((opt = getopt(argc, argv, "c:a:x:l:o")) != -1) {
    switch (opt) {
      case 'c': chunk = std::strtoull(optarg, nullptr, 10); break;
      case 'a': at = std::strtoll(optarg, nullptr, 10); break;
      case 'x': cmd = optarg; break;
      case 'l': log_path = optarg; break;
      case 'o': copy = true; break;
      default: usage();
    }
  }
  if (optind + 1 != argc || chunk == 0 || (at >= 0) != !cmd.empty()) usage();

  int fd = ::open(argv[optind], O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    std::fprintf(stderr, "read_timer: open %s: %s\n", argv[optind], std::strerror(errno));
    return 1;
  }
  FILE* log = nullptr;
  if (!log_path.empty()) {
    log = std::fopen(log_path.c_str(), "w");
    if (log == nullptr) {
      std::fprintf(stderr, "read_timer: %s: %s\n", log_path.c_str(), std::strerror(errno));
      return 1;
    }
  }

  std::vector<char> buf(chunk);
  std::vector<int64_t> lat;  // ns per read, in order
  lat.reserve(1024);
  int64_t bytes = 0;
  int64_t cmd_ns = -1;
  const int64_t t_start = now_ns();
  for (long long i = 0;; ++i) {
    if (i == at) {
      int64_t c0 = now_ns();
      int rc = run_command(cmd);
      cmd_ns = now_ns() - c0;
      if (rc != 0) {
        std::fprintf(stderr, "read_timer: '%s' exited %d\n", cmd.c_str(), rc);
        return 1;
      }
    }
    // One read(2) per chunk, like a player's; a short read is taken as it comes.
    int64_t r0 = now_ns();
    ssize_t n = ::read(fd, buf.data(), chunk);
    int64_t dt = now_ns() - r0;
    if (n < 0) {
      if (errno == EINTR) continue;
      std::fprintf(stderr, "read_timer: read at offset %lld: %s (after %.3f ms)\n", static_cast<long long>(bytes),
                   std::strerror(errno), dt / 1e6);
      return 1;
    }
    if (n == 0) break;
    if (log != nullptr) {
      std::fprintf(log, "%lld %lld %zd %.1f\n", i, static_cast<long long>(bytes), n, dt / 1000.0);
    }
    lat.push_back(dt);
    bytes += n;
    if (copy && !write_all(1, buf.data(), static_cast<size_t>(n))) {
      std::fprintf(stderr, "read_timer: write to stdout: %s\n", std::strerror(errno));
      return 1;
    }
  }
  const int64_t total = now_ns() - t_start;
  ::close(fd);
  if (log != nullptr) std::fclose(log);

  std::fprintf(stderr, "reads=%zu bytes=%lld total_us=%.0f", lat.size(), static_cast<long long>(bytes), total / 1000.0);
  if (at >= 0 && static_cast<size_t>(at) < lat.size()) {
    size_t a = static_cast<size_t>(at);
    std::vector<int64_t> before(lat.begin(), lat.begin() + static_cast<long>(a));
    std::vector<int64_t> after(lat.begin() + static_cast<long>(a) + 1, lat.end());
    size_t end = std::min(lat.size(), a + 8);
    size_t worst = a;
    for (size_t k = a; k < end; ++k) {
      if (lat[k] > lat[worst]) worst = k;
    }
    std::fprintf(stderr,
                 " cmd_us=%.0f cross_index=%zu cross_us=%.1f p50_before_us=%.1f p50_after_us=%.1f"
                 " max_after_index=%zu max_after_us=%.1f",
                 cmd_ns / 1000.0, a, lat[a] / 1000.0, median_us(before), median_us(after), worst,
                 lat[worst] / 1000.0);
  }
  std::fprintf(stderr, "\n");
  return 0;
}
