#include "federation/layout_index.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "federation/router.h"
#include "tags/tag_reader.h"
#include "util/time_util.h"
#include "util/virtual_path.h"

namespace musicfs {

namespace {
// Several files at once: a remote origin's latency, not its bandwidth, bounds a tag
// scan (each file costs a few small ranged reads). BoundedOrigin caps what reaches
// one origin at a time anyway.
constexpr size_t kReaders = 4;
// How long a round reads before the next one publishes what it found.
constexpr auto kSlice = std::chrono::seconds(1);
// With nothing to do, how often a round looks at the tree anyway (a change the
// indexer reported by poke() is looked at at once).
constexpr auto kTick = std::chrono::seconds(2);
// A read that failed is tried again this many rounds later.
constexpr uint64_t kRetryRounds = 5;

std::string failure_key(const std::string& origin, const std::string& path) { return origin + '\n' + path; }

struct FileHolders {
  std::string path;
  std::vector<Replica> replicas;
};

// The holders of a path in the order the router would try them.
std::vector<OriginRuntimePtr> ranked_holders(const std::vector<Replica>& replicas,
                                             const std::map<OriginSlot, std::pair<size_t, OriginRuntimePtr>>& by_slot) {
  std::vector<std::pair<size_t, OriginRuntimePtr>> found;
  for (const auto& r : replicas) {
    if (auto it = by_slot.find(r.slot); it != by_slot.end()) found.push_back(it->second);
  }
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<OriginRuntimePtr> out;
  for (auto& f : found) out.push_back(std::move(f.second));
  return out;
}

std::map<OriginSlot, std::pair<size_t, OriginRuntimePtr>> rank_by_slot(const OriginList& origins) {
  std::map<OriginSlot, OriginRuntimePtr> rt_of;
  for (const auto& rt : origins) rt_of[rt->slot] = rt;
  std::map<OriginSlot, std::pair<size_t, OriginRuntimePtr>> out;
  size_t rank = 0;
  for (OriginSlot s : rank_origins(origins)) {
    if (auto it = rt_of.find(s); it != rt_of.end()) out[s] = {rank++, it->second};
  }
  return out;
}

const EntryAttr* attr_at(const std::vector<Replica>& replicas, OriginSlot slot) {
  for (const auto& r : replicas) {
    if (r.slot == slot) return &r.attr;
  }
  return nullptr;
}
}  // namespace

LayoutIndex::LayoutIndex(LayoutTemplate tmpl, const VirtualTree& tree, const OriginRegistry& registry,
                         const IndexGate& gate, LayoutIndexHooks hooks, std::chrono::milliseconds read_timeout)
    : template_(std::move(tmpl)),
      tree_(tree),
      registry_(registry),
      gate_(gate),
      hooks_(std::move(hooks)),
      read_timeout_(read_timeout),
      view_(LayoutTree::build(template_, {}, nullptr, unix_now())) {
  thread_ = std::thread([this] { loop(); });
}

LayoutIndex::~LayoutIndex() { stop(); }

void LayoutIndex::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<const LayoutTree> LayoutIndex::view() const {
  std::lock_guard lock(mu_);
  return view_;
}

bool LayoutIndex::await_first(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return published_ || stopping_; }) && published_;
}

bool LayoutIndex::wait_settled(std::chrono::milliseconds timeout) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return (settled_ && !poked_) || stopping_; }) && settled_;
}

void LayoutIndex::poke() {
  {
    std::lock_guard lock(mu_);
    poked_ = true;
    settled_ = false;
  }
  cv_.notify_all();
}

void LayoutIndex::path_changed(const std::string& source_path) {
  if (hooks_.invalidate) {
    if (source_path == "/") hooks_.invalidate("/");
    for (const auto& v : view()->vpaths_of(source_path)) hooks_.invalidate(v);
  }
  poke();
}

void LayoutIndex::origin_removed(const std::string& id) {
  {
    std::lock_guard lock(mu_);
    tags_.erase(id);
    loaded_.erase(id);
  }
  poke();
}

TagProgress LayoutIndex::progress() const {
  std::lock_guard lock(mu_);
  return progress_;
}

