#include "store/wal_checkpointer.h"

#include <sqlite3.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "store/store.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;

// A WAL database written by a test "writer" connection whose WAL hook feeds a
// WalCheckpointer, as SqliteStore's writer does.
class WalDb {
 public:
  WalDb(int64_t soft, int64_t hard) {
    dir_ = fs::temp_directory_path() / ("polyhost-wal-test-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(++counter_));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "w.db").string();
    REQUIRE(sqlite3_open(path_.c_str(), &db_) == SQLITE_OK);
    Exec("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
         " CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)");
    checkpointer_ = std::make_unique<WalCheckpointer>(path_, 5000, soft, hard);
    sqlite3_wal_hook(db_, &Hook, this);
  }
  ~WalDb() {
    checkpointer_.reset();
    sqlite3_close(db_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  void Exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    INFO(sql << ": " << (error != nullptr ? error : ""));
    sqlite3_free(error);
    REQUIRE(rc == SQLITE_OK);
  }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db_, sql.c_str(), -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    const int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
  }
  // One transaction of `rows` rows of 1000 bytes.
  void Commit(int rows) {
    Exec("BEGIN; WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < " + std::to_string(rows) +
         ") INSERT INTO t (v) SELECT printf('%.1000c', 'x') FROM n; COMMIT");
  }
  int64_t WalBytes() const {
    std::error_code ec;
    const auto n = fs::file_size(path_ + "-wal", ec);
    return ec ? 0 : static_cast<int64_t>(n);
  }
  WalCheckpointer& checkpointer() { return *checkpointer_; }
  int64_t max_wal_frames = 0;

 private:
  static int Hook(void* self, sqlite3*, const char*, int frames) {
    auto* w = static_cast<WalDb*>(self);
    w->max_wal_frames = std::max<int64_t>(w->max_wal_frames, frames);
    w->checkpointer_->OnCommit(static_cast<int64_t>(frames) * 4096);
    return SQLITE_OK;
  }
  static inline int counter_ = 0;
  fs::path dir_;
  std::string path_;
  sqlite3* db_ = nullptr;
  std::unique_ptr<WalCheckpointer> checkpointer_;
};

TEST_CASE("wal_checkpointer: passes run off the writer and the WAL is reused, not grown", "[store][wal]") {
  // A pass from 256 KiB of WAL; commits wait past 1 MiB.
  WalDb w(256 << 10, 1 << 20);
  for (int i = 0; i < 200; ++i) w.Commit(50);  // ~200 KiB of WAL per commit, ~40 MiB in all
  const WalCheckpointer::Stats s = w.checkpointer().stats();
  CHECK(s.passes > 0);
  CHECK(s.frames_copied > 0);
  CHECK(s.last_error.empty());
  // Without checkpoints the WAL would hold every frame (~10,000); the hard
  // limit (256 frames of 4 KiB) plus a pass's worth of commits bounds it.
  CHECK(w.max_wal_frames < 2000);
  CHECK(w.WalBytes() < (8 << 20));
  CHECK(w.Int("SELECT count(*) FROM t") == 200 * 50);
  CHECK(w.Int("SELECT count(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'") == 1);
}

TEST_CASE("wal_checkpointer: below the soft limit nothing runs", "[store][wal]") {
  WalDb w(64 << 20, 128 << 20);
  for (int i = 0; i < 20; ++i) w.Commit(10);
  CHECK(w.checkpointer().stats().passes == 0);
  CHECK(w.checkpointer().stats().waits == 0);
  CHECK(w.Int("SELECT count(*) FROM t") == 200);
}

TEST_CASE("wal_checkpointer: a commit past the hard limit waits for a pass", "[store][wal]") {
  WalDb w(16 << 10, 32 << 10);
  w.Commit(100);  // ~100 frames of 4 KiB: past both limits at once
  const WalCheckpointer::Stats s = w.checkpointer().stats();
  CHECK(s.waits == 1);
  CHECK(s.passes >= 1);  // the commit returned only after a pass ended
  CHECK(s.frames_copied > 0);
}

TEST_CASE("wal_checkpointer: a database it cannot open is an error naming it", "[store][wal]") {
  CHECK_THROWS_WITH(WalCheckpointer("/nonexistent-dir/x.db", 0, 1, 2),
                    Catch::Contains("cannot open database /nonexistent-dir/x.db for checkpoints"));
}

}  // namespace
}  // namespace polyhost
