#include "plugins/bundle.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <memory>
#include <utility>
#include <vector>

namespace psahost::plugins {
namespace fs = std::filesystem;

namespace {

constexpr std::size_t kBlock = 512;

// Reads the decompressed bytes of a gzip file, member after member.
class GzipReader {
 public:
  explicit GzipReader(const fs::path& file) : file_(std::fopen(file.c_str(), "rb"), &std::fclose) {
    if (!file_) throw BundleError("cannot read " + file.string());
    if (inflateInit2(&z_, 16 + MAX_WBITS) != Z_OK) throw BundleError("zlib cannot start");
    ready_ = true;
  }
  ~GzipReader() {
    if (ready_) inflateEnd(&z_);
  }
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;

  // Fills out with up to n bytes; fewer only at the end of the data.
  std::size_t read(char* out, std::size_t n) {
    std::size_t got = 0;
    while (got < n && !done_) {
      if (z_.avail_in == 0) {
        const std::size_t r = std::fread(in_.data(), 1, in_.size(), file_.get());
        if (r == 0) {
          if (std::ferror(file_.get())) throw BundleError("cannot read the archive");
          if (!at_member_start_) throw BundleError("the archive is cut short (gzip data ends)");
          done_ = true;
          break;
        }
        z_.next_in = reinterpret_cast<Bytef*>(in_.data());
        z_.avail_in = static_cast<uInt>(r);
      }
      z_.next_out = reinterpret_cast<Bytef*>(out + got);
      z_.avail_out = static_cast<uInt>(n - got);
      const int rc = inflate(&z_, Z_NO_FLUSH);
      got = n - z_.avail_out;
      at_member_start_ = false;
      if (rc == Z_STREAM_END) {
        inflateReset(&z_);  // another gzip member may follow
        at_member_start_ = true;
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw BundleError("the archive is not valid gzip data" +
                          std::string(z_.msg ? std::string(": ") + z_.msg : ""));
      }
    }
    return got;
  }

 private:
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file_;
  z_stream z_{};
  bool ready_ = false;
  bool done_ = false;
  bool at_member_start_ = true;
  std::array<char, 64 * 1024> in_{};
};

std::string field(const char* header, std::size_t offset, std::size_t size) {
  const char* start = header + offset;
  return std::string(start, strnlen(start, size));
}

std::uint64_t octal(const char* header, std::size_t offset, std::size_t size, const char* what) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(header + offset);
  if (p[0] & 0x80) throw BundleError(std::string("an entry's ") + what + " is too large");
  std::uint64_t v = 0;
  std::size_t i = 0;
  while (i < size && p[i] == ' ') ++i;
  for (; i < size && p[i] >= '0' && p[i] <= '7'; ++i) v = v * 8 + (p[i] - '0');
  for (; i < size; ++i) {
    if (p[i] != ' ' && p[i] != '\0')
      throw BundleError(std::string("an entry's ") + what + " is not an octal number");
  }
  return v;
}

bool checksum_ok(const char* header) {
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum == octal(header, 148, 8, "checksum");
}

// The entry's path inside the bundle, as parts; refuses what could leave it.
std::vector<std::string> safe_parts(const std::string& name) {
  if (name.empty()) throw BundleError("an entry has no name");
  if (name.front() == '/') throw BundleError("entry '" + name + "' has an absolute path");
  if (name.find('\\') != std::string::npos) {
    throw BundleError("entry '" + name + "' has a backslash in its path");
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('/', start), name.size());
    const std::string part = name.substr(start, end - start);
    if (part == "..") throw BundleError("entry '" + name + "' has a '..' in its path");
    if (!part.empty() && part != ".") parts.push_back(part);
    start = end + 1;
  }
  return parts;
}

// Creates the folders of parts under dest (never following anything: dest is fresh and we write
// no links into it) and returns the full path.
fs::path place(const fs::path& dest, const std::vector<std::string>& parts, bool is_dir) {
  fs::path p = dest;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    p /= parts[i];
    if (i + 1 == parts.size() && !is_dir) break;
    std::error_code ec;
    const auto st = fs::symlink_status(p, ec);
    if (fs::exists(st)) {
      if (!fs::is_directory(st)) throw BundleError("entry '" + p.string() + "' is not a folder");
      continue;
    }
    if (::mkdir(p.c_str(), 0700) != 0) {
      throw BundleError("cannot create " + p.string() + ": " +
                        std::system_category().message(errno));
    }
  }
  return p;
}

