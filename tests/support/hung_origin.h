#pragma once
// A real hung origin for the bounded-wait tests: the hangfs test filesystem
// (tests/support/hangfs.cpp) mounted over a directory of origin files. Switching it
// to "block" makes every call on the mount block in the kernel, as on a dead NFS
// server; "eio" makes every call fail. The destructor releases the calls and
// unmounts, so a failing test never leaves a hung mount behind.
#include <chrono>
#include <string>

namespace musicfs::test {

class HungOrigin {
 public:
  // Serves `source` (created if missing) at `mount_point` (created if missing).
  HungOrigin(std::string source, std::string mount_point);
  ~HungOrigin();
  HungOrigin(const HungOrigin&) = delete;
  HungOrigin& operator=(const HungOrigin&) = delete;

  const std::string& source() const { return source_; }
  const std::string& path() const { return mount_point_; }
  // Switches every later call; returns once hangfs confirms. Throws on failure.
  void pass() { command("pass"); }
  void block() { command("block"); }
  void fail_eio() { command("eio"); }

 private:
  void command(const std::string& mode);
  std::string read_reply(std::chrono::milliseconds timeout);
  std::string source_;
  std::string mount_point_;
  int pid_ = -1;
  int in_fd_ = -1;   // hangfs's stdin
  int out_fd_ = -1;  // hangfs's stdout
  std::string out_buf_;
};

// Runs one system call on `path` in a fresh process (tests/support/timed_syscall.cpp)
// and reports how long the call took as the caller saw it, and its outcome.
struct TimedCall {
  double ms = 0;      // wall time of the system call(s), measured in the child
  int err = 0;        // errno, 0 on success
  std::string data;   // what a read returned / a getxattr value / a listing count
  int exit_code = 0;  // of the child; -1 if it had to be killed
};
// op: "open", "read" (open + read of `length` bytes at `offset`), "stat", "readdir",
// "getxattr" (user.musicfs.origin).
TimedCall timed_syscall(const std::string& op, const std::string& path, size_t length = 100, uint64_t offset = 0,
                        std::chrono::milliseconds kill_after = std::chrono::seconds(60));

}  // namespace musicfs::test
