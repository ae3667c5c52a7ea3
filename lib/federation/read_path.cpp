// Federation::read and Federation::prefetch: the read path.
//
// Without a content cache (passthrough, content_cache_gb = 0), or when no holder of
// the file caches (`cache = false`, the default for local origins), a read goes
// straight to the origins. Otherwise a read is cut at chunk boundaries and each part
// is served from the chunk this open file fetched last (memory), else from the
// sources the read planner lists, in its order (federation/read_planner.h: the
// selected version's cached copy, the origins, other holders' cached copies). From
// the origins, a sequential stream fetches the whole chunk once (and the cache keeps
// it when that origin caches), a random read fetches only what was asked.
//
// Reading the origins: decide() orders the holders (the call route-explain makes);
// each is tried once, best first; when another holder remains, an attempt is cut off
// at timeout_ms (prompt failover); a failed attempt counts against its origin at once
// (passive detection); when every holder failed, the best is retried after 100, 500
// and 2000 ms (NFR-7.3), all within read_timeout_ms, unless every holder was already
// unhealthy when the read began: then there is nothing to wait for, and the read fails
// fast (or is served from the cache).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "federation/federation.h"
#include "federation/read_planner.h"
#include "util/buffer_pool.h"

namespace musicfs {

namespace {
// The most meaningful error wins when every origin fails: not-found < permission < I/O.
int error_rank(const Error& e) {
  switch (e.code) {
    case ErrorCode::kNotFound: return 0;
    case ErrorCode::kPermission: return 1;
    default: return 2;
  }
}

// Backoff is for transient failures. A timeout has already spent its wait on a hung
// origin; retrying it would only hold the reader longer. A file that changed at its
// origin stays changed until its index entry is refreshed.
bool retryable(const Error& e) {
  return error_rank(e) == 2 && e.code != ErrorCode::kTimedOut && e.code != ErrorCode::kChanged;
}

OriginRuntimePtr find_slot(const OriginList& list, OriginSlot slot) {
  for (const auto& o : list) {
    if (o->slot == slot) return o;
  }
  return nullptr;
}

// How far ahead of a sequential reader its chunks are fetched in the background, in
// chunks (8 MiB with the default 1 MiB chunk). A remote origin then streams without
// pausing between the reader's requests; the cost is this much memory per streaming
// file. A reader starts counting as a stream once it reads past its first chunk, so a
// tag scanner reading a file's head fetches nothing extra.
constexpr uint32_t kPrefetchChunks = 8;
// Chunks an open file keeps in memory: the prefetched ones plus the kernel's readahead
// window (1 MiB requests, several in flight). The content cache's writer may not have
// written a prefetched chunk yet when the reader arrives, so they stay here until then.
constexpr size_t kRecentChunks = kPrefetchChunks + 4;

// Removes the chunks reserved for the prefetch but not started (caller holds s.mu).
std::vector<std::shared_ptr<ChunkFetch>> take_reserved(FileSession& s) {
  std::vector<std::shared_ptr<ChunkFetch>> taken;
  for (auto it = s.chunks.begin(); it != s.chunks.end();) {
    if (!it->second->started) {
      taken.push_back(it->second);
      it = s.chunks.erase(it);
    } else {
      ++it;
    }
  }
  return taken;
}

// Drops the oldest (lowest) chunks beyond kRecentChunks (caller holds s.mu) and returns
// those that were reserved and not started, for release_reserved: a reader may wait at
// one, and nobody would fetch it any more.
std::vector<std::shared_ptr<ChunkFetch>> trim_chunks(FileSession& s) {
  std::vector<std::shared_ptr<ChunkFetch>> orphaned;
  while (s.chunks.size() > kRecentChunks) {
    if (!s.chunks.begin()->second->started) orphaned.push_back(s.chunks.begin()->second);
    s.chunks.erase(s.chunks.begin());
  }
  return orphaned;
}

// Wakes readers that wait at reserved chunks nobody will fetch now: they fetch them
// themselves (a failed fetch is never reused).
void release_reserved(FileSession& s, const std::vector<std::shared_ptr<ChunkFetch>>& reserved) {
  for (const auto& c : reserved) {
    {
      std::lock_guard fl(c->mu);
      c->error = Error{ErrorCode::kUnavailable, s.path + ": prefetch stopped"};
      c->done = true;
    }
    c->cv.notify_all();
  }
}

struct OriginRead {
  size_t bytes = 0;
  std::string origin;
  EntryAttr attr;  // the serving origin's attributes (its version of the file)
  bool cacheable = false;  // the serving origin's cache policy
};
}  // namespace

class ReadPath {
 public:
  ReadPath(Federation& f, FileSession& s)
      : f_(f), s_(s), cache_(f.options_.cache.get()), origins_(f.registry_.snapshot()),
        d_(decide(f.tree_, *origins_, s.path)), origin_order_(origin_sources(plan_read(d_, {}, {}))) {
    restart_deadline();
    uses_cache_ = cache_ != nullptr && std::any_of(origin_order_.begin(), origin_order_.end(),
                                                   [&](size_t i) { return d_.candidates[i].cacheable; });
  }

