#include "config/config.h"

#include <unistd.h>  // ::environ

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <system_error>
#include <type_traits>
#include <variant>

#include <toml++/toml.h>

#include "config/config_schema.h"
#include "core/decimal.h"
#include "core/json_text.h"

namespace polyhost {
namespace {

namespace fs = std::filesystem;

// A validated value of a schema key; kDecimal keys hold micro-units as int64_t.
using Value = std::variant<bool, int64_t, std::string, std::vector<std::string>>;

constexpr std::string_view kDefaultLayer = "default";
constexpr std::string_view kDefaultFile = "config/default.toml (built in)";
constexpr std::string_view kCommandLine = "command line";
constexpr std::string_view kRedacted = "<redacted>";
constexpr std::string_view kEnvPrefix = "POLYHOST_";
constexpr std::string_view kPluginSection = "plugin";
constexpr std::string_view kMarketsSection = "markets";  // [[markets]]: an array of tables

// ---------------------------------------------------------------------------
// Text helpers

// "file:line: " for files, "env POLYHOST_X: " where there are no lines.
std::string Where(std::string_view file, int line) {
  std::string out(file);
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  return out;
}

std::string Quote(std::string_view text) {
  std::string out = "\"";
  out += text;
  out += '"';
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Upper-case with every non-alphanumeric character as '_': the environment form
// of a plugin name or key ("max-size" -> "MAX_SIZE").
std::string EnvPart(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    c = std::isalnum(u) ? static_cast<char>(std::toupper(u)) : '_';
  }
  return out;
}

std::string_view Trim(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  return text;
}

std::vector<std::string_view> Split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (true) {
    const size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// "postgresql://user:secret@host/db" -> "postgresql://user:***@host/db"; other
// text is returned unchanged. Applied to every value we print, so a password in
// any URL never reaches a log.
std::string RedactUrlPassword(std::string_view text) {
  const size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::string(text);
  const size_t authority = scheme_end + 3;
  const size_t authority_end = std::min(text.find('/', authority), text.size());
  const size_t at = text.rfind('@', authority_end);
  if (at == std::string_view::npos || at < authority) return std::string(text);
  const size_t colon = text.find(':', authority);
  if (colon == std::string_view::npos || colon > at) return std::string(text);
  std::string out(text.substr(0, colon + 1));
  out += "***";
  out += text.substr(at);
  return out;
}

bool HasUrlPassword(std::string_view text) { return RedactUrlPassword(text) != text; }

// The value as it may appear in an error message.
std::string Shown(const ConfigKeySpec& spec, std::string_view text) {
  return spec.secret ? std::string(kRedacted) : Quote(RedactUrlPassword(text));
}

std::string JoinChoices(std::string_view choices) {
  std::string out;
  for (std::string_view choice : Split(choices, '|')) {
    if (!out.empty()) out += ", ";
    out += choice;
  }
  return out;
}

bool IsOneOf(std::string_view value, std::string_view choices) {
  for (std::string_view choice : Split(choices, '|')) {
    if (choice == value) return true;
  }
  return false;
}

bool IsHex(std::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

}  // namespace

// Declared in config.h: the log formatter's list of secret values needs it too.
bool LooksSecret(std::string_view dotted_key) {
  const size_t dot = dotted_key.rfind('.');
  const std::string key = Lower(dot == std::string_view::npos ? dotted_key : dotted_key.substr(dot + 1));
  for (std::string_view word : {"token", "secret", "password", "passwd", "passphrase", "private",
                                "apikey", "api_key", "credential"}) {
    if (key.find(word) != std::string::npos) return true;
  }
  return key == "key" || key.ends_with("_key");
}

namespace {

// ---------------------------------------------------------------------------
// "Did you mean": optimal-string-alignment distance (Levenshtein plus adjacent
// transposition, so 'ulr' is one edit from 'url').

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<std::vector<size_t>> d(a.size() + 1, std::vector<size_t>(b.size() + 1));
  for (size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

// The candidate nearest to `name`, or "" when none is within max_distance
// (default: a third of the name, at least 1).
std::string Nearest(std::string_view name, const std::vector<std::string>& candidates,
                    size_t max_distance = 0) {
  if (max_distance == 0) max_distance = std::max<size_t>(1, name.size() / 3);
  std::string best;
  size_t best_distance = max_distance + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = EditDistance(Lower(name), Lower(candidate));
    if (distance < best_distance) {
      best_distance = distance;
      best = candidate;
    }
  }
  return best;
}

std::string DidYouMean(const std::string& suggestion) {
  return suggestion.empty() ? "" : " (did you mean '" + suggestion + "'?)";
}

std::vector<std::string> AllKeyNames() {
  std::vector<std::string> names;
  for (const ConfigKeySpec& spec : ConfigSchema()) names.push_back(spec.name());
  return names;
}

std::vector<std::string> AllSectionNames() {
  std::vector<std::string> names(ConfigSections().begin(), ConfigSections().end());
  names.emplace_back(kPluginSection);
  names.emplace_back(kMarketsSection);
  return names;
}

std::vector<std::string> AllEnvNames() {
  std::vector<std::string> names;
  for (const ConfigKeySpec& spec : ConfigSchema()) names.push_back(spec.env_name());
  return names;
}

bool IsKnownSection(std::string_view section) {
  const auto sections = ConfigSections();
  return std::find(sections.begin(), sections.end(), section) != sections.end();
}

// ---------------------------------------------------------------------------
// Values: from TOML nodes, from text (defaults, environment, command line).

const char* WithArticle(ConfigType type) {
  switch (type) {
    case ConfigType::kBool: return "a boolean (true or false)";
    case ConfigType::kInt: return "an integer";
    case ConfigType::kString: return "a string";
    case ConfigType::kDecimal: return "a decimal (a string such as \"0.02\" or a number)";
    case ConfigType::kStringList: return "an array of strings";
  }
  return "a value";
}

const char* NodeTypeName(toml::node_type type) {
  switch (type) {
    case toml::node_type::none: return "nothing";
    case toml::node_type::table: return "a table";
    case toml::node_type::array: return "an array";
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
  }
  return "a value";
}

std::string WrongType(const ConfigKeySpec& spec, const toml::node& node) {
  return std::string("must be ") + WithArticle(spec.type) + ", not " + NodeTypeName(node.type());
}

// Shortest text that reads back as the same double: 0.02 -> "0.02", 1e-7 -> "1e-07".
std::string ShortestText(double value) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  return std::string(buf, result.ptr);
}

std::string ParseDecimalText(const ConfigKeySpec& spec, std::string_view text, int64_t* out) {
  const DecimalError error = ParseDecimal(text, out, /*allow_negative=*/true);
  if (error == DecimalError::kOk) return "";
  return Shown(spec, text) + " is not a valid decimal: " + DecimalErrorText(error);
}

// Doubles become micro-units without floating-point arithmetic: the shortest
// fixed-notation text that round-trips (0.1 -> "0.1", 1e-7 -> "0.0000001") goes
// through ParseDecimal, which rejects more than 6 fractional digits.
std::string DecimalFromDouble(const ConfigKeySpec& spec, double value, int64_t* out) {
  char buf[400];  // the longest fixed form of a finite double is ~330 chars
  const auto result = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
  if (result.ec != std::errc()) return ShortestText(value) + " is not a valid decimal";
  return ParseDecimalText(spec, std::string_view(buf, result.ptr - buf), out);
}

// Returns "" and sets *out, or the reason the node is not a valid value of `spec`.
std::string ValueFromNode(const ConfigKeySpec& spec, const toml::node& node, Value* out) {
  switch (spec.type) {
    case ConfigType::kBool:
      if (!node.is_boolean()) return WrongType(spec, node);
      *out = node.as_boolean()->get();
      return "";
    case ConfigType::kInt:
      if (!node.is_integer()) return WrongType(spec, node);
      *out = node.as_integer()->get();
      return "";
    case ConfigType::kString:
      if (!node.is_string()) return WrongType(spec, node);
      *out = node.as_string()->get();
      return "";
    case ConfigType::kDecimal: {
      int64_t micros = 0;
      std::string reason;
      if (node.is_string()) {
        reason = ParseDecimalText(spec, node.as_string()->get(), &micros);
      } else if (node.is_integer()) {
        reason = ParseDecimalText(spec, std::to_string(node.as_integer()->get()), &micros);
      } else if (node.is_floating_point()) {
        reason = DecimalFromDouble(spec, node.as_floating_point()->get(), &micros);
      } else {
        return WrongType(spec, node);
      }
      if (reason.empty()) *out = micros;
      return reason;
    }
    case ConfigType::kStringList: {
      const toml::array* array = node.as_array();
      if (array == nullptr) return WrongType(spec, node);
      std::vector<std::string> items;
      for (size_t i = 0; i < array->size(); ++i) {
        const toml::node& item = *array->get(i);
        if (!item.is_string()) {
          return "element " + std::to_string(i) + " must be a string, not " + NodeTypeName(item.type());
        }
        items.push_back(item.as_string()->get());
      }
      *out = std::move(items);
      return "";
    }
  }
  return "unsupported type";
}

std::optional<bool> ParseBoolText(std::string_view text) {
  const std::string lower = Lower(Trim(text));
  if (lower == "true" || lower == "1" || lower == "yes" || lower == "on") return true;
  if (lower == "false" || lower == "0" || lower == "no" || lower == "off") return false;
  return std::nullopt;
}

std::optional<int64_t> ParseIntText(std::string_view text) {
  text = Trim(text);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || result.ec != std::errc() || result.ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return value;
}

// Text form, as in environment variables and command-line overrides.
std::string ValueFromText(const ConfigKeySpec& spec, std::string_view text, Value* out) {
  switch (spec.type) {
    case ConfigType::kBool:
      if (const auto value = ParseBoolText(text)) {
        *out = *value;
        return "";
      }
      return Shown(spec, text) + " is not a boolean (true/false, 1/0, yes/no, on/off)";
    case ConfigType::kInt:
      if (const auto value = ParseIntText(text)) {
        *out = *value;
        return "";
      }
      return Shown(spec, text) + " is not an integer";
    case ConfigType::kString:
      *out = std::string(text);
      return "";
    case ConfigType::kDecimal: {
      int64_t micros = 0;
      std::string reason = ParseDecimalText(spec, Trim(text), &micros);
      if (reason.empty()) *out = micros;
      return reason;
    }
    case ConfigType::kStringList: {
      // "a, b,c" -> {"a", "b", "c"}; "" -> {}.
      std::vector<std::string> items;
      for (std::string_view item : Split(text, ',')) {
        item = Trim(item);
        if (!item.empty()) items.emplace_back(item);
      }
      *out = std::move(items);
      return "";
    }
  }
  return "unsupported type";
}

std::string RangeText(const ConfigKeySpec& spec, int64_t value) {
  return spec.type == ConfigType::kDecimal ? FormatDecimal(value) : std::to_string(value);
}

std::string CheckShape(const ConfigKeySpec& spec, const std::string& text) {
  const auto has_scheme = [&](std::initializer_list<std::string_view> schemes) {
    return std::any_of(schemes.begin(), schemes.end(), [&](std::string_view scheme) {
      return text.size() > scheme.size() && text.starts_with(scheme);
    });
  };
  switch (spec.check) {
    case ValueCheck::kNone:
      return "";
    case ValueCheck::kHttpUrl:
      return has_scheme({"http://", "https://"}) ? "" : Shown(spec, text) + " is not an http:// or https:// URL";
    case ValueCheck::kHttpUrlOrEmpty:
      return text.empty() || has_scheme({"http://", "https://"})
                 ? ""
                 : Shown(spec, text) + " is not an http:// or https:// URL (or empty)";
    case ValueCheck::kWebSocketUrl:
      return has_scheme({"ws://", "wss://"}) ? "" : Shown(spec, text) + " is not a ws:// or wss:// URL";
    case ValueCheck::kDbUrl:
      return has_scheme({"sqlite://", "postgresql://", "postgres://"})
                 ? ""
                 : Shown(spec, text) + " is not a database URL (sqlite:///path or postgresql://...)";
    case ValueCheck::kPrivateKey: {
      std::string_view hex = text;
      if (hex.starts_with("0x") || hex.starts_with("0X")) hex.remove_prefix(2);
      if (text.empty() || (hex.size() == 64 && IsHex(hex))) return "";
      return Shown(spec, text) + " is not 64 hex digits (0x prefix optional)";
    }
    case ValueCheck::kAddress: {
      const std::string_view view = text;
      if (text.empty() || (view.size() == 42 && view.starts_with("0x") && IsHex(view.substr(2)))) {
        return "";
      }
      return Shown(spec, text) + " is not an address (0x followed by 40 hex digits)";
    }
  }
  return "";
}

// A malformed private key is only a warning: `config show` must work with a
// placeholder key, and the real relayer validates the key before signing.
bool IsAdvisory(ValueCheck check) { return check == ValueCheck::kPrivateKey; }

// Range, allowed values and shape; returns "" when the value is acceptable.
std::string CheckValue(const ConfigKeySpec& spec, const Value& value) {
  if (const auto* number = std::get_if<int64_t>(&value)) {
    if (*number < spec.min || *number > spec.max) {
      const std::string shown = spec.secret ? std::string(kRedacted) : RangeText(spec, *number);
      return shown + " is out of range [" + RangeText(spec, spec.min) + ", " +
             RangeText(spec, spec.max) + "]";
    }
  }
  if (const auto* text = std::get_if<std::string>(&value)) {
    if (!spec.choices.empty() && !IsOneOf(*text, spec.choices)) {
      return Shown(spec, *text) + " is not one of: " + JoinChoices(spec.choices);
    }
    return IsAdvisory(spec.check) ? "" : CheckShape(spec, *text);
  }
  return "";
}

// True when the value is sensitive enough that the file holding it must not be
// readable by others.
bool HoldsSecret(const ConfigKeySpec& spec, const Value& value) {
  const auto* text = std::get_if<std::string>(&value);
  return text != nullptr && !text->empty() && (spec.secret || HasUrlPassword(*text));
}

void Assign(const ConfigKeySpec& spec, Value value, Config* config) {
  std::visit(
      [&](auto* target) {
        using Target = std::remove_pointer_t<decltype(target)>;
        auto* typed = std::get_if<Target>(&value);
        if (typed == nullptr) {
          throw std::logic_error("config schema: the member of " + spec.name() +
                                 " does not match its type " + ConfigTypeName(spec.type));
        }
        *target = std::move(*typed);
      },
      spec.field(*config));
}

// Reads a key's current value back out of a Config. The accessor takes a
// mutable Config only because the schema holds one accessor per key; nothing is
// written here.
ConfigFieldRef ReadField(const ConfigKeySpec& spec, const Config& config) {
  return spec.field(const_cast<Config&>(config));
}

// ---------------------------------------------------------------------------
// Plugin pass-through values

PluginSetting PluginSettingFromNode(const toml::node& node) {
  PluginSetting setting;
  switch (node.type()) {
    case toml::node_type::string:
      setting = {PluginValueType::kString, node.as_string()->get()};
      break;
    case toml::node_type::integer:
      setting = {PluginValueType::kInteger, std::to_string(node.as_integer()->get())};
      break;
    case toml::node_type::floating_point:
      setting = {PluginValueType::kFloat, ShortestText(node.as_floating_point()->get())};
      break;
    case toml::node_type::boolean:
      setting = {PluginValueType::kBool, node.as_boolean()->get() ? "true" : "false"};
      break;
    default: {
      std::ostringstream text;
      // Without literal strings, so arrays read ["a", "b"] rather than ['a', 'b'].
      text << toml::toml_formatter(node, toml::format_flags::allow_unicode_strings);
      setting.type = node.is_array() ? PluginValueType::kArray : PluginValueType::kDateTime;
      setting.text = text.str();
      break;
    }
  }
  return setting;
}

// Calls emit(dotted_key, node) for every non-table value under `table`.
template <typename Emit>
void FlattenTable(const toml::table& table, const std::string& prefix, Emit&& emit) {
  for (auto&& [key, node] : table) {
    const std::string dotted = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* nested = node.as_table()) {
      FlattenTable(*nested, dotted, emit);
    } else {
      emit(dotted, node);
    }
  }
}

const char* PluginTypeName(PluginValueType type) {
  switch (type) {
    case PluginValueType::kString: return "a string";
    case PluginValueType::kInteger: return "an integer";
    case PluginValueType::kFloat: return "a number";
    case PluginValueType::kBool: return "a boolean";
    case PluginValueType::kDateTime: return "a date/time";
    case PluginValueType::kArray: return "an array";
  }
  return "a value";
}

// A plugin value given as text (environment, command line). With `expected`
// (the key's type in an earlier layer) the text must have that type; without,
// TOML syntax decides ("5" is an integer, "true" a boolean) and anything that is
// not a TOML value is a string.
std::string PluginSettingFromText(std::string_view text, const PluginValueType* expected,
                                  std::string_view shown, PluginSetting* out) {
  if (expected != nullptr && *expected == PluginValueType::kString) {
    *out = {PluginValueType::kString, std::string(text)};
    return "";
  }
  if (expected != nullptr && *expected == PluginValueType::kBool) {
    if (const auto value = ParseBoolText(text)) {
      *out = {PluginValueType::kBool, *value ? "true" : "false"};
      return "";
    }
    return std::string(shown) + " is not a boolean (true/false, 1/0, yes/no, on/off)";
  }
  std::optional<PluginSetting> parsed;
  try {
    const toml::table doc = toml::parse("v = " + std::string(text));
    const toml::node* node = doc.get("v");
    if (node != nullptr && !node->is_table()) parsed = PluginSettingFromNode(*node);
  } catch (const toml::parse_error&) {
  }
  if (expected == nullptr) {
    *out = parsed ? *parsed : PluginSetting{PluginValueType::kString, std::string(text)};
    return "";
  }
  // An integer is acceptable where a float was: "5" for a 0.5-style key.
  if (parsed && parsed->type == PluginValueType::kInteger && *expected == PluginValueType::kFloat) {
    parsed->type = PluginValueType::kFloat;
  }
  if (!parsed || parsed->type != *expected) {
    return std::string(shown) + " is not " + PluginTypeName(*expected);
  }
  *out = *parsed;
  return "";
}

std::string PluginEnvName(std::string_view plugin, std::string_view key) {
  return "POLYHOST_PLUGIN_" + EnvPart(plugin) + "_" + EnvPart(key);
}

// ---------------------------------------------------------------------------
// The loader: applies layers in order into one LoadedConfig, collecting every
// problem so that one run reports them all.

class Loader {
 public:
  explicit Loader(LoadedConfig* out) : out_(out) {}

