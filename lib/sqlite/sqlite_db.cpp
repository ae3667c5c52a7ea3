#include "sqlite/sqlite_db.h"

#include <sys/stat.h>

#include <cerrno>
#include <utility>

#include "util/private_file.h"

namespace musicfs {

namespace {
Error sqlite_error(sqlite3* db, const std::string& what) {
  return make_error(ErrorCode::kIo, "sqlite: " + what + ": " + (db ? sqlite3_errmsg(db) : "out of memory"));
}
}  // namespace

SqliteStatement::SqliteStatement(SqliteStatement&& o) noexcept
    : db_(std::exchange(o.db_, nullptr)), st_(std::exchange(o.st_, nullptr)) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& o) noexcept {
  if (this != &o) {
    if (st_) sqlite3_finalize(st_);
    db_ = std::exchange(o.db_, nullptr);
    st_ = std::exchange(o.st_, nullptr);
  }
  return *this;
}

SqliteStatement::~SqliteStatement() {
  if (st_) sqlite3_finalize(st_);
}

SqliteStatement& SqliteStatement::bind(int i, int64_t v) {
  sqlite3_bind_int64(st_, i, v);
  return *this;
}
SqliteStatement& SqliteStatement::bind(int i, double v) {
  sqlite3_bind_double(st_, i, v);
  return *this;
}
SqliteStatement& SqliteStatement::bind(int i, std::string_view v) {
  sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
SqliteStatement& SqliteStatement::bind_null(int i) {
  sqlite3_bind_null(st_, i);
  return *this;
}
SqliteStatement& SqliteStatement::bind_blob(int i, const void* data, size_t size) {
  sqlite3_bind_blob(st_, i, data, static_cast<int>(size), SQLITE_TRANSIENT);
  return *this;
}

Result<bool> SqliteStatement::step() {
  int rc = sqlite3_step(st_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "step");
}

Status SqliteStatement::run() {
  auto r = step();
  reset();
  if (!r) return r.take_error();
  return {};
}

void SqliteStatement::reset() {
  sqlite3_reset(st_);
  sqlite3_clear_bindings(st_);
}

std::string SqliteStatement::blob_at(int col) const {
  const void* b = sqlite3_column_blob(st_, col);
  return b ? std::string(static_cast<const char*>(b), static_cast<size_t>(sqlite3_column_bytes(st_, col))) : "";
}

std::string SqliteStatement::text_at(int col) const {
  const unsigned char* t = sqlite3_column_text(st_, col);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(st_, col))) : "";
}

Result<SqliteDb> SqliteDb::open(const std::string& path) {
  // SQLite creates a database 0644 (less the umask), and its -wal and -shm files with
  // the database's own mode: a database created 0600 first keeps all three private.
  // -wal and -shm left by an older version with a wider mode are tightened too.
  // Never open() the database file itself when it exists: this process may already
  // hold it through another connection (the state store has a writer and a reader),
  // and closing any descriptor of a file drops every POSIX lock the process holds on
  // it (fcntl(2)), SQLite's included. Another process (sqlite3(1) run by a person, or
  // a test) closing its own connection would then take itself for the last user,
  // checkpoint and delete the WAL this process goes on writing to: every later write
  // would be lost. chmod(2) by path takes no descriptor.
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0 && ::chmod(path.c_str(), 0600) != 0) {
      return Error::from_errno(errno, "cannot make " + path + " private (chmod 600)");
    }
  } else if (errno != ENOENT) {
    return Error::from_errno(errno, "cannot stat " + path);
  } else if (auto s = make_private_file(path); !s) {
    // A file that did not exist is held by no connection: creating it 0600 is safe.
    return s.take_error();
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string side = path + suffix;
    if (::chmod(side.c_str(), 0600) != 0 && errno != ENOENT) {
      return Error::from_errno(errno, "cannot make " + side + " private (chmod 600)");
    }
  }
  SqliteDb db;
  db.path_ = path;
  int rc = sqlite3_open_v2(path.c_str(), &db.db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                           nullptr);
  if (rc != SQLITE_OK) return sqlite_error(db.db_, "open " + path);
  sqlite3_busy_timeout(db.db_, 5000);
  return db;
}

SqliteDb::SqliteDb(SqliteDb&& o) noexcept : db_(std::exchange(o.db_, nullptr)), path_(std::move(o.path_)) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    db_ = std::exchange(o.db_, nullptr);
    path_ = std::move(o.path_);
  }
  return *this;
}

SqliteDb::~SqliteDb() {
  if (db_) sqlite3_close_v2(db_);
}

Status SqliteDb::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error(ErrorCode::kIo, "sqlite: " + msg);
  }
  return {};
}

Result<SqliteStatement> SqliteDb::prepare(const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) return sqlite_error(db_, "prepare");
  return SqliteStatement(db_, st);
}

Result<int64_t> SqliteDb::query_int(const std::string& sql) {
  auto st = prepare(sql);
  if (!st) return st.take_error();
  auto row = st->step();
  if (!row) return row.take_error();
  return *row ? st->int_at(0) : 0;
}

SqliteTransaction::SqliteTransaction(SqliteDb& db) : db_(db) { open_ = db_.exec("BEGIN IMMEDIATE").ok(); }

SqliteTransaction::~SqliteTransaction() {
  if (open_) (void)db_.exec("ROLLBACK");
}

Status SqliteTransaction::commit() {
  if (!open_) return make_error(ErrorCode::kIo, "sqlite: transaction not open");
  open_ = false;
  return db_.exec("COMMIT");
}

}  // namespace musicfs