class OutFile {
 public:
  OutFile(const fs::path& path, bool executable, const std::string& name) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 executable ? 0700 : 0600);
    if (fd_ < 0) {
      throw BundleError(errno == EEXIST ? "entry '" + name + "' appears twice"
                                        : "cannot write " + path.string() + ": " +
                                              std::system_category().message(errno));
    }
  }
  ~OutFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  OutFile(const OutFile&) = delete;
  OutFile& operator=(const OutFile&) = delete;
  void write(const char* data, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd_, data, n);
      if (w < 0) {
        if (errno == EINTR) continue;
        throw BundleError(std::string("cannot write a bundle file: ") +
                          std::system_category().message(errno));
      }
      data += w;
      n -= static_cast<std::size_t>(w);
    }
  }

 private:
  int fd_ = -1;
};

void count_entry(std::size_t& entries, const BundleLimits& limits) {
  if (++entries > limits.max_entries) {
    throw BundleError("the bundle has more than " + std::to_string(limits.max_entries) +
                      " entries; a plugin bundle is a manifest and its library");
  }
}

void check_size(const std::string& name, std::uint64_t size, std::uint64_t& total,
                const BundleLimits& limits) {
  if (size > limits.max_file_bytes) {
    throw BundleError("entry '" + name + "' is larger than " +
                      std::to_string(limits.max_file_bytes >> 20) + " MiB");
  }
  total += size;
  if (total > limits.max_total_bytes) {
    throw BundleError("the bundle unpacks to more than " +
                      std::to_string(limits.max_total_bytes >> 20) + " MiB");
  }
}

// The "path" record of a pax extended header ("<len> path=<value>\n" records).
std::string pax_path(const std::string& data) {
  std::size_t pos = 0;
  std::string path;
  while (pos < data.size()) {
    const std::size_t space = data.find(' ', pos);
    if (space == std::string::npos) break;
    const std::size_t len = std::strtoull(data.substr(pos, space - pos).c_str(), nullptr, 10);
    if (len == 0 || pos + len > data.size()) throw BundleError("a pax header is malformed");
    const std::string record = data.substr(space + 1, len - (space + 1 - pos) - 1);
    if (record.rfind("path=", 0) == 0) path = record.substr(5);
    pos += len;
  }
  return path;
}

}  // namespace

