// Process-wide logging setup: one sink (stderr, or stdout when configured) shared by a logger per module
// ("store", "replay", "run", ...), each with its own level, in one of two formats:
//
//   json: one object per line, {"ts":"2026-11-27T11:50:00.123Z","level":"warn",
//         "logger":"replay","msg":"...", <structured fields>}, for log shippers;
//   text: "warn: [replay] ... market=0xabc plan_id=7", for people.
//
// Structured fields travel inside the spdlog payload (see LogWith), so the usual
// spdlog calls keep working and every sink formats the same record.
//
// Logs go to stderr: stdout carries command output (tables, --json, the
// Prometheus exposition of metrics-export), which scripts read.
//
// Every configured secret value is replaced by "***" in each line before it is
// written, whatever logged it: a last line of defence, not a licence to log them.
#pragma once

#include <spdlog/spdlog.h>

#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace polyhost::obs {

struct LogSettings {
  std::string level = "info";         // trace|debug|info|warn|error|critical|off
  std::string format = "text";        // text|json
  std::string stream = "stderr";      // stderr|stdout
  std::vector<std::string> modules;   // "store=debug", "plugin=warn" (per-module levels)
  std::vector<std::string> secrets;   // values that must never appear; empty ones are ignored
};

// The modules a "module=level" entry may name (the loggers host code uses).
std::span<const std::string_view> LogModules();

// Checks one "module=level" entry; returns "" when valid, else why not.
std::string CheckModuleLevel(std::string_view entry);

// Installs text/info logging on stderr (before any configuration is read).
void InitLogging();

// Applies the settings to every logger, existing and future. Throws
// std::invalid_argument naming the bad value (level, format or module entry).
void ConfigureLogging(const LogSettings& settings);

// The logger of one module (created on first use with its configured level).
// The default logger (spdlog::info(...)) is "polyhost".
std::shared_ptr<spdlog::logger> ModuleLogger(std::string_view module);

struct LogField {
  std::string_view key;
  std::string value;
};

// Logs `msg` with structured fields: JSON gets them as top-level keys (integers
// as numbers), text appends " key=value".
void LogWith(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
             std::initializer_list<LogField> fields);

// The payload LogWith hands to spdlog (exposed for tests).
std::string EncodeFields(std::string_view msg, std::initializer_list<LogField> fields);

// Formats one record as the configured format would (for tests): the full line
// without its trailing newline.
std::string FormatForTest(const LogSettings& settings, std::string_view logger, spdlog::level::level_enum level,
                          std::string_view payload);

}  // namespace polyhost::obs
