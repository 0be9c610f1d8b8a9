// Builds one of sdk/examples/ the way an outside author does: the SDK installed into a prefix,
// the example copied into an empty folder, configured with find_package(PsaSdk) and built.
#pragma once

#include <filesystem>
#include <string>

namespace psahost::test {

// Returns the folder holding the built plugin and its stamped manifest. Throws
// std::runtime_error with the tools' output when a step fails.
std::filesystem::path build_sdk_example(const std::string& example,
                                        const std::filesystem::path& work_dir);

}  // namespace psahost::test