void unpack_tar_gz(const fs::path& archive, const fs::path& dest, const BundleLimits& limits) {
  GzipReader in(archive);
  std::array<char, kBlock> header{};
  std::vector<char> buffer(64 * 1024);
  std::size_t entries = 0;
  std::uint64_t total = 0;
  std::string long_name;  // from a GNU 'L' entry or a pax 'x' header, for the next entry
  const auto read_exact = [&](char* out, std::size_t n) {
    if (in.read(out, n) != n) throw BundleError("the archive is cut short");
  };
  const auto read_data = [&](std::uint64_t size, std::size_t limit, const char* what) {
    if (size > limit) throw BundleError(std::string("a ") + what + " header is too long");
    std::string data(static_cast<std::size_t>((size + kBlock - 1) / kBlock * kBlock), '\0');
    read_exact(data.data(), data.size());
    data.resize(static_cast<std::size_t>(size));
    return data;
  };
  while (true) {
    const std::size_t got = in.read(header.data(), kBlock);
    if (got == 0) break;  // no end-of-archive blocks; what came before was complete
    if (got != kBlock) throw BundleError("the archive is cut short");
    if (std::all_of(header.begin(), header.end(), [](char c) { return c == '\0'; })) break;
    if (!checksum_ok(header.data())) {
      throw BundleError("the archive has a damaged header (its checksum does not match)");
    }
    const char type = header[156];
    const std::uint64_t size = octal(header.data(), 124, 12, "size");
    if (type == 'L') {
      long_name = read_data(size, 4096, "long name");
      while (!long_name.empty() && long_name.back() == '\0') long_name.pop_back();
      continue;
    }
    if (type == 'x') {
      if (auto path = pax_path(read_data(size, 64 * 1024, "pax")); !path.empty()) long_name = path;
      continue;
    }
    if (type == 'g') {
      read_data(size, 64 * 1024, "pax");
      continue;
    }
    std::string name = field(header.data(), 0, 100);
    // POSIX ustar keeps a prefix of long names apart; GNU's "ustar  " uses those bytes otherwise.
    if (std::memcmp(header.data() + 257, "ustar\0", 6) == 0) {
      const std::string prefix = field(header.data(), 345, 155);
      if (!prefix.empty()) name = prefix + "/" + name;
    }
    if (!long_name.empty()) name = std::exchange(long_name, std::string());
    count_entry(entries, limits);
    if (type == '1' || type == '2') {
      throw BundleError("entry '" + name + "' is a link; a bundle holds only files and folders");
    }
    const auto parts = safe_parts(name);
    if (type == '5') {
      if (!parts.empty()) place(dest, parts, true);
      continue;
    }
    if (type != '0' && type != '\0' && type != '7') {
      throw BundleError("entry '" + name + "' is not a regular file (type '" +
                        std::string(1, type) + "')");
    }
    if (parts.empty()) throw BundleError("entry '" + name + "' has no file name");
    check_size(name, size, total, limits);
    const bool executable = (octal(header.data(), 100, 8, "mode") & 0100) != 0;
    OutFile out(place(dest, parts, false), executable, name);
    std::uint64_t left = (size + kBlock - 1) / kBlock * kBlock;
    std::uint64_t data_left = size;
    while (left > 0) {
      const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(left, buffer.size()));
      read_exact(buffer.data(), n);
      const std::size_t keep = static_cast<std::size_t>(std::min<std::uint64_t>(data_left, n));
      out.write(buffer.data(), keep);
      data_left -= keep;
      left -= n;
    }
  }
}

void copy_bundle_folder(const fs::path& source, const fs::path& dest, const BundleLimits& limits) {
  std::error_code ec;
  if (!fs::is_directory(fs::symlink_status(source, ec))) {
    throw BundleError(source.string() + " is not a folder (or is a link to one)");
  }
  std::size_t entries = 0;
  std::uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(source); it != fs::recursive_directory_iterator();
       ++it) {
    const fs::path rel = it->path().lexically_relative(source);
    const std::string name = rel.generic_string();
    count_entry(entries, limits);
    const auto st = it->symlink_status();
    if (fs::is_symlink(st)) {
      throw BundleError("entry '" + name + "' is a link; a bundle holds only files and folders");
    }
    const auto parts = safe_parts(name);
    if (fs::is_directory(st)) {
      place(dest, parts, true);
      continue;
    }
    if (!fs::is_regular_file(st)) throw BundleError("entry '" + name + "' is not a regular file");
    const std::uint64_t size = fs::file_size(it->path());
    check_size(name, size, total, limits);
    const int in = ::open(it->path().c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (in < 0) throw BundleError("cannot read " + it->path().string());
    struct stat info {};
    ::fstat(in, &info);
    std::unique_ptr<int, void (*)(int*)> closer(new int(in), [](int* fd) {
      ::close(*fd);
      delete fd;
    });
    OutFile out(place(dest, parts, false), (info.st_mode & S_IXUSR) != 0, name);
    std::vector<char> buffer(64 * 1024);
    std::uint64_t copied = 0;
    while (true) {
      const ssize_t r = ::read(in, buffer.data(), buffer.size());
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw BundleError("cannot read " + it->path().string());
      if (r == 0) break;
      copied += static_cast<std::uint64_t>(r);
      if (copied > limits.max_file_bytes) throw BundleError("entry '" + name + "' grew while read");
      out.write(buffer.data(), static_cast<std::size_t>(r));
    }
  }
}

fs::path bundle_root(const fs::path& staged) {
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(staged)) entries.push_back(e.path());
  if (entries.size() == 1 && fs::is_directory(fs::symlink_status(entries.front()))) {
    return entries.front();
  }
  return staged;
}

}  // namespace psahost::plugins
