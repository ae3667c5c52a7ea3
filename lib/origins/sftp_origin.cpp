#include "origins/sftp_origin.h"
#include "util/virtual_path.h"

#include <pwd.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <vector>

#include "origins/origin_types.h"

namespace musicfs {

namespace {

// Sessions per origin: enough for the FUSE threads reading different files at once,
// few enough to stay under an sshd's MaxStartups/MaxSessions defaults.
constexpr size_t kMaxSessions = 4;
// A listing runs under a 30-minute deadline; a single directory must answer much sooner,
// or a frozen server would hold the indexer for the whole half hour.
constexpr auto kListStep = std::chrono::seconds(30);
// Ranged reads: 64 KiB requests, up to 64 in flight per session (4 MiB), so one FUSE
// read costs about one round trip instead of sixteen. (OpenSSH caps a read at ~255 KiB;
// with libssh, 64 x 64 KiB measured best on loopback: 250 MB/s against 130 MB/s for
// 16 and 60 MB/s for 128, which outruns the channel window.)
constexpr uint32_t kRequestBytes = 64 * 1024;
constexpr size_t kMaxInFlight = 64;
// After a large read, requests for the next 4 MiB stay in flight, and each read tops
// them up: the read path asks for whole 1 MiB chunks one after another, and without
// this every chunk would start with an empty pipe.
constexpr uint64_t kReadAhead = 4 * 1024 * 1024;

struct AttrFree {
  void operator()(sftp_attributes a) const { sftp_attributes_free(a); }
};
using AttrPtr = std::unique_ptr<sftp_attributes_struct, AttrFree>;

size_t path_key(std::string_view path) { return std::hash<std::string_view>{}(path); }

// Checks a path relative to the origin root ("/A/B.flac") and strips trailing '/'.
// Nothing that could climb out of the root gets through.
Result<std::string> clean_relative(const std::string& origin, std::string_view path) {
  std::string out;
  bool ok = for_each_component(path, [&](std::string_view part, size_t) {
    if (!is_safe_entry_name(part)) return false;
    out += '/';
    out += part;
    return true;
  });
  if (!ok) return make_error(ErrorCode::kNotFound, "origin " + origin + ": invalid path " + std::string(path), ENOENT);
  return out;  // "" for the root
}

std::string remote_of(const SftpOrigin::Shared& sh, const std::string& rel) {
  if (sh.root.empty()) return rel.empty() ? "/" : rel;
  return sh.root + rel;
}

bool attr_from_sftp(const sftp_attributes_struct& a, EntryAttr& out) {
  switch (a.type) {
    case SSH_FILEXFER_TYPE_REGULAR: out.type = EntryType::kFile; break;
    case SSH_FILEXFER_TYPE_DIRECTORY: out.type = EntryType::kDirectory; break;
    case SSH_FILEXFER_TYPE_SYMLINK: out.type = EntryType::kSymlink; break;
    default: return false;  // devices, sockets, fifos: nothing to serve
  }
  out.mode = a.permissions & 07777;
  out.size = a.size;
  out.mtime_sec = static_cast<int64_t>(a.mtime64 != 0 ? a.mtime64 : a.mtime);
  out.mtime_nsec = a.mtime_nseconds;
  return true;
}

// Runs fn(session, guard) on a pooled session under `deadline`. A session that sat idle
// may have lost its connection meanwhile (server restarted): that failure is retried
// once on a fresh connection, so a returning server is used at the next call.
template <typename T, typename Fn>
Result<T> with_session(SftpOrigin::Shared& sh, Deadline deadline, uint64_t owner, Fn&& fn) {
  for (int attempt = 0;; ++attempt) {
    auto lease = sh.pool.acquire(deadline, owner);
    if (!lease) return lease.take_error();
    SshSession& s = **lease;
    Result<T> r = [&]() -> Result<T> {
      SshSession::Guard guard(s, deadline);
      // Read-ahead replies are for the next read of the file that asked for them. Any
      // other use of the session takes them in first: with replies to read requests
      // still due, a stat or open sent meanwhile left a later drain of those replies
      // waiting until its deadline (libssh 0.10; seen as a 3 s stall, then a failed
      // open, on the file after a streamed one).
      if (s.file_owner() != owner || owner == 0) s.drain_pending();
      if (s.broken()) return s.last_error("origin " + sh.id);
      return fn(s, guard);
    }();
    if (r || !s.broken() || !lease->reused() || attempt > 0 || SteadyClock::now() >= deadline) return r;
    spdlog::info("origin {}: SFTP connection was lost ({}); reconnecting", sh.id, r.error().message);
  }
}

class SftpFile : public OriginFile {
 public:
  SftpFile(std::shared_ptr<SftpOrigin::Shared> sh, std::string path, std::string remote, uint64_t size, uint64_t owner)
      : sh_(std::move(sh)), path_(std::move(path)), remote_(std::move(remote)), size_(size), owner_(owner) {}

