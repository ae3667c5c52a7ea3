// musicfs: the mount helper that mount(8) runs for filesystem type fuse.musicfs
// (fstab: `CONFIG MOUNTPOINT fuse.musicfs defaults,allow_other 0 0`), by way of
// mount.fuse3, which calls it as
//     musicfs CONFIG MOUNTPOINT [-o OPTIONS]
// through /bin/sh -c with mount(8)'s environment (no PATH, HOME=/root when unset).
// It is `musicfsctl mount -c CONFIG -o OPTIONS MOUNTPOINT`: it execs the musicfsctl
// beside it, so there is one implementation of mount (start or reuse the daemon,
// return once the mount serves, one-line errors, exit codes). See musicfs(8).
#include <pwd.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr int kExitUsage = 2;  // as musicfsctl's (musicfsctl(1), EXIT STATUS)
constexpr int kExitFailed = 1;

int usage_error(const std::string& message) {
  std::fprintf(stderr, "musicfs: %s (usage: musicfs CONFIG MOUNTPOINT [-o OPTIONS]; see musicfs(8))\n",
               message.c_str());
  return kExitUsage;
}

// mount(8) passes "rw" whenever "ro" is not given, so from here rw says nothing the
// user asked for; musicfsctl refuses an explicit -o rw, and would refuse every fstab
// line. Everything else goes on as written, to be checked in one place.
std::string without_rw(const std::vector<std::string>& lists) {
  std::string out;
  for (const auto& list : lists) {
    std::string_view rest = list;
    for (;;) {
      const auto comma = rest.find(',');
      const std::string_view opt = rest.substr(0, comma);
      if (!opt.empty() && opt != "rw") {
        if (!out.empty()) out += ',';
        out += opt;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
  }
  return out;
}

// The directory of this executable (symlinks resolved: /usr/sbin/musicfs may point
// into the build or install tree, and musicfsctl lives beside the real file).
std::string own_dir() {
  char buf[PATH_MAX];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

// mount(8) drops PATH and HOME from the environment, and mount.fuse3 then sets
// HOME=/root whoever we are (its boot-time fix). The daemon's default paths need a
// HOME of our own, and whatever it runs needs a PATH.
void repair_environment() {
  if (std::getenv("PATH") == nullptr) ::setenv("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", 1);
  const uid_t uid = ::getuid();
  const char* home = std::getenv("HOME");
  if (uid != 0 && (home == nullptr || std::strcmp(home, "/root") == 0)) {
    if (const struct passwd* pw = ::getpwuid(uid); pw != nullptr && pw->pw_dir != nullptr) {
      ::setenv("HOME", pw->pw_dir, 1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  std::vector<std::string> option_lists;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::printf(
          "usage: musicfs CONFIG MOUNTPOINT [-o OPTIONS]\n"
          "Mount helper for mount(8) and fstab(5), type fuse.musicfs: runs\n"
          "'musicfsctl mount -c CONFIG -o OPTIONS MOUNTPOINT'. Options: allow_other, ro;\n"
          "fstab's own (defaults, noauto, _netdev, nofail, x-*, ...) are ignored. See musicfs(8).\n");
      return 0;
    }
    if (arg == "-o") {
      if (i + 1 == argc) return usage_error("-o needs a list of options");
      option_lists.push_back(argv[++i]);
    } else if (arg.rfind("-o", 0) == 0) {
      option_lists.push_back(arg.substr(2));
    } else if (arg == "-v" || arg == "-n" || arg == "-s") {
      // mount(8)'s --verbose, --no-mtab and --sloppy, when it calls a helper directly.
    } else if (!arg.empty() && arg.front() == '-') {
      return usage_error("unknown argument '" + arg + "'");
    } else {
      positional.push_back(arg);
    }
  }
  if (positional.size() != 2) return usage_error("expected CONFIG and MOUNTPOINT");
  const std::string& config = positional[0];
  const std::string& mount_point = positional[1];
  if (mount_point.rfind("/dev/fd/", 0) == 0) {
    // mount.fuse3's drop_privileges opens /dev/fuse itself and hands over the fd;
    // the musicfs daemon mounts for itself and may serve several mounts.
    return usage_error("the drop_privileges option is not supported");
  }

  const std::string dir = own_dir();
  const std::string ctl = (dir.empty() ? std::string(".") : dir) + "/musicfsctl";
  if (::access(ctl.c_str(), X_OK) != 0) {
    std::fprintf(stderr, "musicfs: cannot run %s: %s (musicfsctl belongs beside musicfs)\n", ctl.c_str(),
                 std::strerror(errno));
    return kExitFailed;
  }
  repair_environment();

  std::vector<std::string> args = {ctl, "mount", "-c", config};
  if (const std::string opts = without_rw(option_lists); !opts.empty()) {
    args.push_back("-o");
    args.push_back(opts);
  }
  args.push_back("--");
  args.push_back(mount_point);
  std::vector<char*> exec_argv;
  for (auto& a : args) exec_argv.push_back(a.data());
  exec_argv.push_back(nullptr);
  ::execv(ctl.c_str(), exec_argv.data());
  std::fprintf(stderr, "musicfs: cannot run %s: %s\n", ctl.c_str(), std::strerror(errno));
  return kExitFailed;
}
