// A plugin bundle as a partner receives it: a folder, or a .tar.gz of one, holding a manifest
// and the library it names. Staging copies (or unpacks) it into a private folder and refuses
// anything that could reach outside it, before anything is checked or installed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace psahost::plugins {

// A bundle that cannot be taken as it is; the message names the entry and what is wrong.
struct BundleError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct BundleLimits {
  std::size_t max_entries = 64;
  std::uint64_t max_file_bytes = std::uint64_t{256} << 20;   // one library
  std::uint64_t max_total_bytes = std::uint64_t{512} << 20;  // everything unpacked
};

// Unpacks a gzip-compressed ustar archive (GNU long names and pax "path" records included) into
// dest, an empty folder. Only regular files and folders are taken: a symlink, hard link, device
// or FIFO, a name that is absolute or has a ".." part, a header whose checksum is wrong, or a
// file past the limits is refused with BundleError before it is written. Files are written
// owner-only (0600; 0700 when executable by its owner), never through an existing path.
void unpack_tar_gz(const std::filesystem::path& archive, const std::filesystem::path& dest,
                   const BundleLimits& limits = {});

// Copies a bundle folder into dest, an empty folder, with the same refusals (a symlink anywhere
// in it, a special file, too many or too large files) and the same modes.
void copy_bundle_folder(const std::filesystem::path& source, const std::filesystem::path& dest,
                        const BundleLimits& limits = {});

// The bundle's root inside a staging folder: the folder itself, or its one subfolder when that
// is all it holds (how `tar -czf b.tar.gz plugin/` packs).
std::filesystem::path bundle_root(const std::filesystem::path& staged);

}  // namespace psahost::plugins