  Result<size_t> read(uint64_t offset, std::span<char> buf);
  Result<uint64_t> prefetch(const std::function<void(uint64_t done, uint64_t total)>& progress);
  // Fetches the chunk the background prefetch reserved at `index` (see
  // extend_prefetch); false when it could not be fetched or was taken over.
  bool run_reserved(uint32_t index);

 private:
  void restart_deadline() {
    deadline_ = SteadyClock::now() + std::chrono::milliseconds(f_.health_.read_timeout_ms);
  }
  FileVersion version_of(const std::string& origin, const EntryAttr& attr) const {
    return FileVersion::of(f_.mount_point_, origin, s_.path, attr);
  }
  FileVersion selected_version() const { return version_of(d_.selected()->origin, *d_.selected()->attr); }
  bool sequential(uint64_t offset) const {
    const uint64_t prev = s_.next_offset.load(std::memory_order_relaxed);
    const uint64_t window = 2 * uint64_t{cache_->chunk_size()};
    return offset == 0 || (offset + window >= prev && offset <= prev + window);
  }

  Result<OriginRead> from_origins(uint64_t offset, std::span<char> buf);
  Result<size_t> attempt(const OriginRuntimePtr& rt, uint64_t offset, std::span<char> buf, Deadline until);
  // Counts a failed attempt against its origin, unless the origin answered well and
  // the file is what changed: then that path is looked up again at once instead.
  void note_failure(const OriginRuntimePtr& rt, const Error& e);
  Result<size_t> chunk_part(uint32_t index, uint32_t from, std::span<char> part, bool whole);
  // The fetch of chunk `index` of `want` in this open file: an existing one (waited
  // for if in progress), or, when `start`, a new one run by this caller.
  std::shared_ptr<ChunkFetch> fetch_chunk(uint32_t index, const FileVersion& want, bool start, bool for_prefetch);
  // Fills `fetch` (chunk `index` of fetch->wanted) from the origins; wakes its waiters.
  void run_fetch(uint32_t index, const std::shared_ptr<ChunkFetch>& fetch, bool for_prefetch);
  // Asks the background prefetch to fetch up to chunk `until`, the reader being at chunk `at`.
  void extend_prefetch(uint32_t at, uint32_t until);

