// polyhost tgbot-run-local UPDATES.jsonl MARKET OUTCOME [--db-url URL] [--plugin SPEC] [--json]
//
// The Telegram bot's offline mode: loads the tgbot plugin through the normal ABI
// with a control extension that reads the store (DbControlBackend), feeds it one
// Telegram Update per line through the plugin's "polyhost.tgbot.offline/1"
// extension, and prints each reply. Nothing goes over the network. MARKET and
// OUTCOME are what a bare /book shows. docs/plugins/tgbot.md.
//
// polyhost tgbot-serve [--db-url URL] [--plugin SPEC] [--for-s N]
//
// The same bot polling the Telegram Bot API ([plugin.tgbot] token, base_url,
// allowed_chat_ids) with the same store-backed answers, until SIGINT/SIGTERM
// or --for-s seconds: watch a database from a phone while no trading loop runs
// (`polyhost run --plugins ...,tgbot` hosts the bot with live answers).
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "cli/command.h"
#include "run/run_session.h"
#include "core/json_text.h"
#include "obs/logging.h"
#include "plugin/control_extension.h"
#include "plugin/http_extension.h"
#include "plugin/plugin_host.h"
#include "polyhost/abi/control.h"
#include "offline_ext.h"  // plugins/tgbot/

namespace polyhost {
namespace {

struct TgbotFlags {
  CommonFlags common;
  std::string updates;
  std::string market;
  std::string outcome;
  std::string plugin = "tgbot";
  std::string pause_file;
  bool json = false;
  int64_t for_s = 0;  // tgbot-serve: 0 = until a signal
};

// The plugin instance the proxy entry created: PluginHost does not hand out
// plugin tables, and the offline extension is the plugin's, so the command
// wraps the library's create() to see the table it returns.
const ph_plugin_entry* g_real_entry = nullptr;
const ph_plugin* g_instance = nullptr;

const ph_plugin* ProxyCreate(const ph_host* host) {
  g_instance = g_real_entry->create(host);
  return g_instance;
}

// [plugins] dirs, then the plugin folders beside this executable (as `run` does).
std::vector<std::filesystem::path> SearchDirs(const Config& config) {
  std::vector<std::filesystem::path> dirs(config.plugins.dirs.begin(), config.plugins.dirs.end());
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    dirs.push_back(exe.parent_path().parent_path() / "plugins");
    dirs.push_back(exe.parent_path().parent_path() / "lib" / "polyhost" / "plugins");
  }
  return dirs;
}


// The database file for positions and PnL from the fills; empty when not SQLite.
std::string SqliteFile(const Config& config) {
  const DbUrl url = ParseDbUrl(config.db.url);
  return url.backend == DbUrl::Backend::kSqlite && url.path != ":memory:" ? url.path : std::string();
}

// The store-backed control extension both commands give the bot.
struct OfflineControl {
  std::unique_ptr<Store> store;
  std::unique_ptr<PauseState> pause;
  std::unique_ptr<DbControlBackend> backend;
  std::unique_ptr<ControlExtension> extension;
};

void AuditLine(int level, const std::string& line) {
  static const std::shared_ptr<spdlog::logger> audit = obs::ModuleLogger("plugin");
  audit->log(level == 0 ? spdlog::level::debug : level == 1 ? spdlog::level::info : spdlog::level::warn, "{}", line);
}

OfflineControl MakeOfflineControl(const Config& config, const TgbotFlags& flags) {
  OfflineControl c;
  c.store = OpenStore(config, /*read_only=*/true);
  const std::string pause_path = flags.pause_file.empty() ? DefaultPauseFile(config.db.url) : flags.pause_file;
  if (pause_path.empty()) spdlog::warn("tgbot: pauses are not kept (no SQLite database to keep them beside)");
  c.pause = std::make_unique<PauseState>(pause_path);
  c.backend = std::make_unique<DbControlBackend>(
      *c.store, *c.pause, config.relayer.dry_run,
      [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::system_clock::now().time_since_epoch())
            .count();
      },
      SqliteFile(config));
  c.extension = std::make_unique<ControlExtension>(*c.backend, &AuditLine);
  return c;
}

