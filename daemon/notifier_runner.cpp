#include "notifier_runner.h"

#include <spdlog/spdlog.h>

#include "federation/path_events.h"

namespace musicfs {

namespace {
std::string dir_list(const std::vector<std::string>& dirs) {
  constexpr size_t kShown = 10;
  std::string out;
  for (size_t i = 0; i < dirs.size() && i < kShown; ++i) out += (i == 0 ? "" : ", ") + dirs[i];
  if (dirs.size() > kShown) out += ", ... (" + std::to_string(dirs.size()) + " in all)";
  return out;
}
}  // namespace

NotifierRunner::NotifierRunner(std::string mount_point, std::string label, NotifierPtr notifier, EventLog& events,
                               Options options)
    : mount_point_(std::move(mount_point)),
      label_(std::move(label)),
      notifier_(std::move(notifier)),
      events_(events),
      options_(std::move(options)) {
  thread_ = std::thread([this] { loop(); });
}

NotifierRunner::~NotifierRunner() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  notifier_->cancel();
  cv_.notify_all();
  thread_.join();
}

void NotifierRunner::push(const std::vector<std::string>& dirs) {
  if (dirs.empty()) return;
  {
    std::lock_guard lock(mu_);
    auto now = SteadyClock::now();
    if (pending_.empty()) first_push_ = now;
    last_push_ = now;
    pending_.insert(dirs.begin(), dirs.end());
  }
  cv_.notify_all();
}

std::vector<std::string> NotifierRunner::undelivered() {
  std::lock_guard lock(mu_);
  std::set<std::string> all = batch_;
  all.insert(pending_.begin(), pending_.end());
  return {all.begin(), all.end()};
}

void NotifierRunner::loop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    auto now = SteadyClock::now();
    if (!batch_.empty()) {
      if (now < retry_at_) {
        cv_.wait_until(lock, retry_at_);
        continue;
      }
    } else if (pending_.empty()) {
      cv_.wait(lock);
      continue;
    } else {
      auto due = std::min(last_push_ + options_.debounce, first_push_ + options_.debounce * kMaxDebounceFactor);
      if (now < due) {
        cv_.wait_until(lock, due);
        continue;
      }
    }
    attempt(lock);
  }
}

void NotifierRunner::attempt(std::unique_lock<std::mutex>& lock) {
  batch_.merge(pending_);
  pending_.clear();
  const std::vector<std::string> dirs = outermost_directories(batch_);
  lock.unlock();
  std::string detail;
  Status s;
  try {
    s = notifier_->deliver(dirs, SteadyClock::now() + options_.attempt_timeout, detail);
  } catch (const std::exception& e) {
    // A notifier's bug is its failure, never the daemon's end.
    s = make_error(ErrorCode::kInternal, std::string("notifier failed: ") + e.what());
  }
  Event e;
  e.mount = mount_point_;
  e.path = dirs.size() == 1 ? dirs.front() : std::string();
  e.count = static_cast<int64_t>(dirs.size());
  const std::string what = label_ + " (" + notifier_->describe() + "): " + dir_list(dirs);
  lock.lock();
  if (s) {
    batch_.clear();
    failures_ = 0;
    e.kind = "notify_sent";
    e.message = what + (detail.empty() ? "" : ": " + detail);
  } else {
    e.kind = "notify_failed";
    e.message = what + ": " + s.error().message;
    if (failures_ < options_.retry_delays.size()) {
      auto delay = options_.retry_delays[failures_++];
      retry_at_ = SteadyClock::now() + delay;
      e.message += "; trying again in " + std::to_string(delay.count()) + " ms";
    } else {
      e.message += "; giving up on these directories";
      batch_.clear();
      failures_ = 0;
    }
  }
  lock.unlock();
  events_.record(std::move(e), !s);
  lock.lock();
}

Result<std::unique_ptr<NotifierSet>> NotifierSet::create(const std::string& mount_point, const Config& config,
                                                         EventLog& events) {
  auto set = std::make_unique<NotifierSet>();
  for (size_t i = 0; i < config.notify.size(); ++i) {
    const NotifyConfig& nc = config.notify[i];
    const NotifierTypeInfo* info = find_notifier_type(nc.type);
    const std::string label = "notify[" + std::to_string(i) + "] " + nc.type;
    if (info == nullptr) return make_error(ErrorCode::kConfig, label + ": unknown notifier type");
    auto made = info->create(nc);
    if (!made) return made.error().with_context(label);
    NotifierRunner::Options o;
    o.debounce = std::chrono::milliseconds(nc.debounce_ms);
    o.attempt_timeout = std::chrono::milliseconds(nc.int_setting("timeout_ms", 10000));
    set->runners_.push_back(std::make_unique<NotifierRunner>(mount_point, label, std::move(*made), events, o));
  }
  return set;
}

void NotifierSet::push(const std::vector<std::string>& dirs) {
  std::lock_guard lock(mu_);
  for (auto& r : runners_) r->push(dirs);
}

bool NotifierSet::empty() const {
  std::lock_guard lock(mu_);
  return runners_.empty();
}

size_t NotifierSet::size() const {
  std::lock_guard lock(mu_);
  return runners_.size();
}

void NotifierSet::replace_with(NotifierSet&& next) {
  Runners incoming;
  {
    std::lock_guard lock(next.mu_);
    incoming.swap(next.runners_);
  }
  Runners outgoing;
  {
    std::lock_guard lock(mu_);
    outgoing.swap(runners_);
    runners_.swap(incoming);
    // Under the lock, so that nothing pushed meanwhile overtakes the handover.
    std::set<std::string> left;
    for (auto& r : outgoing) {
      for (auto& d : r->undelivered()) left.insert(std::move(d));
    }
    if (!left.empty()) {
      const std::vector<std::string> dirs(left.begin(), left.end());
      for (auto& r : runners_) r->push(dirs);
    }
  }
  outgoing.clear();  // joins their threads, with no lock held
}

}  // namespace musicfs
