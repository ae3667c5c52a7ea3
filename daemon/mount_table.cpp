#include "mount_table.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <climits>
#include <cstdlib>
#include <thread>

#include "config/config_parser.h"
#include "origins/origin_types.h"
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
}  // namespace

std::string canonical_mount_point(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) != nullptr) return buf;
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  return p;
}

Mount::~Mount() {
  fuse.reset();
  if (federation) federation->stop();
}

Result<MountPtr> MountTable::mount(Config config) {
  std::lock_guard op(op_mu_);
  if (auto s = check_mount_point(config); !s) return s.take_error();
  config.mount_point = canonical_mount_point(config.mount_point);
  const std::string mp = config.mount_point;
  if (find(mp)) return make_error(ErrorCode::kExists, "mount point " + mp + " is already mounted by this daemon");
  if (is_mount_point(mp)) {
    return make_error(ErrorCode::kExists, "mount point " + mp + " is busy: another filesystem is mounted there");
  }
  // Every enabled origin must be mountable before anything is mounted.
  for (const auto& o : config.origins) {
    if (!o.enabled) continue;
    const OriginTypeInfo* info = find_origin_type(o.type);
    if (info == nullptr || !info->create) {
      std::string where = config.source_path + (o.source_line > 0 ? ":" + std::to_string(o.source_line) : "");
      return make_error(ErrorCode::kUnsupported, where + ": origin '" + o.id + "' has origin_type '" + o.type +
                                                     "', which this version of musicfs cannot mount yet "
                                                     "(set enabled = false for it)");
    }
  }

  auto m = std::make_shared<Mount>();
  m->config = config;
  m->mounted_at = unix_now();
  m->invalidator = std::make_shared<KernelInvalidator>();
  FederationOptions opts;
  opts.decorate = decorate_;
  opts.invalidate = [inv = m->invalidator](const std::string& p) { inv->invalidate(p); };
  m->federation = std::make_unique<Federation>(mp, config.health, events_, opts);
  for (const auto& o : config.origins) {
    if (!o.enabled) continue;
    if (auto s = m->federation->add_origin(o); !s) return s.error().with_context("mount " + mp);
  }
  auto host = FuseHost::mount(mp, *m->federation, m->invalidator);
  if (!host) return host.take_error();
  m->fuse = std::move(*host);
  m->federation->start();

  {
    std::lock_guard lock(mu_);
    mounts_[mp] = m;
  }
  events_.record({0, 0, "mount", mp, "", "", "mounted " + std::to_string(config.origins.size()) + " origin(s) from " +
                                                  config.source_path});
  return m;
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
  }
  m->fuse.reset();
  m->federation->stop();
  events_.record({0, 0, "unmount", m->config.mount_point, "", "", why});
  return {};
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
