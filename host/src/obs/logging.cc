#include "obs/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <map>
#include <mutex>
#include <stdexcept>

#include "core/json_text.h"

namespace polyhost::obs {
namespace {

// Separates the message from its fields, and the fields from each other, inside
// a spdlog payload. Control characters never occur in log text we write.
constexpr char kFieldSep = '\x1f';

constexpr std::array<std::string_view, 11> kModules = {"cli",  "config", "ingest", "replay", "store", "run",
                                                       "plugin", "exec", "catalog", "metrics", "http"};
constexpr std::string_view kDefaultLogger = "polyhost";

bool ParseLevel(std::string_view text, spdlog::level::level_enum* out) {
  static constexpr std::array<std::pair<std::string_view, spdlog::level::level_enum>, 7> kLevels = {{
      {"trace", spdlog::level::trace},
      {"debug", spdlog::level::debug},
      {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},
      {"error", spdlog::level::err},
      {"critical", spdlog::level::critical},
      {"off", spdlog::level::off},
  }};
  for (const auto& [name, level] : kLevels) {
    if (name == text) {
      *out = level;
      return true;
    }
  }
  return false;
}

std::string_view LevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace: return "trace";
    case spdlog::level::debug: return "debug";
    case spdlog::level::info: return "info";
    case spdlog::level::warn: return "warn";
    case spdlog::level::err: return "error";
    case spdlog::level::critical: return "critical";
    default: return "off";
  }
}

void Redact(std::string& text, const std::vector<std::string>& secrets) {
  for (const std::string& s : secrets) {
    for (size_t pos = text.find(s); pos != std::string::npos; pos = text.find(s, pos + 3)) {
      text.replace(pos, s.size(), "***");
    }
  }
}

bool IsJsonInteger(std::string_view v) {
  if (v.empty() || v.size() > 18) return false;
  size_t i = v[0] == '-' ? 1 : 0;
  if (i == v.size() || (v[i] == '0' && v.size() > i + 1)) return false;
  for (; i < v.size(); ++i) {
    if (v[i] < '0' || v[i] > '9') return false;
  }
  return true;
}

// Splits a payload into the message and its key=value fields.
struct Record {
  std::string_view msg;
  std::vector<std::pair<std::string_view, std::string_view>> fields;
};

Record SplitPayload(std::string_view payload) {
  Record r;
  size_t sep = payload.find(kFieldSep);
  r.msg = payload.substr(0, sep);
  while (sep != std::string_view::npos) {
    size_t start = sep + 1;
    sep = payload.find(kFieldSep, start);
    std::string_view item = payload.substr(start, sep == std::string_view::npos ? std::string_view::npos : sep - start);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    r.fields.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return r;
}

std::string IsoTime(spdlog::log_clock::time_point tp) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
  return buf;
}

std::string FormatJson(std::string_view logger, spdlog::level::level_enum level, spdlog::log_clock::time_point tp,
                       std::string_view payload) {
  const Record r = SplitPayload(payload);
  std::string out = "{\"ts\":\"" + IsoTime(tp) + "\",\"level\":\"" + std::string(LevelName(level)) + "\",\"logger\":";
  AppendJsonQuoted(out, logger);
  out += ",\"msg\":";
  AppendJsonQuoted(out, r.msg);
  for (const auto& [key, value] : r.fields) {
    out += ',';
    const bool reserved = key == "ts" || key == "level" || key == "logger" || key == "msg";
    AppendJsonQuoted(out, reserved ? "field_" + std::string(key) : std::string(key));
    out += ':';
    if (IsJsonInteger(value)) {
      out += value;
    } else {
      AppendJsonQuoted(out, value);
    }
  }
  out += '}';
  return out;
}