  ~SftpFile() override {
    // The handle stays cached on whichever session holds it until that session opens
    // another file; it is keyed by owner_, which no other file ever gets.
  }

  Result<size_t> read(uint64_t offset, std::span<char> buf, Deadline deadline) override {
    std::lock_guard lock(mu_);
    if (offset >= size_ || buf.empty()) return size_t{0};
    const uint64_t end = std::min<uint64_t>(offset + buf.size(), size_);
    return with_session<size_t>(*sh_, deadline, owner_, [&](SshSession& s, SshSession::Guard&) -> Result<size_t> {
      return pipelined_read(s, offset, end, buf.data());
    });
  }

 private:
  std::string ctx() const { return "origin " + sh_->id + ": read " + path_; }

  Result<size_t> pipelined_read(SshSession& s, uint64_t offset, uint64_t end, char* out) {
    sftp_file f = s.file_for(owner_, remote_);
    if (f == nullptr) return s.last_error(ctx());
    using Req = SshSession::PendingRead;
    auto& ahead = s.pending();  // read-ahead requests sent by earlier reads, in order
    std::deque<Req> inflight;   // requests whose replies land in `out`
    uint64_t next = offset;
    auto begin = [&](std::deque<Req>& into, uint64_t off, uint32_t len) -> bool {
      // Each request carries its own offset: libssh's implicit file offset assumes one
      // request at a time and is wrong with several in flight.
      sftp_seek64(f, off);
      int id = sftp_async_read_begin(f, len);
      if (id < 0) return false;
      into.push_back({off, len, static_cast<uint32_t>(id)});
      return true;
    };
    auto fill = [&]() -> bool {
      while (inflight.size() + ahead.size() < kMaxInFlight && next < end) {
        auto len = static_cast<uint32_t>(std::min<uint64_t>(kRequestBytes, end - next));
        if (!begin(inflight, next, len)) return false;
        next += len;
      }
      return true;
    };
    // Adopt the read-ahead that continues exactly here. What is left over either
    // continues past this read (kept for the next one: a steady stream never lets the
    // pipe run dry) or does not line up with it (its replies are read and dropped).
    while (!ahead.empty() && ahead.front().off == next && ahead.front().off + ahead.front().len <= end) {
      inflight.push_back(ahead.front());
      next += ahead.front().len;
      ahead.pop_front();
    }
    if (!ahead.empty() && (next < end || ahead.front().off != end)) s.drain_pending();
    if (s.broken()) return s.last_error(ctx());
    auto fail = [&]() -> Error {
      Error e = s.last_error(ctx());
      // Replies still in flight would be read by the session's next user as its own.
      s.mark_broken();
      return e;
    };
    if (!fill()) return fail();
    uint64_t eof_at = end;
    while (!inflight.empty()) {
      Req r = inflight.front();
      inflight.pop_front();
      // Seeking clears libssh's sticky end-of-file flag, which would otherwise make this
      // call return 0 without consuming the reply once any earlier request met EOF.
      sftp_seek64(f, r.off);
      int n = sftp_async_read(f, out + (r.off - offset), r.len, r.id);
      if (n < 0) return fail();
      const auto got = static_cast<uint32_t>(n);
      if (got == 0) {
        eof_at = std::min(eof_at, r.off);
      } else if (got < r.len) {
        // A server may return less than asked (OpenSSH caps a reply); ask for the rest.
        if (!begin(inflight, r.off + got, r.len - got)) return fail();
      }
      if (!fill()) return fail();
    }
    if (eof_at < end) {
      s.drain_pending();
      return make_error(ErrorCode::kChanged,
                        ctx() + ": the file changed on the server (it ends at byte " + std::to_string(eof_at) +
                            ", but was " + std::to_string(size_) + " bytes when listed and opened)",
                        EIO);
    }
    // A large read is a stream: keep kReadAhead bytes requested beyond it, so the
    // server works while the bytes just read travel up to the reader.
    if (end - offset >= kRequestBytes && end < size_) {
      uint64_t at = ahead.empty() ? end : ahead.back().off + ahead.back().len;
      const uint64_t until = std::min(end + kReadAhead, size_);
      while (at < until && ahead.size() < kMaxInFlight) {
        auto len = static_cast<uint32_t>(std::min<uint64_t>(kRequestBytes, size_ - at));
        if (!begin(ahead, at, len)) break;  // only an optimisation; the next read asks again
        at += len;
      }
    }
    return static_cast<size_t>(end - offset);
  }