  void ApplyDefaults() {
    // The schema's defaults first, so a key missing from default.toml still has
    // a value; then default.toml itself (config_test checks that they agree).
    for (const ConfigKeySpec& spec : ConfigSchema()) {
      ApplyText(spec, spec.default_text, kDefaultLayer, std::string(kDefaultFile) + ": schema default: ");
    }
    ApplyToml(EmbeddedDefaultToml(), std::string(kDefaultFile), std::string(kDefaultLayer),
              /*secrets_file=*/false);
  }

  // Reads one TOML file; a missing optional file is skipped.
  void ApplyFile(const fs::path& path, const std::string& display, bool required, bool secrets_file) {
    std::error_code error;
    const fs::file_status status = fs::status(path, error);
    if (!fs::exists(status)) {
      if (required) Problem(display + ": cannot read: no such file");
      return;
    }
    if (!fs::is_regular_file(status)) {
      Problem(display + ": cannot read: not a regular file");
      return;
    }
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!in.good() && !in.eof()) {
      Problem(display + ": cannot read: " + std::strerror(errno));
      return;
    }
    out_->files_read.push_back(display);
    if (ApplyToml(text, display, display, secrets_file)) WarnIfReadableByOthers(path, display);
  }

  void ApplyEnvironment(const char* const* environment) {
    std::vector<std::pair<std::string, std::string>> vars;
    for (const char* const* entry = environment; entry != nullptr && *entry != nullptr; ++entry) {
      const std::string_view text(*entry);
      const size_t equals = text.find('=');
      if (!text.starts_with(kEnvPrefix) || equals == std::string_view::npos) continue;
      vars.emplace_back(text.substr(0, equals), text.substr(equals + 1));
    }
    std::sort(vars.begin(), vars.end());  // deterministic messages
    for (const auto& [name, text] : vars) ApplyEnvVar(name, text);
  }

