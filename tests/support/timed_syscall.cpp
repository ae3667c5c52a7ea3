// timed_syscall: runs one system call on a path and prints how long it took, as the
// calling process saw it. The bounded-wait tests run it as a fresh process for every
// measurement, so that a time bound is measured from the caller's system call and not
// inside the daemon (where the kernel's retries and queueing would not show).
//
//   timed_syscall OP PATH [LENGTH [OFFSET]]
//   OP: open | read | stat | readdir | getxattr
//
// Prints one line: "<milliseconds> <errno> <data>", where data is the bytes read (as
// hex, at most 64), the xattr value, or the number of directory entries.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: timed_syscall open|read|stat|readdir|getxattr PATH [LENGTH [OFFSET]]\n");
    return 2;
  }
  const std::string op = argv[1];
  const char* path = argv[2];
  const size_t length = argc > 3 ? std::strtoull(argv[3], nullptr, 10) : 100;
  const off_t offset = argc > 4 ? static_cast<off_t>(std::strtoll(argv[4], nullptr, 10)) : 0;
  std::string data;
  int err = 0;
  auto start = std::chrono::steady_clock::now();
  if (op == "open" || op == "read") {
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      err = errno;
    } else if (op == "read") {
      std::vector<char> buf(length);
      ssize_t n = ::pread(fd, buf.data(), buf.size(), offset);
      if (n < 0) {
        err = errno;
      } else {
        static const char* hex = "0123456789abcdef";
        for (ssize_t i = 0; i < n && i < 64; ++i) {
          data += hex[(buf[static_cast<size_t>(i)] >> 4) & 0xf];
          data += hex[buf[static_cast<size_t>(i)] & 0xf];
        }
        if (n == 0) data = "-";
      }
      ::close(fd);
    } else {
      ::close(fd);
    }
  } else if (op == "stat") {
    struct stat st {};
    if (::stat(path, &st) != 0) err = errno;
    data = std::to_string(st.st_size);
  } else if (op == "readdir") {
    DIR* d = ::opendir(path);
    if (d == nullptr) {
      err = errno;
    } else {
      size_t count = 0;
      errno = 0;
      while (::readdir(d) != nullptr) ++count;
      if (errno != 0) err = errno;
      ::closedir(d);
      data = std::to_string(count);
    }
  } else if (op == "getxattr") {
    char buf[4096];
    ssize_t n = ::getxattr(path, "user.musicfs.origin", buf, sizeof buf);
    if (n < 0) {
      err = errno;
    } else {
      data.assign(buf, static_cast<size_t>(n));
    }
  } else {
    std::fprintf(stderr, "timed_syscall: unknown op '%s'\n", op.c_str());
    return 2;
  }
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  if (data.empty()) data = "-";
  std::printf("%.1f %d %s\n", ms, err, data.c_str());
  return 0;
}
