// Checkpoints a SQLite WAL database on a thread of its own.
//
// SQLite's automatic checkpoint runs inside the commit that crosses its
// threshold: the writer copies the WAL into the database file and waits for two
// fsyncs before it can write the next batch (on the 1M-line benchmark replay,
// ~40% of the replay's wall time on this disk was spent so). Here the writer's
// commits only tell this thread how large the WAL is; it runs PASSIVE
// checkpoints on its own connection, which SQLite allows alongside a writer and
// readers (it copies only frames committed before it started, and never blocks
// them). SQLite rewinds the WAL at the first write transaction after a pass has
// copied every frame. Durability is unchanged: commits are as durable as with
// synchronous = NORMAL, and a checkpoint is only ever a copy of committed frames.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace polyhost {

class WalCheckpointer {
 public:
  struct Stats {
    int64_t passes = 0;        // checkpoints run
    int64_t busy = 0;          // of them, cut short by SQLITE_BUSY (retried on the next commit)
    int64_t frames_copied = 0;
    int64_t waits = 0;         // commits that waited because the WAL had reached hard_bytes
    std::string last_error;    // of the last failed pass ("" when it succeeded)
  };

  // Opens its own connection to the database at `path` (throws StoreError). A
  // pass starts once the WAL holds soft_bytes; a commit that leaves more than
  // hard_bytes waits for the next pass to end (back-pressure, so that a writer
  // faster than the disk cannot grow the WAL without bound).
  WalCheckpointer(const std::string& path, int busy_timeout_ms, int64_t soft_bytes, int64_t hard_bytes);
  // Lets a pass under way finish, then joins. The database's last connection to
  // close checkpoints what is left.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Thread: the writer, after each commit (SQLite's WAL hook), with the WAL's
  // size. Returns at once unless the WAL holds more than hard_bytes.
  void OnCommit(int64_t wal_bytes);

  // Thread: any.
  Stats stats() const;

 private:
  struct Connection;
  void Loop();

  const int64_t soft_bytes_;
  const int64_t hard_bytes_;
  std::unique_ptr<Connection> db_;  // used by the thread only

  mutable std::mutex mu_;
  std::condition_variable wake_;  // a pass is requested, or stop
  std::condition_variable done_;  // a pass ended
  bool requested_ = false;
  bool stop_ = false;
  int64_t started_ = 0;    // passes started
  int64_t completed_ = 0;  // passes ended
  Stats stats_;
  std::thread thread_;
};

}  // namespace polyhost
