#include "cache/chunk_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>

#include "util/unique_fd.h"

namespace musicfs {

namespace {
Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0700) == 0 || errno == EEXIST) return {};
  return Error::from_errno(errno, "content cache: create directory " + path);
}

std::atomic<uint64_t> tmp_counter{0};
}  // namespace

ChunkFiles::ChunkFiles(std::string cache_dir)
    : dir_(std::move(cache_dir)), chunks_(dir_ + "/chunks"), tmp_(dir_ + "/tmp") {}

std::string ChunkFiles::path_of(const std::string& name) const { return chunks_ + "/" + name.substr(0, 2) + "/" + name; }

Status ChunkFiles::prepare() {
  for (const auto& d : {dir_, chunks_, tmp_}) {
    if (auto s = make_dir(d); !s) return s;
  }
  // Every fan-out directory up front: creating them on demand put a mkdir (and a
  // failed rename) on the write of nearly every chunk of an empty cache.
  for (int i = 0; i < 256; ++i) {
    char sub[3];
    std::snprintf(sub, sizeof sub, "%02x", i);
    if (auto s = make_dir(chunks_ + "/" + sub); !s) return s;
  }
  if (DIR* dir = ::opendir(tmp_.c_str())) {
    while (struct dirent* de = ::readdir(dir)) {
      if (de->d_name[0] == '.') continue;
      ::unlinkat(::dirfd(dir), de->d_name, 0);
    }
    ::closedir(dir);
  }
  return {};
}

Status ChunkFiles::write(const std::string& name, std::span<const char> data) {
  std::string tmp = tmp_ + "/" + name + "." + std::to_string(::getpid()) + "." + std::to_string(tmp_counter++);
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd.valid()) return Error::from_errno(errno, "content cache: create " + tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      Error e = Error::from_errno(errno, "content cache: write " + tmp);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<size_t>(n);
  }
  fd.reset();
  std::string final_path = path_of(name);
  if (::rename(tmp.c_str(), final_path.c_str()) != 0) {
    if (errno == ENOENT) {  // first chunk in this fan-out directory
      (void)make_dir(chunks_ + "/" + name.substr(0, 2));
      if (::rename(tmp.c_str(), final_path.c_str()) == 0) return {};
    }
    Error e = Error::from_errno(errno, "content cache: rename into " + final_path);
    ::unlink(tmp.c_str());
    return e;
  }
  return {};
}

Status ChunkFiles::read(const std::string& name, uint64_t offset, std::span<char> buf) const {
  std::string path = path_of(name);
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

void ChunkFiles::remove(const std::string& name) const { ::unlink(path_of(name).c_str()); }

void ChunkFiles::for_each(const std::function<void(const std::string&, uint64_t)>& fn) const {
  DIR* top = ::opendir(chunks_.c_str());
  if (top == nullptr) return;
  while (struct dirent* sub = ::readdir(top)) {
    if (sub->d_name[0] == '.') continue;
    std::string subdir = chunks_ + "/" + sub->d_name;
    DIR* d = ::opendir(subdir.c_str());
    if (d == nullptr) continue;
    while (struct dirent* de = ::readdir(d)) {
      if (de->d_name[0] == '.') continue;
      struct stat st {};
      if (::fstatat(::dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode)) continue;
      fn(de->d_name, static_cast<uint64_t>(st.st_size));
    }
    ::closedir(d);
  }
  ::closedir(top);
}

}  // namespace musicfs