// "warn: [replay] msg key=value"; returns where the level name starts and ends
// (the part a color sink paints).
std::string FormatText(std::string_view logger, spdlog::level::level_enum level, std::string_view payload,
                       size_t* color_start, size_t* color_end) {
  const Record r = SplitPayload(payload);
  std::string out;
  *color_start = 0;
  out += LevelName(level);
  *color_end = out.size();
  out += ": ";
  if (logger != kDefaultLogger && !logger.empty()) {
    out += '[';
    out += logger;
    out += "] ";
  }
  out += r.msg;
  for (const auto& [key, value] : r.fields) {
    out += ' ';
    out += key;
    out += '=';
    if (value.empty() || value.find_first_of(" \"=") != std::string_view::npos) {
      AppendJsonQuoted(out, value);
    } else {
      out += value;
    }
  }
  return out;
}

class PolyhostFormatter final : public spdlog::formatter {
 public:
  PolyhostFormatter(bool json, std::vector<std::string> secrets) : json_(json) {
    for (std::string& v : secrets) {
      if (!v.empty()) secrets_.push_back(std::move(v));
    }
  }

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string payload(msg.payload.data(), msg.payload.size());
    Redact(payload, secrets_);
    const std::string_view logger(msg.logger_name.data(), msg.logger_name.size());
    std::string line;
    if (json_) {
      line = FormatJson(logger, msg.level, msg.time, payload);
      msg.color_range_start = msg.color_range_end = 0;
    } else {
      size_t start = 0, end = 0;
      line = FormatText(logger, msg.level, payload, &start, &end);
      msg.color_range_start = dest.size() + start;
      msg.color_range_end = dest.size() + end;
    }
    // Fields may carry values built from secrets too (e.g. a URL); redact the whole line.
    Redact(line, secrets_);
    line += '\n';
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<PolyhostFormatter>(json_, secrets_);
  }

 private:
  bool json_;
  std::vector<std::string> secrets_;
};

// Everything ConfigureLogging decided, for loggers created later.
struct State {
  std::mutex mu;
  // stderr_color_sink_mt or stdout_color_sink_mt (both this type).
  std::shared_ptr<spdlog::sinks::ansicolor_sink<spdlog::details::console_mutex>> sink;
  bool sink_is_stdout = false;
  spdlog::level::level_enum level = spdlog::level::info;
  std::map<std::string, spdlog::level::level_enum, std::less<>> module_levels;
  std::map<std::string, std::shared_ptr<spdlog::logger>, std::less<>> loggers;
};

State& GetState() {
  static State* state = new State();  // never destroyed: loggers may log during exit
  return *state;
}

spdlog::level::level_enum LevelFor(const State& s, std::string_view module) {
  auto it = s.module_levels.find(module);
  return it == s.module_levels.end() ? s.level : it->second;
}

// Caller holds s.mu.
std::shared_ptr<spdlog::logger> LoggerLocked(State& s, std::string_view module) {
  auto it = s.loggers.find(module);
  if (it != s.loggers.end()) return it->second;
  auto logger = std::make_shared<spdlog::logger>(std::string(module), s.sink);
  logger->set_level(LevelFor(s, module));
  s.loggers.emplace(std::string(module), logger);
  return logger;
}

}  // namespace

std::span<const std::string_view> LogModules() { return kModules; }

std::string CheckModuleLevel(std::string_view entry) {
  std::string why;
  const size_t eq = entry.find('=');
  if (eq == std::string_view::npos) {
    why.append("'").append(entry).append("' is not module=level");
    return why;
  }
  const std::string_view module = entry.substr(0, eq);
  bool known = false;
  for (std::string_view m : kModules) known = known || m == module;
  if (!known) {
    why.append("unknown module '").append(module).append("' (modules:");
    for (std::string_view m : kModules) why.append(" ").append(m);
    why.append(")");
    return why;
  }
  spdlog::level::level_enum level;
  if (!ParseLevel(entry.substr(eq + 1), &level)) {
    why.append("'").append(entry.substr(eq + 1)).append("' is not a level (trace|debug|info|warn|error|critical|off)");
  }
  return why;
}

