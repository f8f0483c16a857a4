// What `run`, `harness`, `quoter-run` and `run-service` share: run options from
// the configuration, where plugins are looked up, and the run summary's output.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "config/config.h"
#include "run/run_session.h"

namespace polyhost {

// The plugins [strategy] enables (when no plugin list is given).
std::vector<std::string> DefaultPlugins(const Config& config);

// [plugins] dirs, then the plugin folders beside this executable (the build tree's
// plugins/ and an installed lib/polyhost/plugins).
std::vector<std::string> PluginDirs(const Config& config);

// Relayer (relayer_flag when not empty, else [relayer] type), dry_run, paper fees,
// risk limits, kill switch, real-relayer settings and credentials, plugin dirs and
// a fresh run id, all from `config`; feed fields are left to the caller.
RunOptions RunOptionsFromConfig(const Config& config, const std::string& relayer_flag);

// The per-plugin table (plans, accepted, rejected, orders, fills, PnL) on stdout.
void PrintRunSummary(const RunSummary& s);
boost::json::object RunSummaryJson(const RunSummary& s);

}  // namespace polyhost
