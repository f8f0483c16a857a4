// The SQLite implementation of Store (docs/schema.md).
//
// Two connections to the same file: the writer's (a SOCI session whose raw
// sqlite3 handle runs the hot insert path with persistent prepared statements;
// used by the writer thread and, under a mutex, by RegisterSource and the
// maintenance calls) and a reader's (Status, LoadBook), which WAL lets run
// concurrently with the writer. A ":memory:" database exists per connection, so
// there the reader shares the writer's connection under the same mutex.
#pragma once

#include <memory>

#include "store/store.h"

namespace polyhost {

// Opens (creating and migrating unless options.read_only) a SQLite store.
// url.backend must be kSqlite. Throws StoreError.
std::unique_ptr<Store> OpenSqliteStore(const DbUrl& url, const StoreOptions& options);

}  // namespace polyhost
