// The `polyhost` command line: one executable, subcommands, --help on each.
// Exit codes: 0 success, 1 runtime failure, 2 usage error; errors go to stderr.
#pragma once

namespace polyhost {

int RunCli(int argc, char** argv);

}  // namespace polyhost
