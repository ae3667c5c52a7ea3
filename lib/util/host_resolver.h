#pragma once
// Name lookup with a deadline. getaddrinfo(3) has none: a DNS server that does not
// answer holds the caller for resolv.conf's timeout times its attempts for each
// server (10 s and more by default), and a daemon that is stopping would wait that
// long for a notifier. The lookup runs on a thread of its own; the caller waits for it
// until the deadline or until `cancelled`, and otherwise leaves it behind: it ends by
// itself and frees what it found.
#include <sys/socket.h>

#include <atomic>
#include <string>
#include <vector>

#include "core/error.h"
#include "util/time_util.h"

namespace musicfs {

struct ResolvedAddress {
  int family = 0;
  int socktype = 0;
  int protocol = 0;
  sockaddr_storage addr{};
  socklen_t length = 0;

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

// The addresses of `host`:`port` for stream sockets, in getaddrinfo's order. Errors:
// kUnavailable "cannot resolve HOST: <gai_strerror>" (or ": the daemon is stopping"
// once `cancelled` is true), kTimedOut "cannot resolve HOST: no answer within N ms".
Result<std::vector<ResolvedAddress>> resolve_host(const std::string& host, const std::string& port,
                                                  SteadyClock::time_point deadline,
                                                  const std::atomic<bool>* cancelled = nullptr);

}  // namespace musicfs
