#include <catch2/catch.hpp>
#include <string>

#include "util/virtual_path.h"

using namespace musicfs;

TEST_CASE("normalize_virtual_path collapses slashes and dots", "[util]") {
  CHECK(*normalize_virtual_path("/") == "/");
  CHECK(*normalize_virtual_path("//a///b/./c/") == "/a/b/c");
}

TEST_CASE("normalize_virtual_path refuses '..' and relative paths", "[util]") {
  CHECK_FALSE(normalize_virtual_path("/a/../../etc").ok());
  CHECK_FALSE(normalize_virtual_path("a/b").ok());
  CHECK_FALSE(normalize_virtual_path("").ok());
}

TEST_CASE("split_parent and join_virtual are inverse", "[util]") {
  auto [p, n] = split_parent("/a/b/c.flac");
  CHECK(p == "/a/b");
  CHECK(n == "c.flac");
  CHECK(join_virtual(p, n) == "/a/b/c.flac");
  CHECK(split_parent("/x").first == "/");
  CHECK(join_virtual("/", "x") == "/x");
}

TEST_CASE("within_path_limits allows names up to 255 bytes and paths under 4096 bytes", "[util]") {
  CHECK(within_path_limits("/a/b.flac"));
  CHECK(within_path_limits("/" + std::string(255, 'n')));
  CHECK_FALSE(within_path_limits("/" + std::string(256, 'n') + "/x"));
  std::string path;
  while (path.size() + 201 < kMaxPathBytes) path += "/" + std::string(200, 'd');
  path += "/" + std::string(kMaxPathBytes - 2 - path.size(), 'f');  // 4095 bytes in all
  REQUIRE(path.size() == kMaxPathBytes - 1);
  CHECK(within_path_limits(path));
  CHECK_FALSE(within_path_limits(path + "x"));
}
