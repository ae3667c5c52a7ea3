#include "mount_table.h"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "config/config_parser.h"
#include "origins/origin_types.h"
#include "state/state_index_store.h"
#include "util/time_util.h"

namespace musicfs {

namespace {
// A directory that is itself a mount point has a different device than its parent.
bool is_mount_point(const std::string& mp) {
  struct stat a {}, b {};
  if (::stat(mp.c_str(), &a) != 0) return false;
  std::string parent = mp + "/..";
  if (::stat(parent.c_str(), &b) != 0) return false;
  return a.st_dev != b.st_dev || a.st_ino == b.st_ino;
}
// A persisted index is loaded only for an origin of the mount's catalog; one whose
// origin left the catalog (dropped from the config file, or removed while the daemon
// was not running it) would only take space. Disabled origins keep theirs.
void forget_stale_indexes(StateStore& store, const std::string& mp, const std::vector<OriginConfig>& catalog) {
  auto indexed = store.indexed_origins(mp);
  if (!indexed) {
    spdlog::warn("cannot list the persisted indexes of {}: {}", mp, indexed.error().message);
    return;
  }
  for (const auto& id : *indexed) {
    bool known = std::any_of(catalog.begin(), catalog.end(), [&](const OriginConfig& o) { return o.id == id; });
    if (!known) store.forget_index(mp, id);
  }
}
// A FUSE mount whose daemon died (kill -9) stays in the mount table and answers
// ENOTCONN. statfs is never answered from the kernel's attribute cache, so it tells a
// dead mount from a live one; a dead one is detached so the mount point can be reused.
void detach_if_dead(const std::string& mp) {
  struct statfs sf {};
  if (::statfs(mp.c_str(), &sf) == 0 || errno != ENOTCONN) return;
  spdlog::info("detaching the dead FUSE mount left at {}", mp);
  if (::umount2(mp.c_str(), MNT_DETACH) == 0) return;
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close_range(3, ~0U, 0);  // nothing of the daemon's but its standard streams
    ::execlp("fusermount3", "fusermount3", "-u", "-z", "--", mp.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (pid > 0) ::waitpid(pid, &status, 0);
}
}  // namespace

void apply_allow_other_option(Config& config) {
  if (config.allow_other) return;  // the file says so already: its line is the better reference
  config.allow_other = true;
  config.allow_other_line = 0;
  config.allow_other_from_options = true;
}

std::string canonical_mount_point(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return buf;
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Mount::~Mount() {
  // Origin waits end first, so that no FUSE request holds the unmount.
  if (federation) federation->cancel();
  fuse.reset();
  if (federation) federation->stop();
}

Result<MountPtr> MountTable::mount(Config config) {
  std::lock_guard op(op_mu_);
  if (auto s = check_mount_point(config); !s) return s.take_error();
  config.mount_point = canonical_mount_point(config.mount_point);
  const std::string mp = config.mount_point;
  if (MountPtr existing = find(mp)) {
    // The same config mounted again (a retry, or a daemon that restored it after a
    // crash) is already what the caller wants.
    if (existing->config.source_path == config.source_path) return existing;
    return make_error(ErrorCode::kExists, "mount point " + mp + " is already mounted by this daemon (config " +
                                              existing->config.source_path + ")");
  }
  detach_if_dead(mp);
  if (is_mount_point(mp)) {
    return make_error(ErrorCode::kExists, "mount point " + mp + " is busy: another filesystem is mounted there");
  }
  std::vector<OriginConfig> catalog = config.origins;
  if (store_) {
    auto rows = store_->runtime_origins(mp);
    if (!rows) return rows.take_error();
    catalog = merge_origins(config.origins, *rows);
  }

  // Every enabled origin must be mountable before anything is mounted.
  for (const auto& o : catalog) {
    if (!o.enabled) continue;
    const OriginTypeInfo* info = find_origin_type(o.type);
    if (info == nullptr || !info->create) {
      const std::string where = config_location(config.source_path, o.source_line);
      return make_error(ErrorCode::kUnsupported, where + ": origin '" + o.id + "' has origin_type '" + o.type +
                                                     "', which this version of musicfs cannot mount yet "
                                                     "(set enabled = false for it)");
    }
  }

  auto cache = cache_for(config);
  if (!cache) return cache.error().with_context("mount " + mp);

  auto m = std::make_shared<Mount>();
  m->cache = *cache;
  m->config = config;
  m->catalog = catalog;
  m->mounted_at = unix_now();
  m->invalidator = std::make_shared<KernelInvalidator>();
  auto notifiers = NotifierSet::create(mp, config, events_);
  if (!notifiers) return notifiers.error().with_context(config_location(config.source_path, 0));
  m->notifiers = std::move(*notifiers);
  FederationOptions opts;
  // Always fed, even with no [[notify]] yet: a reload may add some.
  opts.on_dirs_changed = [n = m->notifiers](const std::vector<std::string>& dirs) { n->push(dirs); };
  opts.decorate = decorate_;
  opts.cache = m->cache;
  opts.invalidate = [inv = m->invalidator](const std::string& p) { inv->invalidate(p); };
  if (!config.layout.empty()) {
    auto layout = LayoutTemplate::parse(config.layout);
    if (!layout) return layout.error().with_context(config_location(config.source_path, config.layout_line));
    opts.layout = std::move(*layout);
  }
  if (m->cache) {
    // A file that changed at its origin is a new version: its old chunks can never be
    // served again, so they go now rather than waiting for LRU eviction. "/" means the
    // origin left the mount for good.
    opts.on_file_changed = [cache = m->cache, mp](const std::string& origin, const std::string& path) {
      if (path == "/") {
        cache->clear(mp, origin);
      } else {
        cache->invalidate(mp, origin, path);
      }
    };
  }
  if (store_) {
    opts.on_health_check = [store = store_, mp](const OriginRuntime& rt, const Status& s, uint32_t us) {
      store->record_health_check({unix_now_precise(), mp, rt.config.id, s.ok(), us / 1000.0,
                                  s.ok() ? std::string() : s.error().message});
    };
    opts.on_state_change = [store = store_, mp](const OriginRuntime& rt) {
      store->save_origin_state(mp, rt.config.id, rt.health());
    };
    opts.index_store = std::make_shared<StateIndexStore>(*store_, mp);
    forget_stale_indexes(*store_, mp, catalog);
  }
  // Recorded before the origins start indexing: a synchronous write waits for the
  // writer to go idle, and a first listing of a large library keeps it busy for long.
  if (store_) {
    if (auto s = store_->save_mount({mp, config.source_path, config.allow_other_from_options}); !s) {
      spdlog::warn("cannot persist mount: {}", s.error().message);
    }
  }
  auto forget_on_error = [&](Error e) -> Error {
    if (store_) (void)store_->forget_mount(mp);
    return e;
  };
  m->federation = std::make_unique<Federation>(mp, config.health, events_, opts);
  for (const auto& o : catalog) {
    if (!o.enabled) continue;
    std::optional<HealthState> restored;
    if (store_) {
      if (auto st = store_->origin_state(mp, o.id); st && *st) restored = **st;
    }
    if (auto s = m->federation->add_origin(o, restored); !s) {
      // An origin type checks some settings only when it is built (an http url, an
      // s3 bucket): an origin from the file is named by its place there, like any
      // other key; one added at run time has no place to name.
      const std::string where = o.source_line > 0 ? config_location(config.source_path, o.source_line) : "mount " + mp;
      return forget_on_error(s.error().with_context(where));
    }
  }
  auto host = FuseHost::mount(mp, *m->federation, m->invalidator, m->config.allow_other,
                              m->config.allow_other_from_options
                                  ? std::string("mount -o")
                                  : config_location(m->config.source_path, m->config.allow_other_line));
  if (!host) return forget_on_error(host.take_error());
  m->fuse = std::move(*host);
  m->federation->start();

  {
    std::lock_guard lock(mu_);
    mounts_[mp] = m;
  }
  events_.record({0, 0, "mount", mp, "", "", "mounted " + std::to_string(m->federation->origins()->size()) +
                                                  " origin(s) from " + config.source_path});
  return m;
}

Result<MountPtr> MountTable::mount_file(const std::string& path) {
  auto config = parse_config_file(path);
  if (!config) return config.take_error();
  return mount(std::move(*config));
}

Result<std::shared_ptr<ContentCache>> MountTable::cache_for(const Config& config) {
  const uint64_t capacity = config.cache.content_cache_bytes();
  if (capacity == 0) return std::shared_ptr<ContentCache>();  // passthrough
  std::string dir = config.cache_dir;
  std::error_code ec;
  // A new cache directory is private: it holds the user's music and its paths.
  if (std::filesystem::create_directories(dir, ec)) ::chmod(dir.c_str(), 0700);
  if (ec) return make_error(ErrorCode::kIo, "cannot create cache_dir " + dir + ": " + ec.message());
  dir = canonical_mount_point(dir);
  if (auto it = caches_.find(dir); it != caches_.end()) {
    if (auto shared = it->second.lock()) return shared;
  }
  ContentCache::Options o;
  o.dir = dir;
  o.capacity_bytes = capacity;
  auto opened = ContentCache::open(o);
  if (!opened) return opened.take_error();
  if (const auto& reset = (*opened)->reset_reason()) {
    events_.record({0, 0, "cache_reset", config.mount_point, "", dir + "/cache.db", "content cache " + dir + ": " + *reset});
  }
  caches_[dir] = *opened;
  return *opened;
}

Status MountTable::unmount(const std::string& mount_point, const std::string& why) {
  std::lock_guard op(op_mu_);
  std::string mp = canonical_mount_point(mount_point);
  MountPtr m;
  {
    std::lock_guard lock(mu_);
    auto it = mounts_.find(mp);
    if (it == mounts_.end()) it = mounts_.find(mount_point);
    if (it == mounts_.end()) return make_error(ErrorCode::kNotFound, mount_point + " is not mounted by this daemon");
    m = it->second;
    mounts_.erase(it);
    // Recorded under the same lock that takes the mount out of the table, so that a
    // client who sees the mount gone from `status` also finds its unmount event.
    events_.record({0, 0, "unmount", m->config.mount_point, "", "", why});
  }
  // Reads waiting on a hung origin end at once; then the FUSE loop can stop.
  m->federation->cancel();
  m->fuse.reset();
  m->federation->stop();
  if (store_) (void)store_->forget_mount(m->config.mount_point);
  return {};
}

void MountTable::cancel_all() {
  for (const auto& m : list()) m->federation->cancel();
}

void MountTable::unmount_all() {
  for (const auto& m : list()) (void)unmount(m->config.mount_point, "daemon stopping");
}

void MountTable::reap() {
  std::vector<std::string> gone;
  for (const auto& m : list()) {
    if (m->fuse && !m->fuse->alive()) gone.push_back(m->config.mount_point);
  }
  for (const auto& mp : gone) {
    spdlog::info("{} was unmounted from outside the daemon", mp);
    (void)unmount(mp, "unmounted from outside (fusermount3 -u or umount)");
  }
}

void MountTable::restore_after_crash() {
  if (!store_) return;
  auto stored = store_->mounts();
  if (!stored) {
    spdlog::warn("cannot read stored mounts: {}", stored.error().message);
    return;
  }
  for (const auto& sm : *stored) {
    // Before the config is read: its check of mount_point stats the directory, and the
    // dead mount the killed daemon left there answers ENOTCONN.
    detach_if_dead(sm.mount_point);
    auto config = parse_config_file(sm.config_path);
    if (!config) {
      spdlog::warn("not restoring {}: {}", sm.mount_point, config.error().message);
      (void)store_->forget_mount(sm.mount_point);
      continue;
    }
    config->mount_point = sm.mount_point;
    if (sm.allow_other) apply_allow_other_option(*config);
    auto m = mount(std::move(*config));
    if (!m) {
      spdlog::warn("not restoring {}: {}", sm.mount_point, m.error().message);
    } else {
      spdlog::info("restored mount {} after an unclean shutdown", sm.mount_point);
    }
  }
}

std::vector<OriginConfig> merge_origins(const std::vector<OriginConfig>& from_config,
                                        const std::vector<RuntimeOriginRow>& runtime) {
  std::vector<OriginConfig> out = from_config;
  auto find = [&](const std::string& id) {
    return std::find_if(out.begin(), out.end(), [&](const OriginConfig& o) { return o.id == id; });
  };
  for (const auto& r : runtime) {
    auto it = find(r.id);
    if (r.removed) {
      if (it != out.end()) out.erase(it);
      continue;
    }
    if (r.definition) {
      if (it != out.end()) {
        *it = *r.definition;
      } else {
        out.push_back(*r.definition);
        it = out.end() - 1;
      }
    }
    if (r.enabled && it != out.end()) it->enabled = *r.enabled;
  }
  return out;
}

MountPtr MountTable::find(const std::string& mount_point) const {
  std::lock_guard lock(mu_);
  auto it = mounts_.find(mount_point);
  if (it == mounts_.end()) it = mounts_.find(canonical_mount_point(mount_point));
  return it == mounts_.end() ? nullptr : it->second;
}

Result<MountPtr> MountTable::resolve(const std::string& mount_point) const {
  if (!mount_point.empty()) {
    if (auto m = find(mount_point)) return m;
    return make_error(ErrorCode::kNotFound, mount_point + " is not mounted by this daemon");
  }
  auto all = list();
  if (all.empty()) return make_error(ErrorCode::kNotFound, "nothing is mounted (musicfsctl mount --config FILE)");
  if (all.size() > 1) {
    return make_error(ErrorCode::kInvalidArgument, "several mounts are active; name one with --mount");
  }
  return all.front();
}

std::vector<MountPtr> MountTable::list() const {
  std::lock_guard lock(mu_);
  std::vector<MountPtr> out;
  for (const auto& [k, v] : mounts_) out.push_back(v);
  return out;
}

}  // namespace musicfs
