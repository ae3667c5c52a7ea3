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
      // 1 -> 2: the persisted index. An origin's entries are keyed by a small integer
      // id rather than by (mount, origin) text, which would repeat in every one of a
      // library's million rows. `complete` turns 1 once a whole listing has been
      // written; until then the rows are what was seen so far.
      R"sql(
        CREATE TABLE index_origins (
          id INTEGER PRIMARY KEY,
          mount TEXT NOT NULL,
          origin TEXT NOT NULL,
          complete INTEGER NOT NULL DEFAULT 0,
          root_mode INTEGER NOT NULL DEFAULT 493,
          root_mtime_sec INTEGER NOT NULL DEFAULT 0,
          root_mtime_nsec INTEGER NOT NULL DEFAULT 0,
          indexed_at INTEGER NOT NULL DEFAULT 0,
          UNIQUE (mount, origin));
        CREATE TABLE index_entries (
          origin_id INTEGER NOT NULL,
          path TEXT NOT NULL,        -- relative to the origin root: "/Artist/Album/01.flac"
          type INTEGER NOT NULL,     -- 0 file, 1 directory, 2 symlink
          mode INTEGER NOT NULL,
          size INTEGER NOT NULL,
          mtime_sec INTEGER NOT NULL,
          mtime_nsec INTEGER NOT NULL,
          target TEXT,               -- symlinks only
          PRIMARY KEY (origin_id, path)) WITHOUT ROWID;
      )sql",
      // 2 -> 3: a mount's -o options that override its config file (musicfsctl mount
      // -o, fstab), so that a restore after a crash mounts it as it was.
      R"sql(
        ALTER TABLE mounts ADD COLUMN allow_other INTEGER NOT NULL DEFAULT 0;
      )sql",
      // 3 -> 4: coalesced path events stand for several entries of one directory:
      // how many, and some of their names ('/'-separated: a name never holds one).
      R"sql(
        ALTER TABLE events ADD COLUMN count INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE events ADD COLUMN names TEXT NOT NULL DEFAULT '';
      )sql",
      // 4 -> 5: the tags of a layout mount's files, keyed like index_entries and
      // stamped with the version (size, mtime) of the file they were read from.
      R"sql(
        CREATE TABLE index_tags (
          origin_id INTEGER NOT NULL,
          path TEXT NOT NULL,
          size INTEGER NOT NULL,
          mtime_sec INTEGER NOT NULL,
          mtime_nsec INTEGER NOT NULL,
          readable INTEGER NOT NULL,   -- 0: no audio the tag reader could parse
          artist TEXT NOT NULL,
          albumartist TEXT NOT NULL,
          album TEXT NOT NULL,
          title TEXT NOT NULL,
          genre TEXT NOT NULL,
          track INTEGER NOT NULL,
          track_total INTEGER NOT NULL,
          disc INTEGER NOT NULL,
          disc_total INTEGER NOT NULL,
          year INTEGER NOT NULL,
          duration_ms INTEGER NOT NULL,
          sample_rate INTEGER NOT NULL,
          channels INTEGER NOT NULL,
          flac_md5 TEXT NOT NULL,
          PRIMARY KEY (origin_id, path)) WITHOUT ROWID;
      )sql",
  };
  return steps;
}

}  // namespace musicfs