  std::shared_ptr<SftpOrigin::Shared> sh_;
  std::string path_;
  std::string remote_;
  uint64_t size_;
  uint64_t owner_;
  std::mutex mu_;  // one read at a time: the cached SFTP handle is not shareable
};

std::string current_user() {
  struct passwd* pw = ::getpwuid(::geteuid());
  if (pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  const char* u = std::getenv("USER");
  return u != nullptr ? u : "root";
}

std::string home_dir() {
  const char* h = std::getenv("HOME");
  if (h != nullptr && *h != '\0') return h;
  struct passwd* pw = ::getpwuid(::geteuid());
  return pw != nullptr && pw->pw_dir != nullptr ? pw->pw_dir : "/";
}

Result<OriginPtr> create_sftp(const OriginConfig& c) {
  SshParams p;
  p.origin_id = c.id;
  p.host = c.string_setting("host");
  p.port = static_cast<int>(c.int_setting("port", 22));
  p.user = c.string_setting("user", current_user());
  p.identity_file = c.string_setting("identity_file");
  p.known_hosts = c.string_setting("known_hosts", home_dir() + "/.ssh/known_hosts");
  if (p.host.empty()) return make_error(ErrorCode::kConfig, "origin '" + c.id + "': sftp needs a host");
  std::string root = c.string_setting("path");
  if (root.empty() || root.front() != '/') {
    return make_error(ErrorCode::kConfig, "origin '" + c.id + "': sftp path must be an absolute directory on the server");
  }
  if (!p.identity_file.empty()) {
    struct stat st {};
    if (::stat(p.identity_file.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      spdlog::warn("origin {}: identity_file {} is accessible by group or others (mode {:o}); chmod 600 it", c.id,
                   p.identity_file, st.st_mode & 07777);
    }
  }
  return OriginPtr(std::make_shared<SftpOrigin>(c.id, std::move(root), std::move(p)));
}

}  // namespace

SftpOrigin::Shared::Shared(std::string id_, std::string root_, SshParams params)
    : id(std::move(id_)), root(std::move(root_)), pool(std::move(params), kMaxSessions) {
  while (!root.empty() && root.back() == '/') root.pop_back();
}

SftpOrigin::SftpOrigin(std::string id, std::string root, SshParams params)
    : shared_(std::make_shared<Shared>(std::move(id), std::move(root), std::move(params))) {}

std::string SftpOrigin::location() const {
  const SshParams& p = shared_->pool.params();
  return p.user + "@" + p.host + ":" + std::to_string(p.port) + (shared_->root.empty() ? "/" : shared_->root);
}

Status SftpOrigin::list(std::string_view under, const std::function<void(ListedEntry&&)>& sink, Deadline deadline) {
  auto base = clean_relative(shared_->id, under);
  if (!base) return base.take_error();
  Shared& sh = *shared_;
  std::unordered_map<size_t, uint64_t> sizes;
  Status listed = with_session<void>(sh, deadline, 0, [&](SshSession& s, SshSession::Guard& guard) -> Status {
    sizes.clear();  // a retry starts over
    // Depth-first, one directory handle at a time; a directory's own entries are all
    // sent before any of its subdirectories is opened (parents before children).
    std::vector<std::string> pending{*base};
    while (!pending.empty()) {
      std::string vpath = std::move(pending.back());
      pending.pop_back();
      const std::string remote = remote_of(sh, vpath);
      guard.rearm(std::min(deadline, SteadyClock::now() + kListStep));
      sftp_dir dir = sftp_opendir(s.sftp(), remote.c_str());
      if (dir == nullptr) {
        Error e = s.last_error("origin " + sh.id + ": list " + (vpath.empty() ? "/" : vpath));
        if (vpath == *base) {
          if (vpath.empty() && e.code == ErrorCode::kNotFound) {
            e = make_error(ErrorCode::kUnavailable, "origin " + sh.id + ": path " + remote + " does not exist on " +
                                                        sh.pool.params().host + ":" + std::to_string(sh.pool.params().port));
          }
          return e;
        }
        if (s.broken()) return e;
        continue;  // removed or unreadable since its parent was read
      }
      const size_t first_sub = pending.size();
      size_t seen = 0;
      while (AttrPtr a{sftp_readdir(s.sftp(), dir)}) {
        if (++seen % 256 == 0) guard.rearm(std::min(deadline, SteadyClock::now() + kListStep));
        std::string_view name = a->name != nullptr ? a->name : "";
        if (name == "." || name == "..") continue;
        if (!is_safe_entry_name(name)) {
          spdlog::warn("origin {}: skipping an entry with an invalid name in {}", sh.id, remote);
          continue;
        }
        ListedEntry entry;
        if (!attr_from_sftp(*a, entry.attr)) continue;
        entry.path = vpath + "/" + std::string(name);
        if (entry.attr.type == EntryType::kSymlink) {
          char* target = sftp_readlink(s.sftp(), remote_of(sh, entry.path).c_str());
          if (target == nullptr) {
            Error e = s.last_error("origin " + sh.id + ": readlink " + entry.path);
            if (s.broken()) return e;
            continue;
          }
          entry.attr.symlink_target = target;
          ssh_string_free_char(target);
        } else if (entry.attr.type == EntryType::kDirectory) {
          pending.push_back(entry.path);
        } else {
          sizes[path_key(entry.path)] = entry.attr.size;
        }
        sink(std::move(entry));
      }
      const bool complete = sftp_dir_eof(dir) != 0;
      Error err;
      if (!complete) err = s.last_error("origin " + sh.id + ": list " + (vpath.empty() ? "/" : vpath));
      sftp_closedir(dir);
      // A half-read directory would make the index drop files that still exist.
      if (!complete) return err;
      std::reverse(pending.begin() + static_cast<std::ptrdiff_t>(first_sub), pending.end());
    }
    return {};
  });
  if (!listed) return listed;
  std::lock_guard lock(sh.sizes_mu);
  if (base->empty()) {
    sh.listed_sizes.swap(sizes);
  } else {
    for (const auto& [k, v] : sizes) sh.listed_sizes[k] = v;
  }
  return {};
}

Result<EntryAttr> SftpOrigin::stat(std::string_view path, Deadline deadline) {
  auto rel = clean_relative(shared_->id, path);
  if (!rel) return rel.take_error();
  Shared& sh = *shared_;
  return with_session<EntryAttr>(sh, deadline, 0, [&](SshSession& s, SshSession::Guard&) -> Result<EntryAttr> {
    const std::string remote = remote_of(sh, *rel);
    AttrPtr a{sftp_lstat(s.sftp(), remote.c_str())};
    if (!a) return s.last_error("origin " + sh.id + ": stat " + std::string(path));
    EntryAttr attr;
    if (!attr_from_sftp(*a, attr)) {
      return make_error(ErrorCode::kNotFound,
                        "origin " + sh.id + ": " + std::string(path) + " is not a file, directory or symlink", ENOENT);
    }
    if (attr.type == EntryType::kSymlink) {
      char* target = sftp_readlink(s.sftp(), remote.c_str());
      if (target != nullptr) {
        attr.symlink_target = target;
        ssh_string_free_char(target);
      }
    }
    if (attr.type == EntryType::kFile) {
      // The index takes this size for the path (a refresh after a change): opens
      // compare against it from now on.
      std::lock_guard lock(sh.sizes_mu);
      sh.listed_sizes[path_key(*rel)] = attr.size;
    }
    return attr;
  });
}

Result<std::unique_ptr<OriginFile>> SftpOrigin::open(std::string_view path, Deadline deadline) {
  auto rel = clean_relative(shared_->id, path);
  if (!rel) return rel.take_error();
  Shared& sh = *shared_;
  const uint64_t owner = sh.next_file_id.fetch_add(1);
  using FilePtr = std::unique_ptr<OriginFile>;
  return with_session<FilePtr>(sh, deadline, owner, [&](SshSession& s, SshSession::Guard&) -> Result<FilePtr> {
    const std::string remote = remote_of(sh, *rel);
    const std::string ctx = "origin " + sh.id + ": open " + std::string(path);
    AttrPtr a{sftp_lstat(s.sftp(), remote.c_str())};
    if (!a) return s.last_error(ctx);
    if (a->type != SSH_FILEXFER_TYPE_REGULAR) {
      return make_error(ErrorCode::kNotFound, ctx + ": not a regular file", ENOENT);
    }
    {
      std::lock_guard lock(sh.sizes_mu);
      auto it = sh.listed_sizes.find(path_key(*rel));
      if (it != sh.listed_sizes.end() && it->second != a->size) {
        return make_error(ErrorCode::kChanged,
                          ctx + ": the file changed on the server since it was listed (" + std::to_string(it->second) +
                              " bytes then, " + std::to_string(a->size) + " now)",
                          EIO);
      }
    }
    // Opened on this session now, so the first read (which prefers this session) reuses it.
    if (s.file_for(owner, remote) == nullptr) return s.last_error(ctx);
    return FilePtr(std::make_unique<SftpFile>(shared_, *rel, remote, a->size, owner));
  });
}

Status SftpOrigin::probe(Deadline deadline) {
  Shared& sh = *shared_;
  return with_session<void>(sh, deadline, 0, [&](SshSession& s, SshSession::Guard&) -> Status {
    const std::string remote = remote_of(sh, "");
    const std::string where = sh.pool.params().host + ":" + std::to_string(sh.pool.params().port);
    AttrPtr a{sftp_stat(s.sftp(), remote.c_str())};
    if (!a) {
      Error e = s.last_error("origin " + sh.id + ": stat root " + remote);
      if (e.code == ErrorCode::kNotFound) {
        e = make_error(ErrorCode::kUnavailable, "origin " + sh.id + ": path " + remote + " does not exist on " + where);
      }
      return e;
    }
    if (a->type != SSH_FILEXFER_TYPE_DIRECTORY) {
      return make_error(ErrorCode::kUnavailable, "origin " + sh.id + ": path " + remote + " on " + where + " is not a directory");
    }
    return {};
  });
}

OriginTypeInfo sftp_origin_type() {
  return {"sftp",
          true,
          "a directory on an SFTP server",
          {
              {"host", SettingKind::kString, true, "server host name or address"},
              {"port", SettingKind::kInteger, false, "server port (22)", 1, 65535},
              {"user", SettingKind::kString, false, "login name (the daemon's user)"},
              {"path", SettingKind::kAbsolutePath, true, "absolute path of the music directory on the server"},
              {"identity_file", SettingKind::kAbsolutePath, false, "private key file (else the ssh-agent)"},
              {"known_hosts", SettingKind::kAbsolutePath, false, "known_hosts file (~/.ssh/known_hosts)"},
              {"refresh_interval_secs", SettingKind::kInteger, false, "index polling interval", 10, 86400},
          },
          create_sftp};
}

}  // namespace musicfs
