#pragma once
// The thin client: send one request, read the reply. Connection failures, a daemon
// that does not answer within --timeout, and a socket directory that is not private
// become one clear line and exit code 3; daemon errors and malformed replies become
// one line and exit code 1 or 2.
#include <functional>
#include <optional>
#include <string>

#include "command.h"
#include "protocol/protocol.h"

namespace musicfs::cli {

struct CallOutcome {
  std::optional<Reply> reply;  // set when the daemon answered
  int exit_code = kExitOk;     // for a failure: what the command should exit with
};

struct CallOptions {
  // Lines the daemon streams before its reply (objects without "ok") go here whole;
  // each one restarts the timeout, so a stream lasts as long as the daemon speaks.
  std::function<void(const nlohmann::json&)> on_stream;
  // For a request that waits on long work (origins add/enable wait for an index): no
  // timeout unless --timeout or $MUSICFS_TIMEOUT sets one.
  bool long_running = false;
};

// Calls the daemon. On any failure prints "musicfsctl: ..." to stderr.
CallOutcome call_daemon(const Globals& g, const std::string& cmd, const nlohmann::json& args = nlohmann::json::object(),
                        const CallOptions& options = {});

// The client's timeout for one call: --timeout (or $MUSICFS_TIMEOUT) if given, where
// 0 means none; else kDefaultTimeoutSecs, except for long-running requests (none).
std::optional<double> call_timeout_secs(const Globals& g, bool long_running);

// True when a daemon answers a ping on the socket (within 2 s).
bool daemon_answers(const Globals& g);

// Starts `musicfsctl daemon` detached (double fork, setsid, log to the state dir,
// no descriptor of ours but the ready pipe) and waits until it reports ready.
// Returns an error message on failure.
std::optional<std::string> start_daemon_detached(const Globals& g);

// Stops the daemon if it holds no mount, quietly (a daemon `mount` started for a
// mount that then failed must not be left behind).
void stop_daemon_if_idle(const Globals& g);

// Exit code for a daemon error reply.
int exit_code_for(const std::string& error_code);

}  // namespace musicfs::cli
