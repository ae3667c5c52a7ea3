#include "state/state_store.h"

namespace musicfs {

const std::vector<std::string>& schema_migrations() {
  // Append only: a released migration is never edited, a new version adds a step.
  static const std::vector<std::string> steps = {
      // 0 -> 1
      R"sql(
        CREATE TABLE mounts (
          mount_point TEXT PRIMARY KEY,
          config_path TEXT NOT NULL);
        CREATE TABLE origins (
          mount TEXT NOT NULL,
          id TEXT NOT NULL,
          definition TEXT,          -- JSON of an origin added at run time, else NULL
          enabled INTEGER,          -- enable/disable override, else NULL
          removed INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (mount, id));
        CREATE TABLE origin_state (
          mount TEXT NOT NULL,
          origin TEXT NOT NULL,
          status TEXT NOT NULL,
          consecutive_failures INTEGER NOT NULL,
          consecutive_successes INTEGER NOT NULL,
          last_check INTEGER NOT NULL,
          last_change INTEGER NOT NULL,
          last_error TEXT NOT NULL,
          PRIMARY KEY (mount, origin));
        CREATE TABLE health_checks (
          id INTEGER PRIMARY KEY,
          time REAL NOT NULL,
          mount TEXT NOT NULL,
          origin TEXT NOT NULL,
          ok INTEGER NOT NULL,
          latency_ms REAL NOT NULL,
          error TEXT NOT NULL);
        CREATE INDEX health_checks_by_time ON health_checks(time);
        CREATE INDEX health_checks_by_origin ON health_checks(origin, time);
        CREATE TABLE events (
          id INTEGER PRIMARY KEY,
          time INTEGER NOT NULL,
          kind TEXT NOT NULL,
          mount TEXT NOT NULL,
          origin TEXT NOT NULL,
          path TEXT NOT NULL,
          message TEXT NOT NULL);
        CREATE INDEX events_by_time ON events(time);
      )sql",
  };
  return steps;
}

}  // namespace musicfs
