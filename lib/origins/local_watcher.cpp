#include "origins/local_watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>
#include <vector>

#include "util/unique_fd.h"

namespace musicfs {

namespace {

constexpr uint32_t kMask = IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_CLOSE_WRITE |
                           IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW;

class LocalWatcher : public WatchHandle {
 public:
  LocalWatcher(std::string origin_id, std::string root, ChangeCallback cb, UniqueFd inotify_fd,
               UniqueFd stop_fd)
      : origin_id_(std::move(origin_id)),
        root_(std::move(root)),
        cb_(std::move(cb)),
        inotify_(std::move(inotify_fd)),
        stop_(std::move(stop_fd)) {
    add_tree("");
    thread_ = std::thread([this] { run(); });
  }

  ~LocalWatcher() override {
    uint64_t one = 1;
    (void)!::write(stop_.get(), &one, sizeof one);
    if (thread_.joinable()) thread_.join();
    // Closing the inotify descriptor drops every watch at once.
  }

  size_t watch_count() const override {
    std::lock_guard lock(mu_);
    return dirs_.size();
  }

 private:
  // Adds watches on a directory and everything below it. rel is "" for the root.
  void add_tree(const std::string& rel) {
    std::vector<std::string> todo{rel};
    while (!todo.empty()) {
      std::string cur = std::move(todo.back());
      todo.pop_back();
      std::string full = root_ + cur;
      int wd = ::inotify_add_watch(inotify_.get(), full.c_str(), kMask);
      if (wd < 0) {
        if (errno == ENOSPC) {
          spdlog::warn("origin {}: inotify watch limit reached at {}; changes below it are seen only on rescan",
                       origin_id_, full);
          return;
        }
        continue;
      }
      {
        std::lock_guard lock(mu_);
        dirs_[wd] = cur;
      }
      DIR* d = ::opendir(full.c_str());
      if (d == nullptr) continue;
      while (struct dirent* de = ::readdir(d)) {
        std::string_view name = de->d_name;
        if (name == "." || name == "..") continue;
        bool is_dir = de->d_type == DT_DIR;
        if (de->d_type == DT_UNKNOWN) {
          struct stat st {};
          is_dir = ::fstatat(::dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
        }
        if (is_dir) todo.push_back(cur + "/" + std::string(name));
      }
      ::closedir(d);
    }
  }

  void run() {
    alignas(struct inotify_event) char buf[64 * 1024];
    struct pollfd fds[2] = {{inotify_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
    for (;;) {
      int r = ::poll(fds, 2, -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      ssize_t n = ::read(inotify_.get(), buf, sizeof buf);
      if (n <= 0) continue;
      for (char* p = buf; p < buf + n;) {
        auto* ev = reinterpret_cast<struct inotify_event*>(p);
        p += sizeof(struct inotify_event) + ev->len;
        handle(*ev);
      }
    }
  }

  void handle(const struct inotify_event& ev) {
    if (ev.mask & IN_Q_OVERFLOW) {
      cb_(ChangeNotice{"", true});
      return;
    }
    std::string dir;
    {
      std::lock_guard lock(mu_);
      auto it = dirs_.find(ev.wd);
      if (it == dirs_.end()) return;
      dir = it->second;
      if (ev.mask & IN_IGNORED) {
        dirs_.erase(it);
        return;
      }
    }
    if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      // The root itself went away or moved: the index must be rebuilt from scratch.
      if (dir.empty()) cb_(ChangeNotice{"", true});
      return;
    }
    if (ev.len == 0) return;
    std::string path = dir + "/" + ev.name;
    if ((ev.mask & IN_ISDIR) && (ev.mask & (IN_CREATE | IN_MOVED_TO))) add_tree(path);
    cb_(ChangeNotice{path, false});
  }

  std::string origin_id_;
  std::string root_;
  ChangeCallback cb_;
  UniqueFd inotify_;
  UniqueFd stop_;
  mutable std::mutex mu_;
  std::unordered_map<int, std::string> dirs_;  // watch descriptor -> relative dir
  std::thread thread_;
};

}  // namespace

std::unique_ptr<WatchHandle> start_local_watcher(std::string origin_id, std::string root,
                                                 ChangeCallback callback) {
  UniqueFd in(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
  if (!in.valid()) {
    spdlog::warn("origin {}: inotify unavailable ({}); changes are seen only on rescan", origin_id,
                 std::strerror(errno));
    return nullptr;
  }
  UniqueFd stop(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop.valid()) return nullptr;
  return std::make_unique<LocalWatcher>(std::move(origin_id), std::move(root), std::move(callback),
                                        std::move(in), std::move(stop));
}

}  // namespace musicfs
