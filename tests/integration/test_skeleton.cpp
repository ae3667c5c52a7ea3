// Integration tests for the walking skeleton: a real daemon, a real FUSE mount of
// local origins, the musicfsctl CLI and the control socket.
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "support/test_env.h"

using namespace musicfs::test;
using namespace std::chrono_literals;

namespace {

// Directory entry names as readdir returns them (without "." and ".."), sorted, with
// any duplicates kept so a test can see them.
std::vector<std::string> list_dir(const std::string& path) {
  std::vector<std::string> names;
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) throw std::runtime_error("opendir " + path + ": " + std::strerror(errno));
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

char type_of(mode_t m) {
  if (S_ISDIR(m)) return 'd';
  if (S_ISREG(m)) return 'f';
  if (S_ISLNK(m)) return 'l';
  return '?';
}

// Every entry below `root` (relative path -> 'd', 'f' or 'l'), by lstat: symlinks are
// never followed.
std::map<std::string, char> walk(const std::string& root, const std::string& rel = "") {
  std::map<std::string, char> out;
  for (const auto& name : list_dir(rel.empty() ? root : root + "/" + rel)) {
    std::string r = rel.empty() ? name : rel + "/" + name;
    struct stat st {};
    if (::lstat((root + "/" + r).c_str(), &st) != 0) throw std::runtime_error("lstat " + r + ": " + std::strerror(errno));
    out[r] = type_of(st.st_mode);
    if (S_ISDIR(st.st_mode)) {
      auto sub = walk(root, r);
      out.insert(sub.begin(), sub.end());
    }
  }
  return out;
}

// Everything about the tree below `root` that a write could change: type, mode,
// owner, size, mtime, content, link target.
std::map<std::string, std::string> snapshot(const std::string& root) {
  std::map<std::string, std::string> out;
  for (const auto& [rel, type] : walk(root)) {
    std::string p = root + "/" + rel;
    struct stat st {};
    ::lstat(p.c_str(), &st);
    std::ostringstream d;
    d << type << " mode=" << std::oct << st.st_mode << std::dec << " uid=" << st.st_uid << " gid=" << st.st_gid
      << " size=" << st.st_size << " mtime=" << st.st_mtim.tv_sec << "." << st.st_mtim.tv_nsec;
    if (type == 'f') d << " content=" << read_file(p);
    if (type == 'l') {
      char buf[PATH_MAX];
      ssize_t n = ::readlink(p.c_str(), buf, sizeof buf);
      d << " target=" << std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
    }
    out[rel] = d.str();
  }
  return out;
}

std::string readlink_str(const std::string& path) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  if (n < 0) return "<readlink failed: " + std::string(std::strerror(errno)) + ">";
  return std::string(buf, static_cast<size_t>(n));
}

size_t count_lines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

void set_mtime(const std::string& path, time_t sec) {
  struct timespec ts[2] = {{sec, 0}, {sec, 0}};
  if (::utimensat(AT_FDCWD, path.c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    throw std::runtime_error("utimensat " + path + ": " + std::strerror(errno));
  }
}

std::string canonical(const std::string& p) {
  char buf[PATH_MAX];
  return ::realpath(p.c_str(), buf) != nullptr ? std::string(buf) : p;
}

std::string config_for(const std::string& mount_point, const std::vector<std::pair<std::string, std::string>>& origins) {
  std::ostringstream c;
  // The cache beside the mount point, inside the test's directory: the default is a
  // system directory for root (/var/cache/musicfs), shared by every test.
  c << "mount_point = \"" << mount_point << "\"\ncache_dir = \"" << mount_point << "-cache\"\n";
  int prio = 1;
  for (const auto& [id, path] : origins) {
    c << "\n[[origins]]\nid = \"" << id << "\"\norigin_type = \"local\"\npriority = " << prio++ << "\npath = \"" << path
      << "\"\n";
  }
  return c.str();
}

// A raw client of the control socket, for sending what musicfsctl never would.
class RawClient {
 public:
  explicit RawClient(const std::string& path) : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    struct sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      throw std::runtime_error("connect " + path + ": " + std::strerror(errno));
    }
  }
  ~RawClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  // Sends all of `data` unless the peer closes first; returns whether all was sent.
  bool send_all(const std::string& data, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t done = 0;
    while (done < data.size()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      struct pollfd p = {fd_, POLLOUT, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) return false;
      done += static_cast<size_t>(n);
    }
    return true;
  }

  // The next line (without '\n'); nullopt when the peer closed (or reset) the
  // connection first. Throws on timeout: a daemon that never answers is a failure.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (auto nl = buf_.find('\n'); nl != std::string::npos) {
        std::string line = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) throw std::runtime_error("no reply from the daemon in time");
      struct pollfd p = {fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char chunk[65536];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      buf_.append(chunk, static_cast<size_t>(n));
    }
  }

 private:
  int fd_;
  std::string buf_;
};

