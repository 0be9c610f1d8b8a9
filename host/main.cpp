// psahost entry point: parses the command line and runs one command (serve, plugins, ...).
#include "cli/commands.hpp"

int main(int argc, char** argv) {
  return psahost::cli::run(argc, argv);
}
