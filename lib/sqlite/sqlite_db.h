#pragma once
// Thin RAII wrappers over the SQLite C API: a connection, a prepared statement, a
// transaction. Movable, not copyable; errors come back as Error values.
#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/error.h"

namespace musicfs {

class SqliteStatement {
 public:
  SqliteStatement() = default;
  SqliteStatement(sqlite3* db, sqlite3_stmt* st) : db_(db), st_(st) {}
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  SqliteStatement(SqliteStatement&& o) noexcept;
  SqliteStatement& operator=(SqliteStatement&& o) noexcept;
  ~SqliteStatement();

  SqliteStatement& bind(int i, int64_t v);
  SqliteStatement& bind(int i, double v);
  SqliteStatement& bind(int i, std::string_view v);
  SqliteStatement& bind_null(int i);
  SqliteStatement& bind_blob(int i, const void* data, size_t size);
  // One step: true when a row is available, false when done.
  Result<bool> step();
  Status run();  // step to completion, then reset for reuse
  void reset();

  int64_t int_at(int col) const { return sqlite3_column_int64(st_, col); }
  double real_at(int col) const { return sqlite3_column_double(st_, col); }
  std::string text_at(int col) const;
  std::string blob_at(int col) const;  // raw bytes
  bool null_at(int col) const { return sqlite3_column_type(st_, col) == SQLITE_NULL; }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* st_ = nullptr;
};

class SqliteDb {
 public:
  // Opens (creating) a database that only its owner can read: the file and its -wal
  // and -shm are 0600.
  static Result<SqliteDb> open(const std::string& path);
  SqliteDb() = default;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  SqliteDb(SqliteDb&& o) noexcept;
  SqliteDb& operator=(SqliteDb&& o) noexcept;
  ~SqliteDb();

  Status exec(const std::string& sql);
  Result<SqliteStatement> prepare(const std::string& sql);
  Result<int64_t> query_int(const std::string& sql);
  sqlite3* raw() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  sqlite3* db_ = nullptr;
  std::string path_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK unless commit() succeeded.
class SqliteTransaction {
 public:
  explicit SqliteTransaction(SqliteDb& db);
  ~SqliteTransaction();
  Status commit();

 private:
  SqliteDb& db_;
  bool open_ = false;
};

}  // namespace musicfs
