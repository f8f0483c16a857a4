// polyhost config show [--json]
#include <iostream>

#include "cli/command.h"

namespace polyhost {

void AddConfigCommand(CLI::App& app, CommandRegistry& registry) {
  struct Flags {
    CommonFlags common;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* config = app.add_subcommand("config", "Inspect the layered configuration");
  config->require_subcommand(1);
  CLI::App* show = config->add_subcommand("show", "Print the merged configuration, secrets redacted, with the layer that set each key");
  show->add_flag("--json", flags->json, "machine-readable output");
  AddCommonFlags(show, &flags->common);
  registry.Add(show, [flags]() -> int {
    LoadedConfig loaded = LoadConfigFor(flags->common);
    std::cout << RenderConfigShow(loaded, flags->json);
    return 0;
  });
}

}  // namespace polyhost
