#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "unit/unit_support.h"
#include "util/logging.h"

using namespace musicfs;

TEST_CASE("the log file is created 0600 whatever the umask and an existing one is made 0600", "[util]") {
  test::TempDir dir("log");
  const std::string fresh = dir / "fresh.log";
  const std::string old = dir.write("old.log", "earlier lines\n");
  REQUIRE(::chmod(old.c_str(), 0644) == 0);
  const mode_t saved = ::umask(022);
  for (const auto& path : {fresh, old}) {
    REQUIRE(setup_logging(LogTarget::kFile, "info", path).ok());
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    INFO(path);
    CHECK((st.st_mode & 0777) == 0600);
  }
  ::umask(saved);
  REQUIRE(setup_logging(LogTarget::kNull, "info").ok());
}
