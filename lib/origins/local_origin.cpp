#include "origins/local_origin.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <vector>

#include "origins/local_watcher.h"
#include "origins/origin_types.h"

namespace musicfs {

namespace {

long sys_openat2(int dirfd, const char* path, struct open_how* how) {
  return syscall(SYS_openat2, dirfd, path, how, sizeof(*how));
}

class LocalFile : public OriginFile {
 public:
  LocalFile(UniqueFd fd, std::string origin, std::string path)
      : fd_(std::move(fd)), origin_(std::move(origin)), path_(std::move(path)) {}

  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline) override {
    // The read path asks for whole chunks, one at a time, and waits for each. When the
    // reads run in order, ask the kernel to start the disk on what comes next, so the
    // next chunk is (mostly) in the page cache by the time it is asked for. This is
    // only advice: it never blocks and never fails the read.
    if (offset == next_offset_.exchange(offset + buf.size(), std::memory_order_relaxed) && !buf.empty()) {
      ::posix_fadvise(fd_.get(), static_cast<off_t>(offset + buf.size()), static_cast<off_t>(kAhead * buf.size()),
                      POSIX_FADV_WILLNEED);
    }
    size_t done = 0;
    while (done < buf.size()) {
      ssize_t n = ::pread(fd_.get(), buf.data() + done, buf.size() - done,
                          static_cast<off_t>(offset + done));
      if (n < 0) {
        if (errno == EINTR) continue;
        Error e = Error::from_errno(errno, "origin " + origin_ + ": read " + path_);
        // A file we opened cannot vanish under an fd; any error here means the
        // medium or the share is gone, which is the origin's failure, not the path's.
        if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kIo;
        return e;
      }
      if (n == 0) break;
      done += static_cast<size_t>(n);
    }
    return done;
  }

 private:
  static constexpr uint64_t kAhead = 4;  // reads' worth of advance notice
  UniqueFd fd_;
  std::string origin_;
  std::string path_;
  std::atomic<uint64_t> next_offset_{0};  // racing readers only cost a missed hint
};

Result<OriginPtr> create_local(const OriginConfig& c) {
  return OriginPtr(std::make_shared<LocalOrigin>(c.id, c.type, c.string_setting("path")));
}

}  // namespace

bool entry_attr_from_stat(const struct stat& st, EntryAttr& out) {
  if (S_ISREG(st.st_mode)) {
    out.type = EntryType::kFile;
  } else if (S_ISDIR(st.st_mode)) {
    out.type = EntryType::kDirectory;
  } else if (S_ISLNK(st.st_mode)) {
    out.type = EntryType::kSymlink;
  } else {
    return false;
  }
  out.mode = st.st_mode & 07777;
  out.size = static_cast<uint64_t>(st.st_size);
  out.mtime_sec = st.st_mtim.tv_sec;
  out.mtime_nsec = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  return true;
}

LocalOrigin::LocalOrigin(std::string id, std::string type, std::string root)
    : id_(std::move(id)), type_(std::move(type)), root_(std::move(root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

Result<UniqueFd> LocalOrigin::open_root() const {
  int fd = ::open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    Error e = Error::from_errno(errno, "origin " + id_ + ": open root " + root_);
    // The root itself missing means the origin is gone, not that a file is.
    if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kUnavailable;
    return e;
  }
  return UniqueFd(fd);
}

Result<UniqueFd> LocalOrigin::open_beneath(std::string_view path, int flags) const {
  auto root = open_root();
  if (!root) return root.take_error();
  std::string rel(path);
  while (!rel.empty() && rel.front() == '/') rel.erase(0, 1);
  if (rel.empty()) rel = ".";
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC | O_NOFOLLOW);
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = sys_openat2(root->get(), rel.c_str(), &how);
  if (fd < 0) {
    int err = errno;
    // EXDEV: the lookup tried to leave the root; ELOOP: it met a symlink. Both mean
    // "no such file" as far as this origin is concerned.
    if (err == EXDEV || err == ELOOP) err = ENOENT;
    return Error::from_errno(err, "origin " + id_ + ": open " + std::string(path));
  }
  return UniqueFd(static_cast<int>(fd));
}

