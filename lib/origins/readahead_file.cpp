#include "origins/readahead_file.h"

#include <algorithm>
#include <cstring>

namespace musicfs {

// One background fetch. The helper thread writes only here, under mu.
struct ReadaheadFile::Pending {
  uint64_t offset = 0;
  size_t length = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  bool ok = false;
  std::vector<char> data;
  std::thread thread;  // joined by whoever removes this from pending_

  bool finished() {
    std::lock_guard lock(mu);
    return done;
  }
  void join() {
    if (thread.joinable()) thread.join();
  }
};

ReadaheadFile::ReadaheadFile(RangeFetch fetch, std::optional<uint64_t> size, std::string what,
                             ReadaheadOptions options)
    : fetch_(std::move(fetch)), size_(size), what_(std::move(what)), options_(options) {
  window_ = std::max<size_t>(options_.initial_window, 1);
}

ReadaheadFile::~ReadaheadFile() {
  for (auto& p : pending_) p->join();
}

size_t ReadaheadFile::buffered_bytes() const {
  std::lock_guard lock(mu_);
  size_t n = window_data_.size();
  for (const auto& spare : spares_) n += spare.capacity();
  for (const auto& p : pending_) {
    std::lock_guard plock(p->mu);
    n += p->done ? p->data.size() : p->length;
  }
  return n;
}

bool ReadaheadFile::sequential(uint64_t offset) const {
  if (!any_read_) return false;
  uint64_t lo = next_ > options_.sequential_slack ? next_ - options_.sequential_slack : 0;
  return offset >= lo && offset <= next_ + options_.sequential_slack;
}

size_t ReadaheadFile::copy_from_window(uint64_t pos, std::span<char> out) const {
  if (pos < window_offset_ || pos >= window_offset_ + window_data_.size()) return 0;
  size_t from = static_cast<size_t>(pos - window_offset_);
  size_t n = std::min(out.size(), window_data_.size() - from);
  std::memcpy(out.data(), window_data_.data() + from, n);
  return n;
}

Result<bool> ReadaheadFile::adopt_pending(uint64_t pos, Deadline deadline) {
  if (pending_.empty()) return false;
  std::shared_ptr<Pending> p = pending_.front();
  if (pos < p->offset || pos >= p->offset + p->length) return false;
  {
    std::unique_lock plock(p->mu);
    if (!p->cv.wait_until(plock, deadline, [&] { return p->done; })) {
      return make_error(ErrorCode::kTimedOut, what_ + ": read ahead of offset " + std::to_string(pos) +
                                                  " still running at the deadline", ETIMEDOUT);
    }
  }
  p->join();
  pending_.pop_front();
  // A failed background fetch is not reported: the caller fetches the range itself
  // and reports what that fetch says, with the current read's deadline. The windows
  // after it no longer continue the current one; start_pending drops them.
  if (!p->ok || pos >= p->offset + p->data.size()) return false;
  window_offset_ = p->offset;
  spares_.push_back(std::move(window_data_));
  window_data_ = std::move(p->data);
  return true;
}

void ReadaheadFile::grow_window() { window_ = std::min(window_ * 2, std::max(options_.max_window, window_)); }

void ReadaheadFile::start_pending(Millis budget) {
  const uint64_t window_end = window_offset_ + window_data_.size();
  if (window_data_.empty() || (size_ && window_end >= *size_)) return;
  // Windows that do not continue the current one are stale (a seek, a failed window):
  // dropped once they have finished. One still running keeps new ones from starting,
  // so a reader that jumps around never has more than max_pending fetches going.
  uint64_t expected = window_end;
  bool stale = false;
  for (const auto& p : pending_) {
    if (p->offset != expected) stale = true;
    expected = p->offset + p->length;
  }
  if (stale) {
    for (const auto& p : pending_) {
      if (!p->finished()) return;
    }
    for (auto& p : pending_) p->join();
    pending_.clear();
  }
  uint64_t start = pending_.empty() ? window_end : pending_.back()->offset + pending_.back()->length;
  const Deadline deadline = SteadyClock::now() + budget;
  while (pending_.size() < std::max<size_t>(options_.max_pending, 1) && !(size_ && start >= *size_)) {
    size_t length = window_;
    if (size_) length = static_cast<size_t>(std::min<uint64_t>(length, *size_ - start));
    auto p = std::make_shared<Pending>();
    p->offset = start;
    p->length = length;
    // Reuse a consumed window's memory: a fresh multi-MiB vector per window is a new
    // mapping, zeroed and faulted in page by page, which costs a steady stream.
    if (!spares_.empty()) {
      p->data = std::move(spares_.back());
      spares_.pop_back();
    }
    grow_window();
    p->thread = std::thread([this, raw = p.get(), deadline] {
      // Only this thread touches raw->data until `done` is set (under raw->mu); raw
      // lives until the thread is joined.
      std::vector<char>& data = raw->data;
      data.resize(raw->length);
      auto r = fetch_(raw->offset, std::span<char>(data.data(), data.size()), deadline);
      std::lock_guard plock(raw->mu);
      if (r) {
        data.resize(*r);
        raw->ok = true;
      }
      raw->done = true;
      raw->cv.notify_all();
    });
    start += length;
    pending_.push_back(std::move(p));
  }
}

Result<size_t> ReadaheadFile::read(uint64_t offset, std::span<char> buf, Deadline deadline) {
  std::unique_lock lock(mu_, std::defer_lock);
  if (!lock.try_lock_until(deadline)) {
    return make_error(ErrorCode::kTimedOut, what_ + ": read at " + std::to_string(offset) +
                                                ": an earlier read of this file is still waiting", ETIMEDOUT);
  }
  const auto budget = std::chrono::duration_cast<Millis>(deadline - SteadyClock::now());
  size_t want = buf.size();
  if (size_) {
    if (offset >= *size_) return size_t{0};
    want = static_cast<size_t>(std::min<uint64_t>(want, *size_ - offset));
  }
  if (sequential(offset)) {
    ++streak_;
  } else {
    streak_ = 0;
    window_ = std::max<size_t>(options_.initial_window, 1);
    spares_.clear();  // a random reader needs no windows in reserve
  }

  size_t done = 0;
  while (done < want) {
    size_t n = copy_from_window(offset + done, buf.subspan(done, want - done));
    if (n > 0) {
      done += n;
      continue;
    }
    auto adopted = adopt_pending(offset + done, deadline);
    if (!adopted) return adopted.take_error();
    if (!*adopted) break;
  }

  if (done < want) {
    const uint64_t pos = offset + done;
    std::span<char> rest = buf.subspan(done, want - done);
    if (streak_ > 0) {
      size_t length = std::max(rest.size(), window_);
      if (size_) length = static_cast<size_t>(std::min<uint64_t>(length, *size_ - pos));
      std::vector<char> data(length);
      auto r = fetch_(pos, std::span<char>(data.data(), data.size()), deadline);
      if (!r) return r.take_error();
      data.resize(*r);
      window_offset_ = pos;
      window_data_ = std::move(data);
      grow_window();
      done += copy_from_window(pos, rest);
    } else {
      // Random access: exactly what was asked, straight into the caller's buffer.
      auto r = fetch_(pos, rest, deadline);
      if (!r) return r.take_error();
      done += *r;
    }
  }

  any_read_ = true;
  next_ = offset + done;
  if (options_.background && streak_ > 0 && budget.count() > 0) start_pending(budget);
  return done;
}

}  // namespace musicfs