// Finds and opens the bot library (same lookup as PluginHost) and returns the
// proxy entry to hand PluginHost::LoadEntry: the ABI checks and the lifecycle
// are the normal ones. The library stays loaded until exit.
ph_plugin_entry OpenBotLibrary(const Config& config, const std::string& spec, std::filesystem::path* path) {
  *path = spec;
  if (spec.find('/') == std::string::npos && !spec.ends_with(".so")) {
    std::vector<std::string> tried;
    const auto dirs = SearchDirs(config);
    auto found = FindPluginFile(spec, dirs, &tried);
    if (!found) {
      std::string list;
      for (const std::string& t : tried) list += "\n  " + t;
      throw std::runtime_error("plugin '" + spec + "' not found; tried:" + list);
    }
    *path = *found;
  }
  void* lib = dlopen(path->c_str(), RTLD_NOW | RTLD_LOCAL);
  if (lib == nullptr) throw std::runtime_error("cannot load " + path->string() + ": " + dlerror());
  g_real_entry = static_cast<const ph_plugin_entry*>(dlsym(lib, POLYHOST_PLUGIN_ENTRY_SYMBOL));
  if (g_real_entry == nullptr) throw std::runtime_error(path->string() + " has no " POLYHOST_PLUGIN_ENTRY_SYMBOL);
  if (std::string why = CheckPluginEntry(g_real_entry, "tgbot"); !why.empty()) throw std::runtime_error(why);
  ph_plugin_entry proxy = *g_real_entry;
  proxy.create = &ProxyCreate;
  return proxy;
}

int RunLocal(const TgbotFlags& flags) {
  LoadedConfig loaded = LoadConfigFor(flags.common);
  const Config& config = loaded.config;
  std::ifstream in(flags.updates);
  if (!in) throw std::runtime_error("cannot open " + flags.updates);
  OfflineControl control = MakeOfflineControl(config, flags);
  std::filesystem::path path;
  ph_plugin_entry proxy = OpenBotLibrary(config, flags.plugin, &path);

  PluginConfig plugin_config = PluginConfigFor(config, "tgbot");
  plugin_config["live"] = {PluginValueKind::kBool, "false"};  // offline: never poll the Bot API
  plugin_config["default_market"] = {PluginValueKind::kString, flags.market};
  plugin_config["default_outcome"] = {PluginValueKind::kString, flags.outcome};

  int rc = 0;
  {
    PluginHost host;
    host.RegisterExtension(PH_EXT_CONTROL, control.extension->table());
    PluginLoadResult r = host.LoadEntry("tgbot", &proxy, std::move(plugin_config), path.string());
    if (!r.ok) throw std::runtime_error("cannot start tgbot: " + r.error);
    const auto* ext = g_instance != nullptr && PH_PLUGIN_HAS(g_instance, get_extension)
                          ? static_cast<const ph_tgbot_offline_ext*>(
                                g_instance->get_extension(g_instance, PH_TGBOT_EXT_OFFLINE))
                          : nullptr;
    if (ext == nullptr) throw std::runtime_error(path.string() + " offers no " PH_TGBOT_EXT_OFFLINE " extension");
    std::string line;
    std::string reply(4096, '\0');
    for (int64_t n = 1; std::getline(in, line); ++n) {
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(line, ec);
      if (ec || !v.is_object()) {
        std::fprintf(stderr, "error: %s:%lld: not a JSON object (one Telegram Update per line)\n",
                     flags.updates.c_str(), static_cast<long long>(n));
        rc = 1;
        break;
      }
      size_t len = 0;
      ph_result res = ext->handle_update(ext->ctx, line.c_str(), reply.data(), reply.size(), &len);
      if (res == PH_ERR_INVALID_ARGUMENT && len >= reply.size()) {
        reply.assign(len + 1, '\0');
        res = ext->handle_update(ext->ctx, nullptr, reply.data(), reply.size(), &len);
      }
      if (res != PH_OK) {
        std::fprintf(stderr, "error: %s:%lld: the bot failed: %s\n", flags.updates.c_str(),
                     static_cast<long long>(n), ph_result_name(res));
        rc = 1;
        break;
      }
      const std::string text(reply.data(), len);
      if (flags.json) {
        std::string out = "{\"line\":" + std::to_string(n) + ",\"reply\":" + (len > 0 ? JsonQuoted(text) : "null") + "}\n";
        std::fwrite(out.data(), 1, out.size(), stdout);
      } else if (len > 0) {
        std::printf("%s\n\n", text.c_str());
      }
      std::fflush(stdout);
    }
    host.Shutdown();
  }
  // The library stays loaded until exit: PluginHost::LoadEntry does not own it.
  return rc;
}

