// kill9_reader: one reader of tests/stress/kill9 and of bench/load. It maps the
// expected content of every file up front, from a reference directory that holds the
// same tree as the mount (never the origins the daemon serves), then loops until
// SIGTERM/SIGINT: picks a file at random and reads it whole or a random range through
// the mount, in read(2)/pread(2) calls of random sizes, comparing every byte a
// successful call returned with the expected bytes.
//
// An error (ENOTCONN or EIO while the daemon is down or restarting, ENOENT while the
// new daemon indexes) is counted and tolerated: the reader closes the file, pauses
// briefly and goes on. A successful call that returned wrong bytes, or an EOF before
// the file's size (a truncated file), is counted as a failure and reported on stderr.
//
// Usage: kill9_reader [-s SEED] [-t STATS_FILE] MOUNT_DIR EXPECTED_DIR REL_PATH...
// On exit (and every ~0.5 s into STATS_FILE, written whole with a rename) it prints
// one line:
//   reads_ok=N read_errors=N wrong_bytes=N short_reads=N bytes_ok=N errors=ENOTCONN:3,EIO:1
// Exit status: 0 when wrong_bytes and short_reads are 0, 1 otherwise, 2 on bad usage.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "util/unique_fd.h"  // lib/util: the project's one fd owner

namespace {

volatile sig_atomic_t stop_requested = 0;
void on_stop(int) { stop_requested = 1; }

// A file's expected content, mapped read-only: many readers of the same files share
// its pages instead of each holding a copy.
class ExpectedFile {
 public:
  ExpectedFile(std::string mount_path, const void* data, size_t size)
      : mount_path(std::move(mount_path)), content(static_cast<const char*>(data), size) {}
  ~ExpectedFile() {
    if (!content.empty()) ::munmap(const_cast<char*>(content.data()), content.size());
  }
  ExpectedFile(ExpectedFile&& o) noexcept : mount_path(std::move(o.mount_path)), content(o.content) { o.content = {}; }
  ExpectedFile(const ExpectedFile&) = delete;
  ExpectedFile& operator=(const ExpectedFile&) = delete;
  ExpectedFile& operator=(ExpectedFile&&) = delete;

  std::string mount_path;
  std::string_view content;
};

struct Stats {
  uint64_t reads_ok = 0;
  uint64_t read_errors = 0;
  uint64_t wrong_bytes = 0;
  uint64_t short_reads = 0;
  uint64_t bytes_ok = 0;
  std::map<std::string, uint64_t> errors;  // errno name -> count

