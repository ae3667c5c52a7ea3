// compare_helper: the small programs that bench/compare needs and that no standard tool
// does well. bench/compare builds it with `g++ -O2 -std=c++20` into build/bench-compare/.
//
//   compare_helper gen A B SMALL FLAT BIG BIG_MB DUP_EVERY
//       Writes the dataset: A/Library/Artist NNNN/Album NN/NN Track NN.flac (SMALL files
//       of 4 KiB to 100 KiB of pseudo-random bytes, 10 albums of 10 tracks per artist),
//       A/Flat/track-NNNNN.flac (FLAT files of 256 bytes, all in one folder) and
//       A/Big/big-N.bin (BIG files of BIG_MB MiB). Every DUP_EVERY-th album is also
//       written to B/Library with the same bytes and the same mtime, so B holds a strict
//       subset of A as duplicates: the union of A and B is exactly A's tree. Also writes
//       A/../stat-list.txt (every 20th library file, relative to the root) and
//       A/../deep-file.txt (the last library file). Deterministic: the same arguments
//       always give the same bytes.
//
//   compare_helper stat ROOT LIST SECONDS
//       stat(2)s ROOT/<each line of LIST> once (the warm-up; every stat must succeed),
//       then again and again for SECONDS seconds, timing each call. Prints
//       "ops=N mean_us=X p50_us=X p99_us=X max_us=X".
//
//   compare_helper many ROOT COUNT DIR_SIZE
//       Creates COUNT empty files ROOT/dNNNNN/track-NNNNNNN.flac, DIR_SIZE per folder
//       (bench/index_memory: a large index without a large disk).
//
//   compare_helper tagscan DIR
//       What a music server's tag scanner does to each file: walks DIR (readdir, with
//       d_type, as find does), and for every regular file opens it, reads its first 64 KiB
//       (ID3v2, FLAC and Vorbis headers) and, after an fstat(2), its last 128 KiB (ID3v1,
//       APE tags), then closes it. Prints "files=N bytes=B seconds=X files_per_s=R".
//
//   compare_helper mount PATH TIMEOUT_S -- CMD [ARG...]
//       Runs CMD (stdout and stderr go to /dev/null) and waits for it, then stat(2)s PATH
//       every 0.2 ms until it succeeds. Prints "cmd_ms=X ready_ms=X", both from the moment
//       CMD was started. Fails when CMD fails or PATH does not appear within TIMEOUT_S.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "compare_helper: %s\n", what.c_str());
  std::exit(1);
}

[[noreturn]] void fail_errno(const std::string& what) { fail(what + ": " + std::strerror(errno)); }

// xorshift64*: fast, deterministic, good enough for incompressible test data.
struct Rng {
  std::uint64_t s;
  explicit Rng(std::uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ULL + 1) {}
  std::uint64_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return s * 0x2545F4914F6CDD1DULL;
  }
  void fill(std::vector<char>& buf, std::size_t n) {
    for (std::size_t i = 0; i + 8 <= n; i += 8) {
      std::uint64_t v = next();
      std::memcpy(buf.data() + i, &v, 8);
    }
    for (std::size_t i = n & ~std::size_t{7}; i < n; ++i) buf[i] = static_cast<char>(next());
  }
};

void mkdirs(const std::string& path) {
  std::string cur;
  std::size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    cur = path.substr(0, pos);
    if (cur.empty()) continue;
    if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) fail_errno("mkdir " + cur);
  }
}

// Writes n bytes of buf (already filled) to path, with the given mtime.
void write_file(const std::string& path, const char* data, std::size_t n, std::time_t mtime) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail_errno("open " + path);
  std::size_t off = 0;
  while (off < n) {
    ssize_t w = ::write(fd, data + off, n - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail_errno("write " + path);
    }
    off += static_cast<std::size_t>(w);
  }
  struct timespec ts[2] = {{mtime, 0}, {mtime, 0}};
  if (::futimens(fd, ts) != 0) fail_errno("futimens " + path);
  if (::close(fd) != 0) fail_errno("close " + path);
}

std::string two(int v) {
  char b[16];
  std::snprintf(b, sizeof b, "%02d", v);
  return b;
}