  void ApplyOverrides(const std::vector<std::pair<std::string, std::string>>& overrides) {
    const std::string where = Where(kCommandLine, 0);
    for (const auto& [name, text] : overrides) {
      const size_t dot = name.find('.');
      const std::string section = name.substr(0, dot);
      const std::string key = dot == std::string::npos ? "" : name.substr(dot + 1);
      if (section == kPluginSection) {
        ApplyPluginOverride(name, key, text);
        continue;
      }
      const ConfigKeySpec* spec = FindConfigKey(section, key);
      if (spec == nullptr) {
        Problem(where + "unknown key '" + name + "'" + DidYouMean(Nearest(name, AllKeyNames())));
        continue;
      }
      ApplyText(*spec, text, kCommandLine, where);
      if (spec->secret && !text.empty()) WarnSecretOnCommandLine(name);
    }
  }

  // Advisory checks run once on the merged result, naming the layer that set
  // the value.
  void WarnAboutAdvisoryChecks() {
    for (const ConfigKeySpec& spec : ConfigSchema()) {
      if (!IsAdvisory(spec.check)) continue;
      const ConfigFieldRef field = spec.field(out_->config);
      const auto* text = std::get_if<std::string*>(&field);
      if (text == nullptr) continue;
      const std::string reason = CheckShape(spec, **text);
      if (reason.empty()) continue;
      out_->warnings.push_back("'" + spec.name() + "' (set by " + out_->source_of[spec.name()] + "): " +
                               reason + "; the real relayer will refuse it");
    }
  }

