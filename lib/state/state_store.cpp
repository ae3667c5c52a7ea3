#include "state/state_store.h"

#include <spdlog/spdlog.h>

#include "config/origin_json.h"
#include "sqlite/db_recovery.h"

namespace musicfs {

namespace {
HealthStatus status_from(const std::string& s) {
  if (s == "healthy") return HealthStatus::kHealthy;
  if (s == "degraded") return HealthStatus::kDegraded;
  if (s == "unhealthy") return HealthStatus::kUnhealthy;
  return HealthStatus::kUnknown;
}

// Event names in one column: '/' never occurs in an entry name.
std::string join_names(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += '/';
    out += n;
  }
  return out;
}

std::vector<std::string> split_names(const std::string& joined) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < joined.size()) {
    size_t j = joined.find('/', i);
    if (j == std::string::npos) j = joined.size();
    out.push_back(joined.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Status migrate(SqliteDb& db) {
  auto version = db.query_int("PRAGMA user_version");
  if (!version) return version.take_error();
  const auto& steps = schema_migrations();
  if (*version > static_cast<int64_t>(steps.size())) {
    return make_error(ErrorCode::kUnsupported, "state database " + db.path() + " has schema version " +
                                                   std::to_string(*version) + ", newer than this musicfs (" +
                                                   std::to_string(steps.size()) + ")");
  }
  for (int64_t v = *version; v < static_cast<int64_t>(steps.size()); ++v) {
    SqliteTransaction tx(db);
    if (auto s = db.exec(steps[static_cast<size_t>(v)]); !s) return s.error().with_context("migration to v" + std::to_string(v + 1));
    if (auto s = db.exec("PRAGMA user_version = " + std::to_string(v + 1)); !s) return s;
    if (auto s = tx.commit(); !s) return s;
    spdlog::info("state database {} migrated to schema v{}", db.path(), v + 1);
  }
  return {};
}
}  // namespace

Result<std::unique_ptr<StateStore>> StateStore::open(const std::string& path, int64_t now) {
  std::unique_ptr<StateStore> store(new StateStore());
  store->path_ = path;
  const std::string what = "state database " + path;
  // A damaged database is never used as if sound: what it held (mounts to restore,
  // run-time origins, history, the persisted index) is rebuilt or lost, and the bad
  // file is kept for a post-mortem. An empty file is damage too: this store never
  // leaves one, and SQLite would take it for a new database.
  auto damage = database_damage(path, true);
  if (!damage) return damage.error().with_context(what);
  if (*damage) {
    auto aside = set_database_aside(path, now);
    if (!aside) return aside.error().with_context(what + " is damaged (" + **damage + ")");
    store->reset_ = StateReset{**damage, *aside};
    spdlog::warn("{} is damaged ({}); moved it to {} and started a fresh one", what, **damage, *aside);
  }
  auto w = SqliteDb::open(path);
  if (!w) return w.take_error();
  store->writer_db_ = std::move(*w);
  // WAL: readers never block the writer; synchronous=NORMAL is crash-safe for a
  // killed process (the OS still has the WAL), which is the failure we design for.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA foreign_keys=ON"}) {
    if (auto s = store->writer_db_.exec(pragma); !s) return s.error().with_context(what);
  }
  if (auto s = migrate(store->writer_db_); !s) return s.error().with_context(what);
  auto r = SqliteDb::open(path);
  if (!r) return r.take_error();
  store->reader_db_ = std::move(*r);
  store->writer_ = std::thread([s = store.get()] { s->writer_loop(); });
  return store;
}

StateStore::~StateStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void StateStore::enqueue(std::function<void(SqliteDb&)> write) {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(write));
  }
  cv_.notify_one();
}

void StateStore::writer_loop() {
  for (;;) {
    std::deque<std::function<void(SqliteDb&)>> batch;
    {
      std::unique_lock lock(mu_);
      busy_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      batch.swap(queue_);
      busy_ = true;
    }
    // One transaction per batch: many small writes cost one fsync of the WAL.
    SqliteTransaction tx(writer_db_);
    for (auto& w : batch) w(writer_db_);
    if (auto s = tx.commit(); !s) spdlog::error("state database {}: write failed: {}", path_, s.error().message);
  }
}

