#include "cli/cli.h"

int main(int argc, char** argv) { return polyhost::RunCli(argc, argv); }
