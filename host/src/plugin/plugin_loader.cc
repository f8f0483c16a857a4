// Finding plugin files and vetting their entry symbol (plugin_host.h).
#include <cstddef>
#include <string>
#include <system_error>

#include "plugin/plugin_host.h"

namespace polyhost {

namespace {

// The ABI 1.0 sizes: the least a major-1 peer may provide. Computed from the
// last 1.0 field, so appending fields in later minors does not change them.
constexpr size_t kEntryV1Size = offsetof(ph_plugin_entry, create) + sizeof(ph_plugin_entry::create);
constexpr size_t kDescriptorV1Size =
    offsetof(ph_plugin_descriptor, description) + sizeof(ph_plugin_descriptor::description);
// Enough to read struct_size and abi_version, frozen in every major.
constexpr size_t kEntryVersionSize = offsetof(ph_plugin_entry, abi_version) + sizeof(ph_version);

bool Empty(const char* s) { return s == nullptr || *s == '\0'; }

std::string Quote(std::string_view name) { return "plugin '" + std::string(name) + "'"; }

}  // namespace

std::string FormatAbiVersion(const ph_version& v) {
  return std::to_string(v.major) + "." + std::to_string(v.minor) + "." + std::to_string(v.patch);
}

std::string CheckPluginEntry(const ph_plugin_entry* entry, std::string_view name) {
  if (entry == nullptr) return Quote(name) + ": its polyhost_plugin_entry is a null pointer";
  if (entry->struct_size < kEntryVersionSize) {
    return Quote(name) + ": polyhost_plugin_entry.struct_size is " + std::to_string(entry->struct_size) +
           ", too small to hold an ABI version; it is not a polyhost plugin";
  }
  const ph_version host = POLYHOST_ABI_VERSION_INIT;
  const ph_version& plugin = entry->abi_version;
  if (!ph_version_is_compatible(host, plugin)) {
    return Quote(name) + " (ABI " + FormatAbiVersion(plugin) + ") is not compatible with this host (ABI " +
           FormatAbiVersion(host) + "): the major versions differ; rebuild the plugin against polyhost SDK " +
           std::to_string(host.major) + ".x";
  }
  if (entry->struct_size < kEntryV1Size) {
    return Quote(name) + ": polyhost_plugin_entry.struct_size is " + std::to_string(entry->struct_size) +
           ", smaller than the ABI 1.0 entry (" + std::to_string(kEntryV1Size) + ")";
  }
  const ph_plugin_descriptor* d = entry->descriptor;
  if (d == nullptr) return Quote(name) + ": polyhost_plugin_entry.descriptor is null";
  if (d->struct_size < kDescriptorV1Size) {
    return Quote(name) + ": its descriptor's struct_size is " + std::to_string(d->struct_size) +
           ", smaller than the ABI 1.0 descriptor (" + std::to_string(kDescriptorV1Size) + ")";
  }
  if (Empty(d->id) || Empty(d->name) || Empty(d->version)) {
    return Quote(name) + ": its descriptor must have a non-empty id, name and version";
  }
  if (entry->create == nullptr) return Quote(name) + ": polyhost_plugin_entry.create is null";
  return {};
}

std::optional<std::filesystem::path> FindPluginFile(std::string_view name,
                                                    std::span<const std::filesystem::path> dirs,
                                                    std::vector<std::string>* tried) {
  const std::string n(name);
  for (const std::filesystem::path& dir : dirs) {
    for (const std::filesystem::path& candidate :
         {dir / (n + ".so"), dir / ("lib" + n + ".so"), dir / n / (n + ".so")}) {
      if (tried != nullptr) tried->push_back(candidate.string());
      std::error_code ec;
      if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    }
  }
  return std::nullopt;
}

const char* PluginStateName(PluginState state) {
  switch (state) {
    case PluginState::kInitialized: return "initialized";
    case PluginState::kActive: return "active";
    case PluginState::kInactive: return "inactive";
    case PluginState::kFailed: return "failed";
    case PluginState::kUnloaded: return "unloaded";
  }
  return "unknown";
}

const char* PluginLogLevelName(PluginLogLevel level) {
  switch (level) {
    case PluginLogLevel::kTrace: return "trace";
    case PluginLogLevel::kDebug: return "debug";
    case PluginLogLevel::kInfo: return "info";
    case PluginLogLevel::kWarn: return "warn";
    case PluginLogLevel::kError: return "error";
  }
  return "info";
}

}  // namespace polyhost
