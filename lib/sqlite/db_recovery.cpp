#include "sqlite/db_recovery.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <memory>

namespace musicfs {

namespace {
constexpr const char* kSideFiles[] = {"-wal", "-shm"};

// Closes the connection whatever happens; sqlite3_open_v2 hands one back even on failure.
struct Connection {
  sqlite3* db = nullptr;
  ~Connection() {
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

bool is_damage_code(int rc) {
  const int primary = rc & 0xff;
  return primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB;
}

std::string stamp(int64_t unix_now) {
  const time_t t = static_cast<time_t>(unix_now);
  struct tm tm {};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
  return buf;
}

// quick_check reports one problem per line; the report goes into one log line and
// one event, so the lines are joined.
std::string joined_lines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "; ";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}
}  // namespace

Result<std::optional<std::string>> database_damage(const std::string& path, bool empty_is_damage) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<std::string>();
    return Error::from_errno(errno, "cannot stat " + path);
  }
  if (st.st_size == 0) {
    if (!empty_is_damage) return std::optional<std::string>();
    return std::optional<std::string>("the file is empty (0 bytes)");
  }
  Connection c;
  // Read-write: a WAL left by a killed process is recovered into the check.
  int rc = sqlite3_open_v2(path.c_str(), &c.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string msg = c.db != nullptr ? sqlite3_errmsg(c.db) : "out of memory";
    if (is_damage_code(rc)) return std::optional<std::string>(msg);
    return make_error(ErrorCode::kIo, "sqlite: open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(c.db, 5000);
  sqlite3_stmt* raw = nullptr;
  rc = sqlite3_prepare_v2(c.db, "PRAGMA quick_check(1)", -1, &raw, nullptr);
  std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> st_guard(raw, sqlite3_finalize);
  if (rc != SQLITE_OK) {
    const std::string msg = sqlite3_errmsg(c.db);
    if (is_damage_code(rc)) return std::optional<std::string>(msg);
    return make_error(ErrorCode::kIo, "sqlite: check " + path + ": " + msg);
  }
  rc = sqlite3_step(raw);
  if (rc == SQLITE_ROW) {
    const unsigned char* text = sqlite3_column_text(raw, 0);
    const std::string result = text != nullptr ? reinterpret_cast<const char*>(text) : "";
    if (result == "ok") return std::optional<std::string>();
    return std::optional<std::string>("quick_check: " + joined_lines(result));
  }
  const std::string msg = sqlite3_errmsg(c.db);
  if (is_damage_code(rc)) return std::optional<std::string>(msg);
  return make_error(ErrorCode::kIo, "sqlite: check " + path + ": " + msg);
}

Result<std::string> set_database_aside(const std::string& path, int64_t unix_now) {
  std::string aside = path + ".corrupt-" + stamp(unix_now);
  // Two resets within a second (a crash loop) must not overwrite the first one's file.
  for (int n = 2; exists(aside); ++n) aside = path + ".corrupt-" + stamp(unix_now) + "-" + std::to_string(n);
  // The side files first: a crash in between leaves a main file with no WAL, which
  // is checked again at the next start, never a WAL applied to the wrong database.
  for (const char* suffix : kSideFiles) {
    const std::string from = path + suffix;
    if (::rename(from.c_str(), (aside + suffix).c_str()) != 0 && errno != ENOENT) {
      return Error::from_errno(errno, "cannot move " + from + " aside");
    }
  }
  if (::rename(path.c_str(), aside.c_str()) != 0) return Error::from_errno(errno, "cannot move " + path + " aside");
  return aside;
}

Status remove_database(const std::string& path) {
  for (const char* suffix : kSideFiles) {
    const std::string side = path + suffix;
    if (::unlink(side.c_str()) != 0 && errno != ENOENT) return Error::from_errno(errno, "cannot remove " + side);
  }
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error::from_errno(errno, "cannot remove " + path);
  return {};
}

}  // namespace musicfs
