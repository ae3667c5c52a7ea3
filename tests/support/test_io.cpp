#include "support/test_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstdlib>
#include <memory>
#include <random>

namespace musicfs::test {

double seconds_since(TestClock::time_point t0) {
  return std::chrono::duration<double>(TestClock::now() - t0).count();
}

std::string random_bytes(size_t n, uint32_t seed) {
  std::mt19937 gen(seed);
  std::string s(n, '\0');
  for (size_t i = 0; i < n; i += 4) {
    uint32_t v = gen();
    for (size_t k = 0; k < 4 && i + k < n; ++k) s[i + k] = static_cast<char>((v >> (8 * k)) & 0xff);
  }
  return s;
}

ReadOutcome timed_read(const std::string& path, size_t chunk, bool direct) {
  ReadOutcome r;
  auto t0 = TestClock::now();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (direct ? O_DIRECT : 0));
  if (fd < 0) {
    r.err = errno;
    r.secs = seconds_since(t0);
    return r;
  }
  // O_DIRECT needs an aligned buffer; 4096 suits every block size here.
  const size_t size = (chunk + 4095) / 4096 * 4096;
  std::unique_ptr<char, decltype(&std::free)> buf(static_cast<char*>(std::aligned_alloc(4096, size)), &std::free);
  for (;;) {
    ssize_t n = ::read(fd, buf.get(), chunk);
    if (n < 0) {
      if (errno == EINTR) continue;
      r.err = errno;
      break;
    }
    if (n == 0) {
      r.ok = true;
      break;
    }
    r.data.append(buf.get(), static_cast<size_t>(n));
  }
  ::close(fd);
  r.secs = seconds_since(t0);
  return r;
}

ReadOutcome read_all(const std::string& path, bool direct) { return timed_read(path, size_t{1} << 20, direct); }

bool same_bytes(const std::string& got, const std::string& want) {
  if (got == want) return true;
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  WARN("contents differ: got " << got.size() << " bytes, want " << want.size() << ", first difference at byte " << i);
  return false;
}

bool drop_page_cache(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0;
  ::close(fd);
  return ok;
}

std::string status_of(const Fixture& f, const std::string& id) {
  auto o = f.origin_status(id);
  return o.is_object() ? o["status"].get<std::string>() : std::string("<missing>");
}

bool wait_status(const Fixture& f, const std::string& id, const std::string& want, std::chrono::milliseconds timeout) {
  return wait_until([&] { return status_of(f, id) == want; }, timeout);
}

std::string last_error_of(const Fixture& f, const std::string& id) {
  auto o = f.origin_status(id);
  return o.is_object() && o["last_error"].is_string() ? o["last_error"].get<std::string>() : std::string();
}

bool visible(const Fixture& f, const std::string& rel, std::chrono::milliseconds timeout) {
  return wait_until([&] { return path_exists(f.in_mount(rel)); }, timeout);
}

off_t size_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_size : -1;
}

}  // namespace musicfs::test
