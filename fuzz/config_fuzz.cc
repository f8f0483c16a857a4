// libFuzzer harness: LoadConfig (config/config.h) with the input as the --config
// file, then RenderConfigShow of whatever loaded (both forms).
//
// LoadConfig reads files, so each input is written to a private temporary
// directory; the environment is empty so the process's own variables cannot
// change results. Errors must be ConfigError (anything else escaping is a bug:
// the CLI would report it as a crash), and a secret given in the file must never
// appear in an error message or in `config show`.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "config/config.h"

namespace {

namespace fs = std::filesystem;

// A value no fuzzer mutation will produce by chance; seeds use it as the
// private key / api secret, so the check below is meaningful on them.
constexpr std::string_view kSecretMarker = "FUZZSECRETMARKER";

const fs::path& WorkDir() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("polyhost_config_fuzz." + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

// True when the marker occurs in the input, and only on lines assigning one of
// the relayer's secret keys: then no error text may contain it.
bool MarkerOnlyInSecretKeys(std::string_view input) {
  bool seen = false;
  size_t begin = 0;
  while (begin <= input.size()) {
    size_t end = input.find('\n', begin);
    if (end == std::string_view::npos) end = input.size();
    const std::string_view line = input.substr(begin, end - begin);
    if (line.find(kSecretMarker) != std::string_view::npos) {
      const size_t first = line.find_first_not_of(" \t");
      const std::string_view key = first == std::string_view::npos ? "" : line.substr(first);
      bool secret_key = false;
      for (std::string_view k : {"private_key", "api_secret", "api_passphrase", "api_key"}) {
        if (key.substr(0, k.size()) == k && key.substr(k.size()).find_first_not_of(" \t") != std::string_view::npos &&
            key[key.find_first_not_of(" \t", k.size())] == '=') {
          secret_key = true;
        }
      }
      if (!secret_key) return false;
      seen = true;
    }
    begin = end + 1;
  }
  return seen;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const fs::path file = WorkDir() / "fuzz.toml";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(input.data(), static_cast<std::streamsize>(input.size()));
  }
  static const char* const kNoEnvironment[] = {nullptr};
  polyhost::ConfigLoadOptions options;
  options.config_file = file.string();
  options.base_dir = WorkDir().string();
  options.environ = kNoEnvironment;
  try {
    polyhost::LoadedConfig loaded = polyhost::LoadConfig(options);
    // Only a secret in a *secret* key is promised to be hidden; the marker in
    // other keys (e.g. a market name) is shown as typed. So check rendered
    // output only for the seeds' shape: relayer secrets.
    if (loaded.config.relayer.private_key.find(kSecretMarker) != std::string::npos ||
        loaded.config.relayer.api_secret.find(kSecretMarker) != std::string::npos) {
      const std::string text = polyhost::RenderConfigShow(loaded, false);
      const std::string json = polyhost::RenderConfigShow(loaded, true);
      if (text.find(kSecretMarker) != std::string::npos || json.find(kSecretMarker) != std::string::npos) {
        std::fprintf(stderr, "a relayer secret is shown by config show\n");
        std::abort();
      }
    } else {
      (void)polyhost::RenderConfigShow(loaded, false);
      (void)polyhost::RenderConfigShow(loaded, true);
    }
    for (const std::string& w : loaded.warnings) (void)w;
  } catch (const polyhost::ConfigError& error) {
    if (MarkerOnlyInSecretKeys(input) && std::string_view(error.what()).find(kSecretMarker) != std::string_view::npos) {
      std::fprintf(stderr, "a secret value leaked into a config error:\n%s\n", error.what());
      std::abort();
    }
  }
  return 0;
}
