#include "handlers/handler.h"

#include "protocol/path_encoding.h"

namespace musicfs {

const std::vector<CommandHandler>& command_handlers() {
  // One row per command.
  static const std::vector<CommandHandler> table = {
      ping_handler(),
      status_handler(),
      mount_handler(),
      unmount_handler(),
      shutdown_handler(),
      events_handler(),
      route_explain_handler(),
      tags_handler(),
      health_handler(),
      origins_list_handler(),
      origins_add_handler(),
      origins_remove_handler(),
      origins_enable_handler(),
      origins_disable_handler(),
      cache_stat_handler(),
      cache_clear_handler(),
      cache_prefetch_handler(),
      metrics_handler(),
#ifdef MUSICFS_FAULT_INJECTION
      debug_fault_handler(),
#endif
  };
  return table;
}

Result<std::string> string_arg(const nlohmann::json& args, const char* key, bool required) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) {
    if (required) return make_error(ErrorCode::kInvalidArgument, std::string("missing argument '") + key + "'");
    return std::string();
  }
  if (!it->is_string()) return make_error(ErrorCode::kInvalidArgument, std::string("argument '") + key + "' must be a string");
  return it->get<std::string>();
}

}  // namespace musicfs

namespace musicfs {

Result<std::string> path_string_arg(const nlohmann::json& args, const char* key, bool required) {
  auto it = args.find(key);
  if (it == args.end() || it->is_null()) {
    if (required) return make_error(ErrorCode::kInvalidArgument, std::string("missing argument '") + key + "'");
    return std::string();
  }
  auto bytes = decode_path(*it);
  if (!bytes) return bytes.error().with_context(std::string("argument '") + key + "'");
  return bytes;
}

}  // namespace musicfs
