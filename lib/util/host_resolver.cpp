#include "util/host_resolver.h"

#include <netdb.h>
#include <string.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

namespace musicfs {

namespace {

// Shared by the caller and the lookup thread, which may outlive the caller's wait.
struct Lookup {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int rc = 0;
  std::vector<ResolvedAddress> found;
};

void run_lookup(const std::shared_ptr<Lookup>& lookup, const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
  std::vector<ResolvedAddress> found;
  for (addrinfo* ai = rc == 0 ? res : nullptr; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_addrlen > sizeof(sockaddr_storage)) continue;
    ResolvedAddress a;
    a.family = ai->ai_family;
    a.socktype = ai->ai_socktype;
    a.protocol = ai->ai_protocol;
    ::memcpy(&a.addr, ai->ai_addr, ai->ai_addrlen);
    a.length = ai->ai_addrlen;
    found.push_back(a);
  }
  if (res != nullptr) ::freeaddrinfo(res);
  {
    std::lock_guard lock(lookup->mu);
    lookup->rc = rc;
    lookup->found = std::move(found);
    lookup->done = true;
  }
  lookup->cv.notify_all();
}

}  // namespace

Result<std::vector<ResolvedAddress>> resolve_host(const std::string& host, const std::string& port,
                                                  SteadyClock::time_point deadline, const std::atomic<bool>* cancelled) {
  const std::string what = "cannot resolve " + host;
  const auto started = SteadyClock::now();
  auto lookup = std::make_shared<Lookup>();
  try {
    std::thread([lookup, host, port] { run_lookup(lookup, host, port); }).detach();
  } catch (const std::system_error& e) {
    return make_error(ErrorCode::kUnavailable, what + ": cannot start a thread: " + e.what());
  }
  // Short steps, so that a cancel is seen soon; the lookup's end wakes us at once.
  constexpr auto kStep = std::chrono::milliseconds(100);
  std::unique_lock lock(lookup->mu);
  while (!lookup->done) {
    if (cancelled != nullptr && cancelled->load()) {
      return make_error(ErrorCode::kUnavailable, what + ": the daemon is stopping");
    }
    const auto now = SteadyClock::now();
    if (now >= deadline) {
      const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(now - started).count();
      return make_error(ErrorCode::kTimedOut, what + ": no answer within " + std::to_string(waited) + " ms");
    }
    lookup->cv.wait_until(lock, std::min(deadline, now + kStep));
  }
  if (lookup->rc != 0) return make_error(ErrorCode::kUnavailable, what + ": " + ::gai_strerror(lookup->rc));
  if (lookup->found.empty()) return make_error(ErrorCode::kUnavailable, what + ": no address");
  return std::move(lookup->found);
}

}  // namespace musicfs