  Federation& f_;
  FileSession& s_;
  ContentCache* cache_;
  OriginListPtr origins_;
  RouteDecision d_;
  std::vector<size_t> origin_order_;  // the planner's origin sources: candidates to read, in order
  bool uses_cache_ = false;           // some holder caches, and there is a content cache
  Deadline deadline_;
};

Result<size_t> ReadPath::attempt(const OriginRuntimePtr& rt, uint64_t offset, std::span<char> buf, Deadline until) {
  const std::string& id = rt->config.id;
  std::shared_ptr<OriginFile> file;
  {
    std::lock_guard lock(s_.mu);
    if (auto it = s_.files.find(id); it != s_.files.end()) file = it->second;
  }
  if (!file) {
    auto opened = rt->origin->open(s_.path, until);
    if (!opened) {
      Error e = opened.take_error();
      if (e.code == ErrorCode::kNotFound) {
        // Either the file is gone from this origin (fix the index), or the whole
        // origin is (an unmounted share shows an empty directory): only the probe
        // tells, and an origin that is gone must not lose its index entries.
        Status alive = rt->origin->probe(until);
        if (alive) {
          f_.enqueue_index_job(id, s_.path, false);
        } else {
          e = alive.error();
          f_.report_read_failure(rt, e);
        }
      } else {
        note_failure(rt, e);
      }
      return e;
    }
    file = std::shared_ptr<OriginFile>(std::move(*opened));
    std::lock_guard lock(s_.mu);
    s_.files.emplace(id, file);
  }
  auto t0 = SteadyClock::now();
  auto r = file->read(offset, buf, until);
  if (!r) {
    note_failure(rt, r.error());
    std::lock_guard lock(s_.mu);
    s_.files.erase(id);  // reopen afresh if this origin serves the file again
    return r;
  }
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t0).count();
  rt->latency.record(static_cast<uint32_t>(std::min<int64_t>(us, UINT32_MAX)));
  rt->bytes_read.fetch_add(*r, std::memory_order_relaxed);
  return r;
}

void ReadPath::note_failure(const OriginRuntimePtr& rt, const Error& e) {
  if (e.code != ErrorCode::kChanged) {
    f_.report_read_failure(rt, e);
    return;
  }
  spdlog::warn("{}; looking it up again", e.message);
  f_.enqueue_index_job(rt->config.id, s_.path, false);
}

Result<OriginRead> ReadPath::from_origins(uint64_t offset, std::span<char> buf) {
  std::optional<Error> worst;
  auto keep_worst = [&](const Error& e) {
    if (!worst || error_rank(e) > error_rank(*worst)) worst = e;
  };
  const std::string& first_choice = d_.selected()->origin;
  auto succeeded = [&](const RouteCandidate& c, OriginRuntime& rt, size_t n) -> Result<OriginRead> {
    if (c.origin != first_choice) {
      rt.failovers.fetch_add(1, std::memory_order_relaxed);
      f_.events_.record({0, 0, "failover", f_.mount_point_, c.origin, s_.path,
                         "read moved from " + first_choice + " to " + c.origin},
                        true);
    }
    return OriginRead{n, c.origin, *c.attr, c.cacheable};
  };

  for (size_t k = 0; k < origin_order_.size(); ++k) {
    const RouteCandidate& c = d_.candidates[origin_order_[k]];
    OriginRuntimePtr rt = find_slot(*origins_, c.slot);
    if (!rt) continue;
    bool alternative_left = k + 1 < origin_order_.size();
    Deadline until = deadline_;
    // Cut an attempt at timeout_ms when another holder remains (prompt failover), and
    // when this origin is already unhealthy: the kernel re-sends a failed read, and a
    // hung origin must not get a full read_timeout_ms again for every re-send.
    if (alternative_left || c.status == HealthStatus::kUnhealthy) {
      until = std::min(deadline_, SteadyClock::now() + std::chrono::milliseconds(f_.health_.timeout_ms));
    }
    auto r = attempt(rt, offset, buf, until);
    if (r) return succeeded(c, *rt, *r);
    keep_worst(r.error());
  }

  // Every holder failed once. Back off on the best one, per the spec's schedule —
  // unless they were all unhealthy before this read: then waiting only holds the
  // reader, and the health checks will say when one is back.
  const bool all_were_unhealthy = d_.rule == RouteRule::kFallbackLeastBad;
  const auto& delays = f_.retry_.delays;
  for (size_t retry = 0; !all_were_unhealthy && retry < delays.size() && worst && retryable(*worst); ++retry) {
    auto delay = delays[retry];
    if (SteadyClock::now() + delay >= deadline_ || f_.cancelled()) break;
    std::this_thread::sleep_for(delay);
    auto origins = f_.registry_.snapshot();
    RouteDecision again = decide(f_.tree_, *origins, s_.path);
    if (again.order.empty()) break;
    OriginRuntimePtr rt = find_slot(*origins, again.selected()->slot);
    if (!rt) break;
    spdlog::debug("retry {} of {} on origin {} after {} ms", retry + 1, s_.path, rt->config.id, delay.count());
    rt->retries.fetch_add(1, std::memory_order_relaxed);
    auto r = attempt(rt, offset, buf, deadline_);
    if (r) return succeeded(*again.selected(), *rt, *r);
    keep_worst(r.error());
  }
  if (!worst) return make_error(ErrorCode::kUnavailable, s_.path + ": its origins were removed");
  return *worst;
}

