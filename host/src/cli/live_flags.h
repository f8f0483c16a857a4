// Flags and helpers shared by the live-data commands (ingest-ws, run --ws,
// run-service): TLS and REST options, and the SIGINT/SIGTERM stop flag.
#pragma once

#include <CLI/CLI.hpp>

#include <atomic>
#include <string>

#include "cli/command.h"
#include "config/config.h"
#include "live/live_source.h"

namespace polyhost {

struct LiveFlags {
  std::string clob_url;
  bool insecure = false;
  std::string ca_file;
  int64_t max_per_connection = 500;
};

void AddLiveFlags(CLI::App* cmd, LiveFlags* flags);
// Options from flags and config ([polymarket] urls, [ingestion] queue and staleness).
// ws_url empty: [polymarket] ws_url. A bad URL is a UsageError.
LiveOptions MakeLiveOptions(const LiveFlags& flags, const Config& config, const std::string& ws_url);

// polyhost run-service (run_service_command.cc); registered with the live commands.
void AddRunServiceCommand(CLI::App& app, CommandRegistry& registry);

// First SIGINT/SIGTERM sets the flag; a second exits at once.
void InstallStopSignals();
const std::atomic<bool>* StopSignalFlag();

}  // namespace polyhost
