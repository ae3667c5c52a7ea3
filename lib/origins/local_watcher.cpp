#include "origins/local_watcher.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
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

// Everything the watcher thread uses. Shared with the handle because the thread may
// outlive it: placing watches walks the origin's tree, and on a hung share that walk
// blocks in the kernel. The handle then leaves the thread behind instead of waiting,
// and the thread never calls back again.
struct WatchState {
  std::string origin_id;
  std::string root;
  ChangeCallback cb;
  UniqueFd inotify;
  UniqueFd stop;
  std::atomic<bool> stopping{false};

  mutable std::mutex mu;  // guards dirs
  std::unordered_map<int, std::string> dirs;  // watch descriptor -> relative dir

  std::mutex cb_mu;  // held while calling cb; `orphaned` set under it
  bool orphaned = false;

  std::mutex exit_mu;  // guards exited and ready; exit_cv tells of both and of progress
  std::condition_variable exit_cv;
  bool exited = false;
  bool ready = false;  // every watch of the initial walk is placed
  std::atomic<size_t> placed{0};

  void notify(const ChangeNotice& n) {
    std::lock_guard lock(cb_mu);
    if (!orphaned) cb(n);
  }

  // Adds watches on a directory and everything below it. rel is "" for the root.
  void add_tree(const std::string& rel) {
    std::vector<std::string> todo{rel};
    while (!todo.empty() && !stopping.load()) {
      std::string cur = std::move(todo.back());
      todo.pop_back();
      std::string full = root + cur;
      int wd = ::inotify_add_watch(inotify.get(), full.c_str(), kMask);
      if (wd < 0) {
        if (errno == ENOSPC) {
          spdlog::warn("origin {}: inotify watch limit reached at {}; changes below it are seen only on rescan",
                       origin_id, full);
          return;
        }
        continue;
      }
      {
        std::lock_guard lock(mu);
        dirs[wd] = cur;
      }
      placed.fetch_add(1);
      exit_cv.notify_all();
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
    add_tree("");
    {
      std::lock_guard lock(exit_mu);
      ready = true;
      exit_cv.notify_all();
    }
    alignas(struct inotify_event) char buf[64 * 1024];
    struct pollfd fds[2] = {{inotify.get(), POLLIN, 0}, {stop.get(), POLLIN, 0}};
    while (!stopping.load()) {
      int r = ::poll(fds, 2, -1);
      if (r < 0) {
        if (errno == EINTR) continue;
        return;
      }
      if (fds[1].revents != 0) return;
      ssize_t n = ::read(inotify.get(), buf, sizeof buf);
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
      notify(ChangeNotice{"", true});
      return;
    }
    std::string dir;
    {
      std::lock_guard lock(mu);
      auto it = dirs.find(ev.wd);
      if (it == dirs.end()) return;
      dir = it->second;
      if (ev.mask & IN_IGNORED) {
        dirs.erase(it);
        return;
      }
    }
    if (ev.mask & (IN_DELETE_SELF | IN_MOVE_SELF)) {
      // The root itself went away or moved: the index must be rebuilt from scratch.
      if (dir.empty()) notify(ChangeNotice{"", true});
      return;
    }
    if (ev.len == 0) return;
    std::string path = dir + "/" + ev.name;
    if ((ev.mask & IN_ISDIR) && (ev.mask & (IN_CREATE | IN_MOVED_TO))) add_tree(path);
    notify(ChangeNotice{path, false});
  }
};

class LocalWatcher : public WatchHandle {
 public:
  explicit LocalWatcher(std::shared_ptr<WatchState> state) : state_(std::move(state)) {
    // Watches are placed on the thread, not here: whoever starts a watcher (the
    // indexer) must not block on a hung share.
    thread_ = std::thread([s = state_] {
      s->run();
      std::lock_guard lock(s->exit_mu);
      s->exited = true;
      s->exit_cv.notify_all();
    });
  }

  ~LocalWatcher() override {
    state_->stopping.store(true);
    uint64_t one = 1;
    (void)!::write(state_->stop.get(), &one, sizeof one);
    bool exited = false;
    {
      std::unique_lock lock(state_->exit_mu);
      exited = state_->exit_cv.wait_for(lock, kStopWait, [&] { return state_->exited; });
    }
    if (exited) {
      thread_.join();
      return;
    }
    // Stuck in the origin (a hung share): leave the thread behind, never to call back.
    {
      std::lock_guard lock(state_->cb_mu);
      state_->orphaned = true;
    }
    spdlog::warn("origin {}: the change watcher is blocked in the origin; leaving it behind", state_->origin_id);
    thread_.detach();
  }

  size_t watch_count() const override {
    std::lock_guard lock(state_->mu);
    return state_->dirs.size();
  }

  bool wait_ready(std::chrono::milliseconds stall_after) override {
    std::unique_lock lock(state_->exit_mu);
    for (;;) {
      const size_t before = state_->placed.load();
      if (state_->exit_cv.wait_for(lock, stall_after, [&] {
            return state_->ready || state_->exited || state_->placed.load() != before;
          })) {
        if (state_->ready || state_->exited) return state_->ready;
        continue;  // progress: keep waiting
      }
      return false;
    }
  }

 private:
  static constexpr auto kStopWait = std::chrono::milliseconds(500);
  std::shared_ptr<WatchState> state_;
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
  auto state = std::make_shared<WatchState>();
  state->origin_id = std::move(origin_id);
  state->root = std::move(root);
  state->cb = std::move(callback);
  state->inotify = std::move(in);
  state->stop = std::move(stop);
  return std::make_unique<LocalWatcher>(std::move(state));
}

}  // namespace musicfs
