#pragma once
// One writer thread for one SQLite connection. Callers queue closures; the thread
// runs whatever has queued up in a single transaction, so many small writes cost one
// commit. Used by the state store and by the content cache's catalog: SQLite wants a
// single writer, and no caller on the FUSE path should ever wait for a commit.
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "sqlite/sqlite_db.h"

namespace musicfs {

class WriteQueue {
 public:
  using Write = std::function<void(SqliteDb&)>;
  // `what` names the database in log lines ("state database", "cache catalog").
  WriteQueue(SqliteDb& db, std::string what);
  // Drains what is queued, then stops the thread.
  ~WriteQueue();
  WriteQueue(const WriteQueue&) = delete;
  WriteQueue& operator=(const WriteQueue&) = delete;

  void enqueue(Write write);
  // Blocks until every write queued before the call is committed.
  void flush();

 private:
  void loop();

  SqliteDb& db_;
  const std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::condition_variable idle_cv_;
  std::deque<Write> queue_;
  bool busy_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace musicfs