  void ThrowIfProblems() {
    if (!problems_.empty()) throw ConfigError(std::move(problems_));
  }

 private:
  void Problem(std::string message) { problems_.push_back(std::move(message)); }

  void Set(const ConfigKeySpec& spec, Value value, std::string_view layer) {
    Assign(spec, std::move(value), &out_->config);
    out_->source_of[spec.name()] = layer;
  }

  void SetPlugin(const std::string& plugin, const std::string& key, PluginSetting setting,
                 std::string_view layer) {
    out_->config.plugin_sections[plugin][key] = std::move(setting);
    out_->source_of[std::string(kPluginSection) + "." + plugin + "." + key] = layer;
  }

  // Parses, checks and sets one key from text; `where` prefixes any problem.
  void ApplyText(const ConfigKeySpec& spec, std::string_view text, std::string_view layer,
                 const std::string& where) {
    Value value;
    std::string reason = ValueFromText(spec, text, &value);
    if (reason.empty()) reason = CheckValue(spec, value);
    if (!reason.empty()) {
      Problem(where + "'" + spec.name() + "': " + reason);
      return;
    }
    Set(spec, std::move(value), layer);
  }

  // Applies one TOML document. Returns true when it set a secret.
  bool ApplyToml(std::string_view text, const std::string& file, const std::string& layer,
                 bool secrets_file) {
    toml::table doc;
    try {
      doc = toml::parse(text, std::string_view(file));
    } catch (const toml::parse_error& error) {
      const toml::source_position& at = error.source().begin;
      // toml++ quotes the offending characters, which in a secrets file may be
      // part of a key.
      Problem(Where(file, static_cast<int>(at.line)) + "TOML syntax error at column " +
              std::to_string(at.column) + ": " +
              (secrets_file ? std::string("details withheld: this file holds secrets")
                            : std::string(error.description())));
      return false;
    }
    bool saw_secret = false;
    for (auto&& [section_key, section_node] : doc) {
      const std::string section(section_key.str());
      const int line = static_cast<int>(section_key.source().begin.line);
      if (section == kPluginSection) {
        saw_secret |= ApplyPluginSections(section_node, file, line, layer);
        continue;
      }
      if (section == kMarketsSection) {
        ApplyMarkets(section_node, file, line, layer);
        continue;
      }
      if (!IsKnownSection(section)) {
        Problem(Where(file, line) + "unknown section '" + section + "'" +
                DidYouMean(Nearest(section, AllSectionNames())));
        continue;
      }
      const toml::table* table = section_node.as_table();
      if (table == nullptr) {
        Problem(Where(file, line) + "'" + section + "' must be a table ([" + section + "]), not " +
                NodeTypeName(section_node.type()));
        continue;
      }
      for (auto&& [key, node] : *table) {
        const std::string name = section + "." + std::string(key.str());
        const ConfigKeySpec* spec = FindConfigKey(section, key.str());
        if (spec == nullptr) {
          Problem(Where(file, static_cast<int>(key.source().begin.line)) + "unknown key '" + name +
                  "'" + DidYouMean(Nearest(name, AllKeyNames())));
          continue;
        }
        Value value;
        std::string reason = ValueFromNode(*spec, node, &value);
        if (reason.empty()) reason = CheckValue(*spec, value);
        if (!reason.empty()) {
          Problem(Where(file, static_cast<int>(node.source().begin.line)) + "'" + name + "': " + reason);
          continue;
        }
        saw_secret |= HoldsSecret(*spec, value);
        Set(*spec, std::move(value), layer);
      }
    }
    return saw_secret;
  }

