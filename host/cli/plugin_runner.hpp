// `psahost plugin-runner`: the child process a process-isolated plugin runs in. Hidden from the
// help; only the host starts it, with its channel on descriptor 3 and an empty environment.
#pragma once

#include <string>
#include <vector>

namespace psahost::cli {

int run_plugin_runner(const std::vector<std::string>& args);

}  // namespace psahost::cli
