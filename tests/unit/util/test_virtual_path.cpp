#include <catch2/catch.hpp>

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
