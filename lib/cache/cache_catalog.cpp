#include "cache/cache_catalog.h"

#include <cstring>

namespace musicfs {

namespace {
// 2: chunks live in segment files (one per file version) at `offset`. The chunk
// files of version 1 are deleted by SegmentFiles::prepare, and their rows with them.
constexpr int kCatalogVersion = 2;

const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS chunks (
    name TEXT PRIMARY KEY,
    mount TEXT NOT NULL,
    origin TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_sec INTEGER NOT NULL,
    mtime_nsec INTEGER NOT NULL,
    chunk INTEGER NOT NULL,
    segment TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    block_hashes BLOB NOT NULL,
    last_access_us INTEGER NOT NULL);
)sql";

std::string encode_hashes(const std::vector<uint64_t>& h) {
  std::string out(h.size() * 8, '\0');
  if (!h.empty()) std::memcpy(out.data(), h.data(), out.size());
  return out;
}

std::vector<uint64_t> decode_hashes(const std::string& blob) {
  std::vector<uint64_t> out(blob.size() / 8);
  if (!out.empty()) std::memcpy(out.data(), blob.data(), out.size() * 8);
  return out;
}
}  // namespace

Result<std::unique_ptr<CacheCatalog>> CacheCatalog::open(const std::string& db_path) {
  std::unique_ptr<CacheCatalog> c(new CacheCatalog());
  auto db = SqliteDb::open(db_path);
  if (!db) return db.take_error();
  c->db_ = std::move(*db);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL"}) {
    if (auto s = c->db_.exec(pragma); !s) return s.take_error();
  }
  auto version = c->db_.query_int("PRAGMA user_version");
  if (!version) return version.take_error();
  if (*version > kCatalogVersion) {
    return make_error(ErrorCode::kUnsupported, "content cache catalog " + db_path + " has version " +
                                                   std::to_string(*version) + ", newer than this musicfs");
  }
  if (*version < kCatalogVersion) {
    if (auto s = c->db_.exec("DROP TABLE IF EXISTS chunks"); !s) return s.take_error();
  }
  if (auto s = c->db_.exec(kSchema); !s) return s.take_error();
  if (auto s = c->db_.exec("PRAGMA user_version = " + std::to_string(kCatalogVersion)); !s) return s.take_error();
  c->writes_ = std::make_unique<WriteQueue>(c->db_, "content cache catalog " + db_path);
  return c;
}

CacheCatalog::~CacheCatalog() { writes_.reset(); }

Status CacheCatalog::load(const std::function<void(ChunkRecord&&)>& sink) {
  auto st = db_.prepare(
      "SELECT name, mount, origin, path, size, mtime_sec, mtime_nsec, chunk, segment, offset, length, block_hashes,"
      " last_access_us FROM chunks");
  if (!st) return st.take_error();
  for (;;) {
    auto row = st->step();
    if (!row) return row.take_error();
    if (!*row) return {};
    ChunkRecord r;
    r.name = st->text_at(0);
    r.version.mount = st->text_at(1);
    r.version.origin = st->text_at(2);
    r.version.path = st->text_at(3);
    r.version.size = static_cast<uint64_t>(st->int_at(4));
    r.version.mtime_sec = st->int_at(5);
    r.version.mtime_nsec = static_cast<uint32_t>(st->int_at(6));
    r.index = static_cast<uint32_t>(st->int_at(7));
    r.segment = st->text_at(8);
    r.offset = static_cast<uint64_t>(st->int_at(9));
    r.length = static_cast<uint32_t>(st->int_at(10));
    r.block_hashes = decode_hashes(st->blob_at(11));
    r.last_access_us = st->int_at(12);
    sink(std::move(r));
  }
}

void CacheCatalog::insert(const ChunkRecord& r) {
  writes_->enqueue([r](SqliteDb& db) {
    auto st = db.prepare(
        "INSERT OR REPLACE INTO chunks(name, mount, origin, path, size, mtime_sec, mtime_nsec, chunk, segment,"
        " offset, length, block_hashes, last_access_us) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st) return;
    std::string blob = encode_hashes(r.block_hashes);
    (void)st->bind(1, r.name).bind(2, r.version.mount).bind(3, r.version.origin).bind(4, r.version.path)
        .bind(5, static_cast<int64_t>(r.version.size)).bind(6, r.version.mtime_sec)
        .bind(7, int64_t{r.version.mtime_nsec}).bind(8, int64_t{r.index}).bind(9, r.segment)
        .bind(10, static_cast<int64_t>(r.offset)).bind(11, int64_t{r.length})
        .bind_blob(12, blob.data(), blob.size()).bind(13, r.last_access_us).run();
  });
}

void CacheCatalog::remove(std::vector<std::string> names) {
  if (names.empty()) return;
  writes_->enqueue([names = std::move(names)](SqliteDb& db) {
    auto st = db.prepare("DELETE FROM chunks WHERE name = ?");
    if (!st) return;
    for (const auto& n : names) (void)st->bind(1, n).run();
  });
}

void CacheCatalog::touch(std::vector<std::pair<std::string, int64_t>> updates) {
  if (updates.empty()) return;
  writes_->enqueue([updates = std::move(updates)](SqliteDb& db) {
    auto st = db.prepare("UPDATE chunks SET last_access_us = ? WHERE name = ?");
    if (!st) return;
    for (const auto& [name, t] : updates) (void)st->bind(1, t).bind(2, name).run();
  });
}

void CacheCatalog::flush() { writes_->flush(); }

}  // namespace musicfs
