#include "store/db_url.h"

#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

namespace polyhost {
namespace {

// The message of the std::invalid_argument ParseDbUrl(url) throws ("" if none).
std::string ParseError(const std::string& url) {
  try {
    ParseDbUrl(url);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST_CASE("sqlite URLs: relative, absolute and in-memory paths", "[db_url]") {
  DbUrl rel = ParseDbUrl("sqlite:///./relative.db");
  CHECK(rel.backend == DbUrl::Backend::kSqlite);
  CHECK(rel.path == "./relative.db");
  CHECK(rel.redacted == "sqlite:///./relative.db");
  CHECK(rel.pg_conninfo.empty());

  CHECK(ParseDbUrl("sqlite:///data/poly.db").path == "data/poly.db");
  CHECK(ParseDbUrl("sqlite:////abs/path.db").path == "/abs/path.db");
  CHECK(ParseDbUrl("sqlite:///:memory:").path == ":memory:");
  CHECK(ParseDbUrl("SQLite:///x.db").path == "x.db");
  CHECK(ParseDbUrl("sqlite:///my%20data.db").path == "my data.db");
}

TEST_CASE("sqlite URL errors name the problem", "[db_url]") {
  CHECK_THAT(ParseError("sqlite://host/x.db"), Catch::Contains("no host part"));
  CHECK_THAT(ParseError("sqlite:x.db"), Catch::Contains("three slashes"));
  CHECK_THAT(ParseError("sqlite:///"), Catch::Contains("no database path"));
  CHECK_THAT(ParseError("sqlite://"), Catch::Contains("no host part"));
  CHECK_THAT(ParseError("sqlite:///x.db?mode=ro"), Catch::Contains("query parameters"));
  CHECK_THAT(ParseError("sqlite:///bad%zz.db"), Catch::Contains("percent-escape"));
}

TEST_CASE("postgresql URLs build a conninfo and a redacted form", "[db_url]") {
  DbUrl pg = ParseDbUrl("postgresql://user:pass@host:5432/db");
  CHECK(pg.backend == DbUrl::Backend::kPostgres);
  CHECK(pg.pg_conninfo == "host=host port=5432 dbname=db user=user password=pass");
  CHECK(pg.redacted == "postgresql://user:***@host:5432/db");
  CHECK(pg.path.empty());

  // postgres:// is libpq's alias; no port; no password.
  DbUrl short_form = ParseDbUrl("postgres://alice@db.example.com/markets");
  CHECK(short_form.backend == DbUrl::Backend::kPostgres);
  CHECK(short_form.pg_conninfo == "host=db.example.com dbname=markets user=alice");
  CHECK(short_form.redacted == "postgres://alice@db.example.com/markets");

  // Percent-escapes, quoting of special characters, IPv6, query parameters.
  DbUrl special = ParseDbUrl("postgresql://bob:p%40ss%20w'rd@[::1]:6543/my%20db?sslmode=require&password=x");
  CHECK(special.pg_conninfo ==
        "host=::1 port=6543 dbname='my db' user=bob password='p@ss w\\'rd' sslmode=require password=x");
  CHECK(special.redacted == "postgresql://bob:***@[::1]:6543/my%20db?sslmode=require&password=***");

  // An unescaped '/' or '@' in the password still parses and never shows.
  DbUrl raw = ParseDbUrl("postgresql://u:pa/s@s@h/db");
  CHECK(raw.pg_conninfo == "host=h dbname=db user=u password=pa/s@s");
  CHECK(raw.redacted == "postgresql://u:***@h/db");

  // A Unix-socket URL has no host.
  CHECK(ParseDbUrl("postgresql:///db").pg_conninfo == "dbname=db");
}

TEST_CASE("postgresql URL errors name the problem and never the password", "[db_url]") {
  const std::string no_db = ParseError("postgresql://user:secret@host:5432/");
  CHECK_THAT(no_db, Catch::Contains("no database name"));
  CHECK_THAT(no_db, Catch::Contains("user:***@host"));
  CHECK(no_db.find("secret") == std::string::npos);

  const std::string bad_port = ParseError("postgresql://user:secret@host:54x2/db");
  CHECK_THAT(bad_port, Catch::Contains("port '54x2' is not a number"));
  CHECK(bad_port.find("secret") == std::string::npos);

  const std::string big_port = ParseError("postgresql://user:secret@host:70000/db");
  CHECK_THAT(big_port, Catch::Contains("out of range"));
  CHECK(big_port.find("secret") == std::string::npos);

  const std::string bad_escape = ParseError("postgresql://user:sec%zzret@host/db");
  CHECK_THAT(bad_escape, Catch::Contains("percent-escape in the password"));
  CHECK(bad_escape.find("sec") == std::string::npos);

  const std::string bad_query = ParseError("postgresql://user:secret@host/db?password=hunter2&Bad=1");
  CHECK_THAT(bad_query, Catch::Contains("not a libpq keyword"));
  CHECK(bad_query.find("secret") == std::string::npos);
  CHECK(bad_query.find("hunter2") == std::string::npos);

  CHECK_THAT(ParseError("postgresql://user:secret@host/db?dbname=other"), Catch::Contains("repeats"));
  CHECK_THAT(ParseError("postgresql:user@host/db"), Catch::Contains("expected postgresql://"));
  CHECK_THAT(ParseError("postgresql://:secret@host/db"), Catch::Contains("empty user name"));
}

TEST_CASE("other URLs are rejected with the reason", "[db_url]") {
  CHECK_THAT(ParseError(""), Catch::Contains("empty database URL"));
  CHECK_THAT(ParseError("poly.db"), Catch::Contains("no scheme"));
  CHECK_THAT(ParseError("mysql://root:secret@host/db"), Catch::Contains("unsupported scheme 'mysql'"));
  CHECK(ParseError("mysql://root:secret@host/db").find("secret") == std::string::npos);
  CHECK_THAT(ParseError("/abs/poly.db"), Catch::Contains("no scheme"));
}

}  // namespace
}  // namespace polyhost