void StateStore::flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void StateStore::record_event(const Event& e) {
  enqueue([e](SqliteDb& db) {
    auto st = db.prepare(
        "INSERT OR REPLACE INTO events(id, time, kind, mount, origin, path, message, count, names)"
        " VALUES(?,?,?,?,?,?,?,?,?)");
    if (!st) return;
    (void)st->bind(1, e.id).bind(2, e.time).bind(3, e.kind).bind(4, e.mount).bind(5, e.origin).bind(6, e.path)
        .bind(7, e.message).bind(8, e.count).bind(9, join_names(e.names)).run();
  });
}

void StateStore::record_health_check(const HealthCheckRow& r) {
  enqueue([r](SqliteDb& db) {
    auto st = db.prepare("INSERT INTO health_checks(time, mount, origin, ok, latency_ms, error) VALUES(?,?,?,?,?,?)");
    if (!st) return;
    (void)st->bind(1, r.time).bind(2, r.mount).bind(3, r.origin).bind(4, int64_t{r.ok ? 1 : 0}).bind(5, r.latency_ms)
        .bind(6, r.error).run();
  });
}

void StateStore::save_origin_state(const std::string& mount, const std::string& origin, const HealthState& s) {
  enqueue([mount, origin, s](SqliteDb& db) {
    auto st = db.prepare(
        "INSERT OR REPLACE INTO origin_state(mount, origin, status, consecutive_failures, consecutive_successes,"
        " last_check, last_change, last_error) VALUES(?,?,?,?,?,?,?,?)");
    if (!st) return;
    (void)st->bind(1, mount).bind(2, origin).bind(3, health_status_name(s.status))
        .bind(4, int64_t{s.consecutive_failures}).bind(5, int64_t{s.consecutive_successes}).bind(6, s.last_check)
        .bind(7, s.last_change).bind(8, s.last_error).run();
  });
}

void StateStore::prune(int64_t older_than) {
  enqueue([older_than](SqliteDb& db) {
    for (const char* sql : {"DELETE FROM health_checks WHERE time < ?", "DELETE FROM events WHERE time < ?"}) {
      auto st = db.prepare(sql);
      Status s = st ? st->bind(1, older_than).run() : Status(st.take_error());
      // A prune that fails leaves old rows for the next one (hourly): worth a line.
      if (!s) spdlog::warn("state database: prune ({}): {}", sql, s.error().message);
      if (s) spdlog::debug("state database: {} [{}]: {} row(s)", sql, older_than, sqlite3_changes(db.raw()));
    }
  });
}

template <typename Fn>
Status StateStore::write_now(Fn&& fn) {
  // Synchronous writes share the writer connection: wait until the writer is idle and
  // keep it parked (it needs mu_ to take a batch) while this transaction runs.
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
  SqliteTransaction tx(writer_db_);
  if (auto s = fn(writer_db_); !s) return s;
  return tx.commit();
}

Status StateStore::save_mount(const StoredMount& m) {
  return write_now([&](SqliteDb& db) -> Status {
    auto st = db.prepare("INSERT OR REPLACE INTO mounts(mount_point, config_path, allow_other) VALUES(?,?,?)");
    if (!st) return st.take_error();
    return st->bind(1, m.mount_point).bind(2, m.config_path).bind(3, int64_t{m.allow_other ? 1 : 0}).run();
  });
}

Status StateStore::forget_mount(const std::string& mount_point) {
  return write_now([&](SqliteDb& db) -> Status {
    auto st = db.prepare("DELETE FROM mounts WHERE mount_point = ?");
    if (!st) return st.take_error();
    return st->bind(1, mount_point).run();
  });
}

Status StateStore::clear_mounts() {
  return write_now([&](SqliteDb& db) -> Status { return db.exec("DELETE FROM mounts"); });
}

Status StateStore::save_runtime_origin(const RuntimeOriginRow& row) {
  return write_now([&](SqliteDb& db) -> Status {
    auto st = db.prepare("INSERT OR REPLACE INTO origins(mount, id, definition, enabled, removed) VALUES(?,?,?,?,?)");
    if (!st) return st.take_error();
    st->bind(1, row.mount).bind(2, row.id);
    if (row.definition) {
      st->bind(3, origin_to_json(*row.definition).dump());
    } else {
      st->bind_null(3);
    }
    if (row.enabled) {
      st->bind(4, int64_t{*row.enabled ? 1 : 0});
    } else {
      st->bind_null(4);
    }
    st->bind(5, int64_t{row.removed ? 1 : 0});
    return st->run();
  });
}

