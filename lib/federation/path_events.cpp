#include "federation/path_events.h"

#include "util/virtual_path.h"

namespace musicfs {

namespace {
const char* kind_name(TreeChange::Kind k) {
  switch (k) {
    case TreeChange::Kind::kAdded: return "path_added";
    case TreeChange::Kind::kChanged: return "path_changed";
    case TreeChange::Kind::kRemoved: return "path_removed";
  }
  return "path_changed";
}

const char* verb(const std::string& kind) {
  if (kind == "path_added") return "added";
  if (kind == "path_removed") return "removed";
  return "changed";
}

bool is_below(const std::string& path, const std::string& dir) {
  if (dir == "/") return path != "/";
  return path.size() > dir.size() && path.compare(0, dir.size(), dir) == 0 && path[dir.size()] == '/';
}

std::string rescan_dir(const TreeChange& c) {
  if (c.kind == TreeChange::Kind::kAdded && c.attr.type == EntryType::kDirectory) return c.path;
  return std::string(split_parent(c.path).first);
}

// A directory whose mtime or mode moved changed only because its entries did, and
// those are reported themselves; reporting it too would rescan its parent.
bool reportable(const TreeChange& c) {
  if (c.path.empty() || c.path == "/") return false;
  return !(c.kind == TreeChange::Kind::kChanged && c.attr.type == EntryType::kDirectory && !c.content_changed);
}
}  // namespace

std::vector<std::string> outermost_directories(std::set<std::string> dirs) {
  std::vector<std::string> out;
  // Sorted, a directory comes before everything below it, though not always right
  // before ("/a" < "/a b" < "/a/c"): compare against every kept one that could hold it.
  for (const auto& d : dirs) {
    bool covered = false;
    for (const auto& kept : out) {
      if (is_below(d, kept)) {
        covered = true;
        break;
      }
    }
    if (!covered) out.push_back(d);
  }
  return out;
}

std::vector<std::string> directories_to_rescan(const TreeChanges& changes) {
  std::set<std::string> dirs;
  for (const auto& c : changes) {
    if (reportable(c)) dirs.insert(rescan_dir(c));
  }
  return outermost_directories(std::move(dirs));
}

PathEventFeed::PathEventFeed(std::string mount_point, EventLog& events, DirsSink sink, Options options)
    : mount_point_(std::move(mount_point)), events_(events), sink_(std::move(sink)), options_(options) {
  thread_ = std::thread([this] { loop(); });
}

PathEventFeed::~PathEventFeed() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
  flush();
}

void PathEventFeed::add(const std::string& origin, const TreeChanges& changes) {
  bool any = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& c : changes) {
      if (!reportable(c)) continue;
      auto [dir, name] = split_parent(c.path);
      Group& g = pending_.groups[Key{kind_name(c.kind), origin, std::string(dir)}];
      g.only_path = g.count == 0 ? c.path : std::string();
      ++g.count;
      if (g.names.size() < kMaxEventNames) g.names.emplace_back(name);
      pending_.dirs.insert(rescan_dir(c));
      any = true;
    }
    if (!any) return;
    auto now = std::chrono::steady_clock::now();
    if (first_ == std::chrono::steady_clock::time_point{}) first_ = now;
    last_ = now;
  }
  cv_.notify_all();
}

void PathEventFeed::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    if (pending_.groups.empty()) {
      cv_.wait(lock);
      continue;
    }
    auto due = std::min(last_ + options_.quiet, first_ + options_.max_hold);
    if (std::chrono::steady_clock::now() < due) {
      cv_.wait_until(lock, due);
      continue;
    }
    lock.unlock();
    flush();
    lock.lock();
  }
}

void PathEventFeed::flush() {
  std::lock_guard emitting(emit_mu_);
  Pending taken;
  {
    std::lock_guard lock(mu_);
    taken = std::move(pending_);
    pending_ = {};
    first_ = last_ = {};
  }
  emit(std::move(taken));
}

void PathEventFeed::emit(Pending pending) {
  if (pending.groups.empty()) return;
  for (auto& [key, g] : pending.groups) {
    const auto& [kind, origin, dir] = key;
    Event e;
    e.kind = kind;
    e.mount = mount_point_;
    e.origin = origin;
    e.count = g.count;
    if (g.count == 1) {
      e.path = g.only_path;
      e.message = verb(kind);
    } else {
      e.path = dir;
      e.message = std::to_string(g.count) + " entries " + verb(kind) + ":";
      for (const auto& n : g.names) e.message += " " + n;
      if (g.count > static_cast<int64_t>(g.names.size())) e.message += " ...";
    }
    e.names = std::move(g.names);
    events_.record(std::move(e));
  }
  if (sink_) sink_(outermost_directories(std::move(pending.dirs)));
}

}  // namespace musicfs