std::atomic<int> g_serve_signals{0};
void OnServeSignal(int) {
  if (g_serve_signals.fetch_add(1) >= 1) _exit(130);  // a second signal: leave at once
}

int Serve(const TgbotFlags& flags) {
  LoadedConfig loaded = LoadConfigFor(flags.common);
  const Config& config = loaded.config;
  OfflineControl control = MakeOfflineControl(config, flags);
  HttpExtension http([](const std::string& line) { AuditLine(0, line); });
  std::filesystem::path path;
  ph_plugin_entry proxy = OpenBotLibrary(config, flags.plugin, &path);
  PluginConfig plugin_config = PluginConfigFor(config, "tgbot");
  plugin_config["live"] = {PluginValueKind::kBool, "true"};
  struct sigaction sa {};
  sa.sa_handler = &OnServeSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  PluginHost host;
  host.RegisterExtension(PH_EXT_CONTROL, control.extension->table());
  host.RegisterExtension(PH_EXT_HTTP, http.table());
  PluginLoadResult r = host.LoadEntry("tgbot", &proxy, std::move(plugin_config), path.string());
  if (!r.ok) throw std::runtime_error("cannot start tgbot: " + r.error);
  host.ActivateAll();
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(flags.for_s);
  while (g_serve_signals.load() == 0 && (flags.for_s <= 0 || std::chrono::steady_clock::now() < until)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  spdlog::info("tgbot-serve: stopping");
  host.Shutdown();  // deactivate joins the bot's threads
  return 0;
}

}  // namespace

void AddTgbotCommands(CLI::App& app, CommandRegistry& registry) {
  auto flags = std::make_shared<TgbotFlags>();
  CLI::App* cmd = app.add_subcommand(
      "tgbot-run-local", "Run the Telegram bot offline: one Update per line of a file, replies from the database");
  cmd->add_option("UPDATES", flags->updates, "file with one Telegram Update (JSON) per line")->required();
  cmd->add_option("MARKET", flags->market, "market a bare /book shows")->required();
  cmd->add_option("OUTCOME", flags->outcome, "outcome (name or token id) a bare /book shows")->required();
  cmd->add_option("--plugin", flags->plugin, "plugin name or path of the bot library (default: tgbot)");
  cmd->add_option("--pause-file", flags->pause_file,
                  "where /pause and /resume are kept (default: <sqlite db>.control.json)");
  cmd->add_flag("--json", flags->json, "one JSON object per update: {line, reply} (reply null: no answer)");
  AddCommonFlags(cmd, &flags->common);
  registry.Add(cmd, [flags]() -> int { return RunLocal(*flags); });

  auto serve = std::make_shared<TgbotFlags>();
  CLI::App* scmd = app.add_subcommand(
      "tgbot-serve", "Run the Telegram bot against the Bot API with replies from the database (until a signal)");
  scmd->add_option("--plugin", serve->plugin, "plugin name or path of the bot library (default: tgbot)");
  scmd->add_option("--pause-file", serve->pause_file,
                   "where /pause and /resume are kept (default: <sqlite db>.control.json)");
  scmd->add_option("--for-s", serve->for_s, "stop after this many seconds (default: until SIGINT/SIGTERM)")
      ->check(CLI::NonNegativeNumber);
  AddCommonFlags(scmd, &serve->common);
  registry.Add(scmd, [serve]() -> int { return Serve(*serve); });
}

}  // namespace polyhost
