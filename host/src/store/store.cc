#include "store/store.h"

#include "store/pg_store.h"
#include "store/sqlite_store.h"

namespace polyhost {

std::unique_ptr<Store> Store::Open(const DbUrl& url, const StoreOptions& options) {
  switch (url.backend) {
    case DbUrl::Backend::kSqlite:
      return OpenSqliteStore(url, options);
    case DbUrl::Backend::kPostgres:
      return OpenPostgresStore(url, options);
  }
  throw StoreError("unknown database backend for " + url.redacted);
}

}  // namespace polyhost
