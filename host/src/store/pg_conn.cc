#include "store/pg_conn.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <charconv>
#include <vector>

#include "store/store.h"

namespace polyhost {
namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// libpq prints NOTICEs (e.g. "relation ... already exists, skipping") to stderr
// by default; the store has nothing to tell the user about them.
void IgnoreNotice(void*, const char*) {}

}  // namespace

std::unique_ptr<PgConn> PgConn::Connect(const DbUrl& url) {
  std::unique_ptr<soci::session> session;
  try {
    session = std::make_unique<soci::session>(soci::postgresql, url.pg_conninfo);
  } catch (const soci::soci_error& e) {
    throw StoreError(ScrubPassword("cannot connect to " + url.redacted + ": " + Trim(e.get_error_message()), url));
  }
  // SOCI's postgresql backend keeps libpq's handle in its session backend.
  PGconn* conn = static_cast<soci::postgresql_session_backend*>(session->get_backend())->conn_;
  PQsetNoticeProcessor(conn, IgnoreNotice, nullptr);
  auto out = std::unique_ptr<PgConn>(new PgConn(url, std::move(session), conn));
  // Bytewise text comparisons and UTC, whatever the server's defaults are.
  out->Exec("SET client_min_messages = warning; SET TIME ZONE 'UTC'", "cannot configure the connection");
  return out;
}

PgConn::PgConn(const DbUrl& url, std::unique_ptr<soci::session> session, PGconn* conn)
    : url_(url), session_(std::move(session)), conn_(conn) {}

PgConn::~PgConn() = default;

void PgConn::Fail(std::string_view what, const PGresult* result) const {
  std::string reason = result != nullptr ? PQresultErrorMessage(result) : "";
  if (reason.empty()) reason = PQerrorMessage(conn_);
  if (PQstatus(conn_) == CONNECTION_BAD) reason += " (connection to " + url_.redacted + " lost)";
  throw StoreError(ScrubPassword(std::string(what) + ": " + Trim(reason), url_));
}

void PgConn::Exec(std::string_view sql, std::string_view what) {
  PgResult r(PQexec(conn_, std::string(sql).c_str()));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  // PGRES_EMPTY_QUERY: only comments (a migration with nothing to do on this backend).
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) Fail(what, r.get());
}

PgResult PgConn::Query(std::string_view sql, std::initializer_list<PgParam> params, std::string_view what) {
  std::vector<const char*> values;
  values.reserve(params.size());
  for (const PgParam& p : params) values.push_back(p.value ? p.value->c_str() : nullptr);
  PgResult r(PQexecParams(conn_, std::string(sql).c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0));
  const ExecStatusType st = r ? PQresultStatus(r.get()) : PGRES_FATAL_ERROR;
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) Fail(what, r.get());
  return r;
}

int64_t PgConn::QueryInt(std::string_view sql, std::initializer_list<PgParam> params, std::string_view what,
                         int64_t fallback) {
  PgResult r = Query(sql, params, what);
  if (PQntuples(r.get()) == 0 || PgIsNull(r.get(), 0, 0)) return fallback;
  return PgInt(r.get(), 0, 0);
}

void PgConn::RollbackQuietly() {
  if (PQtransactionStatus(conn_) != PQTRANS_IDLE) PQclear(PQexec(conn_, "ROLLBACK"));
}

int64_t PgInt(const PGresult* res, int r, int c) {
  if (PgIsNull(res, r, c)) return 0;
  const std::string_view t = PgText(res, r, c);
  int64_t v = 0;
  const auto [ptr, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || ptr != t.data() + t.size()) {
    throw StoreError("unexpected non-integer value '" + std::string(t) + "' in column " + PQfname(res, c));
  }
  return v;
}

bool PgBool(const PGresult* res, int r, int c) { return PgText(res, r, c) == "t"; }

}  // namespace polyhost