std::shared_ptr<ChunkFetch> ReadPath::fetch_chunk(uint32_t index, const FileVersion& want, bool start,
                                                  bool for_prefetch) {
  std::shared_ptr<ChunkFetch> fetch;
  std::vector<std::shared_ptr<ChunkFetch>> orphaned;
  {
    std::lock_guard lock(s_.mu);
    auto it = s_.chunks.find(index);
    if (it != s_.chunks.end() && it->second->wanted.origin == want.origin && it->second->wanted.same_version(want)) {
      if (!it->second->started) {
        // Reserved by the prefetch: wait when its job will get here, else take it over
        // (the reader overtook the job, or the job is gone).
        if (s_.prefetch_running && index >= s_.prefetch_next) {
          fetch = it->second;
          start = false;
        } else if (start) {
          fetch = it->second;
          fetch->started = true;
        } else {
          return nullptr;
        }
      } else {
        std::lock_guard fl(it->second->mu);
        if (!(it->second->done && it->second->error)) fetch = it->second;  // a failed fetch is not reused
        start = false;
      }
    }
    if (!fetch) {
      if (!start) return nullptr;
      fetch = std::make_shared<ChunkFetch>();
      fetch->wanted = want;
      s_.chunks[index] = fetch;
      orphaned = trim_chunks(s_);
      start = true;
    }
  }
  release_reserved(s_, orphaned);
  if (!start) {
    std::unique_lock fl(fetch->mu);
    if (!fetch->cv.wait_until(fl, deadline_, [&] { return fetch->done; })) return nullptr;
    return fetch;
  }
  run_fetch(index, fetch, for_prefetch);
  return fetch;
}

void ReadPath::run_fetch(uint32_t index, const std::shared_ptr<ChunkFetch>& fetch, bool for_prefetch) {
  const uint32_t length = cache_->chunk_length(fetch->wanted.size, index);
  auto data = BufferPool::chunks().take(length);
  auto r = from_origins(uint64_t{index} * cache_->chunk_size(), std::span<char>(data->data(), data->size()));
  {
    std::lock_guard fl(fetch->mu);
    if (r) {
      data->resize(r->bytes);
      fetch->data = data;
      fetch->served = version_of(r->origin, r->attr);
    } else {
      fetch->error = r.error();
    }
    fetch->done = true;
  }
  fetch->cv.notify_all();
  if (!r) {
    std::lock_guard lock(s_.mu);
    if (auto it = s_.chunks.find(index); it != s_.chunks.end() && it->second == fetch) s_.chunks.erase(it);
    return;
  }
  cache_->note_miss(r->bytes);
  // Cache only a complete chunk of the version that was actually read, and only when
  // its origin caches; a short read means the origin's file is not what its index
  // entry says (it is being changed).
  if (r->cacheable && r->bytes == cache_->chunk_length(r->attr.size, index) && r->bytes > 0) {
    cache_->store(fetch->served, index, data, for_prefetch);
  }
}