// Checks a reply line is {"ok":false,"error":{"code":"<non-empty>","message":"..."}}.
void check_error_reply(const std::string& line, const std::string& expected_code = "") {
  INFO("reply: " << line);
  auto j = nlohmann::json::parse(line, nullptr, false);
  REQUIRE(j.is_object());
  REQUIRE(j.contains("ok"));
  CHECK(j["ok"] == false);
  REQUIRE(j.contains("error"));
  REQUIRE(j["error"].is_object());
  REQUIRE(j["error"]["code"].is_string());
  CHECK_FALSE(j["error"]["code"].get<std::string>().empty());
  CHECK(j["error"]["message"].is_string());
  if (!expected_code.empty()) CHECK(j["error"]["code"] == expected_code);
}

// Two origins with overlapping Artist/Album trees; "a" has priority 1, "b" priority 2.
// Listed "b" first so that priority, not config order, decides.
struct TwoOrigins {
  Fixture f{{{"b", 2}, {"a", 1}}};
  std::string a = f.origin_dir("a");
  std::string b = f.origin_dir("b");
  TwoOrigins() {
    write_file(a + "/Artist/Album/01 First.flac", "a:first");
    write_file(a + "/Artist/Album/02 Shared.flac", "bytes of the shared track from origin a (priority 1)");
    write_file(a + "/OnlyA/Record/track.flac", "a:only");
    write_file(b + "/Artist/Album/02 Shared.flac", "b's copy: different and shorter");
    write_file(b + "/Artist/Album/03 Third.flac", "b:third");
    write_file(b + "/OnlyB/Record/track.flac", "b:only");
    set_mtime(a + "/Artist/Album/02 Shared.flac", 1500000000);
    set_mtime(b + "/Artist/Album/02 Shared.flac", 1000000000);
  }
};

}  // namespace

TEST_CASE("the mount lists the union of the origins and a duplicate shows once", "[skeleton]") {
  TwoOrigins t;
  t.f.mount();
  CHECK(list_dir(t.f.mount_point()) == std::vector<std::string>{"Artist", "OnlyA", "OnlyB"});
  CHECK(list_dir(t.f.in_mount("Artist")) == std::vector<std::string>{"Album"});
  CHECK(list_dir(t.f.in_mount("Artist/Album")) ==
        std::vector<std::string>{"01 First.flac", "02 Shared.flac", "03 Third.flac"});
  CHECK(read_file(t.f.in_mount("OnlyA/Record/track.flac")) == "a:only");
  CHECK(read_file(t.f.in_mount("OnlyB/Record/track.flac")) == "b:only");
  CHECK(read_file(t.f.in_mount("Artist/Album/03 Third.flac")) == "b:third");
}

TEST_CASE("the mount line counts the distinct files of the tree and not their copies", "[skeleton]") {
  TwoOrigins t;  // 3 + 3 files on the origins; "02 Shared.flac" is on both: 5 in the tree
  auto r = t.f.try_mount();
  INFO("stdout: " << r.out << "stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  if (r.out.find("indexed so far") == std::string::npos) {
    CHECK(r.out.find(": 2 origin(s), 5 files\n") != std::string::npos);
  }
  // --json: the tree's distinct count beside each origin's own count of copies.
  auto j = t.f.daemon().ctl_json({"mount", "--config", t.f.config_path(), t.f.mount_point()});
  CHECK(j["files"] == 5);
  uint64_t copies = 0;
  for (const auto& o : j["origins"]) copies += o["files"].get<uint64_t>();
  CHECK(copies == 6);
}

