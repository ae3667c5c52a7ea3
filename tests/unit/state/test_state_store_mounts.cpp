// The mounts table that a restart after a crash reads: a mount's -o allow_other
// override survives with it, and a database from before schema v3 migrates.
#include <catch2/catch.hpp>

#include <string>

#include "sqlite/sqlite_db.h"
#include "state/state_store.h"
#include "unit/unit_support.h"

using namespace musicfs;

TEST_CASE("a stored mount keeps its allow_other override", "[state]") {
  test::TempDir dir;
  auto store = StateStore::open(dir / "musicfs.db", 1000);
  REQUIRE(store.ok());
  REQUIRE((*store)->save_mount({"/mnt/a", "/etc/a.toml", true}).ok());
  REQUIRE((*store)->save_mount({"/mnt/b", "/etc/b.toml", false}).ok());
  auto mounts = (*store)->mounts();
  REQUIRE(mounts.ok());
  REQUIRE(mounts->size() == 2);
  CHECK((*mounts)[0].mount_point == "/mnt/a");
  CHECK((*mounts)[0].allow_other);
  CHECK((*mounts)[1].mount_point == "/mnt/b");
  CHECK_FALSE((*mounts)[1].allow_other);
}

TEST_CASE("a schema v2 database migrates and its mounts have no override", "[state]") {
  test::TempDir dir;
  const std::string path = dir / "musicfs.db";
  {
    auto db = SqliteDb::open(path);
    REQUIRE(db.ok());
    const auto& steps = schema_migrations();
    REQUIRE(steps.size() >= 3);
    REQUIRE(db->exec(steps[0]).ok());
    REQUIRE(db->exec(steps[1]).ok());
    REQUIRE(db->exec("PRAGMA user_version = 2").ok());
    REQUIRE(db->exec("INSERT INTO mounts(mount_point, config_path) VALUES('/mnt/old', '/etc/old.toml')").ok());
  }
  auto store = StateStore::open(path, 1000);
  REQUIRE(store.ok());
  auto mounts = (*store)->mounts();
  REQUIRE(mounts.ok());
  REQUIRE(mounts->size() == 1);
  CHECK((*mounts)[0].config_path == "/etc/old.toml");
  CHECK_FALSE((*mounts)[0].allow_other);
}