  std::string line() const {
    std::ostringstream os;
    os << "reads_ok=" << reads_ok << " read_errors=" << read_errors << " wrong_bytes=" << wrong_bytes
       << " short_reads=" << short_reads << " bytes_ok=" << bytes_ok << " errors=";
    bool first = true;
    for (const auto& [name, n] : errors) {
      os << (first ? "" : ",") << name << ":" << n;
      first = false;
    }
    if (first) os << "none";
    return os.str();
  }
};

// Maps `path`; an empty file maps to an empty view. False (errno set) on failure.
bool map_file(const std::string& path, const void** data, size_t* size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  musicfs::UniqueFd closer(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) return false;
  *size = static_cast<size_t>(st.st_size);
  *data = nullptr;
  if (*size == 0) return true;
  void* p = ::mmap(nullptr, *size, PROT_READ, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return false;
  *data = p;
  return true;
}

class Reader {
 public:
  Reader(std::vector<ExpectedFile> files, uint64_t seed) : files_(std::move(files)), rng_(seed) {}

  // One whole-file or range read; counts its outcome in stats_.
  void read_once() {
    const ExpectedFile& f = files_[pick(files_.size())];
    const uint64_t size = f.content.size();
    uint64_t begin = 0;
    uint64_t end = size;
    bool whole = pick(2) == 0;
    if (!whole && size > 0) {
      begin = pick(size);
      end = std::min<uint64_t>(size, begin + 1 + pick(2 << 20));
    }
    musicfs::UniqueFd fd(::open(f.mount_path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) return error(errno);
    std::vector<char> buf(1 << 20);
    uint64_t off = begin;
    for (;;) {
      if (!whole && off >= end) break;
      // Read sizes from 1 byte to 1 MiB, so that calls cross the cache's 1 MiB chunks
      // and its 64 KiB checksum blocks at every alignment.
      size_t want = 1 + pick(buf.size());
      if (!whole) want = std::min<uint64_t>(want, end - off);
      ssize_t n = whole ? ::read(fd.get(), buf.data(), want) : ::pread(fd.get(), buf.data(), want, static_cast<off_t>(off));
      if (n < 0) {
        if (errno == EINTR && stop_requested) return;
        if (errno == EINTR) continue;
        return error(errno);
      }
      if (n == 0) break;  // EOF
      check(f, off, buf.data(), static_cast<size_t>(n));
      off += static_cast<uint64_t>(n);
      if (off > size) break;  // longer than the file: check() counted the extra bytes
    }
    if (off != end) {
      ++stats_.short_reads;
      std::fprintf(stderr, "kill9_reader: SHORT READ %s: range [%llu, %llu) ended at %llu (file size %llu)\n",
                   f.mount_path.c_str(), ull(begin), ull(end), ull(off), ull(size));
      return;
    }
    ++stats_.reads_ok;
  }

  const Stats& stats() const { return stats_; }

 private:
  static unsigned long long ull(uint64_t v) { return static_cast<unsigned long long>(v); }

  uint64_t pick(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(rng_); }

  void check(const ExpectedFile& f, uint64_t off, const char* got, size_t n) {
    if (off + n <= f.content.size() && std::memcmp(got, f.content.data() + off, n) == 0) {
      stats_.bytes_ok += n;
      return;
    }
    uint64_t wrong = 0;
    uint64_t first_wrong = 0;
    for (size_t i = 0; i < n; ++i) {
      uint64_t at = off + i;
      bool ok = at < f.content.size() && got[i] == f.content[at];
      if (!ok && wrong++ == 0) first_wrong = at;
    }
    if (wrong > 0) {
      stats_.wrong_bytes += wrong;
      std::fprintf(stderr, "kill9_reader: WRONG BYTES %s: %llu of %zu bytes read at offset %llu, first at %llu\n",
                   f.mount_path.c_str(), ull(wrong), n, ull(off), ull(first_wrong));
    }
    stats_.bytes_ok += n - wrong;
  }

  void error(int err) {
    ++stats_.read_errors;
    const char* name = strerrorname_np(err);
    ++stats_.errors[name != nullptr ? name : std::to_string(err)];
    // The daemon is down or restarting: do not spin on a dead mount.
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

  std::vector<ExpectedFile> files_;
  std::mt19937_64 rng_;
  Stats stats_;
};

void write_stats(const std::string& path, const Stats& s) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << s.line() << "\n";
  }
  std::rename(tmp.c_str(), path.c_str());
}

int usage() {
  std::fprintf(stderr, "usage: kill9_reader [-s SEED] [-t STATS_FILE] MOUNT_DIR EXPECTED_DIR REL_PATH...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t seed = static_cast<uint64_t>(::getpid());
  std::string stats_path;
  int opt;
  while ((opt = ::getopt(argc, argv, "s:t:")) != -1) {
    if (opt == 's') {
      seed = std::strtoull(optarg, nullptr, 10);
    } else if (opt == 't') {
      stats_path = optarg;
    } else {
      return usage();
    }
  }
  if (argc - optind < 3) return usage();
  std::string mount_dir = argv[optind];
  std::string expected_dir = argv[optind + 1];
  std::vector<ExpectedFile> files;
  files.reserve(static_cast<size_t>(argc - optind - 2));
  for (int i = optind + 2; i < argc; ++i) {
    const void* data = nullptr;
    size_t size = 0;
    if (!map_file(expected_dir + "/" + argv[i], &data, &size)) {
      std::fprintf(stderr, "kill9_reader: cannot read %s/%s: %s\n", expected_dir.c_str(), argv[i], std::strerror(errno));
      return 2;
    }
    files.emplace_back(mount_dir + "/" + argv[i], data, size);
  }

  struct sigaction sa = {};
  sa.sa_handler = on_stop;  // no SA_RESTART: a blocked read returns EINTR and the loop ends
  ::sigaction(SIGTERM, &sa, nullptr);
  ::sigaction(SIGINT, &sa, nullptr);

  Reader reader(std::move(files), seed);
  auto last_write = std::chrono::steady_clock::now();
  while (!stop_requested) {
    reader.read_once();
    auto now = std::chrono::steady_clock::now();
    if (!stats_path.empty() && now - last_write > std::chrono::milliseconds(500)) {
      write_stats(stats_path, reader.stats());
      last_write = now;
    }
  }
  const Stats& s = reader.stats();
  if (!stats_path.empty()) write_stats(stats_path, s);
  std::printf("%s\n", s.line().c_str());
  return s.wrong_bytes == 0 && s.short_reads == 0 ? 0 : 1;
}
