#pragma once
// Shared helpers for the unit tests: a private temporary directory per test (removed
// at scope exit), small file helpers, polling with a deadline instead of sleeping,
// and a count of this process's inotify descriptors.
#include <dirent.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>

namespace musicfs::test {

// A fresh directory from mkdtemp under /tmp, removed (recursively) when the object dies.
// Each test gets its own, so tests can run side by side in separate processes.
class TempDir {
 public:
  explicit TempDir(std::string_view tag = "unit") {
    std::string tmpl = "/tmp/musicfs-" + std::string(tag) + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + tmpl);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Absolute path of `rel` ("a/b.flac" or "/a/b.flac") inside the directory.
  std::string operator/(std::string_view rel) const {
    while (!rel.empty() && rel.front() == '/') rel.remove_prefix(1);
    return path_ + "/" + std::string(rel);
  }

  // Writes `content` to `rel`, creating parent directories. Returns the absolute path.
  std::string write(std::string_view rel, std::string_view content) const {
    std::string full = *this / rel;
    std::filesystem::create_directories(std::filesystem::path(full).parent_path());
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    if (!out) throw std::runtime_error("cannot write " + full);
    return full;
  }
  std::string mkdir(std::string_view rel) const {
    std::string full = *this / rel;
    std::filesystem::create_directories(full);
    return full;
  }

 private:
  std::string path_;
};

// Polls `cond` until it holds or `timeout` passes; returns its last value. For waiting
// on background threads without a fixed sleep.
inline bool poll_until(const std::function<bool()>& cond,
                       std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return cond();
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// Number of this process's open file descriptors that are inotify instances.
inline size_t count_inotify_fds() {
  size_t n = 0;
  DIR* d = ::opendir("/proc/self/fd");
  if (d == nullptr) return 0;
  while (struct dirent* de = ::readdir(d)) {
    std::string name = de->d_name;
    if (name == "." || name == "..") continue;
    std::string link = "/proc/self/fd/" + name;
    char target[256];
    ssize_t len = ::readlink(link.c_str(), target, sizeof target - 1);
    if (len <= 0) continue;
    if (std::string_view(target, static_cast<size_t>(len)) == "anon_inode:inotify") ++n;
  }
  ::closedir(d);
  return n;
}

}  // namespace musicfs::test
