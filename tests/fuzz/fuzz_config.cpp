// libFuzzer target: the config parser, parse_config_string (lib/config), fed any text
// as a musicfs.toml. It must never crash or throw; it returns a Config or an error.
// With MUSICFS_FUZZ_STRICT=1 in the environment it also holds every error to the
// documented form (musicfs.toml(5), config_parser.h): one line, starting with the
// file name. Strict mode is off by default so that a known message bug does not stop
// the search for crashes at its first input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <spdlog/spdlog.h>
#include <string>
#include <string_view>

#include "config/config_parser.h"
#include "fuzz_check.h"

namespace {
const std::string kSource = "fuzz.toml";
bool strict = false;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // The parser warns through spdlog (e.g. tls_verify = false); at millions of inputs
  // a second that is only noise and lost time.
  spdlog::set_level(spdlog::level::off);
  const char* s = std::getenv("MUSICFS_FUZZ_STRICT");
  strict = s != nullptr && std::string_view(s) == "1";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto config = musicfs::parse_config_string(text, kSource);
  if (config) {
    FUZZ_CHECK(config->source_path == kSource);
    return 0;
  }
  const std::string& message = config.error().message;
  FUZZ_CHECK(!message.empty());
  if (strict) {
    FUZZ_CHECK(message.rfind(kSource, 0) == 0);
    FUZZ_CHECK(message.find('\n') == std::string::npos);
  }
  return 0;
}