void InitLogging() {
  State& s = GetState();
  {
    std::lock_guard<std::mutex> lock(s.mu);
    if (!s.sink) {
      s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
      s.sink->set_formatter(std::make_unique<PolyhostFormatter>(false, std::vector<std::string>{}));
    }
  }
  std::shared_ptr<spdlog::logger> def;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    def = LoggerLocked(s, kDefaultLogger);
  }
  spdlog::set_default_logger(def);
}

void ConfigureLogging(const LogSettings& settings) {
  spdlog::level::level_enum level;
  if (!ParseLevel(settings.level, &level)) {
    throw std::invalid_argument("log level '" + settings.level + "' is not trace|debug|info|warn|error|critical|off");
  }
  if (settings.format != "text" && settings.format != "json") {
    throw std::invalid_argument("log format '" + settings.format + "' is not text|json");
  }
  if (settings.stream != "stderr" && settings.stream != "stdout") {
    throw std::invalid_argument("log stream '" + settings.stream + "' is not stderr|stdout");
  }
  std::map<std::string, spdlog::level::level_enum, std::less<>> modules;
  for (const std::string& entry : settings.modules) {
    if (std::string why = CheckModuleLevel(entry); !why.empty()) throw std::invalid_argument("[log] modules: " + why);
    const size_t eq = entry.find('=');
    ParseLevel(std::string_view(entry).substr(eq + 1), &modules[entry.substr(0, eq)]);
  }
  std::vector<std::string> secrets;
  for (const std::string& v : settings.secrets) {
    if (!v.empty()) secrets.push_back(v);
  }
  InitLogging();
  State& s = GetState();
  std::lock_guard<std::mutex> lock(s.mu);
  s.level = level;
  s.module_levels = std::move(modules);
  if (const bool to_stdout = settings.stream == "stdout"; to_stdout != s.sink_is_stdout) {
    // Every logger shares the one sink: swap it in each (configuration happens
    // before the process starts its threads).
    if (to_stdout) {
      s.sink = std::make_shared<spdlog::sinks::stdout_color_sink_mt>();
    } else {
      s.sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    }
    s.sink_is_stdout = to_stdout;
    for (auto& [name, logger] : s.loggers) logger->sinks().assign(1, s.sink);
  }
  const bool json = settings.format == "json";
  s.sink->set_color_mode(json ? spdlog::color_mode::never : spdlog::color_mode::automatic);
  s.sink->set_formatter(std::make_unique<PolyhostFormatter>(json, std::move(secrets)));
  for (auto& [name, logger] : s.loggers) logger->set_level(LevelFor(s, name));
}

std::shared_ptr<spdlog::logger> ModuleLogger(std::string_view module) {
  State& s = GetState();
  if (!s.sink) InitLogging();
  std::lock_guard<std::mutex> lock(s.mu);
  return LoggerLocked(s, module);
}

std::string EncodeFields(std::string_view msg, std::initializer_list<LogField> fields) {
  std::string out(msg);
  for (const LogField& f : fields) {
    out += kFieldSep;
    out += f.key;
    out += '=';
    for (char c : f.value) out += c == kFieldSep ? ' ' : c;
  }
  return out;
}

void LogWith(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
             std::initializer_list<LogField> fields) {
  if (!logger.should_log(level)) return;
  logger.log(level, "{}", EncodeFields(msg, fields));
}

std::string FormatForTest(const LogSettings& settings, std::string_view logger, spdlog::level::level_enum level,
                          std::string_view payload) {
  PolyhostFormatter f(settings.format == "json", settings.secrets);
  spdlog::details::log_msg msg(spdlog::string_view_t(logger.data(), logger.size()), level,
                               spdlog::string_view_t(payload.data(), payload.size()));
  spdlog::memory_buf_t buf;
  f.format(msg, buf);
  std::string out(buf.data(), buf.size());
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace polyhost::obs