int cmd_gen(int argc, char** argv) {
  if (argc != 9) fail("usage: gen A B SMALL FLAT BIG BIG_MB DUP_EVERY");
  const std::string a = argv[2], b = argv[3];
  const long small = std::atol(argv[4]), flat = std::atol(argv[5]), big = std::atol(argv[6]);
  const long big_mb = std::atol(argv[7]), dup_every = std::max(1L, std::atol(argv[8]));
  const std::time_t base = 1767225600;  // 2026-01-01T00:00:00Z
  const std::string parent = a.substr(0, a.find_last_of('/'));

  std::vector<char> buf(1 << 20);
  Rng rng(42);
  std::ofstream list(parent + "/stat-list.txt");
  std::string deep;
  long dup_files = 0;
  for (long i = 0; i < small; ++i) {
    const long artist = i / 100 + 1, album = (i / 10) % 10 + 1, track = i % 10 + 1;
    const long album_global = i / 10;
    char dir[64];
    std::snprintf(dir, sizeof dir, "Library/Artist %04ld/Album %s", artist, two(static_cast<int>(album)).c_str());
    const std::string rel =
        std::string(dir) + "/" + two(static_cast<int>(track)) + " Track " + two(static_cast<int>(track)) + ".flac";
    if (track == 1) mkdirs(a + "/" + dir);
    const bool dup = album_global % dup_every == 0;
    if (dup && track == 1) mkdirs(b + "/" + dir);
    const std::size_t n = 4096 + rng.next() % (100 * 1024 - 4096 + 1);
    rng.fill(buf, n);
    write_file(a + "/" + rel, buf.data(), n, base + i);
    if (dup) {
      write_file(b + "/" + rel, buf.data(), n, base + i);
      ++dup_files;
    }
    if (i % 20 == 0) list << rel << '\n';
    deep = rel;
  }
  if (flat > 0) mkdirs(a + "/Flat");
  for (long i = 0; i < flat; ++i) {
    char name[64];
    std::snprintf(name, sizeof name, "/Flat/track-%05ld.flac", i + 1);
    rng.fill(buf, 256);
    write_file(a + name, buf.data(), 256, base + i);
  }
  if (big > 0) mkdirs(a + "/Big");
  for (long f = 1; f <= big; ++f) {
    const std::string path = a + "/Big/big-" + std::to_string(f) + ".bin";
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail_errno("open " + path);
    for (long m = 0; m < big_mb; ++m) {
      rng.fill(buf, buf.size());
      std::size_t off = 0;
      while (off < buf.size()) {
        ssize_t w = ::write(fd, buf.data() + off, buf.size() - off);
        if (w < 0) {
          if (errno == EINTR) continue;
          fail_errno("write " + path);
        }
        off += static_cast<std::size_t>(w);
      }
    }
    struct timespec ts[2] = {{base, 0}, {base, 0}};
    if (::futimens(fd, ts) != 0 || ::close(fd) != 0) fail_errno("finish " + path);
  }
  std::ofstream(parent + "/deep-file.txt") << deep << '\n';
  std::printf("library=%ld duplicates_in_b=%ld flat=%ld big=%ldx%ldMiB\n", small, dup_files, flat, big, big_mb);
  return 0;
}

double us_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(Clock::now() - t0).count();
}

int cmd_stat(int argc, char** argv) {
  if (argc != 5) fail("usage: stat ROOT LIST SECONDS");
  const std::string root = argv[2];
  const double seconds = std::atof(argv[4]);
  std::vector<std::string> paths;
  std::ifstream in(argv[3]);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) paths.push_back(root + "/" + line);
  }
  if (paths.empty()) fail(std::string("no paths in ") + argv[3]);
  struct stat st {};
  for (const auto& p : paths) {
    if (::stat(p.c_str(), &st) != 0) fail_errno("stat " + p);
  }
  std::vector<float> lat;
  lat.reserve(1 << 24);
  const auto start = Clock::now();
  const auto end = start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (Clock::now() < end && lat.size() + paths.size() <= lat.capacity()) {
    for (const auto& p : paths) {
      const auto t0 = Clock::now();
      if (::stat(p.c_str(), &st) != 0) fail_errno("stat " + p);
      lat.push_back(static_cast<float>(us_since(t0)));
    }
  }
  const double total = us_since(start);
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double q) { return lat[std::min(lat.size() - 1, static_cast<std::size_t>(q * lat.size()))]; };
  std::printf("ops=%zu mean_us=%.3f p50_us=%.3f p99_us=%.3f max_us=%.1f\n", lat.size(), total / lat.size(),
              pct(0.50), pct(0.99), lat.back());
  return 0;
}

