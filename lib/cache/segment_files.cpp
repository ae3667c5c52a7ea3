#include "cache/segment_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>

#include "util/unique_fd.h"

namespace musicfs {

namespace {
Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return {};
  return Error::from_errno(errno, "content cache: create directory " + path);
}
}  // namespace

SegmentFiles::SegmentFiles(std::string cache_dir) : dir_(std::move(cache_dir)), segments_(dir_ + "/segments") {}

std::string SegmentFiles::path_of(const std::string& segment) const {
  return segments_ + "/" + segment.substr(0, 2) + "/" + segment;
}

Status SegmentFiles::prepare() {
  for (const auto& d : {dir_, segments_}) {
    if (auto s = make_dir(d); !s) return s;
  }
  // Every fan-out directory up front, so a write never needs a mkdir first.
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    if (auto s = make_dir(segments_ + "/" + sub); !s) return s;
  }
  // The layout before segments: a file per chunk, written in tmp/ and renamed into
  // chunks/. The catalog of that layout is discarded with it (CacheCatalog::open).
  for (const char* old : {"/chunks", "/tmp"}) {
    std::error_code ec;
    std::filesystem::remove_all(dir_ + old, ec);
  }
  return {};
}

Status SegmentFiles::write(const std::string& segment, uint64_t offset, std::span<const char> data) {
  const std::string path = path_of(segment);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::from_errno(errno, "content cache: open " + path + " for writing");
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::pwrite(fd.get(), data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno(errno, "content cache: write " + path + " at " + std::to_string(offset + done));
    }
    done += static_cast<size_t>(n);
  }
  return {};
}

Status SegmentFiles::read(const std::string& segment, uint64_t offset, std::span<char> buf) const {
  const std::string path = path_of(segment);
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno(errno, "content cache: open " + path);
  size_t done = 0;
  while (done < buf.size()) {
    ssize_t n = ::pread(fd.get(), buf.data() + done, buf.size() - done, static_cast<off_t>(offset + done));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno(errno, "content cache: read " + path);
    }
    if (n == 0) return make_error(ErrorCode::kIo, "content cache: " + path + " is shorter than its catalog entry");
    done += static_cast<size_t>(n);
  }
  return {};
}

Status SegmentFiles::punch(const std::string& segment, uint64_t offset, uint64_t length) const {
  const std::string path = path_of(segment);
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd.valid()) {
    if (errno == ENOENT) return {};  // nothing left to free
    return Error::from_errno(errno, "content cache: open " + path + " to free a chunk");
  }
  if (::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(offset),
                  static_cast<off_t>(length)) != 0) {
    return Error::from_errno(errno, "content cache: free " + std::to_string(length) + " bytes at " +
                                        std::to_string(offset) + " of " + path);
  }
  return {};
}

void SegmentFiles::remove(const std::string& segment) const { ::unlink(path_of(segment).c_str()); }

void SegmentFiles::for_each(const std::function<void(const std::string&, const Info&)>& fn) const {
  DIR* top = ::opendir(segments_.c_str());
  if (top == nullptr) return;
  while (struct dirent* sub = ::readdir(top)) {
    if (sub->d_name[0] == '.') continue;
    std::string subdir = segments_ + "/" + sub->d_name;
    DIR* d = ::opendir(subdir.c_str());
    if (d == nullptr) continue;
    while (struct dirent* de = ::readdir(d)) {
      if (de->d_name[0] == '.') continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      fn(de->d_name, Info{static_cast<uint64_t>(st.st_size), static_cast<uint64_t>(st.st_blocks) * 512});
    }
    ::closedir(d);
  }
  ::closedir(top);
}

}  // namespace musicfs
