// The psahost command line: `psahost <command> [options]`, each command with its own --help.
#pragma once

namespace psahost::cli {

// Runs the command named by argv; returns the process exit code.
int run(int argc, char** argv);

}  // namespace psahost::cli