  // [[markets]] entries (run-service). A layer that has them replaces the list of
  // earlier layers; every entry is checked, each problem naming file and line.
  void ApplyMarkets(const toml::node& node, const std::string& file, int line, const std::string& layer) {
    const toml::array* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      Problem(Where(file, line) + "'markets' must be an array of tables ([[markets]] entries), not " +
              (array != nullptr ? std::string("an array of values") : NodeTypeName(node.type())));
      return;
    }
    static const std::vector<std::string> kKeys = {"market_id",    "outcome_yes_id", "outcome_no_id",
                                                   "ws_url",       "max_messages",   "subscribe",
                                                   "plugins"};
    std::vector<MarketEntry> entries;
    bool ok = true;
    for (size_t i = 0; i < array->size(); ++i) {
      const toml::table& table = *array->get(i)->as_table();
      const int at = static_cast<int>(table.source().begin.line);
      const std::string entry = "markets[" + std::to_string(i) + "]";
      MarketEntry m;
      m.line = at;
      const auto problem = [&](const toml::node& where, const std::string& what) {
        Problem(Where(file, static_cast<int>(where.source().begin.line)) + entry + ": " + what);
        ok = false;
      };
      for (auto&& key_value : table) {
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one in a lambda.
        const std::string key(key_value.first.str());
        const toml::node& value = key_value.second;
        const auto text = [&](std::string* out) {
          if (!value.is_string()) return problem(value, "'" + key + "' must be a string, not " + NodeTypeName(value.type()));
          *out = value.as_string()->get();
        };
        if (key == "market_id") {
          text(&m.market_id);
        } else if (key == "outcome_yes_id") {
          text(&m.outcome_yes_id);
        } else if (key == "outcome_no_id") {
          text(&m.outcome_no_id);
        } else if (key == "ws_url") {
          text(&m.ws_url);
          if (!m.ws_url.empty() && !(m.ws_url.starts_with("ws://") || m.ws_url.starts_with("wss://"))) {
            problem(value, "'ws_url': " + Quote(RedactUrlPassword(m.ws_url)) + " is not a ws:// or wss:// URL");
          }
        } else if (key == "max_messages") {
          if (!value.is_integer() || value.as_integer()->get() < 0) {
            problem(value, "'max_messages' must be an integer >= 0 (0: until stopped)");
          } else {
            m.max_messages = value.as_integer()->get();
          }
        } else if (key == "subscribe") {
          if (!value.is_boolean()) {
            problem(value, "'subscribe' must be a boolean, not " + std::string(NodeTypeName(value.type())));
          } else {
            m.subscribe = value.as_boolean()->get();
          }
        } else if (key == "plugins") {
          const toml::array* names = value.as_array();
          if (names == nullptr) {
            problem(value, "'plugins' must be an array of plugin names, not " + std::string(NodeTypeName(value.type())));
            continue;
          }
          std::vector<std::string> list;
          for (size_t n = 0; n < names->size(); ++n) {
            const toml::node& name = *names->get(n);
            const std::string at_n = "'plugins'[" + std::to_string(n) + "]";
            if (!name.is_string() || name.as_string()->get().empty()) {
              problem(name, at_n + " must be a plugin name (a non-empty string), not " +
                                (name.is_string() ? std::string("\"\"") : std::string(NodeTypeName(name.type()))));
              continue;
            }
            const std::string text = name.as_string()->get();
            if (std::find(list.begin(), list.end(), text) != list.end()) {
              problem(name, at_n + ": plugin " + Quote(text) + " is listed twice");
              continue;
            }
            list.push_back(text);
          }
          m.plugins = std::move(list);
        } else {
          Problem(Where(file, static_cast<int>(key_value.first.source().begin.line)) + entry + ": unknown key '" + key +
                  "'" + DidYouMean(Nearest(key, kKeys)));
          ok = false;
        }
      }
      if (m.market_id.empty()) {
        Problem(Where(file, at) + entry + ": 'market_id' (the condition id) is required");
        ok = false;
      }
      if (m.outcome_yes_id.empty()) {
        Problem(Where(file, at) + entry + ": 'outcome_yes_id' (the YES token id, a string) is required");
        ok = false;
      }
      for (const MarketEntry& earlier : entries) {
        if (!m.market_id.empty() && earlier.market_id == m.market_id) {
          Problem(Where(file, at) + entry + ": market " + Quote(m.market_id) + " is already listed at line " +
                  std::to_string(earlier.line));
          ok = false;
        }
      }
      entries.push_back(std::move(m));
    }
    if (!ok) return;
    out_->config.markets = std::move(entries);
    out_->source_of[std::string(kMarketsSection)] = layer;
  }

