#pragma once
// The daemon's persistent state in one SQLite file (WAL mode, schema versioned with
// PRAGMA user_version and forward migrations). All writes go through one writer
// thread that batches them in transactions; reads use a second connection, which WAL
// lets run beside the writer. A kill -9 loses at most what was still queued (the
// check in flight), never the database: SQLite's journal keeps it consistent.
//
// Tables:
//   mounts         mount points to restore after a crash (cleared on clean shutdown)
//   origins        run-time changes per (mount, origin): added definitions, enable
//                  overrides, removal tombstones (see musicfs.toml(5), MERGE RULES)
//   origin_state   each origin's last health state
//   health_checks  probe history: time, origin, ok, latency, error
//   events         the event log
//   index_origins  per (mount, origin): whether its persisted index is a whole listing,
//                  the root's attributes and when it was written
//   index_entries  the persisted index: one row per path an origin holds
//   index_tags     the tags of a layout mount's audio files, per origin and path, with
//                  the size and mtime they were read at
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "config/config.h"
#include "core/event.h"
#include "core/health_status.h"
#include "index/index_store.h"
#include "sqlite/sqlite_db.h"

namespace musicfs {

constexpr int kSchemaVersion = 5;

struct RuntimeOriginRow {
  std::string mount;
  std::string id;
  std::optional<OriginConfig> definition;  // set when added at run time
  std::optional<bool> enabled;             // enable/disable override
  bool removed = false;                    // tombstone for a config-file origin
};

struct HealthCheckRow {
  double time = 0;
  std::string mount;
  std::string origin;
  bool ok = false;
  double latency_ms = 0;
  std::string error;
};

struct StoredMount {
  std::string mount_point;
  std::string config_path;
  bool allow_other = false;  // -o allow_other: an override the config file does not hold
};

// A damaged state database found at open and replaced by a fresh one.
struct StateReset {
  std::string damage;      // what the check found ("quick_check: ...", "the file is empty")
  std::string aside_path;  // where the damaged file went (musicfs.db.corrupt-YYYYMMDDTHHMMSS)
};

class StateStore {
 public:
  // Opens (creating and migrating as needed) state_dir/musicfs.db. A damaged file
  // (failed PRAGMA quick_check, or empty) is moved aside and a fresh one started
  // (see reset()); `now` (unix seconds) dates the aside name. Errors name the file.
  static Result<std::unique_ptr<StateStore>> open(const std::string& path, int64_t now);
  ~StateStore();

  const std::string& path() const { return path_; }
  // Set when open() replaced a damaged database.
  const std::optional<StateReset>& reset() const { return reset_; }

  // --- asynchronous writes (writer thread) ---
  void record_event(const Event& e);
  void record_health_check(const HealthCheckRow& row);
  void save_origin_state(const std::string& mount, const std::string& origin, const HealthState& s);
  void prune(int64_t older_than_unix);
  // Blocks until every queued write is committed (tests, shutdown, CLI writes).
  void flush();

  // --- the persisted index (asynchronous, applied in call order; state_store_index.cpp) ---
  // Writes only what changed. Blocks while too many index rows are still queued, so a
  // first listing of a huge library does not pile up in memory ahead of the writer.
  void save_index_changes(const std::string& mount, const std::string& origin, std::vector<IndexDelta> deltas);
  void mark_index_complete(const std::string& mount, const std::string& origin, const EntryAttr& root);
  // Drops an origin's persisted index (origins remove; not on disable).
  void forget_index(const std::string& mount, const std::string& origin);
  // Streams the origin's persisted entries in path order, after every queued write.
  // True when the persisted index of the origin holds at least one entry (cheap).
  Result<bool> index_has_entries(const std::string& mount, const std::string& origin);
  Result<PersistedIndex> load_index(const std::string& mount, const std::string& origin,
                                    const std::function<void(ListedEntry&&)>& sink);
  // Tags (state_store_tags.cpp): written in call order with the index, so a removal
  // that follows a save removes the saved row.
  void save_tags(const std::string& mount, const std::string& origin, std::vector<TagRecord> records);
  Result<size_t> load_tags(const std::string& mount, const std::string& origin,
                           const std::function<void(TagRecord&&)>& sink);
  // Origins of a mount that have a persisted index.
  Result<std::vector<std::string>> indexed_origins(const std::string& mount);

  // --- synchronous writes (rare, user-initiated; committed before returning) ---
  Status save_mount(const StoredMount& m);
  Status forget_mount(const std::string& mount_point);
  Status clear_mounts();
  Status save_runtime_origin(const RuntimeOriginRow& row);
  Status delete_runtime_origin(const std::string& mount, const std::string& id);

  // --- reads ---
  Result<std::vector<StoredMount>> mounts();
  Result<std::vector<RuntimeOriginRow>> runtime_origins(const std::string& mount);
  Result<std::optional<HealthState>> origin_state(const std::string& mount, const std::string& origin);
  Result<std::vector<HealthCheckRow>> health_checks(double since, const std::string& origin);
  Result<std::vector<Event>> events(int64_t since, const std::string& kind, int64_t after_id);
  Result<int64_t> max_event_id();
  Result<std::string> integrity_check();

 private:
  StateStore() = default;
  void enqueue(std::function<void(SqliteDb&)> write);
  void writer_loop();
  template <typename Fn>
  Status write_now(Fn&& fn);

  std::string path_;
  std::optional<StateReset> reset_;
  SqliteDb writer_db_;
  SqliteDb reader_db_;
  std::mutex reader_mu_;  // one reader connection, serialised
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<std::function<void(SqliteDb&)>> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread writer_;
  // Index rows queued and not yet written (see save_index_changes).
  std::mutex index_budget_mu_;
  std::condition_variable index_budget_cv_;
  size_t index_rows_queued_ = 0;
};

// Forward migrations: migrations()[i] brings the schema from version i to i+1.
const std::vector<std::string>& schema_migrations();

}  // namespace musicfs
