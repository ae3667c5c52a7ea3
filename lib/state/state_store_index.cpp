// StateStore: the persisted index (tables index_origins and index_entries, schema v2).
//
// Writes go through the one writer thread like every other write, so they are ordered
// with each other and with forget_index: a removal that follows an update in the
// federation follows it in the database too.
#include <spdlog/spdlog.h>

#include <chrono>

#include "state/index_origin_id.h"
#include "state/state_store.h"
#include "util/time_util.h"

namespace musicfs {

namespace {
// How many index rows may wait for the writer. A first listing of a million files
// produces rows far faster than SQLite commits them; beyond this the indexer waits.
constexpr size_t kMaxQueuedIndexRows = 50'000;
// A writer that is gone (shutdown) never frees budget; the indexer must not hang on it.
constexpr auto kBudgetWait = std::chrono::seconds(30);

// Stored as small integers; spelled out so that reordering EntryType cannot change
// what a database on disk means.
int64_t type_code(EntryType t) {
  switch (t) {
    case EntryType::kFile: return 0;
    case EntryType::kDirectory: return 1;
    case EntryType::kSymlink: return 2;
  }
  return 0;
}

bool type_from_code(int64_t code, EntryType& out) {
  switch (code) {
    case 0: out = EntryType::kFile; return true;
    case 1: out = EntryType::kDirectory; return true;
    case 2: out = EntryType::kSymlink; return true;
    default: return false;
  }
}

Status write_deltas(SqliteDb& db, const std::string& mount, const std::string& origin,
                    const std::vector<IndexDelta>& deltas) {
  auto id = index_origin_id(db, mount, origin);
  if (!id) return id.take_error();
  auto put = db.prepare(
      "INSERT OR REPLACE INTO index_entries(origin_id, path, type, mode, size, mtime_sec, mtime_nsec, target)"
      " VALUES(?,?,?,?,?,?,?,?)");
  if (!put) return put.take_error();
  auto del = db.prepare("DELETE FROM index_entries WHERE origin_id = ? AND path = ?");
  if (!del) return del.take_error();
  // A file that goes takes its tags with it (a layout mount's; see state_store_tags.cpp).
  auto del_tags = db.prepare("DELETE FROM index_tags WHERE origin_id = ? AND path = ?");
  if (!del_tags) return del_tags.take_error();
  for (const auto& d : deltas) {
    if (d.removed) {
      if (auto s = del->bind(1, *id).bind(2, d.path).run(); !s) return s;
      if (auto s = del_tags->bind(1, *id).bind(2, d.path).run(); !s) return s;
      continue;
    }
    put->bind(1, *id).bind(2, d.path).bind(3, type_code(d.attr.type)).bind(4, int64_t{d.attr.mode})
        .bind(5, static_cast<int64_t>(d.attr.size)).bind(6, d.attr.mtime_sec).bind(7, int64_t{d.attr.mtime_nsec});
    if (d.attr.type == EntryType::kSymlink) {
      put->bind(8, d.attr.symlink_target);
    } else {
      put->bind_null(8);
    }
    if (auto s = put->run(); !s) return s;
  }
  return {};
}
}  // namespace

Result<int64_t> index_origin_id(SqliteDb& db, const std::string& mount, const std::string& origin) {
  auto ins = db.prepare("INSERT OR IGNORE INTO index_origins(mount, origin) VALUES(?,?)");
  if (!ins) return ins.take_error();
  if (auto s = ins->bind(1, mount).bind(2, origin).run(); !s) return s.take_error();
  auto sel = db.prepare("SELECT id FROM index_origins WHERE mount = ? AND origin = ?");
  if (!sel) return sel.take_error();
  sel->bind(1, mount).bind(2, origin);
  auto row = sel->step();
  if (!row) return row.take_error();
  if (!*row) return make_error(ErrorCode::kInternal, "index_origins has no row for " + mount + " " + origin);
  return sel->int_at(0);
}

void StateStore::save_index_changes(const std::string& mount, const std::string& origin,
                                    std::vector<IndexDelta> deltas) {
  if (deltas.empty()) return;
  const size_t rows = deltas.size();
  {
    std::unique_lock lock(index_budget_mu_);
    if (!index_budget_cv_.wait_for(lock, kBudgetWait, [&] { return index_rows_queued_ < kMaxQueuedIndexRows; })) {
      spdlog::warn("state database: index writes are {} rows behind; queueing more anyway", index_rows_queued_);
    }
    index_rows_queued_ += rows;
  }
  enqueue([this, mount, origin, rows, deltas = std::move(deltas)](SqliteDb& db) {
    if (auto s = write_deltas(db, mount, origin, deltas); !s) {
      spdlog::error("state database: cannot persist the index of {} in {}: {}", origin, mount, s.error().message);
    }
    {
      std::lock_guard lock(index_budget_mu_);
      index_rows_queued_ -= std::min(rows, index_rows_queued_);
    }
    index_budget_cv_.notify_all();
  });
}

void StateStore::mark_index_complete(const std::string& mount, const std::string& origin, const EntryAttr& root) {
  const int64_t now = unix_now();
  enqueue([mount, origin, root, now](SqliteDb& db) {
    auto st = db.prepare(
        "INSERT INTO index_origins(mount, origin, complete, root_mode, root_mtime_sec, root_mtime_nsec, indexed_at)"
        " VALUES(?,?,1,?,?,?,?) ON CONFLICT(mount, origin) DO UPDATE SET complete = 1,"
        " root_mode = excluded.root_mode, root_mtime_sec = excluded.root_mtime_sec,"
        " root_mtime_nsec = excluded.root_mtime_nsec, indexed_at = excluded.indexed_at");
    Status s = st ? st->bind(1, mount).bind(2, origin).bind(3, int64_t{root.mode}).bind(4, root.mtime_sec)
                        .bind(5, int64_t{root.mtime_nsec}).bind(6, now).run()
                  : Status(st.take_error());
    if (!s) spdlog::error("state database: cannot mark the index of {} in {} complete: {}", origin, mount, s.error().message);
  });
}

void StateStore::forget_index(const std::string& mount, const std::string& origin) {
  enqueue([mount, origin](SqliteDb& db) {
    for (const char* sql : {"DELETE FROM index_entries WHERE origin_id IN"
                            " (SELECT id FROM index_origins WHERE mount = ? AND origin = ?)",
                            "DELETE FROM index_tags WHERE origin_id IN"
                            " (SELECT id FROM index_origins WHERE mount = ? AND origin = ?)",
                            "DELETE FROM index_origins WHERE mount = ? AND origin = ?"}) {
      auto st = db.prepare(sql);
      Status s = st ? st->bind(1, mount).bind(2, origin).run() : Status(st.take_error());
      if (!s) spdlog::error("state database: cannot forget the index of {} in {}: {}", origin, mount, s.error().message);
    }
  });
}

Result<PersistedIndex> StateStore::load_index(const std::string& mount, const std::string& origin,
                                              const std::function<void(ListedEntry&&)>& sink) {
  // What the writer still holds belongs to the index too (a quick disable and enable).
  flush();
  std::lock_guard lock(reader_mu_);
  PersistedIndex out;
  out.root.type = EntryType::kDirectory;
  out.root.mode = 0755;
  auto head = reader_db_.prepare(
      "SELECT id, complete, root_mode, root_mtime_sec, root_mtime_nsec, indexed_at FROM index_origins"
      " WHERE mount = ? AND origin = ?");
  if (!head) return head.take_error();
  head->bind(1, mount).bind(2, origin);
  auto found = head->step();
  if (!found) return found.take_error();
  if (!*found) return out;
  const int64_t id = head->int_at(0);
  out.complete = head->int_at(1) != 0;
  out.root.mode = static_cast<uint32_t>(head->int_at(2)) & 07777;
  out.root.mtime_sec = head->int_at(3);
  out.root.mtime_nsec = static_cast<uint32_t>(head->int_at(4));
  out.indexed_at = head->int_at(5);

  // Path order is the primary key's order: no sort, and parents come first.
  auto rows = reader_db_.prepare(
      "SELECT path, type, mode, size, mtime_sec, mtime_nsec, target FROM index_entries"
      " WHERE origin_id = ? ORDER BY path");
  if (!rows) return rows.take_error();
  rows->bind(1, id);
  size_t skipped = 0;
  for (;;) {
    auto row = rows->step();
    if (!row) return row.take_error().with_context("load the index of " + origin + " in " + mount);
    if (!*row) break;
    ListedEntry e;
    if (!type_from_code(rows->int_at(1), e.attr.type)) {
      ++skipped;
      continue;
    }
    e.path = rows->text_at(0);
    e.attr.mode = static_cast<uint32_t>(rows->int_at(2)) & 07777;
    e.attr.size = static_cast<uint64_t>(rows->int_at(3));
    e.attr.mtime_sec = rows->int_at(4);
    e.attr.mtime_nsec = static_cast<uint32_t>(rows->int_at(5));
    if (e.attr.type == EntryType::kSymlink) e.attr.symlink_target = rows->text_at(6);
    sink(std::move(e));
    ++out.entries;
  }
  if (skipped > 0) spdlog::warn("state database: skipped {} index rows of {} with an unknown type", skipped, origin);
  return out;
}

Result<bool> StateStore::index_has_entries(const std::string& mount, const std::string& origin) {
  flush();
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare(
      "SELECT 1 FROM index_origins o JOIN index_entries e ON e.origin_id = o.id"
      " WHERE o.mount = ? AND o.origin = ? LIMIT 1");
  if (!st) return st.take_error();
  st->bind(1, mount).bind(2, origin);
  auto row = st->step();
  if (!row) return row.take_error();
  return *row;
}

Result<std::vector<std::string>> StateStore::indexed_origins(const std::string& mount) {
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare("SELECT origin FROM index_origins WHERE mount = ? ORDER BY origin");
  if (!st) return st.take_error();
  st->bind(1, mount);
  std::vector<std::string> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error();
    if (!*row) break;
    out.push_back(st->text_at(0));
  }
  return out;
}

}  // namespace musicfs
