#include "support/sdk_example.hpp"

#include "support/process.hpp"

#include <cstdlib>
#include <stdexcept>

namespace psahost::test {

std::filesystem::path build_sdk_example(const std::string& example,
                                        const std::filesystem::path& work_dir) {
  namespace fs = std::filesystem;
  const fs::path prefix = work_dir / "prefix";
  const fs::path src = work_dir / "src";
  const fs::path build = work_dir / "build";
  const fs::path log = work_dir / "log.txt";
  const auto run = [&](const std::string& command) {
    if (std::system((command + " >" + log.string() + " 2>&1").c_str()) != 0) {
      throw std::runtime_error(command + " failed:\n" + read_file(log));
    }
  };
  run("cmake --install " + std::string(PSAHOST_BINARY_DIR) + "/sdk --prefix " + prefix.string());
  if (!fs::exists(prefix / "include" / "psa" / "plugin_api.h")) {
    throw std::runtime_error("the installed SDK has no psa/plugin_api.h");
  }
  fs::copy(fs::path(PSAHOST_SOURCE_DIR) / "sdk" / "examples" / example, src,
           fs::copy_options::recursive);
  run("cmake -S " + src.string() + " -B " + build.string() +
      " -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH=" + prefix.string());
  run("cmake --build " + build.string());
  // The author signs what they built; this build's key stands in for theirs, so a host that
  // trusts the bundled plugins trusts this one too.
  const fs::path plugin_dir = build / "plugin";
  sign_with_build_key(plugin_dir / (example + ".json"));
  return plugin_dir;
}

}  // namespace psahost::test