Result<size_t> ReadPath::chunk_part(uint32_t index, uint32_t from, std::span<char> part, bool whole) {
  const FileVersion want = selected_version();
  auto copy_from = [&](const ChunkFetch& fetch) -> size_t {
    const auto& data = *fetch.data;
    if (data.size() <= from) return 0;  // the origin's file ended before this part
    size_t n = std::min(part.size(), data.size() - from);
    std::memcpy(part.data(), data.data() + from, n);
    return n;
  };

  // This handle's own fetch of the chunk (in flight, or recent) is the selected
  // version already in memory: before any source.
  if (auto fetch = fetch_chunk(index, want, false, false); fetch && !fetch->error) return copy_from(*fetch);

  const ReadRange range{uint64_t{index} * cache_->chunk_size() + from, part.size()};
  auto holds = [&](const RouteCandidate& c, ReadRange) {
    return cache_->contains(version_of(c.origin, *c.attr), index);
  };
  std::optional<Error> failed;
  bool origins_tried = false;
  for (const ReadSource& source : plan_read(d_, holds, range)) {
    const RouteCandidate& c = d_.candidates[source.candidate];
    if (source.kind == ReadSource::Kind::kCache) {
      // Evicted since it was planned, or unreadable: the next source.
      if (cache_->read(version_of(c.origin, *c.attr), index, from, part)) return part.size();
      continue;
    }
    // One pass over the origins tries them all (failover, retries), in the plan's order.
    if (origins_tried) continue;
    origins_tried = true;
    if (whole) {
      auto fetch = fetch_chunk(index, want, true, false);
      if (fetch && !fetch->error) return copy_from(*fetch);
      failed = fetch ? *fetch->error
                     : Error{ErrorCode::kTimedOut, s_.path + ": no origin answered within read_timeout_ms"};
    } else {
      auto r = from_origins(range.offset, part);
      if (r) {
        cache_->note_miss(r->bytes);
        return r->bytes;
      }
      failed = r.error();
    }
  }
  if (!failed) return make_error(ErrorCode::kUnavailable, s_.path + ": no source holds this part");
  return *failed;
}

Result<size_t> ReadPath::read(uint64_t offset, std::span<char> buf) {
  if (d_.order.empty()) return make_error(ErrorCode::kNotFound, s_.path + ": no origin holds this file");
  if (d_.rule == RouteRule::kFallbackLeastBad) f_.check_all_unhealthy();
  if (!uses_cache_) {
    auto r = from_origins(offset, buf);
    if (!r) return r.take_error();
    return r->bytes;
  }
  const uint64_t size = d_.selected()->attr->size;
  if (offset >= size) return size_t{0};
  const size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), size - offset));
  const uint32_t chunk = cache_->chunk_size();
  const bool seq = sequential(offset);
  size_t done = 0;
  while (done < want) {
    const uint64_t pos = offset + done;
    const auto index = static_cast<uint32_t>(pos / chunk);
    const auto from = static_cast<uint32_t>(pos - uint64_t{index} * chunk);
    const uint32_t length = cache_->chunk_length(size, index);
    const size_t n = std::min<size_t>(want - done, length - from);
    const bool whole = seq || (from == 0 && n == length);
    auto r = chunk_part(index, from, buf.subspan(done, n), whole);
    if (!r) {
      if (done > 0) break;  // a short read; the kernel asks again for the rest
      return r.take_error();
    }
    done += *r;
    if (*r < n) break;
  }
  s_.next_offset.store(offset + done, std::memory_order_relaxed);
  if (seq && offset + done > chunk && offset + done < size) {
    const auto at = static_cast<uint32_t>((offset + done) / chunk);
    const auto last = static_cast<uint32_t>((size - 1) / chunk);
    extend_prefetch(at, std::min(last, at + kPrefetchChunks));
  }
  return done;
}

bool ReadPath::run_reserved(uint32_t index) {
  std::shared_ptr<ChunkFetch> fetch;
  {
    std::lock_guard lock(s_.mu);
    auto it = s_.chunks.find(index);
    if (it == s_.chunks.end() || it->second->started) return true;  // taken over, or already there
    fetch = it->second;
    fetch->started = true;
  }
  if (d_.order.empty()) return false;
  run_fetch(index, fetch, false);
  std::lock_guard fl(fetch->mu);
  return !fetch->error;
}

