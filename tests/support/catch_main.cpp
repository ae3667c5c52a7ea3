#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include "util/logging.h"

int main(int argc, char** argv) {
  // Library code logs through spdlog; tests keep it quiet unless MUSICFS_LOG says otherwise.
  (void)musicfs::setup_logging(std::getenv("MUSICFS_LOG") ? musicfs::LogTarget::kStderr : musicfs::LogTarget::kNull,
                               musicfs::resolve_log_level(std::nullopt));
  return Catch::Session().run(argc, argv);
}
