// MountTable::reload: a config file read again (SIGHUP) is applied to the mount it
// describes without unmounting it. Only the origins and notifiers change live; a new
// mount point or layout mounts it again; see mount_table.h.
#include <spdlog/spdlog.h>

#include "mount_table.h"

#include "config/config_parser.h"

namespace musicfs {

namespace {
// Two definitions of one origin are the same when everything that is mounted is:
// where in the file it is written (source_line) does not count.
bool same_definition(const OriginConfig& a, const OriginConfig& b) {
  return a.id == b.id && a.type == b.type && a.priority == b.priority && a.enabled == b.enabled &&
         a.caches_content() == b.caches_content() && a.settings == b.settings;
}

// The same for a notifier: its type and keys; not where it is written.
bool same_notifiers(const std::vector<NotifyConfig>& a, const std::vector<NotifyConfig>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].type != b[i].type || a[i].debounce_ms != b[i].debounce_ms || a[i].settings != b[i].settings ||
        a[i].command != b[i].command) {
      return false;
    }
  }
  return true;
}

const OriginConfig* by_id(const std::vector<OriginConfig>& list, const std::string& id) {
  for (const auto& o : list) {
    if (o.id == id) return &o;
  }
  return nullptr;
}

std::string join(const std::vector<std::string>& ids) {
  std::string out;
  for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
  return out;
}
}  // namespace

Result<std::string> MountTable::reload(Config config) {
  MountPtr current;
  for (const auto& m : list()) {
    if (m->config.source_path == config.source_path) current = m;
  }
  if (!current) {
    auto m = mount(std::move(config));
    if (!m) return m.take_error();
    return "mounted " + (*m)->config.mount_point;
  }
  if (config.mount_point.empty()) config.mount_point = current->config.mount_point;
  if (auto s = check_mount_point(config); !s) return s.take_error();
  const std::string mp = canonical_mount_point(config.mount_point);
  if (mp != current->config.mount_point) {
    // A new mount point is a new mount: the old one goes, the new one must come up.
    const std::string old_mp = current->config.mount_point;
    current.reset();
    if (auto s = unmount(old_mp, "config reloaded: mount_point is now " + mp); !s) return s.take_error();
    auto m = mount(std::move(config));
    if (!m) return m.take_error();
    return "moved " + old_mp + " to " + mp;
  }
  if (config.layout != current->config.layout) {
    // A new layout is a new tree: every path the kernel and the programs reading the
    // mount hold would be wrong. Mounted again, as for a new mount point.
    current.reset();
    if (auto s = unmount(mp, "config reloaded: the layout changed"); !s) return s.take_error();
    auto m = mount(std::move(config));
    if (!m) return m.take_error();
    return "remounted " + mp + " with the new layout";
  }

  std::lock_guard op(op_mu_);
  // The notifiers first: built before anything changes, so that a table that cannot
  // be built fails the reload with the mount as it was.
  std::unique_ptr<NotifierSet> notifiers;
  if (!same_notifiers(current->config.notify, config.notify)) {
    auto made = NotifierSet::create(mp, config, events_);
    if (!made) return made.error().with_context(config_location(config.source_path, 0));
    notifiers = std::move(*made);
  }
  std::vector<OriginConfig> catalog = config.origins;
  if (store_) {
    auto rows = store_->runtime_origins(mp);
    if (!rows) return rows.take_error();
    catalog = merge_origins(config.origins, *rows);
  }
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;
  {
    std::lock_guard lock(current->catalog_mu);
    Federation& fed = *current->federation;
    for (const auto& old : current->catalog) {
      const OriginConfig* now = by_id(catalog, old.id);
      if (now != nullptr && same_definition(old, *now)) continue;
      // A changed origin is rebuilt: its persisted index described the old definition.
      if (old.enabled) (void)fed.remove_origin(old.id);
      (now == nullptr ? removed : changed).push_back(old.id);
    }
    for (const auto& now : catalog) {
      const OriginConfig* old = by_id(current->catalog, now.id);
      if (old != nullptr && same_definition(*old, now)) continue;
      if (old == nullptr) added.push_back(now.id);
      if (!now.enabled) continue;
      if (auto s = fed.add_origin(now); !s) {
        // The others are applied; this one stays out, and the reload says why.
        spdlog::warn("reload {}: origin {}: {}", config.source_path, now.id, s.error().message);
        return s.error().with_context(config_location(config.source_path, now.source_line));
      }
    }
    current->catalog = catalog;
    current->config.origins = config.origins;
  }
  if (notifiers) {
    current->notifiers->replace_with(std::move(*notifiers));
    current->config.notify = config.notify;
  }
  std::string summary = "reloaded " + config.source_path;
  if (added.empty() && removed.empty() && changed.empty() && !notifiers) {
    summary += ": nothing changed";
  } else {
    if (!added.empty()) summary += "; added " + join(added);
    if (!removed.empty()) summary += "; removed " + join(removed);
    if (!changed.empty()) summary += "; changed " + join(changed);
    if (notifiers) summary += "; notifiers now " + std::to_string(config.notify.size());
  }
  events_.record({0, 0, "config_reloaded", mp, "", "", summary});
  return summary;
}

}  // namespace musicfs
