#include "fuse/fuse_host.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <vector>

#include "fuse/fuse_conf.h"
#include "fuse/fuse_ops.h"

namespace musicfs {

Result<std::unique_ptr<FuseHost>> FuseHost::mount(const std::string& mount_point, Federation& federation,
                                                  std::shared_ptr<KernelInvalidator> invalidator, bool allow_other,
                                                  const std::string& where) {
  // fusermount3 refuses allow_other for a user unless fuse.conf allows it, with a
  // message that never reaches our caller; say it ourselves, before mounting.
  if (allow_other && ::geteuid() != 0 && !fuse_conf_allows_other(kFuseConfPath)) {
    return make_error(ErrorCode::kConfig, (where.empty() ? std::string() : where + ": ") +
                                              "allow_other: not allowed for users other than root: add the line "
                                              "'user_allow_other' to " +
                                              kFuseConfPath);
  }
  if (::access("/dev/fuse", R_OK | W_OK) != 0) {
    return make_error(ErrorCode::kUnavailable, "FUSE is not available: /dev/fuse cannot be opened (" +
                                                   std::string(std::strerror(errno)) +
                                                   "); install fuse3 or load the fuse module");
  }
  std::unique_ptr<FuseHost> host(new FuseHost());
  host->mount_point_ = mount_point;
  host->invalidator_ = std::move(invalidator);
  host->context_ = std::make_unique<FuseContext>();
  host->context_->federation = &federation;
  host->context_->uid = getuid();
  host->context_->gid = getgid();
  host->context_->invalidator = host->invalidator_;

  // default_permissions stays with allow_other: the kernel checks each file's mode
  // bits, so another user reads what the origin's modes let them read.
  std::vector<std::string> argv_s = {"musicfs", "-o",
                                     std::string("ro,default_permissions,fsname=musicfs,subtype=musicfs") +
                                         (allow_other ? ",allow_other" : "")};
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), argv.data());
  struct fuse_lowlevel_ops ops = make_lowlevel_ops();
  host->session_ = fuse_session_new(&args, &ops, sizeof ops, host->context_.get());
  fuse_opt_free_args(&args);
  if (host->session_ == nullptr) return make_error(ErrorCode::kInternal, "fuse_session_new failed for " + mount_point);
  if (fuse_session_mount(host->session_, mount_point.c_str()) != 0) {
    fuse_session_destroy(host->session_);
    host->session_ = nullptr;
    return make_error(ErrorCode::kUnavailable, "cannot mount FUSE at " + mount_point +
                                                   " (is fuse3 installed and may you mount there?)");
  }
  host->alive_.store(true);
  host->loop_ = std::thread([h = host.get()] {
    struct fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(cfg, 1);
    fuse_loop_cfg_set_max_threads(cfg, 16);
    // Idle workers are kept (libfuse's default): a worker that exits after each burst
    // is a thread creation and teardown per burst of a scanner's requests.
    int rc = fuse_session_loop_mt(h->session_, cfg);
    fuse_loop_cfg_destroy(cfg);
    spdlog::info("FUSE loop for {} ended ({})", h->mount_point_, rc);
    h->alive_.store(false);
  });
  host->invalidator_->attach(host->session_, &host->context_->inodes);

  // Return only once the mount answers: the kernel shows our filesystem there. (Any
  // stat of the mount point before the loop runs would wait for FUSE INIT forever.)
  constexpr long kFuseSuperMagic = 0x65735546;
  auto deadline = SteadyClock::now() + std::chrono::seconds(10);
  for (;;) {
    struct statfs sf {};
    if (::statfs(mount_point.c_str(), &sf) == 0 && sf.f_type == kFuseSuperMagic) break;
    if (SteadyClock::now() > deadline || !host->alive()) {
      return make_error(ErrorCode::kUnavailable, "mount at " + mount_point + " did not come up");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  struct stat st {};
  if (::stat(mount_point.c_str(), &st) == 0) {
    host->dev_ = st.st_dev;
    // The kernel caps FUSE readahead at the bdi's 128 KiB default (INIT can only lower
    // it), so a sequential reader would cost one daemon round trip per 128 KiB. Raise
    // it to 1 MiB, matching our largest request; only root may, and failing is harmless.
    std::ofstream ra("/sys/class/bdi/" + std::to_string(major(st.st_dev)) + ":" + std::to_string(minor(st.st_dev)) +
                     "/read_ahead_kb");
    if (ra) ra << "1024";
  }
  return host;
}

size_t FuseHost::kernel_inodes() const { return context_->inodes.size(); }

void FuseHost::unmount_now() {
  if (::geteuid() == 0) {
    if (::umount2(mount_point_.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      spdlog::warn("umount {}: {}", mount_point_, std::strerror(errno));
    }
    return;
  }
  pid_t pid = ::fork();
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    // The helper gets nothing of the daemon's but its standard streams (no control
    // socket, no /dev/fuse, no database).
    ::close_range(3, ~0U, 0);
    ::execlp("fusermount3", "fusermount3", "-u", "-z", "--", mount_point_.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  if (pid > 0) {
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
}

FuseHost::~FuseHost() {
  invalidator_->detach();
  if (session_ == nullptr) return;
  if (alive_.load()) {
    fuse_session_exit(session_);
    unmount_now();
    // A lazily unmounted filesystem stays connected while a program holds a file open
    // in it; abort the connection so that shutdown never waits on a reader.
    for (int i = 0; i < 40 && alive_.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(25));
    if (alive_.load() && dev_ != 0) {
      std::ofstream abort("/sys/fs/fuse/connections/" + std::to_string(minor(dev_)) + "/abort");
      if (abort) abort << "1";
    }
  }
  if (loop_.joinable()) loop_.join();
  fuse_session_unmount(session_);
  fuse_session_destroy(session_);
  session_ = nullptr;
  context_->release_all();  // handles still open when the mount went away
}

}  // namespace musicfs