const TagRecord* LayoutIndex::find_tags(const std::string& origin, const std::string& path) const {
  auto o = tags_.find(origin);
  if (o == tags_.end()) return nullptr;
  auto t = o->second.find(path);
  return t == o->second.end() ? nullptr : &t->second;
}

std::optional<PlacedTags> LayoutIndex::tags_of(const std::string& source_path) const {
  auto origins = registry_.snapshot();
  const auto replicas = tree_.replicas(source_path);
  std::lock_guard lock(mu_);
  for (const auto& rt : ranked_holders(replicas, rank_by_slot(*origins))) {
    const EntryAttr* a = attr_at(replicas, rt->slot);
    const TagRecord* t = find_tags(rt->config.id, source_path);
    if (a != nullptr && t != nullptr && t->same_version(*a)) return PlacedTags{rt->config.id, source_path, *t};
  }
  return std::nullopt;
}

void LayoutIndex::loop() {
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, kTick, [&] { return stopping_ || poked_; });
      if (stopping_) return;
      poked_ = false;
    }
    if (!gate_.is_open()) {
      // The persisted index is still loading (or the first listings running): a
      // layout of half a tree would show albums with tracks missing.
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(50), [&] { return stopping_; });
      poked_ = true;
      continue;
    }
    auto jobs = round();
    if (jobs.empty()) {
      {
        std::lock_guard lock(mu_);
        settled_ = !poked_;
        ever_settled_ = true;
      }
      cv_.notify_all();
      continue;
    }
    read_tags_of(jobs, SteadyClock::now() + kSlice);
    std::lock_guard lock(mu_);
    poked_ = true;  // publish what was read, then read on
  }
}

std::vector<LayoutIndex::TagJob> LayoutIndex::round() {
  auto origins = registry_.snapshot();
  for (const auto& rt : *origins) {
    const std::string& id = rt->config.id;
    {
      std::lock_guard lock(mu_);
      if (loaded_.count(id) != 0) continue;
    }
    OriginTags loaded;
    if (hooks_.store) {
      auto r = hooks_.store->load_tags(id, [&](TagRecord&& t) {
        std::string p = t.path;
        loaded.emplace(std::move(p), std::move(t));
      });
      if (!r) spdlog::warn("layout: cannot load the persisted tags of {}: {}", id, r.error().message);
    }
    std::lock_guard lock(mu_);
    auto& into = tags_[id];
    for (auto& [p, t] : loaded) into.try_emplace(p, std::move(t));
    loaded_.insert(id);
    ++tags_added_;
  }

  const uint64_t changes = tree_.change_count();
  std::vector<FileHolders> files;
  tree_.for_each_file([&](const std::string& p, const std::vector<Replica>& r) { files.push_back({p, r}); });
  const auto by_slot = rank_by_slot(*origins);

  std::vector<LayoutSource> sources;
  sources.reserve(files.size());
  std::vector<TagJob> jobs;
  TagProgress progress;
  std::unique_lock lock(mu_);
  ++round_no_;
  for (auto& f : files) {
    auto holders = ranked_holders(f.replicas, by_slot);
    if (holders.empty()) continue;
    LayoutSource s;
    s.attr = *attr_at(f.replicas, holders.front()->slot);
    s.is_audio = has_tag_format(split_parent(f.path).second);
    if (s.is_audio) {
      ++progress.total;
      for (const auto& rt : holders) {
        const TagRecord* t = find_tags(rt->config.id, f.path);
        const EntryAttr* a = attr_at(f.replicas, rt->slot);
        if (t != nullptr && t->same_version(*a)) {
          s.tags = t->readable ? t->tags : TrackTags{};
          s.attr = *a;
          break;
        }
      }
      if (s.tags) {
        ++progress.tagged;
      } else {
        // From the best holder that did not just fail; all failed: wait for a retry.
        for (const auto& rt : holders) {
          auto failed = failed_until_round_.find(failure_key(rt->config.id, f.path));
          if (failed != failed_until_round_.end() && failed->second > round_no_) continue;
          jobs.push_back({f.path, rt, *attr_at(f.replicas, rt->slot)});
          break;
        }
      }
    }
    s.path = std::move(f.path);
    sources.push_back(std::move(s));
  }
  progress_ = progress;
  const bool rebuild = changes != built_from_changes_ || tags_added_ != built_from_tags_;
  built_from_changes_ = changes;
  built_from_tags_ = tags_added_;
  auto previous = view_;
  lock.unlock();
  if (rebuild) publish(LayoutTree::build(template_, std::move(sources), previous.get(), unix_now()));
  return jobs;
}

