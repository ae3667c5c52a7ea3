// SqliteDb::open on a database this process already holds: a second connection must
// not drop the first one's locks, or another process closing its connection takes
// itself for the last user and deletes the WAL that the first one still writes to.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "sqlite/sqlite_db.h"
#include "unit/unit_support.h"

using namespace musicfs;

namespace {
// Runs sqlite3(1) in another process; returns its first output line.
std::string sqlite3_cli(const std::string& db, const std::string& sql) {
  int out[2];
  REQUIRE(::pipe(out) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::dup2(out[1], 1);
    ::close(out[0]);
    ::execlp("sqlite3", "sqlite3", db.c_str(), sql.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out[1]);
  std::string text;
  char buf[256];
  for (ssize_t n; (n = ::read(out[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<size_t>(n));
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) == 127) FAIL("sqlite3(1) is not installed (scripts/install-deps.sh)");
  return text.substr(0, text.find('\n'));
}
}  // namespace

TEST_CASE("a second connection keeps the first one's locks so another process cannot delete the live WAL", "[state]") {
  test::TempDir dir("sqlite");
  const std::string path = dir / "s.db";
  auto writer = SqliteDb::open(path);
  REQUIRE(writer.ok());
  REQUIRE(writer->exec("PRAGMA journal_mode=WAL").ok());
  REQUIRE(writer->exec("CREATE TABLE t (v INTEGER)").ok());
  REQUIRE(writer->exec("INSERT INTO t VALUES(1)").ok());
  // As StateStore::open does: a reader beside the writer.
  auto reader = SqliteDb::open(path);
  REQUIRE(reader.ok());
  // Another process opens and closes the database. Were the writer's locks gone, it
  // would checkpoint on close and unlink the WAL (its "last connection" test).
  CHECK(sqlite3_cli(path, "SELECT COUNT(*) FROM t") == "1");
  REQUIRE(writer->exec("INSERT INTO t VALUES(2)").ok());
  // What the writer commits after that is still seen by everyone else.
  CHECK(sqlite3_cli(path, "SELECT COUNT(*) FROM t") == "2");
  CHECK(::access((path + "-wal").c_str(), F_OK) == 0);
}

TEST_CASE("SqliteDb::open creates a missing database 0600 and tightens a wider one", "[state]") {
  test::TempDir dir("sqlite");
  {
    auto db = SqliteDb::open(dir / "new.db");
    REQUIRE(db.ok());
  }
  struct stat st {};
  REQUIRE(::stat((dir / "new.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  {
    auto db = SqliteDb::open(dir / "new.db");
    REQUIRE(db.ok());
    REQUIRE(db->exec("CREATE TABLE t (v INTEGER)").ok());
  }
  REQUIRE(::chmod((dir / "new.db").c_str(), 0644) == 0);
  auto again = SqliteDb::open(dir / "new.db");
  REQUIRE(again.ok());
  REQUIRE(::stat((dir / "new.db").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}