Status StateStore::delete_runtime_origin(const std::string& mount, const std::string& id) {
  return write_now([&](SqliteDb& db) -> Status {
    auto st = db.prepare("DELETE FROM origins WHERE mount = ? AND id = ?");
    if (!st) return st.take_error();
    return st->bind(1, mount).bind(2, id).run();
  });
}

Result<std::vector<StoredMount>> StateStore::mounts() {
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare("SELECT mount_point, config_path, allow_other FROM mounts ORDER BY mount_point");
  if (!st) return st.take_error();
  std::vector<StoredMount> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error();
    if (!*row) break;
    out.push_back({st->text_at(0), st->text_at(1), st->int_at(2) != 0});
  }
  return out;
}

Result<std::vector<RuntimeOriginRow>> StateStore::runtime_origins(const std::string& mount) {
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare("SELECT id, definition, enabled, removed FROM origins WHERE mount = ? ORDER BY id");
  if (!st) return st.take_error();
  st->bind(1, mount);
  std::vector<RuntimeOriginRow> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error();
    if (!*row) break;
    RuntimeOriginRow r;
    r.mount = mount;
    r.id = st->text_at(0);
    if (!st->null_at(1)) {
      auto j = nlohmann::json::parse(st->text_at(1), nullptr, false);
      auto o = origin_from_json(j, path_ + ": origin '" + r.id + "'");
      if (!o) {
        spdlog::warn("ignoring a stored origin that no longer validates: {}", o.error().message);
        continue;
      }
      r.definition = std::move(*o);
    }
    if (!st->null_at(2)) r.enabled = st->int_at(2) != 0;
    r.removed = st->int_at(3) != 0;
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::optional<HealthState>> StateStore::origin_state(const std::string& mount, const std::string& origin) {
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare(
      "SELECT status, consecutive_failures, consecutive_successes, last_check, last_change, last_error"
      " FROM origin_state WHERE mount = ? AND origin = ?");
  if (!st) return st.take_error();
  st->bind(1, mount).bind(2, origin);
  auto row = st->step();
  if (!row) return row.take_error();
  if (!*row) return std::optional<HealthState>();
  HealthState s;
  s.status = status_from(st->text_at(0));
  s.consecutive_failures = static_cast<uint32_t>(st->int_at(1));
  s.consecutive_successes = static_cast<uint32_t>(st->int_at(2));
  s.last_check = st->int_at(3);
  s.last_change = st->int_at(4);
  s.last_error = st->text_at(5);
  return std::optional<HealthState>(s);
}

Result<std::vector<HealthCheckRow>> StateStore::health_checks(double since, const std::string& origin) {
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare(
      "SELECT time, mount, origin, ok, latency_ms, error FROM health_checks"
      " WHERE time >= ? AND (? = '' OR origin = ?) ORDER BY time, id");
  if (!st) return st.take_error();
  st->bind(1, since).bind(2, origin).bind(3, origin);
  std::vector<HealthCheckRow> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error();
    if (!*row) break;
    out.push_back({st->real_at(0), st->text_at(1), st->text_at(2), st->int_at(3) != 0, st->real_at(4), st->text_at(5)});
  }
  return out;
}

Result<std::vector<Event>> StateStore::events(int64_t since, const std::string& kind, int64_t after_id) {
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare(
      "SELECT id, time, kind, mount, origin, path, message, count, names FROM events"
      " WHERE time >= ? AND id > ? AND (? = '' OR kind = ?) ORDER BY id");
  if (!st) return st.take_error();
  st->bind(1, since).bind(2, after_id).bind(3, kind).bind(4, kind);
  std::vector<Event> out;
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error();
    if (!*row) break;
    out.push_back({st->int_at(0), st->int_at(1), st->text_at(2), st->text_at(3), st->text_at(4), st->text_at(5),
                   st->text_at(6), st->int_at(7), split_names(st->text_at(8))});
  }
  return out;
}

Result<int64_t> StateStore::max_event_id() {
  std::lock_guard lock(reader_mu_);
  return reader_db_.query_int("SELECT COALESCE(MAX(id), 0) FROM events");
}

Result<std::string> StateStore::integrity_check() {
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare("PRAGMA integrity_check");
  if (!st) return st.take_error();
  auto row = st->step();
  if (!row) return row.take_error();
  return *row ? st->text_at(0) : std::string("no answer");
}

}  // namespace musicfs