// Prefetch reserves the chunks ahead of the reader in s_.chunks (not yet started), and
// one background job per open file fetches them in order. A reader that arrives at a
// reserved chunk waits for it instead of fetching it itself, so the origin sees one
// sequential stream even when the kernel's readahead requests arrive out of order on
// several FUSE threads (an SFTP pipeline, or an HTTP readahead window, would
// otherwise be thrown away and restarted).
void ReadPath::extend_prefetch(uint32_t at, uint32_t until) {
  const FileVersion want = selected_version();
  std::vector<std::shared_ptr<ChunkFetch>> abandoned;
  {
    std::lock_guard lock(s_.mu);
    // A reader that left the prefetched range (a seek) restarts the prefetch where it
    // is; one that only overtook the job takes over the chunks it reaches (fetch_chunk).
    if (at + 1 < s_.prefetch_next || at >= s_.prefetch_until) {
      abandoned = take_reserved(s_);
      s_.prefetch_next = at + 1;
    }
    for (uint32_t index = s_.prefetch_next; index <= until; ++index) {
      if (s_.chunks.count(index) != 0 || cache_->contains(want, index)) continue;
      auto reserved = std::make_shared<ChunkFetch>();
      reserved->started = false;
      reserved->wanted = want;
      s_.chunks.emplace(index, std::move(reserved));
    }
    for (auto& c : trim_chunks(s_)) abandoned.push_back(std::move(c));
    s_.prefetch_until = until;
    if (s_.prefetch_running || s_.prefetch_next > s_.prefetch_until) {
      release_reserved(s_, abandoned);
      return;
    }
    s_.prefetch_running = true;
  }
  release_reserved(s_, abandoned);
  Federation& f = f_;
  std::shared_ptr<FileSession> session = s_.shared_from_this();
  auto give_up = [](FileSession& s) {
    std::vector<std::shared_ptr<ChunkFetch>> abandoned;
    {
      std::lock_guard lock(s.mu);
      s.prefetch_running = false;
      abandoned = take_reserved(s);
    }
    release_reserved(s, abandoned);
  };
  bool queued = f.prefetch_.submit([&f, session, give_up] {
    for (;;) {
      uint32_t index = 0;
      {
        std::lock_guard lock(session->mu);
        if (session->prefetch_next > session->prefetch_until) {
          session->prefetch_running = false;
          return;
        }
        index = session->prefetch_next++;
      }
      // A fresh decision per chunk: an origin that failed meanwhile is skipped.
      if (session->closed.load() || f.prefetch_.stopping() || !ReadPath(f, *session).run_reserved(index)) {
        give_up(*session);  // the reader fetches (and reports) the rest itself
        return;
      }
    }
  });
  if (!queued) give_up(s_);
}

Result<uint64_t> ReadPath::prefetch(const std::function<void(uint64_t, uint64_t)>& progress) {
  if (d_.order.empty()) return make_error(ErrorCode::kNotFound, s_.path + ": no origin holds this file");
  if (cache_ == nullptr) {
    return make_error(ErrorCode::kUnsupported, "the content cache is off (content_cache_gb = 0): nothing to prefetch into");
  }
  if (!d_.selected()->cacheable) {
    return make_error(ErrorCode::kUnsupported,
                      s_.path + ": origin " + d_.selected()->origin + " is not cached (cache = false): nothing to prefetch");
  }
  const FileVersion want = selected_version();
  const uint64_t size = want.size;
  const uint32_t chunk = cache_->chunk_size();
  const auto chunks = static_cast<uint32_t>((size + chunk - 1) / chunk);
  uint64_t fetched = 0;
  for (uint32_t index = 0; index < chunks; ++index) {
    if (!cache_->contains(want, index)) {
      restart_deadline();
      auto fetch = fetch_chunk(index, want, true, true);
      if (!fetch) return make_error(ErrorCode::kTimedOut, s_.path + ": no origin answered within read_timeout_ms");
      if (fetch->error) return *fetch->error;
      fetched += fetch->data->size();
    }
    if (progress) progress(std::min<uint64_t>(uint64_t{index + 1} * chunk, size), size);
  }
  return fetched;
}

Result<size_t> Federation::read(FileSession& session, uint64_t offset, std::span<char> buf) {
  return ReadPath(*this, session).read(offset, buf);
}

Result<uint64_t> Federation::prefetch(const std::string& path,
                                      const std::function<void(uint64_t done, uint64_t total)>& progress) {
  auto session = open(path);
  if (!session) return session.take_error();
  return ReadPath(*this, **session).prefetch(progress);
}

}  // namespace musicfs
