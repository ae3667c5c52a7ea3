#include "util/logging.h"

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

#include "util/private_file.h"

namespace musicfs {

std::string resolve_log_level(const std::optional<std::string>& flag) {
  if (flag && !flag->empty()) return *flag;
  if (const char* env = std::getenv("MUSICFS_LOG"); env != nullptr && *env != '\0') return env;
  return "info";
}

Status setup_logging(LogTarget target, const std::string& level, const std::string& file_path) {
  auto lvl = spdlog::level::from_str(level);
  // from_str maps anything unknown to "off"; only accept "off" when it was asked for.
  if (lvl == spdlog::level::off && level != "off") {
    return make_error(ErrorCode::kInvalidArgument,
                      "unknown log level '" + level +
                          "' (use trace, debug, info, warn, error, critical or off)");
  }
  std::shared_ptr<spdlog::logger> logger;
  try {
    switch (target) {
      case LogTarget::kStderr:
        logger = std::make_shared<spdlog::logger>(
            "musicfs", std::make_shared<spdlog::sinks::stderr_sink_mt>());
        break;
      case LogTarget::kFile:
        // spdlog creates the file 0666 less the umask; the log names the user's files.
        if (auto s = make_private_file(file_path); !s) {
          return make_error(ErrorCode::kIo, "cannot open log file " + file_path + ": " + s.error().message);
        }
        logger = std::make_shared<spdlog::logger>(
            "musicfs", std::make_shared<spdlog::sinks::basic_file_sink_mt>(file_path));
        break;
      case LogTarget::kNull:
        logger = std::make_shared<spdlog::logger>(
            "musicfs", std::make_shared<spdlog::sinks::null_sink_mt>());
        break;
    }
  } catch (const spdlog::spdlog_ex& ex) {
    return make_error(ErrorCode::kIo, "cannot open log file " + file_path + ": " + ex.what());
  }
  logger->set_level(lvl);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
  return {};
}

}  // namespace musicfs
