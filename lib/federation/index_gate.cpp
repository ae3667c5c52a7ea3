#include "federation/index_gate.h"

namespace musicfs {

void IndexGate::hold(const std::string& origin) {
  std::lock_guard lock(mu_);
  if (sealed_) return;
  held_.insert(origin);
  update_locked();
}

void IndexGate::release(const std::string& origin) {
  {
    std::lock_guard lock(mu_);
    if (held_.erase(origin) == 0) return;
    update_locked();
  }
  cv_.notify_all();
}

void IndexGate::seal(SteadyClock::time_point give_up_at) {
  {
    std::lock_guard lock(mu_);
    sealed_ = true;
    give_up_at_ = give_up_at;
    update_locked();
  }
  cv_.notify_all();
}

void IndexGate::abandon() {
  {
    std::lock_guard lock(mu_);
    gave_up_ = true;
    update_locked();
  }
  cv_.notify_all();
}

void IndexGate::update_locked() { open_.store(gave_up_ || held_.empty(), std::memory_order_release); }

bool IndexGate::wait(std::chrono::milliseconds timeout) const {
  if (open_.load(std::memory_order_acquire)) return true;
  std::unique_lock lock(mu_);
  auto until = SteadyClock::now() + timeout;
  if (give_up_at_ && *give_up_at_ < until) until = *give_up_at_;
  cv_.wait_until(lock, until, [&] { return open_.load(); });
  if (!open_.load() && give_up_at_ && SteadyClock::now() >= *give_up_at_) {
    // The mount's patience is spent: serve what is indexed from now on, without waiting.
    gave_up_ = true;
    open_.store(true, std::memory_order_release);
  }
  return open_.load();
}

}  // namespace musicfs
