// Runs the real psahost binary for integration tests: a fresh data directory per test, the
// server on a free loopback port, its output captured, and a clean or forced stop.
#pragma once

#include "support/wait.hpp"

#include <sys/types.h>

#include <json/value.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

namespace psahost::test {

// A fresh directory under the system temp folder, removed with everything in it.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs `psahost args...` to completion (stdin closed) and captures its output.
// Starts program (looked up in PATH) with args in the background: stdin from /dev/null, stdout
// and stderr into out and err, env ("NAME=value") added to the environment it inherits. It is
// killed when the test runner dies. The caller waits for it.
pid_t spawn(const std::string& program, const std::vector<std::string>& args,
            const std::filesystem::path& out, const std::filesystem::path& err,
            const std::vector<std::string>& env = {});

CliResult run_cli(const std::vector<std::string>& args);
// Runs another program (looked up on PATH) the same way.
CliResult run_program(const std::string& program, const std::vector<std::string>& args);

// `psahost serve` on 127.0.0.1 with a free port in data_dir; start() returns once /readyz
// could be answered (the address file is written after plugins load).
class Server {
 public:
  explicit Server(std::filesystem::path data_dir, std::vector<std::string> extra_args = {});
  ~Server();  // SIGKILLs the process if still running
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start(std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // Sends sig and waits up to timeout; returns the exit status (128+signal if killed by one),
  // or -1 if it did not exit in time.
  int stop(int sig, std::chrono::milliseconds timeout = std::chrono::seconds(30));
  void kill_hard();  // SIGKILL, no waiting for anything but the process itself

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  bool running() const { return pid_ > 0; }
  std::string stdout_text() const;
  std::string stderr_text() const;
  const std::filesystem::path& data_dir() const { return data_dir_; }

 private:
  std::filesystem::path data_dir_;
  std::vector<std::string> extra_args_;
  std::filesystem::path out_file_, err_file_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// An admin token for tenant in data_dir, made with `psahost tokens create`.
std::string create_token(const std::filesystem::path& data_dir, const std::string& tenant,
                         const std::string& role);

std::string read_file(const std::filesystem::path& path);

// Copies a built plugin (manifest and library) into dir, created readable by all and writable by
// the owner only (the host refuses a library others could change), so a test can load or change
// the copy.
void copy_plugin(const std::filesystem::path& from_dir, const std::string& id,
                 const std::filesystem::path& dir);

// Signs a manifest in place with this build's key (the one the bundled and test plugins are
// signed with and the host trusts by default), for a test that writes or changes a manifest.
void sign_with_build_key(const std::filesystem::path& manifest);

// Sets members of a plugin manifest's config defaults (what the plugin gets without partner
// settings), e.g. {"last_number":"INV-2026-01041"} for a copied test plugin; a signed manifest
// is signed again with this build's key.
void set_config_defaults(const std::filesystem::path& manifest, const Json::Value& members);

}  // namespace psahost::test