  // [plugin.<name>] sections: kept as flattened text, not validated. Returns
  // true when a secret-looking key was set.
  bool ApplyPluginSections(const toml::node& node, const std::string& file, int line,
                           const std::string& layer) {
    const toml::table* plugins = node.as_table();
    if (plugins == nullptr) {
      Problem(Where(file, line) + "'plugin' must hold [plugin.<name>] tables, not " +
              NodeTypeName(node.type()));
      return false;
    }
    bool saw_secret = false;
    for (auto&& [name_key, section] : *plugins) {
      const std::string name(name_key.str());
      const toml::table* table = section.as_table();
      if (table == nullptr) {
        Problem(Where(file, static_cast<int>(name_key.source().begin.line)) + "'plugin." + name +
                "' must be a table ([plugin." + name + "]), not " + NodeTypeName(section.type()));
        continue;
      }
      out_->config.plugin_sections[name];  // an empty section still enables its name
      FlattenTable(*table, "", [&](const std::string& key, const toml::node& value) {
        PluginSetting setting = PluginSettingFromNode(value);
        saw_secret |= LooksSecret(key) && !setting.text.empty();
        SetPlugin(name, key, std::move(setting), layer);
      });
    }
    return saw_secret;
  }

  void ApplyEnvVar(const std::string& name, const std::string& text) {
    const std::string layer = "env " + name;
    const std::string where = Where(layer, 0);
    for (const ConfigKeySpec& spec : ConfigSchema()) {
      if (spec.env_name() == name) {
        ApplyText(spec, text, layer, where);
        return;
      }
    }
    const std::string_view rest = std::string_view(name).substr(kEnvPrefix.size());
    if (rest.starts_with("PLUGIN_")) {
      ApplyPluginEnvVar(name, text, layer, where);
      return;
    }
    // A known section with an unknown key is surely a typo. Other POLYHOST_*
    // variables may belong to scripts; only near-misses of a real name are errors.
    const std::string suggestion = Nearest(name, AllEnvNames(), /*max_distance=*/2);
    for (std::string_view section : ConfigSections()) {
      const std::string prefix = EnvPart(section) + "_";
      if (rest.starts_with(prefix)) {
        Problem(where + "unknown key '" + std::string(section) + "." +
                Lower(rest.substr(prefix.size())) + "'" +
                DidYouMean(Nearest(name, AllEnvNames())));
        return;
      }
    }
    if (!suggestion.empty()) Problem(where + "unknown variable" + DidYouMean(suggestion));
  }

  // POLYHOST_PLUGIN_<NAME>_<KEY> overrides a plugin key that an earlier layer
  // defined; plugin names and keys may contain '_', so only existing keys can be
  // matched unambiguously.
  void ApplyPluginEnvVar(const std::string& name, const std::string& text, const std::string& layer,
                         const std::string& where) {
    for (const auto& [plugin, section] : out_->config.plugin_sections) {
      for (const auto& [key, setting] : section) {
        if (PluginEnvName(plugin, key) != name) continue;
        const std::string dotted = "plugin." + plugin + "." + key;
        const std::string shown = LooksSecret(key) ? std::string(kRedacted) : Quote(text);
        PluginSetting parsed;
        const PluginValueType expected = setting.type;
        const std::string reason = PluginSettingFromText(text, &expected, shown, &parsed);
        if (!reason.empty()) {
          Problem(where + "'" + dotted + "': " + reason);
        } else {
          SetPlugin(plugin, key, std::move(parsed), layer);
        }
        return;
      }
    }
    out_->warnings.push_back(layer + " ignored: no [plugin.<name>] key in the config files maps to it "
                                     "(a plugin key must appear in a file before the environment can "
                                     "override it)");
  }

