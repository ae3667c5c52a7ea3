#pragma once
// A control command as the daemon sees it: a name and a handler. Each command lives
// in its own file under daemon/handlers/ and is listed once in handler_table.cpp.
#include <functional>
#include <string>
#include <vector>

#include "control_server.h"
#include "protocol/protocol.h"

namespace musicfs {

class Daemon;

struct HandlerContext {
  Daemon& daemon;
  const nlohmann::json& args;
  Connection& connection;
};

struct CommandHandler {
  std::string name;
  std::function<Reply(HandlerContext&)> handle;
  // Set for a command that can hold its connection for long (it streams lines before
  // its reply): such requests run in the control server's stream pool, not taking
  // the slots that short commands need.
  bool (*streams)(const nlohmann::json& args) = nullptr;
};

const std::vector<CommandHandler>& command_handlers();

// Argument helpers: a missing or mistyped argument is a clean error reply.
Result<std::string> string_arg(const nlohmann::json& args, const char* key, bool required = true);
// A path argument, in either form of protocol/path_encoding.h; the exact bytes.
Result<std::string> path_string_arg(const nlohmann::json& args, const char* key, bool required = true);

CommandHandler ping_handler();
CommandHandler status_handler();
CommandHandler mount_handler();
CommandHandler unmount_handler();
CommandHandler shutdown_handler();
CommandHandler events_handler();
CommandHandler route_explain_handler();
CommandHandler tags_handler();
CommandHandler health_handler();
CommandHandler origins_list_handler();
CommandHandler origins_add_handler();
CommandHandler origins_remove_handler();
CommandHandler origins_enable_handler();
CommandHandler origins_disable_handler();
CommandHandler cache_stat_handler();
CommandHandler cache_clear_handler();
CommandHandler cache_prefetch_handler();
CommandHandler metrics_handler();
CommandHandler debug_fault_handler();

}  // namespace musicfs
