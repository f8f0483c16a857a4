// Database URLs: sqlite:///./relative.db, sqlite:////abs/path.db, sqlite:///:memory:,
// postgresql://user:pass@host:5432/db.
#pragma once

#include <string>
#include <string_view>

namespace polyhost {

struct DbUrl {
  enum class Backend { kSqlite, kPostgres };
  Backend backend = Backend::kSqlite;
  std::string path;        // sqlite: file path or ":memory:"
  std::string pg_conninfo; // postgresql: libpq conninfo (contains the password)
  std::string redacted;    // the URL with any password replaced by "***", for messages
  std::string password;    // postgresql: the password (URL or ?password=), for scrubbing only
};

// `text` with every occurrence of url.password replaced by "***": for messages
// that come from the database driver (which might echo the conninfo).
std::string ScrubPassword(std::string text, const DbUrl& url);

// Parses a URL; throws std::invalid_argument naming what is wrong (password redacted).
DbUrl ParseDbUrl(std::string_view url);

}  // namespace polyhost
