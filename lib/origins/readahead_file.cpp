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
};

ReadaheadFile::ReadaheadFile(RangeFetch fetch, std::optional<uint64_t> size, std::string what,
                             ReadaheadOptions options)
    : fetch_(std::move(fetch)), size_(size), what_(std::move(what)), options_(options) {
  window_ = std::max<size_t>(options_.initial_window, 1);
}

ReadaheadFile::~ReadaheadFile() {
  if (pending_thread_.joinable()) pending_thread_.join();
}

size_t ReadaheadFile::buffered_bytes() const {
  std::lock_guard lock(mu_);
  size_t n = window_data_.size() + spare_.capacity();
  if (pending_) {
    std::lock_guard plock(pending_->mu);
    n += pending_->done ? pending_->data.size() : pending_->length;
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
  if (!pending_ || pos < pending_->offset || pos >= pending_->offset + pending_->length) return false;
  {
    std::unique_lock plock(pending_->mu);
    if (!pending_->cv.wait_until(plock, deadline, [&] { return pending_->done; })) {
      return make_error(ErrorCode::kTimedOut, what_ + ": read ahead of offset " + std::to_string(pos) +
                                                  " still running at the deadline", ETIMEDOUT);
    }
  }
  pending_thread_.join();
  std::shared_ptr<Pending> p = std::move(pending_);
  // A failed background fetch is not reported: the caller fetches the range itself
  // and reports what that fetch says, with the current read's deadline.
  if (!p->ok || pos >= p->offset + p->data.size()) return false;
  window_offset_ = p->offset;
  spare_ = std::move(window_data_);
  window_data_ = std::move(p->data);
  return true;
}

void ReadaheadFile::grow_window() { window_ = std::min(window_ * 2, std::max(options_.max_window, window_)); }

void ReadaheadFile::start_pending(Millis budget) {
  uint64_t start = window_offset_ + window_data_.size();
  if (window_data_.empty() || (size_ && start >= *size_)) return;
  if (pending_) {
    std::unique_lock plock(pending_->mu);
    if (pending_->offset == start) return;  // already on its way
    if (!pending_->done) return;            // a stale fetch still running: one at a time
    plock.unlock();
    pending_thread_.join();
    pending_.reset();
  }
  size_t length = window_;
  if (size_) length = static_cast<size_t>(std::min<uint64_t>(length, *size_ - start));
  auto p = std::make_shared<Pending>();
  p->offset = start;
  p->length = length;
  // Reuse the last consumed window's memory: a fresh multi-MiB vector per window is a
  // new mapping, zeroed and faulted in page by page, which costs a steady stream.
  p->data = std::move(spare_);
  spare_.clear();
  grow_window();
  pending_ = p;
  Deadline deadline = SteadyClock::now() + budget;
  pending_thread_ = std::thread([this, p, deadline] {
    // Only this thread touches p->data until `done` is set (under p->mu).
    std::vector<char>& data = p->data;
    data.resize(p->length);
    auto r = fetch_(p->offset, std::span<char>(data.data(), data.size()), deadline);
    std::lock_guard plock(p->mu);
    if (r) {
      data.resize(*r);
      p->ok = true;
    }
    p->done = true;
    p->cv.notify_all();
  });
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
    std::vector<char>().swap(spare_);  // a random reader needs no second window
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
