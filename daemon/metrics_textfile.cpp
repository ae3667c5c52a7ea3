#include "metrics_textfile.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "util/unique_fd.h"

namespace musicfs {

Status write_textfile_atomically(const std::string& path, const std::string& text) {
  const auto slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = (dir == "/" ? "" : dir) + "/." + base + ".XXXXXX";
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno(errno, "metrics textfile " + path + ": cannot create a file in " + dir);
  auto fail = [&](const std::string& what) {
    Error e = Error::from_errno(errno, "metrics textfile " + path + ": " + what);
    ::unlink(tmp.c_str());
    return e;
  };
  // 0644, unlike the daemon's other files (0600): node_exporter reads the file as its
  // own user, and it holds only figures and mount points, not the music's paths.
  if (::fchmod(fd.get(), 0644) != 0) return fail("cannot set its mode");
  for (size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("cannot write");
    }
    done += static_cast<size_t>(n);
  }
  // fsync before rename: after a crash the name points at the whole new file or the
  // whole old one, never at an empty one.
  if (::fsync(fd.get()) != 0) return fail("cannot sync");
  if (::close(fd.release()) != 0) return fail("cannot close");
  if (::rename(tmp.c_str(), path.c_str()) != 0) return fail("cannot rename into place");
  return {};
}

MetricsTextfile::MetricsTextfile(std::string path, std::chrono::seconds interval, Render render)
    : path_(std::move(path)), interval_(interval), render_(std::move(render)), thread_([this] { run(); }) {}

MetricsTextfile::~MetricsTextfile() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  if (::unlink(path_.c_str()) != 0 && errno != ENOENT) {
    spdlog::warn("metrics textfile {}: cannot remove it: {}", path_, std::strerror(errno));
  }
}

void MetricsTextfile::run() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    write_once();
    lock.lock();
    cv_.wait_for(lock, interval_, [&] { return stopping_; });
  }
}

void MetricsTextfile::write_once() {
  auto text = render_();
  Status s = text ? write_textfile_atomically(path_, *text) : Status(text.error());
  const std::string error = s ? "" : s.error().message;
  if (error == last_error_) return;
  if (error.empty()) {
    spdlog::info("metrics textfile {}: written again", path_);
  } else {
    spdlog::warn("{}", error);
  }
  last_error_ = error;
}

}  // namespace musicfs
