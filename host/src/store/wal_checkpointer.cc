#include "store/wal_checkpointer.h"

#include <pthread.h>
#include <sqlite3.h>

#include <algorithm>
#include <utility>

#include "store/store.h"

namespace polyhost {

struct WalCheckpointer::Connection {
  sqlite3* db = nullptr;
  ~Connection() { sqlite3_close(db); }
};

WalCheckpointer::WalCheckpointer(const std::string& path, int busy_timeout_ms, int64_t soft_bytes,
                                 int64_t hard_bytes)
    : soft_bytes_(soft_bytes), hard_bytes_(std::max(hard_bytes, soft_bytes)), db_(std::make_unique<Connection>()) {
  // NOMUTEX: only this object's thread uses the connection.
  const int rc = sqlite3_open_v2(path.c_str(), &db_->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    const std::string reason = db_->db != nullptr ? sqlite3_errmsg(db_->db) : sqlite3_errstr(rc);
    throw StoreError("cannot open database " + path + " for checkpoints: " + reason);
  }
  sqlite3_busy_timeout(db_->db, std::max(0, busy_timeout_ms));
  // A connection with automatic checkpoints of its own would checkpoint on close
  // too; this one only ever runs the passes below.
  sqlite3_wal_autocheckpoint(db_->db, 0);
  // A connection learns that the database is in WAL mode when it first reads it;
  // until then a checkpoint is a no-op (it reports -1 frames).
  char* message = nullptr;
  if (sqlite3_exec(db_->db, "SELECT count(*) FROM sqlite_master", nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string reason = message != nullptr ? message : sqlite3_errmsg(db_->db);
    sqlite3_free(message);
    throw StoreError("cannot open database " + path + " for checkpoints: " + reason);
  }
  thread_ = std::thread([this] { Loop(); });
  pthread_setname_np(thread_.native_handle(), "ph-checkpoint");
}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  done_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WalCheckpointer::OnCommit(int64_t wal_bytes) {
  if (wal_bytes < soft_bytes_) return;
  std::unique_lock<std::mutex> lock(mu_);
  requested_ = true;
  wake_.notify_one();
  if (wal_bytes <= hard_bytes_) return;
  // A pass under way started before this commit: wait for the one after it.
  ++stats_.waits;
  const int64_t target = started_ + 1;
  done_.wait(lock, [&] { return completed_ >= target || stop_; });
}

WalCheckpointer::Stats WalCheckpointer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void WalCheckpointer::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [&] { return requested_ || stop_; });
    if (stop_) return;
    requested_ = false;
    ++started_;
    lock.unlock();
    int wal_frames = 0, copied = 0;
    const int rc = sqlite3_wal_checkpoint_v2(db_->db, nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_frames, &copied);
    const std::string error = rc == SQLITE_OK || rc == SQLITE_BUSY ? std::string() : sqlite3_errmsg(db_->db);
    lock.lock();
    ++completed_;
    ++stats_.passes;
    if (rc == SQLITE_BUSY) ++stats_.busy;
    if (copied > 0) stats_.frames_copied += copied;
    stats_.last_error = error;
    done_.notify_all();
  }
}

}  // namespace polyhost
