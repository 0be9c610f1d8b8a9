// The console's files (host/ui/assets), built into the binary by embed_assets.cmake.
// Each is its name, its bytes and the SHA-256 of those bytes, which is its ETag.
#pragma once

#include <span>
#include <string_view>

namespace psahost::ui {

struct ConsoleAsset {
  std::string_view name;  // "app.js": the file's name, served at /ui/<name>
  std::string_view body;
  std::string_view sha256;  // lower-case hex
};

std::span<const ConsoleAsset> console_assets();

}  // namespace psahost::ui
