#include "cache/content_cache.h"

#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <fcntl.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "sqlite/db_recovery.h"

namespace musicfs {

namespace {
int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How often LRU positions are written back to the catalog (they only order eviction
// after a restart, so losing the last interval to a crash costs nothing important).
constexpr auto kTouchFlushInterval = std::chrono::seconds(30);
}  // namespace

ContentCache::ContentCache(Options options)
    : options_(std::move(options)), files_(options_.dir), capacity_(options_.capacity_bytes) {}

Result<std::shared_ptr<ContentCache>> ContentCache::open(Options options) {
  std::shared_ptr<ContentCache> cache(new ContentCache(std::move(options)));
  const std::string& dir = cache->options_.dir;
  if (auto s = cache->files_.prepare(); !s) return s.take_error();
  std::string lock_path = dir + "/lock";
  cache->lock_fd_ = UniqueFd(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!cache->lock_fd_.valid()) return Error::from_errno(errno, "content cache: open " + lock_path);
  if (::flock(cache->lock_fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    return make_error(ErrorCode::kExists, "content cache directory " + dir +
                                              " is in use by another musicfs daemon (set a different cache_dir)");
  }
  std::vector<ChunkRecord> records;
  if (auto s = cache->open_catalog(records); !s) return s.error().with_context("content cache " + dir);
  std::sort(records.begin(), records.end(),
            [](const ChunkRecord& a, const ChunkRecord& b) { return a.last_access_us > b.last_access_us; });
  for (auto& r : records) {
    auto c = std::make_unique<Chunk>();
    c->record = std::move(r);
    cache->lru_.push_back(c.get());
    c->lru = std::prev(cache->lru_.end());
    cache->used_bytes_ += c->record.length;
    cache->by_file_[key_of(c->record.version)].insert(c->record.name);
    ++cache->segment_refs_[c->record.segment];
    std::string name = c->record.name;
    cache->chunks_.emplace(std::move(name), std::move(c));
  }
  spdlog::info("content cache {}: {} chunks, {} bytes of {}", dir, cache->chunks_.size(), cache->used_bytes_,
               cache->capacity_);
  cache->writer_ = std::thread([c = cache.get()] { c->writer_loop(); });
  return cache;
}

Status ContentCache::open_catalog(std::vector<ChunkRecord>& records) {
  const std::string db_path = options_.dir + "/cache.db";
  // The cache only holds copies: a damaged catalog costs refetching, never a mount.
  // It is deleted and a fresh one started; the sweep at start then removes the
  // segment files, which no row of the new catalog names.
  auto reset = [&](const std::string& damage) -> Status {
    spdlog::warn("content cache catalog {} is damaged ({}); deleted it and started an empty cache", db_path, damage);
    reset_reason_ = "catalog " + db_path + " was damaged (" + damage + "); the cache was emptied";
    catalog_.reset();
    records.clear();
    return remove_database(db_path);
  };
  auto damage = database_damage(db_path, false);
  if (!damage) return damage.take_error();
  if (*damage) {
    if (auto s = reset(**damage); !s) return s;
  }
  for (int attempt = 0;; ++attempt) {
    Status opened = [&]() -> Status {
      auto catalog = CacheCatalog::open(db_path);
      if (!catalog) return catalog.take_error();
      catalog_ = std::move(*catalog);
      return catalog_->load([&](ChunkRecord&& r) { records.push_back(std::move(r)); });
    }();
    // Damage that quick_check does not see (a bad row, a failed schema update) is
    // found here. A catalog of a newer musicfs is not damage: it is left alone.
    if (opened || attempt > 0 || opened.error().code == ErrorCode::kUnsupported) return opened;
    if (auto s = reset(opened.error().message); !s) return s;
  }
}

ContentCache::~ContentCache() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  writer_cv_.notify_all();
  room_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  flush_touches();
  catalog_.reset();
}

uint32_t ContentCache::chunk_length(uint64_t size, uint32_t index) const {
  uint64_t start = uint64_t{index} * options_.chunk_size;
  if (start >= size) return 0;
  return static_cast<uint32_t>(std::min<uint64_t>(options_.chunk_size, size - start));
}

bool ContentCache::read(const FileVersion& v, uint32_t index, uint32_t from, std::span<char> out) {
  if (out.empty()) return true;
  const std::string name = chunk_name(v, index);
  const uint32_t block = options_.block_size;
  uint32_t length = 0;
  std::string segment;
  uint64_t chunk_offset = 0;
  std::vector<uint64_t> hashes;
  const uint32_t b0 = from / block;
  const uint32_t b1 = static_cast<uint32_t>((from + out.size() - 1) / block);
  {
    std::lock_guard lock(mu_);
    auto it = chunks_.find(name);
    if (it == chunks_.end()) return false;
    Chunk* c = it->second.get();
    length = c->record.length;
    segment = c->record.segment;
    chunk_offset = c->record.offset;
    if (uint64_t{from} + out.size() > length || b1 >= c->record.block_hashes.size()) return false;
    hashes.assign(c->record.block_hashes.begin() + b0, c->record.block_hashes.begin() + b1 + 1);
    lru_.splice(lru_.begin(), lru_, c->lru);
    touched_.insert(name);
  }
  // Read whole blocks so that each can be verified; straight into `out` when the
  // request is block-aligned (the common 1 MiB sequential read), else via scratch.
  const uint32_t range_start = b0 * block;
  const uint32_t range_end = std::min<uint32_t>((b1 + 1) * block, length);
  std::span<char> target = out;
  thread_local std::vector<char> scratch;
  const bool direct = range_start == from && range_end == from + out.size();
  if (!direct) {
    if (scratch.size() < range_end - range_start) scratch.resize(range_end - range_start);
    target = std::span<char>(scratch.data(), range_end - range_start);
  }
  if (auto s = files_.read(segment, chunk_offset + range_start, target); !s) {
    spdlog::warn("{}; dropping the chunk", s.error().message);
    drop(name, false);
    return false;
  }
  for (uint32_t b = b0; b <= b1; ++b) {
    uint32_t off = b * block - range_start;
    uint32_t len = std::min<uint32_t>(block, length - b * block);
    if (XXH3_64bits(target.data() + off, len) != hashes[b - b0]) {
      spdlog::warn("content cache: chunk {} of {} (origin {}) failed its checksum at block {}; dropped, refetching",
                   index, v.path, v.origin, b);
      drop(name, true);
      return false;
    }
  }
  if (!direct) std::memcpy(out.data(), scratch.data() + (from - range_start), out.size());
  hits_.fetch_add(1, std::memory_order_relaxed);
  hit_bytes_.fetch_add(out.size(), std::memory_order_relaxed);
  return true;
}

bool ContentCache::contains(const FileVersion& v, uint32_t index) const {
  std::lock_guard lock(mu_);
  return chunks_.count(chunk_name(v, index)) != 0;
}

uint64_t ContentCache::cached_bytes(const FileVersion& v) const {
  std::lock_guard lock(mu_);
  auto it = by_file_.find(key_of(v));
  if (it == by_file_.end()) return 0;
  uint64_t total = 0;
  for (const auto& name : it->second) {
    auto c = chunks_.find(name);
    if (c != chunks_.end() && c->second->record.version.same_version(v)) total += c->second->record.length;
  }
  return total;
}

bool ContentCache::store(const FileVersion& v, uint32_t index, std::shared_ptr<const std::vector<char>> data,
                         bool wait_for_room) {
  if (!data || data->empty()) return false;
  WriteJob job;
  job.record.name = chunk_name(v, index);
  job.record.version = v;
  job.record.index = index;
  job.record.segment = segment_name(v);
  job.record.offset = uint64_t{index} * options_.chunk_size;
  job.record.length = static_cast<uint32_t>(data->size());
  job.data = std::move(data);
  std::unique_lock lock(mu_);
  if (job.record.length > capacity_) return false;
  if (chunks_.count(job.record.name) != 0 || queued_.count(job.record.name) != 0) return false;
  if (pending_bytes_ + job.record.length > options_.max_pending_bytes) {
    if (!wait_for_room) {
      dropped_writes_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    room_cv_.wait(lock, [&] { return stopping_ || pending_bytes_ + job.record.length <= options_.max_pending_bytes; });
    if (stopping_) return false;
  }
  pending_bytes_ += job.record.length;
  queued_.insert(job.record.name);
  ++segment_refs_[job.record.segment];
  jobs_.push_back(std::move(job));
  writer_cv_.notify_one();
  return true;
}

void ContentCache::note_miss(uint64_t bytes) {
  misses_.fetch_add(1, std::memory_order_relaxed);
  miss_bytes_.fetch_add(bytes, std::memory_order_relaxed);
}

void ContentCache::writer_loop() {
  sweep_orphans();
  evict_if_needed();
  auto next_touch_flush = std::chrono::steady_clock::now() + kTouchFlushInterval;
  for (;;) {
    Job job;
    {
      std::unique_lock lock(mu_);
      writing_ = false;
      if (jobs_.empty()) idle_cv_.notify_all();
      writer_cv_.wait_until(lock, next_touch_flush, [&] { return stopping_ || !jobs_.empty(); });
      if (jobs_.empty()) {
        if (stopping_) return;
        lock.unlock();
        flush_touches();
        next_touch_flush = std::chrono::steady_clock::now() + kTouchFlushInterval;
        continue;
      }
      job = std::move(jobs_.front());
      jobs_.pop_front();
      writing_ = true;
      writing_cancelled_ = false;
      if (auto* w = std::get_if<WriteJob>(&job)) writing_key_ = key_of(w->record.version);
    }
    if (auto* w = std::get_if<WriteJob>(&job)) {
      write_one(std::move(*w));
      evict_if_needed();
    } else {
      release(std::get<ReleaseJob>(job));
    }
  }
}

void ContentCache::write_one(WriteJob job) {
  const std::vector<char>& data = *job.data;
  const uint32_t block = options_.block_size;
  for (size_t off = 0; off < data.size(); off += block) {
    job.record.block_hashes.push_back(XXH3_64bits(data.data() + off, std::min<size_t>(block, data.size() - off)));
  }
  job.record.last_access_us = now_us();
  Status written = files_.write(job.record.segment, job.record.offset, std::span<const char>(data.data(), data.size()));
  const bool disk_full = !written && (written.error().sys_errno == ENOSPC || written.error().sys_errno == EDQUOT);
  std::lock_guard lock(mu_);
  pending_bytes_ -= job.record.length;
  queued_.erase(job.record.name);
  room_cv_.notify_all();
  if (!written || writing_cancelled_) {
    // A failed write may have left part of the chunk; a cancelled one (the file
    // changed, or the cache was cleared, while it waited) all of it. Free either.
    if (disk_full) {
      shrink_to_disk_locked(written.error());
    } else if (!written) {
      spdlog::warn("{}", written.error().message);
    }
    release_locked(job.record.segment, job.record.offset, job.record.length);
    return;
  }
  auto c = std::make_unique<Chunk>();
  c->record = std::move(job.record);
  lru_.push_front(c.get());
  c->lru = lru_.begin();
  used_bytes_ += c->record.length;
  by_file_[key_of(c->record.version)].insert(c->record.name);
  catalog_->insert(c->record);  // after the write: the catalog only names complete chunks
  std::string name = c->record.name;
  chunks_.emplace(std::move(name), std::move(c));
}

void ContentCache::shrink_to_disk_locked(const Error& why) {
  // The disk holds less than the configured cap (it is smaller, or shared and filling
  // up). What fits is what is cached now, less a margin for the catalog and for the
  // blocks a filesystem keeps for itself; eviction (next, on this thread) gets down
  // to it. The writes still queued would fail the same way: they are dropped, and
  // reads are served from the origins. The cap stays lowered until the daemon restarts.
  const uint64_t margin = 2ull * options_.chunk_size;
  const uint64_t fits = used_bytes_ > margin ? used_bytes_ - margin : 0;
  capacity_ = std::min(capacity_, fits);
  capped_by_disk_ = true;
  cancel_queued_locked([](const FileVersion&) { return true; });
  room_cv_.notify_all();
  if (!disk_full_warned_) {
    disk_full_warned_ = true;
    spdlog::warn("{}: the cache filesystem is full; the content cache is capped at {} bytes (configured {}) "
                 "until the daemon restarts",
                 why.message, capacity_, options_.capacity_bytes);
  } else {
    spdlog::debug("{}: content cache capped at {} bytes", why.message, capacity_);
  }
}

void ContentCache::evict_if_needed() {
  std::vector<std::string> victims;
  {
    std::lock_guard lock(mu_);
    if (used_bytes_ <= capacity_) return;
    // Evict down to 95% of the cap, so a steady stream of new chunks does not evict
    // one chunk per write.
    const uint64_t target = capacity_ - capacity_ / 20;
    while (used_bytes_ > target && !lru_.empty()) {
      Chunk* c = lru_.back();
      evictions_.fetch_add(1, std::memory_order_relaxed);
      evicted_bytes_.fetch_add(c->record.length, std::memory_order_relaxed);
      victims.push_back(c->record.name);
      forget_locked(c);
    }
  }
  catalog_->remove(std::move(victims));
}

void ContentCache::release(const ReleaseJob& job) {
  bool unused = false;
  {
    std::lock_guard lock(mu_);
    unused = segment_refs_.count(job.segment) == 0;
  }
  // A chunk of this segment stored after this check is written by this thread, after
  // the removal: it creates the file afresh.
  if (unused) {
    files_.remove(job.segment);
    return;
  }
  for (const auto& [offset, length] : job.ranges) {
    if (auto s = files_.punch(job.segment, offset, length); !s) {
      // The bytes stay on disk until the whole segment goes; nothing reads them. A
      // filesystem that cannot punch holes (NFSv3, some FUSE ones) says so once.
      if (s.error().sys_errno != EOPNOTSUPP || !punch_unsupported_warned_.exchange(true)) {
        spdlog::warn("{}{}", s.error().message,
                     s.error().sys_errno == EOPNOTSUPP
                         ? " (evicted chunks keep their disk space until their whole file is evicted)"
                         : "");
      }
      return;
    }
  }
}

void ContentCache::unref_segment_locked(const std::string& segment) {
  if (auto it = segment_refs_.find(segment); it != segment_refs_.end() && --it->second == 0) segment_refs_.erase(it);
}

void ContentCache::release_locked(const std::string& segment, uint64_t offset, uint64_t length) {
  unref_segment_locked(segment);
  if (!jobs_.empty()) {
    if (auto* last = std::get_if<ReleaseJob>(&jobs_.back()); last && last->segment == segment) {
      last->ranges.emplace_back(offset, length);
      return;
    }
  }
  jobs_.push_back(ReleaseJob{segment, {{offset, length}}});
  writer_cv_.notify_one();
}

template <typename Pred>
void ContentCache::cancel_queued_locked(Pred matches) {
  for (auto it = jobs_.begin(); it != jobs_.end();) {
    auto* w = std::get_if<WriteJob>(&*it);
    if (w == nullptr || !matches(w->record.version)) {
      ++it;
      continue;
    }
    pending_bytes_ -= w->record.length;
    queued_.erase(w->record.name);
    unref_segment_locked(w->record.segment);
    it = jobs_.erase(it);
  }
}

void ContentCache::sweep_orphans() {
  // What a kill -9 (or a full disk) can leave: a segment file no row names, bytes in a
  // segment between the chunks the rows name (written, but the row never added), and
  // rows whose bytes are gone (a deleted or truncated file). All three go.
  std::unordered_map<std::string, SegmentFiles::Info> present;
  files_.for_each([&](const std::string& segment, const SegmentFiles::Info& info) { present.emplace(segment, info); });
  std::vector<std::string> orphans;
  std::vector<std::string> missing;
  std::vector<ReleaseJob> leftovers;
  {
    std::lock_guard lock(mu_);
    std::vector<Chunk*> lost;
    std::unordered_map<std::string, std::vector<std::pair<uint64_t, uint64_t>>> held;  // segment -> chunks
    for (const auto& [name, c] : chunks_) {
      auto p = present.find(c->record.segment);
      if (p == present.end() || c->record.offset + c->record.length > p->second.size) {
        lost.push_back(c.get());
      } else {
        held[c->record.segment].emplace_back(c->record.offset, c->record.length);
      }
    }
    for (Chunk* c : lost) {
      missing.push_back(c->record.name);
      forget_locked(c);
    }
    for (const auto& [segment, info] : present) {
      auto h = held.find(segment);
      if (h == held.end()) {
        if (segment_refs_.count(segment) == 0) orphans.push_back(segment);
        continue;
      }
      // Only a segment holding more blocks than its chunks need has leftovers. The
      // filesystem's own blocks for a file with holes (ext4's extent tree) count in
      // st_blocks too, hence the slack.
      auto& ranges = h->second;
      uint64_t needed = std::min<uint64_t>(options_.chunk_size / 2, 64 << 10);
      for (const auto& r : ranges) needed += (r.second + 4095) / 4096 * 4096;
      if (info.allocated <= needed) continue;
      std::sort(ranges.begin(), ranges.end());
      ReleaseJob gaps{segment, {}};
      uint64_t at = 0;
      for (const auto& [offset, length] : ranges) {
        if (offset > at) gaps.ranges.emplace_back(at, offset - at);
        at = std::max(at, offset + length);
      }
      if (info.size > at) gaps.ranges.emplace_back(at, info.size - at);
      if (!gaps.ranges.empty()) leftovers.push_back(std::move(gaps));
    }
  }
  for (const auto& segment : orphans) files_.remove(segment);
  for (const auto& gaps : leftovers) release(gaps);
  if (!orphans.empty() || !missing.empty() || !leftovers.empty()) {
    spdlog::info("content cache {}: removed {} orphan segment files, freed bytes no row names in {} segment "
                 "files, and dropped {} catalog rows whose bytes were gone",
                 options_.dir, orphans.size(), leftovers.size(), missing.size());
  }
  catalog_->remove(std::move(missing));
}

void ContentCache::flush_touches() {
  std::vector<std::pair<std::string, int64_t>> updates;
  {
    std::lock_guard lock(mu_);
    if (touched_.empty()) return;
    // LRU order is what matters; stamp touched chunks in list order, newest last.
    int64_t t = now_us();
    for (const auto& name : touched_) {
      if (chunks_.count(name) != 0) updates.emplace_back(name, t);
    }
    touched_.clear();
  }
  if (catalog_) catalog_->touch(std::move(updates));
}

void ContentCache::forget_locked(Chunk* c) {
  const std::string name = c->record.name;
  used_bytes_ -= c->record.length;
  lru_.erase(c->lru);
  auto f = by_file_.find(key_of(c->record.version));
  if (f != by_file_.end()) {
    f->second.erase(name);
    if (f->second.empty()) by_file_.erase(f);
  }
  touched_.erase(name);
  release_locked(c->record.segment, c->record.offset, c->record.length);
  chunks_.erase(name);  // destroys c
}

void ContentCache::drop(const std::string& name, bool corrupt) {
  {
    std::lock_guard lock(mu_);
    auto it = chunks_.find(name);
    if (it == chunks_.end()) return;  // someone else dropped or evicted it
    forget_locked(it->second.get());
  }
  if (corrupt) corrupt_.fetch_add(1, std::memory_order_relaxed);
  catalog_->remove({name});
}

void ContentCache::invalidate(const std::string& mount, const std::string& origin, const std::string& path) {
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    FileKey key{mount, origin, path};
    cancel_queued_locked([&](const FileVersion& v) { return key_of(v) == key; });
    if (writing_ && writing_key_ == key) writing_cancelled_ = true;
    auto f = by_file_.find(key);
    if (f != by_file_.end()) {
      names.assign(f->second.begin(), f->second.end());
      for (const auto& n : names) forget_locked(chunks_.at(n).get());
    }
  }
  room_cv_.notify_all();
  catalog_->remove(std::move(names));
}

CacheClearResult ContentCache::clear(const std::string& mount, const std::string& origin) {
  CacheClearResult result;
  std::vector<std::string> names;
  {
    std::lock_guard lock(mu_);
    auto matches = [&](const FileVersion& v) { return v.mount == mount && (origin.empty() || v.origin == origin); };
    cancel_queued_locked(matches);
    if (writing_ && std::get<0>(writing_key_) == mount && (origin.empty() || std::get<1>(writing_key_) == origin)) {
      writing_cancelled_ = true;
    }
    std::vector<Chunk*> victims;
    for (const auto& [name, c] : chunks_) {
      if (matches(c->record.version)) victims.push_back(c.get());
    }
    for (Chunk* c : victims) {
      ++result.chunks;
      result.bytes += c->record.length;
      names.push_back(c->record.name);
      forget_locked(c);
    }
  }
  room_cv_.notify_all();
  catalog_->remove(std::move(names));
  return result;
}

CacheStats ContentCache::stats() const {
  CacheStats s;
  {
    std::lock_guard lock(mu_);
    s.used_bytes = used_bytes_;
    s.files = by_file_.size();
    s.chunks = chunks_.size();
    s.pending_bytes = pending_bytes_;
    s.capacity_bytes = capacity_;
    s.capped_by_disk = capped_by_disk_;
  }
  s.hits = hits_.load();
  s.hit_bytes = hit_bytes_.load();
  s.misses = misses_.load();
  s.miss_bytes = miss_bytes_.load();
  s.evictions = evictions_.load();
  s.evicted_bytes = evicted_bytes_.load();
  s.corrupt_chunks = corrupt_.load();
  s.dropped_writes = dropped_writes_.load();
  return s;
}

void ContentCache::flush() {
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return stopping_ || (jobs_.empty() && !writing_); });
  }
  catalog_->flush();
}

}  // namespace musicfs
