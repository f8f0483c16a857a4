// A PostgreSQL connection for the store: a SOCI session (so the connection is
// opened the way the rest of SOCI expects) whose libpq handle runs the queries
// and COPY directly. Every error message is scrubbed of the URL's password.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "store/db_url.h"

namespace soci {
class session;
}

namespace polyhost {

struct PgResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, PgResultDeleter>;

// One query parameter in text form; std::nullopt is SQL NULL.
struct PgParam {
  PgParam(std::nullopt_t) {}  // NOLINT(google-explicit-constructor)
  PgParam(std::string_view v) : value(std::string(v)) {}  // NOLINT
  PgParam(const std::string& v) : value(v) {}             // NOLINT
  PgParam(const char* v) : value(std::string(v)) {}       // NOLINT
  PgParam(int64_t v) : value(std::to_string(v)) {}        // NOLINT
  PgParam(int v) : value(std::to_string(v)) {}            // NOLINT
  PgParam(bool v) : value(v ? "true" : "false") {}        // NOLINT
  std::optional<std::string> value;
};

class PgConn {
 public:
  // Connects; throws StoreError("cannot connect to <redacted url>: reason").
  static std::unique_ptr<PgConn> Connect(const DbUrl& url);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  PGconn* raw() const { return conn_; }
  const DbUrl& url() const { return url_; }

  // Runs one or more statements without parameters; throws StoreError("what: reason").
  void Exec(std::string_view sql, std::string_view what);
  // Runs one statement with text parameters ($1, $2, ...); returns its rows.
  PgResult Query(std::string_view sql, std::initializer_list<PgParam> params, std::string_view what);
  PgResult Query(std::string_view sql, std::string_view what) { return Query(sql, {}, what); }
  // The first column of the first row as an integer (`fallback` when no row or NULL).
  int64_t QueryInt(std::string_view sql, std::initializer_list<PgParam> params, std::string_view what,
                   int64_t fallback = 0);
  // Rolls back an open transaction; never throws.
  void RollbackQuietly();

  // The StoreError for a failed call: `what: <libpq message>` without the password.
  [[noreturn]] void Fail(std::string_view what, const PGresult* result = nullptr) const;

 private:
  PgConn(const DbUrl& url, std::unique_ptr<soci::session> session, PGconn* conn);
  DbUrl url_;
  std::unique_ptr<soci::session> session_;
  PGconn* conn_;
};

// Text column helpers over a result (row r, column c).
inline bool PgIsNull(const PGresult* res, int r, int c) { return PQgetisnull(res, r, c) != 0; }
inline std::string_view PgText(const PGresult* res, int r, int c) {
  return std::string_view(PQgetvalue(res, r, c), static_cast<size_t>(PQgetlength(res, r, c)));
}
int64_t PgInt(const PGresult* res, int r, int c);  // text int8/int4/int2 (0 for NULL)
bool PgBool(const PGresult* res, int r, int c);    // 't' / 'f'

}  // namespace polyhost
