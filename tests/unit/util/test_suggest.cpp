#include <catch2/catch.hpp>

#include "util/suggest.h"

using namespace musicfs;

TEST_CASE("closest_match suggests near typos only", "[util]") {
  const std::vector<std::string> types{"local", "nfs", "smb", "s3", "sftp"};
  CHECK(closest_match("locl", types) == std::optional<std::string>("local"));
  CHECK(closest_match("nfss", types) == std::optional<std::string>("nfs"));
  CHECK(closest_match("local", types) == std::optional<std::string>("local"));
  CHECK_FALSE(closest_match("gopher", types).has_value());
  // Distance 2 on a 3-letter word is not "less than half the word".
  CHECK_FALSE(closest_match("nsf", types).has_value());
  CHECK_FALSE(closest_match("x", {}).has_value());

  const std::vector<std::string> keys{"check_interval_secs", "timeout_ms", "priority"};
  CHECK(closest_match("check_interval_sec", keys) == std::optional<std::string>("check_interval_secs"));
  CHECK(closest_match("priorty", keys) == std::optional<std::string>("priority"));
}
