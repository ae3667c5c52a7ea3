// hangfs: a test-only FUSE filesystem that passes through, read-only, to a directory
// and can be switched at run time to block every call or to fail every call with EIO.
// It is the real hung origin of the bounded-wait tests: a musicfs local origin pointed
// at a hangfs mount blocks in the kernel exactly as it would on a dead NFS server.
//
//   hangfs SOURCE_DIR MOUNT_POINT
//
// Commands arrive one per line on stdin and each is answered "ok <mode>" on stdout once
// it is in force: "pass", "block", "eio", "quit". End of stdin (the test died) is
// "quit": calls are released, the mount is removed and hangfs exits, so a failing test
// never leaves a hung filesystem behind.
//
// No kernel cache may hide a hang: entry, attribute and negative timeouts are 0 and
// every file is opened with direct_io, so each lookup, stat and read reaches hangfs.
#define FUSE_USE_VERSION 312
#include <dirent.h>
#include <fcntl.h>
#include <fuse3/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

enum class Mode { kPass, kBlock, kEio, kQuit };

struct State {
  std::string source;
  std::mutex mu;
  std::condition_variable changed;
  Mode mode = Mode::kPass;
};

State g_state;

// Every operation passes here first: it blocks while the mode is "block" and fails
// while it is "eio". Returns 0 to go on, or a negative errno.
int gate() {
  std::unique_lock lock(g_state.mu);
  g_state.changed.wait(lock, [] { return g_state.mode != Mode::kBlock; });
  return g_state.mode == Mode::kEio ? -EIO : 0;
}

std::string real(const char* path) { return g_state.source + path; }

int hang_getattr(const char* path, struct stat* st, struct fuse_file_info*) {
  if (int g = gate()) return g;
  return ::lstat(real(path).c_str(), st) == 0 ? 0 : -errno;
}

int hang_readlink(const char* path, char* buf, size_t size) {
  if (int g = gate()) return g;
  ssize_t n = ::readlink(real(path).c_str(), buf, size - 1);
  if (n < 0) return -errno;
  buf[n] = '\0';
  return 0;
}

int hang_readdir(const char* path, void* buf, fuse_fill_dir_t fill, off_t, struct fuse_file_info*,
                 enum fuse_readdir_flags) {
  if (int g = gate()) return g;
  DIR* d = ::opendir(real(path).c_str());
  if (d == nullptr) return -errno;
  while (struct dirent* de = ::readdir(d)) {
    struct stat st {};
    st.st_ino = de->d_ino;
    st.st_mode = static_cast<mode_t>(DTTOIF(de->d_type));
    if (fill(buf, de->d_name, &st, 0, static_cast<fuse_fill_dir_flags>(0)) != 0) break;
  }
  ::closedir(d);
  return 0;
}

int hang_open(const char* path, struct fuse_file_info* fi) {
  if (int g = gate()) return g;
  if ((fi->flags & O_ACCMODE) != O_RDONLY) return -EROFS;
  int fd = ::open(real(path).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  fi->fh = static_cast<uint64_t>(fd);
  fi->direct_io = 1;  // every read reaches us, so a hang is a hang
  return 0;
}

int hang_read(const char*, char* buf, size_t size, off_t offset, struct fuse_file_info* fi) {
  if (int g = gate()) return g;
  ssize_t n = ::pread(static_cast<int>(fi->fh), buf, size, offset);
  return n < 0 ? -errno : static_cast<int>(n);
}

int hang_release(const char*, struct fuse_file_info* fi) {
  // Never gated: closing must always work, or an unmount could wait on it.
  ::close(static_cast<int>(fi->fh));
  return 0;
}

int hang_statfs(const char* path, struct statvfs* st) {
  if (int g = gate()) return g;
  return ::statvfs(real(path).c_str(), st) == 0 ? 0 : -errno;
}

void* hang_init(struct fuse_conn_info*, struct fuse_config* cfg) {
  cfg->entry_timeout = 0;
  cfg->attr_timeout = 0;
  cfg->negative_timeout = 0;
  cfg->use_ino = 0;
  return nullptr;
}

void set_mode(Mode m) {
  {
    std::lock_guard lock(g_state.mu);
    g_state.mode = m;
  }
  g_state.changed.notify_all();
}

const char* mode_name(Mode m) {
  switch (m) {
    case Mode::kPass: return "pass";
    case Mode::kBlock: return "block";
    case Mode::kEio: return "eio";
    case Mode::kQuit: return "quit";
  }
  return "?";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: hangfs SOURCE_DIR MOUNT_POINT   (commands on stdin: pass|block|eio|quit)\n");
    return 2;
  }
  g_state.source = argv[1];
  while (g_state.source.size() > 1 && g_state.source.back() == '/') g_state.source.pop_back();

  struct fuse_operations ops {};
  ops.init = hang_init;
  ops.getattr = hang_getattr;
  ops.readlink = hang_readlink;
  ops.readdir = hang_readdir;
  ops.open = hang_open;
  ops.read = hang_read;
  ops.release = hang_release;
  ops.statfs = hang_statfs;

  std::string opts = "ro,fsname=hangfs,subtype=hangfs";
  if (::geteuid() == 0) opts += ",allow_other";
  char arg0[] = "hangfs";
  char arg1[] = "-o";
  std::vector<char*> args_v = {arg0, arg1, opts.data()};
  struct fuse_args args = FUSE_ARGS_INIT(static_cast<int>(args_v.size()), args_v.data());
  struct fuse* fuse = fuse_new(&args, &ops, sizeof ops, nullptr);
  fuse_opt_free_args(&args);
  if (fuse == nullptr) {
    std::fprintf(stderr, "hangfs: fuse_new failed\n");
    return 1;
  }
  if (fuse_mount(fuse, argv[2]) != 0) {
    std::fprintf(stderr, "hangfs: cannot mount at %s\n", argv[2]);
    fuse_destroy(fuse);
    return 1;
  }
  std::thread loop([fuse] {
    struct fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, 64);
    (void)fuse_loop_mt(fuse, cfg);
    fuse_loop_cfg_destroy(cfg);
  });
  std::cout << "ok pass" << std::endl;

  std::string line;
  Mode m = Mode::kQuit;
  while (std::getline(std::cin, line)) {
    if (line == "pass") {
      m = Mode::kPass;
    } else if (line == "block") {
      m = Mode::kBlock;
    } else if (line == "eio") {
      m = Mode::kEio;
    } else if (line == "quit") {
      m = Mode::kQuit;
      break;
    } else {
      std::cout << "error unknown command '" << line << "'" << std::endl;
      continue;
    }
    set_mode(m);
    std::cout << "ok " << mode_name(m) << std::endl;
  }
  // Quit: release every blocked call first, then unmount, which ends the loop.
  set_mode(Mode::kPass);
  fuse_exit(fuse);
  fuse_unmount(fuse);
  loop.join();
  fuse_destroy(fuse);
  std::cout << "ok quit" << std::endl;
  return 0;
}