void LayoutIndex::read_tags_of(const std::vector<TagJob>& jobs, SteadyClock::time_point slice_end) {
  std::atomic<size_t> next{0};
  std::mutex out_mu;
  std::map<std::string, std::vector<TagRecord>> learned;  // origin id -> records
  auto worker = [&] {
    for (;;) {
      {
        std::lock_guard lock(mu_);
        if (stopping_) return;
      }
      if (SteadyClock::now() >= slice_end) return;
      const size_t i = next.fetch_add(1);
      if (i >= jobs.size()) return;
      const TagJob& job = jobs[i];
      const Deadline deadline = SteadyClock::now() + read_timeout_;
      TagRecord rec;
      rec.path = job.path;
      rec.size = job.attr.size;
      rec.mtime_sec = job.attr.mtime_sec;
      rec.mtime_nsec = job.attr.mtime_nsec;
      Status failure;
      auto file = job.holder->origin->open(job.path, deadline);
      if (!file) {
        failure = Status(file.take_error());
      } else {
        auto tags = read_tags(**file, job.attr.size, split_parent(job.path).second, deadline);
        if (tags) {
          rec.tags = std::move(*tags);
        } else if (tags.error().code == ErrorCode::kInvalidArgument) {
          rec.readable = false;  // not audio TagLib can parse: filed as untagged
          spdlog::info("layout: {} on {}: {}; filed as untagged", job.path, job.holder->config.id,
                       tags.error().message);
        } else {
          failure = Status(tags.take_error());
        }
      }
      if (!failure) {
        spdlog::debug("layout: cannot read the tags of {} on {}: {}", job.path, job.holder->config.id,
                      failure.error().message);
        std::lock_guard lock(mu_);
        failed_until_round_[failure_key(job.holder->config.id, job.path)] = round_no_ + kRetryRounds;
        continue;
      }
      {
        std::lock_guard lock(mu_);
        failed_until_round_.erase(failure_key(job.holder->config.id, job.path));
        tags_[job.holder->config.id][job.path] = rec;
        ++tags_added_;
      }
      std::lock_guard lock(out_mu);
      learned[job.holder->config.id].push_back(std::move(rec));
    }
  };
  std::vector<std::thread> readers;
  for (size_t i = 0; i < std::min(kReaders, jobs.size()); ++i) readers.emplace_back(worker);
  for (auto& t : readers) t.join();
  if (hooks_.store) {
    for (auto& [origin, records] : learned) hooks_.store->save_tags(origin, std::move(records));
  }
}

void LayoutIndex::publish(std::shared_ptr<const LayoutTree> next) {
  std::shared_ptr<const LayoutTree> before;
  bool first = false;
  bool report = false;
  {
    std::lock_guard lock(mu_);
    before = view_;
    first = !published_;
    view_ = next;
    published_ = true;
    // The first fill of an empty layout is a mount's cold start, as a first listing
    // is for the path tree: whoever reads the mount scans it whole anyway.
    report = !first && ever_settled_;
  }
  cv_.notify_all();
  if (first) return;
  const LayoutDiff d = diff(before.get(), *next);
  if (hooks_.invalidate) {
    for (const auto& p : d.removed) hooks_.invalidate(p);
    for (const auto& p : d.added) hooks_.invalidate(p);
    for (const auto& p : d.dirs_changed) hooks_.invalidate(p);
  }
  if (!report || hooks_.feed == nullptr) return;
  TreeChanges changes;
  for (const auto& p : d.removed) changes.push_back({TreeChange::Kind::kRemoved, p, {}, true});
  for (const auto& p : d.added) {
    TreeChange c{TreeChange::Kind::kAdded, p, {}, true};
    if (const std::string* src = next->source_of(p)) {
      for (const auto& r : tree_.replicas(*src)) {
        c.attr = r.attr;
        break;
      }
    }
    changes.push_back(std::move(c));
  }
  if (!changes.empty()) hooks_.feed->add("", changes);
}

}  // namespace musicfs
