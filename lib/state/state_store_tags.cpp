// StateStore: the tags of a layout mount's files (table index_tags, schema v5).
//
// Rows are keyed like index_entries (index_origins.id, path) and written by the same
// writer thread, so that an entry's removal (write_deltas) and the saving of its tags
// stay in the order the federation made them.
#include <spdlog/spdlog.h>

#include "state/index_origin_id.h"
#include "state/state_store.h"

namespace musicfs {

namespace {
Status write_tags(SqliteDb& db, const std::string& mount, const std::string& origin,
                  const std::vector<TagRecord>& records) {
  auto id = index_origin_id(db, mount, origin);
  if (!id) return id.take_error();
  auto put = db.prepare(
      "INSERT OR REPLACE INTO index_tags(origin_id, path, size, mtime_sec, mtime_nsec, readable, artist,"
      " albumartist, album, title, genre, track, track_total, disc, disc_total, year, duration_ms,"
      " sample_rate, channels, flac_md5) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  if (!put) return put.take_error();
  for (const auto& r : records) {
    const TrackTags& t = r.tags;
    put->bind(1, *id).bind(2, r.path).bind(3, static_cast<int64_t>(r.size)).bind(4, r.mtime_sec)
        .bind(5, int64_t{r.mtime_nsec}).bind(6, int64_t{r.readable ? 1 : 0}).bind(7, t.artist)
        .bind(8, t.albumartist).bind(9, t.album).bind(10, t.title).bind(11, t.genre).bind(12, int64_t{t.track})
        .bind(13, int64_t{t.track_total}).bind(14, int64_t{t.disc}).bind(15, int64_t{t.disc_total})
        .bind(16, int64_t{t.year}).bind(17, t.duration_ms).bind(18, int64_t{t.sample_rate})
        .bind(19, int64_t{t.channels}).bind(20, t.flac_md5);
    if (auto s = put->run(); !s) return s;
  }
  return {};
}
}  // namespace

void StateStore::save_tags(const std::string& mount, const std::string& origin, std::vector<TagRecord> records) {
  if (records.empty()) return;
  enqueue([mount, origin, records = std::move(records)](SqliteDb& db) {
    if (auto s = write_tags(db, mount, origin, records); !s) {
      spdlog::error("state database: cannot persist the tags of {} in {}: {}", origin, mount, s.error().message);
    }
  });
}

Result<size_t> StateStore::load_tags(const std::string& mount, const std::string& origin,
                                     const std::function<void(TagRecord&&)>& sink) {
  flush();
  std::lock_guard lock(reader_mu_);
  auto st = reader_db_.prepare(
      "SELECT t.path, t.size, t.mtime_sec, t.mtime_nsec, t.readable, t.artist, t.albumartist, t.album, t.title,"
      " t.genre, t.track, t.track_total, t.disc, t.disc_total, t.year, t.duration_ms, t.sample_rate, t.channels,"
      " t.flac_md5 FROM index_tags t JOIN index_origins o ON o.id = t.origin_id"
      " WHERE o.mount = ? AND o.origin = ? ORDER BY t.path");
  if (!st) return st.take_error();
  st->bind(1, mount).bind(2, origin);
  size_t n = 0;
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error().with_context("load the tags of " + origin + " in " + mount);
    if (!*row) break;
    TagRecord r;
    r.path = st->text_at(0);
    r.size = static_cast<uint64_t>(st->int_at(1));
    r.mtime_sec = st->int_at(2);
    r.mtime_nsec = static_cast<uint32_t>(st->int_at(3));
    r.readable = st->int_at(4) != 0;
    TrackTags& t = r.tags;
    t.artist = st->text_at(5);
    t.albumartist = st->text_at(6);
    t.album = st->text_at(7);
    t.title = st->text_at(8);
    t.genre = st->text_at(9);
    t.track = static_cast<int>(st->int_at(10));
    t.track_total = static_cast<int>(st->int_at(11));
    t.disc = static_cast<int>(st->int_at(12));
    t.disc_total = static_cast<int>(st->int_at(13));
    t.year = static_cast<int>(st->int_at(14));
    t.duration_ms = st->int_at(15);
    t.sample_rate = static_cast<int>(st->int_at(16));
    t.channels = static_cast<int>(st->int_at(17));
    t.flac_md5 = st->text_at(18);
    sink(std::move(r));
    ++n;
  }
  return n;
}

}  // namespace musicfs