  void ApplyPluginOverride(const std::string& name, const std::string& rest, const std::string& text) {
    const std::string where = Where(kCommandLine, 0);
    const size_t dot = rest.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == rest.size()) {
      Problem(where + "'" + name + "' must name a plugin and a key: plugin.<name>.<key>=value");
      return;
    }
    const std::string plugin = rest.substr(0, dot);
    const std::string key = rest.substr(dot + 1);
    const PluginValueType* expected = nullptr;
    if (const auto section = out_->config.plugin_sections.find(plugin);
        section != out_->config.plugin_sections.end()) {
      if (const auto it = section->second.find(key); it != section->second.end()) {
        expected = &it->second.type;
      }
    }
    const std::string shown = LooksSecret(key) ? std::string(kRedacted) : Quote(text);
    PluginSetting parsed;
    const std::string reason = PluginSettingFromText(text, expected, shown, &parsed);
    if (!reason.empty()) {
      Problem(where + "'" + name + "': " + reason);
      return;
    }
    SetPlugin(plugin, key, std::move(parsed), kCommandLine);
    if (LooksSecret(key) && !text.empty()) WarnSecretOnCommandLine(name);
  }

  void WarnIfReadableByOthers(const fs::path& path, const std::string& display) {
    std::error_code error;
    const fs::perms perms = fs::status(path, error).permissions();
    if (error || (perms & (fs::perms::group_read | fs::perms::others_read)) == fs::perms::none) return;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(perms) & 07777u);
    out_->warnings.push_back(display + " holds secrets but is readable by group/others (mode " + mode +
                             "); run: chmod 600 " + display);
  }

  void WarnSecretOnCommandLine(const std::string& name) {
    out_->warnings.push_back(name +
                             " was given on the command line, where other local users can see it "
                             "(ps, shell history); prefer secrets.local.toml or an environment variable");
  }

  LoadedConfig* out_;
  std::vector<std::string> problems_;
};

// ---------------------------------------------------------------------------
// `config show`


// A schema key's value for display, secrets redacted; as JSON or as plain text.
std::string ShowValue(const ConfigKeySpec& spec, const Config& config, bool json) {
  return std::visit(
      [&](const auto* field) -> std::string {
        using Field = std::remove_cv_t<std::remove_pointer_t<decltype(field)>>;
        if constexpr (std::is_same_v<Field, bool>) {
          return *field ? "true" : "false";
        } else if constexpr (std::is_same_v<Field, int64_t>) {
          if (spec.type != ConfigType::kDecimal) return std::to_string(*field);
          return json ? JsonQuoted(FormatDecimal(*field)) : FormatDecimal(*field);
        } else if constexpr (std::is_same_v<Field, std::string>) {
          const std::string text = spec.secret ? (field->empty() ? "" : "***") : RedactUrlPassword(*field);
          return json ? JsonQuoted(text) : text;
        } else {
          std::string out = json ? "[" : "";
          for (size_t i = 0; i < field->size(); ++i) {
            if (i > 0) out += json ? ", " : ",";
            out += json ? JsonQuoted(RedactUrlPassword((*field)[i])) : RedactUrlPassword((*field)[i]);
          }
          return json ? out + "]" : out;
        }
      },
      ReadField(spec, config));
}

std::string ShowPluginValue(const std::string& key, const PluginSetting& setting, bool json) {
  if (LooksSecret(key)) {
    const std::string text = setting.text.empty() ? "" : "***";
    return json ? JsonQuoted(text) : text;
  }
  const std::string text = RedactUrlPassword(setting.text);
  if (!json) return text;
  const bool finite_number = setting.type == PluginValueType::kFloat &&
                             text.find_first_of("in") == std::string::npos;  // inf, nan
  if (setting.type == PluginValueType::kInteger || setting.type == PluginValueType::kBool ||
      finite_number) {
    return text;
  }
  return JsonQuoted(text);
}

std::string SourceOf(const LoadedConfig& loaded, const std::string& name) {
  const auto it = loaded.source_of.find(name);
  return it == loaded.source_of.end() ? std::string(kDefaultLayer) : it->second;
}

std::string RenderJson(const LoadedConfig& loaded) {
  const Config& config = loaded.config;
  std::string out = "{\n  \"config\": {\n";
  bool first_section = true;
  for (std::string_view section : ConfigSections()) {
    if (!first_section) out += ",\n";
    first_section = false;
    out += "    " + JsonQuoted(section) + ": {";
    bool first_key = true;
    for (const ConfigKeySpec& spec : ConfigSchema()) {
      if (spec.section != section) continue;
      if (!first_key) out += ", ";
      first_key = false;
      out += JsonQuoted(spec.key) + ": " + ShowValue(spec, config, /*json=*/true);
    }
    out += "}";
  }
  out += ",\n    \"plugin\": {";
  bool first_plugin = true;
  for (const auto& [plugin, section] : config.plugin_sections) {
    out += first_plugin ? "\n" : ",\n";
    first_plugin = false;
    out += "      " + JsonQuoted(plugin) + ": {";
    bool first_key = true;
    for (const auto& [key, setting] : section) {
      if (!first_key) out += ", ";
      first_key = false;
      out += JsonQuoted(key) + ": " + ShowPluginValue(key, setting, /*json=*/true);
    }
    out += "}";
  }
  out += first_plugin ? "}" : "\n    }";
  out += ",\n    \"markets\": [";
  for (size_t i = 0; i < config.markets.size(); ++i) {
    const MarketEntry& m = config.markets[i];
    out += i == 0 ? "\n" : ",\n";
    out += "      {\"market_id\": " + JsonQuoted(m.market_id) + ", \"outcome_yes_id\": " + JsonQuoted(m.outcome_yes_id) +
           ", \"outcome_no_id\": " + JsonQuoted(m.outcome_no_id) +
           ", \"ws_url\": " + JsonQuoted(RedactUrlPassword(m.ws_url)) +
           ", \"max_messages\": " + std::to_string(m.max_messages) +
           ", \"subscribe\": " + (m.subscribe ? "true" : "false");
    if (m.plugins) {
      out += ", \"plugins\": [";
      for (size_t n = 0; n < m.plugins->size(); ++n) out += (n == 0 ? "" : ", ") + JsonQuoted((*m.plugins)[n]);
      out += "]";
    }
    out += "}";
  }
  out += config.markets.empty() ? "]\n  },\n" : "\n    ]\n  },\n";

  out += "  \"source\": {";
  bool first_source = true;
  const auto add_source = [&](const std::string& name) {
    out += first_source ? "\n" : ",\n";
    first_source = false;
    out += "    " + JsonQuoted(name) + ": " + JsonQuoted(SourceOf(loaded, name));
  };
  for (const ConfigKeySpec& spec : ConfigSchema()) add_source(spec.name());
  if (!config.markets.empty()) add_source(std::string(kMarketsSection));
  for (const auto& [plugin, section] : config.plugin_sections) {
    for (const auto& [key, setting] : section) add_source("plugin." + plugin + "." + key);
  }
  out += "\n  },\n";

  const auto add_list = [&](std::string_view name, const std::vector<std::string>& items, bool last) {
    out += "  " + JsonQuoted(name) + ": [";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += ", ";
      out += JsonQuoted(items[i]);
    }
    out += last ? "]\n" : "],\n";
  };
  add_list("files", loaded.files_read, false);
  add_list("warnings", loaded.warnings, true);
  out += "}\n";
  return out;
}

