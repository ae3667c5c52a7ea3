// database_damage and set_database_aside on real SQLite files.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "sqlite/db_recovery.h"
#include "sqlite/sqlite_db.h"
#include "unit/unit_support.h"

using namespace musicfs;

namespace {
void make_database(const std::string& path) {
  auto db = SqliteDb::open(path);
  REQUIRE(db.ok());
  REQUIRE(db->exec("CREATE TABLE t (k TEXT PRIMARY KEY, v BLOB)").ok());
  for (int i = 0; i < 200; ++i) {
    REQUIRE(db->exec("INSERT INTO t VALUES('key" + std::to_string(i) + "', zeroblob(100))").ok());
  }
}
}  // namespace

TEST_CASE("database_damage on sound and missing and empty and garbled files", "[state]") {
  test::TempDir dir("dbrec");
  const std::string db = dir / "x.db";
  SECTION("a missing file is not damage") { CHECK_FALSE(database_damage(db, true)->has_value()); }
  SECTION("a sound database") {
    make_database(db);
    auto d = database_damage(db, true);
    REQUIRE(d.ok());
    CHECK_FALSE(d->has_value());
  }
  SECTION("an empty file is damage only when asked") {
    dir.write("x.db", "");
    CHECK_FALSE(database_damage(db, false)->has_value());
    auto d = database_damage(db, true);
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    CHECK(**d == "the file is empty (0 bytes)");
  }
  SECTION("a file that is not a database") {
    dir.write("x.db", std::string(10000, 'z'));
    auto d = database_damage(db, false);
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    CHECK(**d == "file is not a database");
  }
  SECTION("garbage in the middle pages") {
    make_database(db);
    const auto size = std::filesystem::file_size(db);
    REQUIRE(size >= 4 * 4096);
    {
      std::fstream f(db, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(4096);
      const std::string garbage(size - 2 * 4096, '\x37');
      f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    }
    auto d = database_damage(db, false);
    REQUIRE(d.ok());
    REQUIRE(d->has_value());
    INFO(**d);
    // One line, for the log and the event.
    CHECK((**d).find('\n') == std::string::npos);
  }
}

TEST_CASE("set_database_aside moves the file with its -wal and -shm and never over an earlier one", "[state]") {
  test::TempDir dir("dbrec");
  const std::string db = dir / "musicfs.db";
  dir.write("musicfs.db", "main");
  dir.write("musicfs.db-wal", "wal");
  auto aside = set_database_aside(db, 1764633600);  // 2025-12-02T00:00:00Z
  REQUIRE(aside.ok());
  CHECK(*aside == db + ".corrupt-20251202T000000");
  CHECK(std::filesystem::exists(*aside));
  CHECK(std::filesystem::exists(*aside + "-wal"));
  CHECK_FALSE(std::filesystem::exists(db));
  CHECK_FALSE(std::filesystem::exists(db + "-wal"));

  dir.write("musicfs.db", "second");
  auto second = set_database_aside(db, 1764633600);
  REQUIRE(second.ok());
  CHECK(*second == db + ".corrupt-20251202T000000-2");
  std::ifstream first(*aside);
  std::string text;
  std::getline(first, text);
  CHECK(text == "main");
}