int cmd_mount(int argc, char** argv) {
  if (argc < 6 || std::strcmp(argv[4], "--") != 0) fail("usage: mount PATH TIMEOUT_S -- CMD [ARG...]");
  const std::string path = argv[2];
  const double timeout_s = std::atof(argv[3]);
  const auto t0 = Clock::now();
  pid_t pid = ::fork();
  if (pid < 0) fail_errno("fork");
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 1);
      ::dup2(null, 2);
    }
    ::execvp(argv[5], argv + 5);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) fail_errno("waitpid");
  }
  const double cmd_us = us_since(t0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) fail(std::string(argv[5]) + " failed");
  struct stat st {};
  for (;;) {
    if (::stat(path.c_str(), &st) == 0) break;
    if (us_since(t0) > timeout_s * 1e6) fail(path + " did not appear in time");
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  std::printf("cmd_ms=%.2f ready_ms=%.2f\n", cmd_us / 1000, us_since(t0) / 1000);
  return 0;
}

// Empty files, DIR_SIZE per folder: index entries without content, as fast as the
// file system can create them. Existing files are kept, so a second run is quick.
int cmd_many(int argc, char** argv) {
  if (argc != 5) fail("usage: many ROOT COUNT DIR_SIZE");
  const std::string root = argv[2];
  const long count = std::atol(argv[3]), per_dir = std::atol(argv[4]);
  if (count < 1 || per_dir < 1) fail("many: COUNT and DIR_SIZE must be positive");
  if (::mkdir(root.c_str(), 0755) != 0 && errno != EEXIST) fail_errno("mkdir " + root);
  char name[64];
  for (long i = 0; i < count; ++i) {
    std::snprintf(name, sizeof name, "/d%05ld", i / per_dir);
    const std::string dir = root + name;
    if (i % per_dir == 0 && ::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) fail_errno("mkdir " + dir);
    std::snprintf(name, sizeof name, "/track-%07ld.flac", i);
    const std::string file = dir + name;
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) fail_errno("create " + file);
    ::close(fd);
  }
  return 0;
}

struct TagScan {
  long files = 0;
  long long bytes = 0;
  std::vector<char> buf = std::vector<char>(128 * 1024);

  void read_at(int fd, std::size_t len, off_t off, const std::string& path) {
    ssize_t n = ::pread(fd, buf.data(), len, off);
    if (n < 0) fail_errno("read " + path);
    bytes += n;
  }
  void file(const std::string& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail_errno("open " + path);
    read_at(fd, 64 * 1024, 0, path);
    struct stat st {};
    if (::fstat(fd, &st) != 0) fail_errno("fstat " + path);
    const off_t tail = 128 * 1024;
    if (st.st_size > 64 * 1024) read_at(fd, tail, st.st_size > tail ? st.st_size - tail : 0, path);
    ::close(fd);
    ++files;
  }
  void dir(const std::string& path) {
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) fail_errno("opendir " + path);
    std::vector<std::pair<std::string, unsigned char>> kids;
    while (struct dirent* e = ::readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
      kids.emplace_back(e->d_name, e->d_type);
    }
    ::closedir(d);
    for (const auto& [name, type] : kids) {
      const std::string child = path + "/" + name;
      if (type == DT_DIR) {
        dir(child);
      } else if (type == DT_REG) {
        file(child);
      }
    }
  }
};

int cmd_tagscan(int argc, char** argv) {
  if (argc != 3) fail("usage: tagscan DIR");
  TagScan scan;
  const auto t0 = Clock::now();
  scan.dir(argv[2]);
  const double s = us_since(t0) / 1e6;
  std::printf("files=%ld bytes=%lld seconds=%.3f files_per_s=%.0f\n", scan.files, scan.bytes, s, scan.files / s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) fail("usage: compare_helper gen|stat|mount|many|tagscan ...");
  const std::string cmd = argv[1];
  if (cmd == "gen") return cmd_gen(argc, argv);
  if (cmd == "stat") return cmd_stat(argc, argv);
  if (cmd == "mount") return cmd_mount(argc, argv);
  if (cmd == "many") return cmd_many(argc, argv);
  if (cmd == "tagscan") return cmd_tagscan(argc, argv);
  fail("unknown command " + cmd);
}