std::string RenderText(const LoadedConfig& loaded) {
  struct Row {
    std::string key, value, source;
  };
  std::vector<Row> rows;
  rows.push_back({"KEY", "VALUE", "SOURCE"});
  for (const ConfigKeySpec& spec : ConfigSchema()) {
    rows.push_back({spec.name(), ShowValue(spec, loaded.config, /*json=*/false), SourceOf(loaded, spec.name())});
  }
  for (const auto& [plugin, section] : loaded.config.plugin_sections) {
    for (const auto& [key, setting] : section) {
      const std::string name = "plugin." + plugin + "." + key;
      rows.push_back({name, ShowPluginValue(key, setting, /*json=*/false), SourceOf(loaded, name)});
    }
  }
  for (size_t i = 0; i < loaded.config.markets.size(); ++i) {
    const MarketEntry& m = loaded.config.markets[i];
    std::string value = m.market_id + " yes=" + m.outcome_yes_id;
    if (!m.outcome_no_id.empty()) value += " no=" + m.outcome_no_id;
    value += " ws=" + (m.ws_url.empty() ? std::string("[polymarket]") : RedactUrlPassword(m.ws_url));
    value += " max_messages=" + std::to_string(m.max_messages) + (m.subscribe ? "" : " subscribe=false");
    if (m.plugins) {
      value += " plugins=[";
      for (size_t n = 0; n < m.plugins->size(); ++n) value += (n == 0 ? "" : ",") + (*m.plugins)[n];
      value += "]";
    }
    rows.push_back({"markets[" + std::to_string(i) + "]", value, SourceOf(loaded, std::string(kMarketsSection))});
  }
  size_t key_width = 0;
  size_t value_width = 0;
  for (const Row& row : rows) {
    key_width = std::max(key_width, row.key.size());
    value_width = std::max(value_width, row.value.size());
  }
  std::string out = "# layers, later wins: default, config/local.toml, --config, secrets.local.toml, "
                    "env POLYHOST_*, command line\n# files read:";
  if (loaded.files_read.empty()) out += " none";
  for (const std::string& file : loaded.files_read) out += " " + file;
  out += "\n";
  for (const Row& row : rows) {
    out += row.key + std::string(key_width - row.key.size() + 2, ' ');
    out += row.value + std::string(value_width - row.value.size() + 2, ' ');
    out += row.source + "\n";
  }
  return out;
}

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (const std::string& line : lines) {
    if (!out.empty()) out += '\n';
    out += line;
  }
  return out;
}

}  // namespace

ConfigError::ConfigError(std::vector<std::string> problems)
    : std::runtime_error(JoinLines(problems)), problems_(std::move(problems)) {}

LoadedConfig LoadConfig(const ConfigLoadOptions& options) {
  LoadedConfig loaded;
  Loader loader(&loaded);
  loader.ApplyDefaults();

  const fs::path base = options.base_dir.empty() ? fs::path(".") : fs::path(options.base_dir);
  const auto display = [](const fs::path& path) { return path.lexically_normal().generic_string(); };
  const fs::path local = base / "config" / "local.toml";
  loader.ApplyFile(local, display(local), /*required=*/false, /*secrets_file=*/false);

  fs::path secrets = base / "config" / "secrets.local.toml";
  if (!options.config_file.empty()) {
    loader.ApplyFile(options.config_file, options.config_file, /*required=*/true, /*secrets_file=*/false);
    secrets = fs::path(options.config_file).parent_path() / "secrets.local.toml";
  }
  loader.ApplyFile(secrets, display(secrets), /*required=*/false, /*secrets_file=*/true);

  loader.ApplyEnvironment(options.environ != nullptr ? options.environ : ::environ);
  loader.ApplyOverrides(options.overrides);
  loader.ThrowIfProblems();
  loader.WarnAboutAdvisoryChecks();
  return loaded;
}

Config DefaultConfig() {
  LoadedConfig loaded;
  Loader loader(&loaded);
  loader.ApplyDefaults();
  loader.ThrowIfProblems();
  return std::move(loaded.config);
}

std::pair<std::string, std::string> SplitOverride(std::string_view assignment) {
  // The text is not echoed: a misplaced argument may be a secret.
  const size_t equals = assignment.find('=');
  if (equals == std::string_view::npos) {
    throw ConfigError({Where(kCommandLine, 0) + "expected section.key=value (no '=' found)"});
  }
  const std::string_view key = Trim(assignment.substr(0, equals));
  if (key.empty()) throw ConfigError({Where(kCommandLine, 0) + "expected section.key=value (empty key)"});
  return {std::string(key), std::string(assignment.substr(equals + 1))};
}

std::string RenderConfigShow(const LoadedConfig& loaded, bool json) {
  return json ? RenderJson(loaded) : RenderText(loaded);
}

}  // namespace polyhost