TEST_CASE("a duplicate is served with its attributes from the priority-1 origin", "[skeleton]") {
  TwoOrigins t;
  t.f.mount();
  const std::string rel = "Artist/Album/02 Shared.flac";
  const std::string a_bytes = read_file(t.a + "/" + rel);
  REQUIRE(a_bytes != read_file(t.b + "/" + rel));

  CHECK(read_file(t.f.in_mount(rel)) == a_bytes);
  struct stat st {};
  REQUIRE(::stat(t.f.in_mount(rel).c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_size == static_cast<off_t>(a_bytes.size()));
  CHECK(st.st_mtim.tv_sec == 1500000000);
  CHECK(t.f.served_by(rel) == "a");
  CHECK(t.f.served_by("Artist/Album/03 Third.flac") == "b");
  CHECK(t.f.served_by("Artist/Album/01 First.flac") == "a");
}

TEST_CASE("every write through the mount fails with EROFS and changes no origin", "[skeleton]") {
  TwoOrigins t;
  mkdirs(t.a + "/Empty");
  ::symlink("01 First.flac", (t.a + "/Artist/Album/link.flac").c_str());
  t.f.mount();
  const auto before_a = snapshot(t.a);
  const auto before_b = snapshot(t.b);
  REQUIRE(before_a.size() > 3);

  const std::string file = t.f.in_mount("Artist/Album/02 Shared.flac");
  const std::string file_b = t.f.in_mount("Artist/Album/03 Third.flac");
  const std::string dir = t.f.in_mount("Artist/Album");
  const std::string empty = t.f.in_mount("Empty");
  const std::string link = t.f.in_mount("Artist/Album/link.flac");

  auto expect_erofs = [](const std::string& what, const std::function<int()>& op) {
    errno = 0;
    int rc = op();
    int err = errno;
    INFO(what << ": rc=" << rc << " errno=" << err << " (" << std::strerror(err) << ")");
    CHECK(rc == -1);
    CHECK(err == EROFS);
    if (rc >= 0 && what.rfind("open", 0) == 0) ::close(rc);
  };
  expect_erofs("open O_CREAT new file", [&] { return ::open(t.f.in_mount("new.flac").c_str(), O_CREAT | O_WRONLY | O_EXCL, 0644); });
  expect_erofs("open O_CREAT in a dir", [&] { return ::open(t.f.in_mount("Artist/Album/new.flac").c_str(), O_CREAT | O_WRONLY, 0644); });
  expect_erofs("open O_WRONLY existing", [&] { return ::open(file.c_str(), O_WRONLY); });
  expect_erofs("open O_RDWR existing", [&] { return ::open(file.c_str(), O_RDWR); });
  expect_erofs("open O_WRONLY|O_APPEND existing", [&] { return ::open(file_b.c_str(), O_WRONLY | O_APPEND); });
  expect_erofs("open O_WRONLY|O_TRUNC existing", [&] { return ::open(file.c_str(), O_WRONLY | O_TRUNC); });
  expect_erofs("truncate", [&] { return ::truncate(file.c_str(), 0); });
  expect_erofs("truncate longer", [&] { return ::truncate(file_b.c_str(), 1 << 20); });
  expect_erofs("mkdir", [&] { return ::mkdir(t.f.in_mount("NewDir").c_str(), 0755); });
  expect_erofs("mkdir nested", [&] { return ::mkdir(t.f.in_mount("Artist/NewAlbum").c_str(), 0755); });
  expect_erofs("mknod fifo", [&] { return ::mknod(t.f.in_mount("fifo").c_str(), S_IFIFO | 0644, 0); });
  expect_erofs("unlink", [&] { return ::unlink(file.c_str()); });
  expect_erofs("unlink symlink", [&] { return ::unlink(link.c_str()); });
  expect_erofs("rmdir empty dir", [&] { return ::rmdir(empty.c_str()); });
  expect_erofs("rmdir non-empty dir", [&] { return ::rmdir(dir.c_str()); });
  expect_erofs("rename file", [&] { return ::rename(file.c_str(), t.f.in_mount("Artist/Album/renamed.flac").c_str()); });
  expect_erofs("rename over existing", [&] { return ::rename(file.c_str(), file_b.c_str()); });
  expect_erofs("rename dir", [&] { return ::rename(dir.c_str(), t.f.in_mount("Artist/Renamed").c_str()); });
  expect_erofs("chmod", [&] { return ::chmod(file.c_str(), 0777); });
  expect_erofs("chmod dir", [&] { return ::chmod(dir.c_str(), 0700); });
  expect_erofs("chown", [&] { return ::chown(file.c_str(), 1234, 1234); });
  expect_erofs("lchown symlink", [&] { return ::lchown(link.c_str(), 1234, 1234); });
  expect_erofs("symlink", [&] { return ::symlink("01 First.flac", t.f.in_mount("Artist/Album/newlink").c_str()); });
  expect_erofs("link", [&] { return ::link(file.c_str(), t.f.in_mount("Artist/Album/hardlink.flac").c_str()); });
  expect_erofs("setxattr", [&] { return ::setxattr(file.c_str(), "user.test", "v", 1, 0); });
  expect_erofs("setxattr user.musicfs.origin", [&] { return ::setxattr(file.c_str(), "user.musicfs.origin", "b", 1, 0); });
  expect_erofs("removexattr", [&] { return ::removexattr(file.c_str(), "user.musicfs.origin"); });
  expect_erofs("utimes", [&] {
    struct timeval tv[2] = {{1, 0}, {1, 0}};
    return ::utimes(file.c_str(), tv);
  });
  expect_erofs("utimensat now", [&] { return ::utimensat(AT_FDCWD, file.c_str(), nullptr, 0); });
  expect_erofs("utimensat dir", [&] { return ::utimensat(AT_FDCWD, dir.c_str(), nullptr, 0); });

  // Nothing appeared in the mount, nothing changed at the origins.
  CHECK_FALSE(path_exists(t.f.in_mount("new.flac")));
  CHECK_FALSE(path_exists(t.f.in_mount("NewDir")));
  CHECK(read_file(file) == read_file(t.a + "/Artist/Album/02 Shared.flac"));
  CHECK(snapshot(t.a) == before_a);
  CHECK(snapshot(t.b) == before_b);
}

TEST_CASE("symlinks pointing out of an origin stay symlinks and the mount shows exactly the origins' files",
          "[skeleton]") {
  Fixture f({{"a", 1}, {"b", 2}});
  const std::string a = f.origin_dir("a"), b = f.origin_dir("b");
  const std::string secret = "SECRET bytes that live outside every origin";
  const std::string outside = f.dir() / "outside.txt";
  write_file(outside, secret);
  write_file(f.dir() / "outside_dir/inner.flac", secret);
  write_file(a + "/Artist/Album/01.flac", "a:01");
  write_file(b + "/Artist/Album/02.flac", "b:02");
  write_file(b + "/Artist/Album/01.flac", "b:01 (hidden by a)");
  REQUIRE(::symlink(outside.c_str(), (a + "/Artist/Album/abs.flac").c_str()) == 0);
  REQUIRE(::symlink("../../../../outside.txt", (a + "/Artist/Album/rel.flac").c_str()) == 0);
  REQUIRE(::symlink((f.dir() / "outside_dir").c_str(), (b + "/Escape").c_str()) == 0);
  f.mount();

  for (const auto& [rel, target] : std::vector<std::pair<std::string, std::string>>{
           {"Artist/Album/abs.flac", outside},
           {"Artist/Album/rel.flac", "../../../../outside.txt"},
           {"Escape", f.dir() / "outside_dir"}}) {
    INFO(rel);
    struct stat st {};
    REQUIRE(::lstat(f.in_mount(rel).c_str(), &st) == 0);
    CHECK(S_ISLNK(st.st_mode));
    CHECK(st.st_size == static_cast<off_t>(target.size()));
    CHECK(readlink_str(f.in_mount(rel)) == target);
    // Opened without following, it is a symlink, not a file with the outside's bytes.
    errno = 0;
    int fd = ::open(f.in_mount(rel).c_str(), O_RDONLY | O_NOFOLLOW);
    CHECK(fd == -1);
    CHECK(errno == ELOOP);
    if (fd >= 0) ::close(fd);
  }

  // The walk of the mount (never following symlinks) is exactly the union of the
  // origins, and every regular file holds its serving origin's bytes.
  auto expected = walk(a);
  for (const auto& [rel, type] : walk(b)) expected.emplace(rel, type);
  const auto seen = walk(f.mount_point());
  CHECK(seen == expected);
  for (const auto& [rel, type] : seen) {
    if (type != 'f') continue;
    INFO(rel);
    std::string content = read_file(f.in_mount(rel));
    CHECK(content.find("SECRET") == std::string::npos);
    std::string origin = path_exists(a + "/" + rel) ? a : b;
    CHECK(content == read_file(origin + "/" + rel));
  }
}

TEST_CASE("getattr and readlink and statfs on the mount", "[skeleton]") {
  Fixture f({{"a", 1}});
  const std::string a = f.origin_dir("a");
  const std::string content = "0123456789abcdef";
  write_file(a + "/Artist/Album/01.flac", content);
  ::chmod((a + "/Artist/Album/01.flac").c_str(), 0644);
  set_mtime(a + "/Artist/Album/01.flac", 1234567890);
  REQUIRE(::symlink("01.flac", (a + "/Artist/Album/latest.flac").c_str()) == 0);
  f.mount();

  struct stat st {};
  REQUIRE(::stat(f.mount_point().c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  REQUIRE(::stat(f.in_mount("Artist/Album").c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 0222) == 0);

  REQUIRE(::stat(f.in_mount("Artist/Album/01.flac").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(st.st_size == static_cast<off_t>(content.size()));
  CHECK(st.st_mtim.tv_sec == 1234567890);
  CHECK((st.st_mode & 0777) == 0444);  // the origin's 0644 without write bits

  REQUIRE(::lstat(f.in_mount("Artist/Album/latest.flac").c_str(), &st) == 0);
  CHECK(S_ISLNK(st.st_mode));
  CHECK(st.st_size == 7);
  CHECK(readlink_str(f.in_mount("Artist/Album/latest.flac")) == "01.flac");
  // The kernel follows the link inside the mount.
  REQUIRE(::stat(f.in_mount("Artist/Album/latest.flac").c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
  CHECK(read_file(f.in_mount("Artist/Album/latest.flac")) == content);

  char buf[64];
  errno = 0;
  CHECK(::readlink(f.in_mount("Artist/Album/01.flac").c_str(), buf, sizeof buf) == -1);
  CHECK(errno == EINVAL);
  errno = 0;
  CHECK(::lstat(f.in_mount("Artist/Album/missing.flac").c_str(), &st) == -1);
  CHECK(errno == ENOENT);

  struct statvfs sv {};
  REQUIRE(::statvfs(f.mount_point().c_str(), &sv) == 0);
  CHECK((sv.f_flag & ST_RDONLY) != 0);
  CHECK(sv.f_namemax >= 255);
  struct statfs sf {};
  REQUIRE(::statfs(f.in_mount("Artist").c_str(), &sf) == 0);
  CHECK(sf.f_type == 0x65735546);  // FUSE_SUPER_MAGIC
}

TEST_CASE("status --json describes the daemon and the mount and its origins", "[skeleton]") {
  Fixture f({{"a", 1}, {"b", 2}});
  write_file(f.origin_dir("a") + "/Artist/Album/01.flac", "1");
  write_file(f.origin_dir("a") + "/Artist/Album/02.flac", "2");
  write_file(f.origin_dir("b") + "/Other/Album/01.flac", "3");
  f.mount();

  auto r = f.daemon().ctl({"status", "--json"});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  auto s = nlohmann::json::parse(r.out);
  CHECK(s["pid"] == f.daemon().pid());
  REQUIRE(s["uptime_secs"].is_number_integer());
  CHECK(s["uptime_secs"].get<int64_t>() >= 0);
  REQUIRE(s["mounts"].is_array());
  REQUIRE(s["mounts"].size() == 1);
  const auto& m = s["mounts"][0];
  CHECK(m["mount_point"] == canonical(f.mount_point()));
  REQUIRE(m["origins"].is_array());
  REQUIRE(m["origins"].size() == 2);
  std::map<std::string, nlohmann::json> by_id;
  for (const auto& o : m["origins"]) {
    INFO(o.dump());
    REQUIRE(o["id"].is_string());
    CHECK(o["type"] == "local");
    CHECK(o["priority"].is_number_integer());
    REQUIRE(o["status"].is_string());
    CHECK(std::set<std::string>{"unknown", "healthy", "degraded", "unhealthy"}.count(o["status"].get<std::string>()) == 1);
    CHECK(o["files"].is_number_integer());
    by_id[o["id"].get<std::string>()] = o;
  }
  REQUIRE(by_id.count("a") == 1);
  REQUIRE(by_id.count("b") == 1);
  CHECK(by_id["a"]["priority"] == 1);
  CHECK(by_id["b"]["priority"] == 2);
  CHECK(by_id["a"]["files"] == 2);
  CHECK(by_id["b"]["files"] == 1);
  // The global flag form gives the same document shape.
  CHECK(f.status()["pid"] == f.daemon().pid());
}

TEST_CASE("unmount removes the mount and unmounting what is not mounted fails with one line", "[skeleton]") {
  Fixture f({{"a", 1}});
  write_file(f.origin_dir("a") + "/Artist/Album/01.flac", "1");
  f.mount();
  REQUIRE(is_mounted(f.mount_point()));

  auto r = f.daemon().ctl({"unmount", f.mount_point()});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(is_mounted(f.mount_point()));
  CHECK(f.status()["mounts"].empty());
  CHECK(list_dir(f.mount_point()).empty());  // the bare directory again

  for (const std::string& p : {f.mount_point(), f.dir() / "no-such-dir"}) {
    auto again = f.daemon().ctl({"unmount", p});
    INFO(p << ": stderr: " << again.err);
    CHECK(again.exit_code == 1);
    CHECK(count_lines(again.err) == 1);
    CHECK((!again.err.empty() && again.err.back() == '\n'));
    CHECK(again.out.empty());
  }
  CHECK(f.daemon().running());
}

TEST_CASE("an external fusermount3 -u is noticed: the mount leaves status and an unmount event is logged",
          "[skeleton]") {
  Fixture f({{"a", 1}});
  write_file(f.origin_dir("a") + "/Artist/Album/01.flac", "1");
  f.mount();
  const std::string mp = canonical(f.mount_point());

  auto r = run_program({"fusermount3", "-u", f.mount_point()}, 10s);
  INFO("fusermount3: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_FALSE(is_mounted(f.mount_point()));
  CHECK(wait_until([&] { return f.status()["mounts"].empty(); }, 10s));
  bool found = false;
  for (const auto& e : f.events("unmount")) {
    if (e["mount"] == mp) found = true;
  }
  INFO("daemon log:\n" << f.daemon().log());
  CHECK(found);
  CHECK(f.daemon().running());
  // The daemon can mount the same point again.
  f.mount();
  CHECK(read_file(f.in_mount("Artist/Album/01.flac")) == "1");
}

TEST_CASE("a stale socket left by a daemon killed with SIGKILL does not block a new daemon", "[skeleton]") {
  TempDir dir;
  Daemon d(dir);
  const int old_pid = d.pid();
  d.kill9();
  CHECK(path_exists(d.socket()));  // left behind
  auto r = d.ctl({"status"}, 10s);
  CHECK(r.exit_code == 3);

  d.restart();
  CHECK(d.running());
  auto s = d.ctl_json({"status"});
  CHECK(s["pid"] == d.pid());
  CHECK(s["pid"] != old_pid);
}

TEST_CASE("a second daemon on the same socket is refused", "[skeleton]") {
  TempDir dir;
  Daemon d(dir);
  auto r = run_program({MUSICFSCTL_PATH, "--socket", d.socket(), "daemon", "--state-dir", dir / "state2"}, 20s);
  INFO("second daemon: exit " << r.exit_code << "\nstderr: " << r.err << "\nstdout: " << r.out);
  CHECK(r.exit_code != 0);
  CHECK((r.err + r.out).find("already running") != std::string::npos);
  CHECK(r.err.find("[killed after timeout]") == std::string::npos);
  // The first one still owns the socket.
  CHECK(d.running());
  CHECK(d.ctl_json({"status"})["pid"] == d.pid());
}

TEST_CASE("SIGTERM stops the daemon with exit status 0 and unmounts", "[skeleton]") {
  Fixture f({{"a", 1}});
  write_file(f.origin_dir("a") + "/Artist/Album/01.flac", "1");
  f.mount();
  REQUIRE(is_mounted(f.mount_point()));

  REQUIRE(::kill(f.daemon().pid(), SIGTERM) == 0);
  auto status = f.daemon().wait_exit(20s);
  INFO("daemon log:\n" << f.daemon().log());
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 0);
  CHECK_FALSE(is_mounted(f.mount_point()));
  CHECK_FALSE(path_exists(f.daemon().socket()));
  CHECK(f.daemon().ctl({"status"}, 10s).exit_code == 3);
}

TEST_CASE("mount with a nonexistent mount_point exits 2 naming the file and the key", "[skeleton]") {
  Fixture f({{"a", 1}});
  f.write_config(config_for(f.dir() / "does-not-exist", {{"a", f.origin_dir("a")}}));
  auto r = f.try_mount();
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(f.config_path()) != std::string::npos);
  CHECK(r.err.find("mount_point") != std::string::npos);
  CHECK(count_lines(r.err) == 1);
  CHECK(f.status()["mounts"].empty());
}

TEST_CASE("mount with malformed TOML exits 2 naming file:line", "[skeleton]") {
  Fixture f({{"a", 1}});
  f.write_config("mount_point = \"" + f.mount_point() + "\"\n\n[[origins]\nid = \"a\"\n");
  auto r = f.try_mount();
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(f.config_path() + ":3") != std::string::npos);
  CHECK(count_lines(r.err) == 1);
  CHECK(f.status()["mounts"].empty());
  CHECK_FALSE(is_mounted(f.mount_point()));
}

TEST_CASE("mount on a busy mount point is refused", "[skeleton]") {
  Fixture f({{"a", 1}});
  write_file(f.origin_dir("a") + "/Artist/Album/01.flac", "1");
  f.mount();

  SECTION("already a musicfs mount of this daemon (from another config)") {
    const std::string other = f.dir() / "other.toml";
    write_file(other, f.default_config());
    auto r = f.daemon().ctl({"mount", "--config", other});
    INFO("stderr: " << r.err);
    CHECK(r.exit_code != 0);
    CHECK((r.err.find("busy") != std::string::npos || r.err.find("already mounted") != std::string::npos));
    CHECK(f.status()["mounts"].size() == 1);
    CHECK(f.status()["mounts"][0]["config"] == f.config_path());
    CHECK(read_file(f.in_mount("Artist/Album/01.flac")) == "1");
  }
  SECTION("the same config again is not a second mount") {
    // Mounting the same config again is a retry: it succeeds without stacking a mount.
    auto r = f.try_mount();
    INFO("stderr: " << r.err);
    CHECK(r.exit_code == 0);
    CHECK(f.status()["mounts"].size() == 1);
    int fuse_mounts = 0;
    std::ifstream in("/proc/self/mounts");
    std::string dev, mp, rest;
    while (in >> dev >> mp && std::getline(in, rest)) {
      if (mp == f.mount_point()) ++fuse_mounts;
    }
    CHECK(fuse_mounts == 1);
    CHECK(read_file(f.in_mount("Artist/Album/01.flac")) == "1");
  }
  SECTION("a tmpfs is mounted there") {
    const std::string busy = f.dir() / "busy";
    TmpfsMount tmpfs(busy);
    write_file(busy + "/marker", "tmpfs");
    auto r = f.daemon().ctl({"mount", "--config", f.config_path(), busy});
    INFO("stderr: " << r.err);
    CHECK(r.exit_code != 0);
    CHECK((r.err.find("busy") != std::string::npos || r.err.find("already mounted") != std::string::npos));
    CHECK(read_file(busy + "/marker") == "tmpfs");  // not covered by a FUSE mount
    CHECK(f.status()["mounts"].size() == 1);
  }
}

TEST_CASE("mount with an enabled s3 origin whose credentials file is missing fails naming the origin and the file",
          "[skeleton]") {
  Fixture f({{"a", 1}});
  write_file(f.origin_dir("a") + "/Artist/Album/01.flac", "1");
  const std::string base = config_for(f.mount_point(), {{"a", f.origin_dir("a")}});
  const std::string s3 = "\n[[origins]]\nid = \"cloud\"\norigin_type = \"s3\"\npriority = 2\nbucket = \"b\"\n"
                         "credentials_file = \"" + f.dir().path() + "/no-such-credentials\"\n";

  f.write_config(base + s3);
  auto r = f.try_mount();
  INFO("stderr: " << r.err);
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("origin cloud") != std::string::npos);
  CHECK(r.err.find("credentials file " + f.dir().path() + "/no-such-credentials") != std::string::npos);
  CHECK(count_lines(r.err) == 1);
  CHECK_FALSE(is_mounted(f.mount_point()));
  CHECK(f.status()["mounts"].empty());

  // Disabled, it does not stop the mount.
  f.write_config(base + s3 + "enabled = false\n");
  f.mount();
  CHECK(read_file(f.in_mount("Artist/Album/01.flac")) == "1");
}

TEST_CASE("mount with no daemon running starts one detached and daemon stop stops it", "[skeleton]") {
  require_fuse();
  TempDir dir;
  const std::string sock = dir / "run/musicfsd.sock";
  const std::string state = dir / "state";
  const std::string mnt = dir / "mnt";
  const std::string config = dir / "musicfs.toml";
  mkdirs(mnt);
  write_file(dir / "origins/a/Artist/Album/01.flac", "autostart");
  write_file(config, config_for(mnt, {{"a", dir / "origins/a"}}));

  // Whatever happens, stop the detached daemon (it is not our child).
  struct Guard {
    std::string sock;
    int pid = -1;
    ~Guard() {
      if (run_ctl({"--socket", sock, "status"}, 5s).exit_code == 0) run_ctl({"--socket", sock, "daemon", "stop"}, 5s);
      if (pid > 0 && !wait_until([&] { return !process_alive(pid); }, 10s)) ::kill(pid, SIGKILL);
    }
  } guard{sock};

  REQUIRE(run_ctl({"--socket", sock, "status"}).exit_code == 3);
  auto r = run_ctl({"--socket", sock, "mount", "--config", config}, 60s, {{"MUSICFS_STATE_DIR", state}});
  INFO("mount: exit " << r.exit_code << "\nstderr: " << r.err << "\nstdout: " << r.out);
  REQUIRE(r.exit_code == 0);
  // The mount answers as soon as `mount` returns.
  CHECK(list_dir(mnt + "/Artist/Album") == std::vector<std::string>{"01.flac"});
  CHECK(read_file(mnt + "/Artist/Album/01.flac") == "autostart");
  CHECK(is_mounted(mnt));

  auto st = run_ctl({"--socket", sock, "--json", "status"});
  REQUIRE(st.exit_code == 0);
  auto s = nlohmann::json::parse(st.out);
  guard.pid = s["pid"].get<int>();
  CHECK(process_alive(guard.pid));
  CHECK(s["state_dir"] == state);
  CHECK(s["mounts"].size() == 1);
  CHECK(path_exists(state + "/musicfsd.log"));

  // Its exit status is checked in "daemon stop answers ..." below (a known race).
  auto stop = run_ctl({"--socket", sock, "daemon", "stop"});
  INFO("daemon stop: exit " << stop.exit_code << ": " << stop.err);
  CHECK(wait_until([&] { return run_ctl({"--socket", sock, "status"}, 5s).exit_code == 3; }, 20s));
  CHECK(wait_until([&] { return !is_mounted(mnt); }, 10s));
  CHECK(wait_until([&] { return !process_alive(guard.pid); }, 20s));
}

// BUG: start_daemon_detached (cmd/client.cpp:123-130) passes the socket path on as
// given and then chdir("/")s, so with a relative --socket the detached daemon tries
// to listen on /<path> (here: refuses "/" as socket directory) while the client keeps
// using <cwd>/<path>; `mount` fails with "cannot start the daemon".
TEST_CASE("mount with a relative --socket and no daemon starts one on that socket", "[skeleton]") {
  require_fuse();
  TempDir dir;
  const std::string mnt = dir / "mnt";
  mkdirs(mnt);
  write_file(dir / "origins/a/Artist/Album/01.flac", "relative");
  write_file(dir / "musicfs.toml", config_for(mnt, {{"a", dir / "origins/a"}}));
  const std::string sock = dir / "rel.sock";
  struct Guard {
    std::string sock;
    ~Guard() {
      auto s = run_ctl({"--socket", sock, "--json", "status"}, 5s);
      if (s.exit_code != 0) return;
      int pid = nlohmann::json::parse(s.out)["pid"].get<int>();
      run_ctl({"--socket", sock, "daemon", "stop"}, 5s);
      if (!wait_until([&] { return !process_alive(pid); }, 10s)) ::kill(pid, SIGKILL);
    }
  } guard{sock};

  auto r = run_program({"/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", dir.path(), MUSICFSCTL_PATH, "--socket", "rel.sock",
                        "mount", "--config", "musicfs.toml"},
                       60s, {{"MUSICFS_STATE_DIR", dir / "state"}});
  INFO("mount: exit " << r.exit_code << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK(path_exists(sock));
  CHECK(run_ctl({"--socket", sock, "status"}, 10s).exit_code == 0);
  if (r.exit_code == 0) CHECK(read_file(mnt + "/Artist/Album/01.flac") == "relative");
}

// BUG: daemon/handlers/shutdown.cpp calls request_stop() before its reply is written;
// the main loop then runs ControlServer::stop(), which shuts down every client socket
// (daemon/control_server.cpp, stop()), so the reply is often lost and `daemon stop`
// prints "closed the connection without a reply" and exits 3 although the daemon stops.
TEST_CASE("daemon stop gets its reply and exits 0 and the daemon exits 0", "[skeleton]") {
  TempDir dir;
  Daemon d(dir);
  int failures = 0;
  for (int i = 0; i < 15; ++i) {
    if (i > 0) d.restart();
    const int pid = d.pid();
    auto r = d.ctl({"daemon", "stop"}, 10s);
    INFO("round " << i << ": exit " << r.exit_code << "\nstdout: " << r.out << "\nstderr: " << r.err);
    if (r.exit_code != 0) ++failures;
    CHECK(r.exit_code == 0);
    CHECK(r.out.find(std::to_string(pid)) != std::string::npos);
    auto status = d.wait_exit(20s);
    REQUIRE(status.has_value());
    CHECK(WIFEXITED(*status));
    CHECK(WEXITSTATUS(*status) == 0);
  }
  CHECK(failures == 0);
}

TEST_CASE("the daemon answers malformed or wrong-version or unknown or oversized requests with errors", "[skeleton]") {
  TempDir dir;
  Daemon d(dir);
  {
    RawClient c(d.socket());
    REQUIRE(c.send_all("this is not json\n"));
    auto line = c.read_line();
    REQUIRE(line);
    check_error_reply(*line, "protocol");

    REQUIRE(c.send_all("[1,2,3]\n"));
    line = c.read_line();
    REQUIRE(line);
    check_error_reply(*line, "protocol");

    REQUIRE(c.send_all(R"({"v":2,"cmd":"status","args":{}})" "\n"));
    line = c.read_line();
    REQUIRE(line);
    check_error_reply(*line, "protocol");

    REQUIRE(c.send_all(R"({"cmd":"status"})" "\n"));
    line = c.read_line();
    REQUIRE(line);
    check_error_reply(*line, "protocol");

    REQUIRE(c.send_all(R"({"v":1,"cmd":"no-such-command","args":{}})" "\n"));
    line = c.read_line();
    REQUIRE(line);
    check_error_reply(*line);

    REQUIRE(c.send_all(R"({"v":1,"cmd":"status","args":"not an object"})" "\n"));
    line = c.read_line();
    REQUIRE(line);
    check_error_reply(*line);

    // The same connection still serves a good request.
    REQUIRE(c.send_all(R"({"v":1,"cmd":"ping","args":{}})" "\n"));
    line = c.read_line();
    REQUIRE(line);
    auto j = nlohmann::json::parse(*line, nullptr, false);
    CHECK(j["ok"] == true);
  }
  for (bool with_newline : {false, true}) {
    INFO("oversized line, terminated: " << with_newline);
    RawClient c(d.socket());
    std::string big = R"({"v":1,"cmd":"status","args":{"pad":")" + std::string((1 << 20) + 4096, 'x') + "\"}}";
    if (with_newline) big += "\n";
    c.send_all(big, 20s);  // the daemon may hang up before it has read it all
    std::optional<std::string> line;
    try {
      line = c.read_line(20s);
    } catch (const std::exception& e) {
      FAIL(e.what());
    }
    if (line) {
      check_error_reply(*line, "protocol");
      // After an oversized line the connection is closed.
      if (!with_newline) CHECK_FALSE(c.read_line(10s).has_value());
    }
  }
  CHECK(d.running());
  auto s = d.ctl_json({"status"});
  CHECK(s["pid"] == d.pid());
}

TEST_CASE("the control socket is 0600 and its directory 0700", "[skeleton]") {
  TempDir dir;
  Daemon d(dir);
  struct stat st {};
  REQUIRE(::stat(d.socket().c_str(), &st) == 0);
  CHECK(S_ISSOCK(st.st_mode));
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == ::getuid());
  const std::string parent = d.socket().substr(0, d.socket().rfind('/'));
  REQUIRE(::stat(parent.c_str(), &st) == 0);
  CHECK(S_ISDIR(st.st_mode));
  CHECK((st.st_mode & 07777) == 0700);
}
