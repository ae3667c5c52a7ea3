#pragma once
// What the daemon does with a SQLite file that is damaged (a disk error, a bad copy,
// garbage written over it): it is checked when opened, and a database that fails is
// never used as if sound. The state database is set aside for a post-mortem; the
// content cache's catalog, which only describes a disposable cache, is deleted.
#include <cstdint>
#include <optional>
#include <string>

#include "core/error.h"

namespace musicfs {

// Why the database at `path` cannot be trusted, or nullopt when it is sound or does
// not exist. Runs PRAGMA quick_check. A file of zero bytes is damage when
// `empty_is_damage` (SQLite would silently treat it as a new, empty database).
// Errors are for a database that cannot be checked at all (busy, unreadable), which
// is not evidence of damage.
Result<std::optional<std::string>> database_damage(const std::string& path, bool empty_is_damage);

// Renames `path` and its -wal and -shm to "<path>.corrupt-YYYYMMDDTHHMMSS" (UTC, at
// `unix_now`; "-wal"/"-shm" after that), so that a fresh database can be created at
// `path`. Returns the new name of the main file.
Result<std::string> set_database_aside(const std::string& path, int64_t unix_now);

// Deletes `path` and its -wal and -shm.
Status remove_database(const std::string& path);

}  // namespace musicfs