Status LocalOrigin::list(std::string_view under, const std::function<void(ListedEntry&&)>& sink, Deadline) {
  auto root = open_beneath(under, O_RDONLY | O_DIRECTORY);
  if (!root) return root.take_error();
  std::string base(under);
  while (!base.empty() && base.back() == '/') base.pop_back();
  const bool whole = base.empty();
  // Depth-first with an explicit stack of paths, opening each directory only when its
  // turn comes: one directory is open at a time, whatever the width of the tree (a
  // root with 15 000 artist folders must not hold 15 000 descriptors; nofile is 20 000).
  struct Frame {
    UniqueFd fd;
    std::string vpath;
  };
  std::vector<std::string> pending;
  std::optional<Frame> frame = Frame{std::move(*root), base};
  bool any = false;
  while (frame || !pending.empty()) {
    if (!frame) {
      std::string vpath = std::move(pending.back());
      pending.pop_back();
      auto fd = open_beneath(vpath, O_RDONLY | O_DIRECTORY);
      if (!fd) continue;  // gone or replaced since it was listed
      frame = Frame{std::move(*fd), std::move(vpath)};
    }
    DIR* dir = ::fdopendir(frame->fd.get());
    std::string vpath = std::move(frame->vpath);
    if (dir != nullptr) frame->fd.release();  // now owned by dir
    frame.reset();
    if (dir == nullptr) continue;
    size_t first_sub = pending.size();
    while (struct dirent* de = ::readdir(dir)) {
      std::string_view name = de->d_name;
      if (name == "." || name == "..") continue;
      struct stat st {};
      if (::fstatat(::dirfd(dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      ListedEntry entry;
      if (!entry_attr_from_stat(st, entry.attr)) continue;
      entry.path = vpath + "/" + std::string(name);
      if (entry.attr.type == EntryType::kSymlink) {
        char target[4096];
        ssize_t n = ::readlinkat(::dirfd(dir), de->d_name, target, sizeof target);
        if (n < 0) continue;
        entry.attr.symlink_target.assign(target, static_cast<size_t>(n));
      } else if (entry.attr.type == EntryType::kDirectory) {
        pending.push_back(entry.path);
      }
      any = true;
      sink(std::move(entry));
    }
    ::closedir(dir);
    // Visit this directory's subdirectories in the order they were read.
    std::reverse(pending.begin() + static_cast<std::ptrdiff_t>(first_sub), pending.end());
  }
  if (whole && !any && had_entries_.load()) {
    // The same evidence the probe goes by: an empty root that had files is a share
    // that is not mounted, and its listing must not empty the index.
    return make_error(ErrorCode::kUnavailable,
                      "origin " + id_ + ": root " + root_ + " is empty but had files (is the share unmounted?)");
  }
  if (whole && any) had_entries_.store(true);
  return {};
}

Result<EntryAttr> LocalOrigin::stat(std::string_view path, Deadline) {
  auto fd = open_beneath(path, O_PATH);
  if (!fd) return fd.take_error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0) return Error::from_errno(errno, "origin " + id_ + ": stat " + std::string(path));
  EntryAttr attr;
  if (!entry_attr_from_stat(st, attr)) {
    return make_error(ErrorCode::kNotFound, "origin " + id_ + ": " + std::string(path) + " is not a file, directory or symlink");
  }
  if (attr.type == EntryType::kSymlink) {
    char target[4096];
    ssize_t n = ::readlinkat(fd->get(), "", target, sizeof target);
    if (n >= 0) attr.symlink_target.assign(target, static_cast<size_t>(n));
  }
  return attr;
}

Result<std::unique_ptr<OriginFile>> LocalOrigin::open(std::string_view path, Deadline) {
  auto fd = open_beneath(path, O_RDONLY);
  if (!fd) return fd.take_error();
  struct stat st {};
  if (::fstat(fd->get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return make_error(ErrorCode::kNotFound, "origin " + id_ + ": " + std::string(path) + " is not a regular file");
  }
  return std::unique_ptr<OriginFile>(std::make_unique<LocalFile>(std::move(*fd), id_, std::string(path)));
}

Status LocalOrigin::probe(Deadline) {
  auto fd = open_beneath("/", O_RDONLY | O_DIRECTORY);
  if (!fd) {
    Error e = fd.take_error();
    if (e.code == ErrorCode::kNotFound) e.code = ErrorCode::kUnavailable;
    return e;
  }
  DIR* dir = ::fdopendir(fd->get());
  if (dir == nullptr) return Error::from_errno(errno, "origin " + id_ + ": read root " + root_);
  fd->release();
  bool empty = true;
  errno = 0;
  while (struct dirent* de = ::readdir(dir)) {
    std::string_view name = de->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0) return Error::from_errno(err, "origin " + id_ + ": read root " + root_);
  if (empty && had_entries_.load()) {
    // An NFS/SMB share or a disk that is no longer mounted leaves its empty mount point.
    return make_error(ErrorCode::kUnavailable,
                      "origin " + id_ + ": root " + root_ + " is empty but had files (is the share unmounted?)");
  }
  return {};
}

std::unique_ptr<WatchHandle> LocalOrigin::watch(ChangeCallback callback) {
  return start_local_watcher(id_, root_, std::move(callback));
}

namespace {
std::vector<SettingSpec> path_settings(const std::string& what, const std::string& refresh_help) {
  return {{"path", SettingKind::kAbsolutePath, true, "absolute path of " + what},
          {"refresh_interval_secs", SettingKind::kInteger, false, refresh_help, 10, 86400}};
}
}  // namespace

OriginTypeInfo local_origin_type() {
  return {"local", false, "a directory on a local disk",
          path_settings("the music directory", "index polling interval when inotify is unavailable"), create_local};
}

// NFS and SMB shares are served through the system's own mount of the share. They are
// remote for health purposes (threshold 3), and every call is bounded by BoundedOrigin
// so a dead server cannot hang the tree.
OriginTypeInfo nfs_origin_type() {
  return {"nfs", true, "an NFS share already mounted on this machine",
          path_settings("the mounted NFS share", "index polling interval"), create_local};
}

OriginTypeInfo smb_origin_type() {
  return {"smb", true, "an SMB/CIFS share already mounted on this machine",
          path_settings("the mounted SMB share", "index polling interval"), create_local};
}

}  // namespace musicfs
