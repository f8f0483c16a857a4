// The PostgreSQL implementation of Store (docs/postgresql.md, docs/schema.md).
//
// Two connections: the writer's (the WriteQueue's thread, and under a mutex
// RegisterSource and the maintenance calls) and a reader's (Status, LoadBook).
// Each batch is one transaction holding kPgWriterLock: events go in with
// COPY ... FROM STDIN (FORMAT binary), and the source's committed line is
// advanced in the same transaction, so a crash or kill -9 loses at most the
// batches not yet committed and a rerun resumes exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace polyhost {

// Opens (migrating unless options.read_only) a PostgreSQL store.
// url.backend must be kPostgres. Throws StoreError (never naming the password).
std::unique_ptr<Store> OpenPostgresStore(const DbUrl& url, const StoreOptions& options);

// Appends one orderbook_events row in COPY binary form (exposed for the benchmark).
struct PgEventCopyRow {
  int64_t id;
  int64_t source_id;  // 0: NULL
  int64_t outcome_id;
  const EventRow* event;
};
void AppendPgCopyHeader(std::string* out);
void AppendPgCopyRow(const PgEventCopyRow& row, std::string* out);
// One orderbook_event_index row (ids: not empty, in id order).
void AppendPgIndexCopyRow(int64_t outcome_id, int64_t min_ts_ms, int64_t max_ts_ms, const std::vector<int64_t>& ids,
                          std::string* out);
void AppendPgCopyTrailer(std::string* out);
// The column list the rows above are in.
inline constexpr const char* kPgEventCopyColumns =
    "(id, source_id, line, item, outcome_id, ts_ms, recv_ts_ms, seq, kind, side, price, size, levels_json)";

}  // namespace polyhost
