// polyhost migrate [--print-sql | --apply] [--json]  and  polyhost db copy --from URL --to URL
// (docs/postgresql.md).
#include <unistd.h>

#include <boost/json.hpp>

#include <cstdio>
#include <iostream>
#include <string>

#include "cli/command.h"
#include "core/json_text.h"
#include "store/db_admin.h"

namespace polyhost {
namespace {

DbUrl ParseUrlFlag(const std::string& flag, const std::string& value) {
  try {
    return ParseDbUrl(value);
  } catch (const std::invalid_argument& e) {
    throw UsageError(flag + ": " + e.what());
  }
}

// A SQL string literal.
std::string SqlQuoted(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  return out + "'";
}

struct MigrateFlags {
  CommonFlags common;
  bool print_sql = false;
  bool apply = false;
  bool json = false;
};

int RunMigrate(const MigrateFlags& flags) {
  if (flags.print_sql && flags.apply) throw UsageError("--print-sql and --apply exclude each other");
  LoadedConfig loaded = LoadConfigFor(flags.common);
  const DbUrl url = ParseUrlFlag("--db-url / [db] url", loaded.config.db.url);
  const auto migrations = MigrationsFor(url.backend);
  const int latest = migrations.back().version;
  const char* backend = url.backend == DbUrl::Backend::kPostgres ? "postgresql" : "sqlite";

  if (flags.print_sql) {
    // The exact statements --apply runs (without connecting), each version in
    // its transaction together with its schema_version row.
    std::printf("-- polyhost schema for %s, versions 1..%d\n%s;\n", backend, latest,
                std::string(SchemaVersionTableSqlFor(url.backend)).c_str());
    for (const Migration& m : migrations) {
      // SQLite: one IMMEDIATE transaction per version; PostgreSQL: the pending
      // versions together in one transaction (shown per version here).
      std::printf("\n-- version %d: %s\n%s;\n%s\nINSERT INTO schema_version (version, applied_at_ms, description)"
                  " VALUES (%d, <now ms>, %s);\nCOMMIT;\n",
                  m.version, std::string(m.description).c_str(),
                  url.backend == DbUrl::Backend::kPostgres ? "BEGIN" : "BEGIN IMMEDIATE", std::string(m.sql).c_str(),
                  m.version, SqlQuoted(m.description).c_str());
    }
    return 0;
  }

  MigrateResult result;
  if (flags.apply) {
    result = MigrateDatabase(url);
  } else {
    result.from_version = result.to_version = ReadSchemaVersion(url);
  }
  if (flags.json) {
    boost::json::object o;
    o["database"] = url.redacted;
    o["backend"] = backend;
    o["from_version"] = result.from_version;
    o["version"] = result.to_version;
    o["latest"] = latest;
    boost::json::array applied, pending;
    for (int v : result.applied) applied.push_back(boost::json::object{{"version", v}, {"description", std::string(migrations[v - 1].description)}});
    for (const Migration& m : migrations) {
      if (m.version > result.to_version) pending.push_back(boost::json::object{{"version", m.version}, {"description", std::string(m.description)}});
    }
    o["applied"] = applied;
    o["pending"] = pending;
    std::cout << boost::json::serialize(o) << "\n";
    return 0;
  }
  std::printf("database %s (%s): schema version %d, latest %d\n", url.redacted.c_str(), backend, result.to_version,
              latest);
  if (flags.apply) {
    if (result.applied.empty()) std::printf("nothing to apply: already at version %d\n", result.to_version);
    for (int v : result.applied) {
      std::printf("applied version %d: %s\n", v, std::string(migrations[v - 1].description).c_str());
    }
  } else {
    for (const Migration& m : migrations) {
      if (m.version > result.to_version) {
        std::printf("pending version %d: %s\n", m.version, std::string(m.description).c_str());
      }
    }
    if (result.to_version < latest) std::printf("run with --apply to apply them\n");
  }
  return 0;
}

struct CopyFlags {
  CommonFlags common;
  std::string from;
  std::string to;
  bool json = false;
};

int RunCopy(const CopyFlags& flags) {
  LoadConfigFor(flags.common);  // log level, and the config's own checks
  const DbUrl from = ParseUrlFlag("--from", flags.from);
  const DbUrl to = ParseUrlFlag("--to", flags.to);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  std::vector<TableCopy> tables = CopyDatabase(from, to, [&](const std::string& step) {
    if (tty) std::fprintf(stderr, "\r\033[K%s ...", step.c_str());
  });
  if (tty) std::fprintf(stderr, "\r\033[K");
  if (flags.json) {
    boost::json::object o;
    o["from"] = from.redacted;
    o["to"] = to.redacted;
    boost::json::array arr;
    for (const TableCopy& t : tables) {
      arr.push_back(boost::json::object{{"table", t.table}, {"rows", t.rows}, {"checksum", t.checksum}});
    }
    o["tables"] = arr;
    o["verified"] = true;
    std::cout << boost::json::serialize(o) << "\n";
    return 0;
  }
  std::printf("copied %s -> %s\n", from.redacted.c_str(), to.redacted.c_str());
  std::printf("%-20s %12s  %s\n", "table", "rows", "checksum");
  for (const TableCopy& t : tables) {
    std::printf("%-20s %12lld  %s\n", t.table.c_str(), static_cast<long long>(t.rows), t.checksum.c_str());
  }
  std::printf("verified: row counts and checksums of every table match\n");
  return 0;
}

}  // namespace

void AddDbCommands(CLI::App& app, CommandRegistry& registry) {
  auto mf = std::make_shared<MigrateFlags>();
  CLI::App* migrate = app.add_subcommand(
      "migrate", "Show, print or apply the versioned schema migrations of a database (sqlite or postgresql)");
  migrate->add_flag("--print-sql", mf->print_sql, "print the exact DDL of every migration for the URL's backend");
  migrate->add_flag("--apply", mf->apply, "apply the pending migrations (idempotent) and report what ran");
  migrate->add_flag("--json", mf->json, "machine-readable output");
  AddCommonFlags(migrate, &mf->common);
  registry.Add(migrate, [mf] { return RunMigrate(*mf); });

  CLI::App* db = app.add_subcommand("db", "Database tools");
  db->require_subcommand(1);
  auto cf = std::make_shared<CopyFlags>();
  CLI::App* copy = db->add_subcommand(
      "copy", "Copy a database into an empty one (SQLite or PostgreSQL, either way), verified by row counts and checksums");
  copy->add_option("--from", cf->from, "source (read only): sqlite:///path.db or postgresql://...")->required();
  copy->add_option("--to", cf->to, "target, migrated first and empty: postgresql://user:password@host:5432/db or sqlite:///new.db")
      ->required();
  copy->add_flag("--json", cf->json, "machine-readable output");
  AddCommonFlags(copy, &cf->common, /*with_db=*/false);
  registry.Add(copy, [cf] { return RunCopy(*cf); });
}

}  // namespace polyhost
