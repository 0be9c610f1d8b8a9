#include "support/process.hpp"

#include "plugins/manifest.hpp"
#include "plugins/signing.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <json/reader.h>
#include <json/writer.h>

#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace psahost::test {
namespace fs = std::filesystem;

namespace {

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

pid_t spawn(const std::string& program, const std::vector<std::string>& args, const fs::path& out,
            const fs::path& err, const std::vector<std::string>& env) {
  std::vector<char*> argv;
  std::string binary = program;
  argv.push_back(binary.data());
  std::vector<std::string> copy = args;
  for (auto& a : copy) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_copy = env;
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // No child outlives a test runner that dies (a failed REQUIRE, a crash, ctest's timeout).
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    const int in_fd = ::open("/dev/null", O_RDONLY);
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    // The test runner may have signals blocked; the child must start with a clean mask.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // The tests' fakes listen on loopback, which psahost refuses to reach unless the operator
    // allows it; a test about the refusal passes --allow-outbound-network none to override this.
    ::setenv("PSAHOST_ALLOW_OUTBOUND_NETWORK", "127.0.0.0/8,::1/128", 0);
    // Likewise /metrics, which tests read; a test about the token passes --metrics-access=closed.
    ::setenv("PSAHOST_METRICS_ACCESS", "public", 0);
    for (auto& e : env_copy) ::putenv(e.data());
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempDir::TempDir() {
  std::random_device rd;
  path_ =
      fs::temp_directory_path() / ("psahost-test-" + std::to_string(rd()) + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

CliResult run_cli(const std::vector<std::string>& args) {
  return run_program(PSAHOST_BINARY, args);
}

CliResult run_program(const std::string& program, const std::vector<std::string>& args) {
  TempDir io;
  const pid_t pid = spawn(program, args, io.path() / "out", io.path() / "err");
  int status = 0;
  ::waitpid(pid, &status, 0);
  return {decode_status(status), read_file(io.path() / "out"), read_file(io.path() / "err")};
}

Server::Server(fs::path data_dir, std::vector<std::string> extra_args)
    : data_dir_(std::move(data_dir)), extra_args_(std::move(extra_args)) {
  out_file_ = data_dir_.parent_path() / (data_dir_.filename().string() + ".stdout");
  err_file_ = data_dir_.parent_path() / (data_dir_.filename().string() + ".stderr");
}

Server::~Server() {
  if (pid_ > 0) kill_hard();
}

void Server::start(std::chrono::milliseconds timeout) {
  const fs::path address = data_dir_ / "run" / "address";
  std::error_code ec;
  fs::remove(address, ec);
  std::vector<std::string> args = {
      "serve", "--data-dir", data_dir_.string(), "--listen", "127.0.0.1:0", "--threads", "2"};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = spawn(PSAHOST_BINARY, args, out_file_, err_file_);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("psahost exited during start with status " +
                               std::to_string(decode_status(status)) + ": " + stderr_text());
    }
    const std::string url = read_file(address);
    const auto colon = url.rfind(':');
    if (!url.empty() && url.back() == '\n' && colon != std::string::npos) {
      port_ = static_cast<uint16_t>(std::stoi(url.substr(colon + 1)));
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_hard();
  throw std::runtime_error("psahost did not become ready in time: " + stderr_text());
}

int Server::stop(int sig, std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return -1;
  ::kill(pid_, sig);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return decode_status(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

void Server::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string Server::stdout_text() const {
  return read_file(out_file_);
}
std::string Server::stderr_text() const {
  return read_file(err_file_);
}

std::string create_token(const fs::path& data_dir, const std::string& tenant,
                         const std::string& role) {
  const auto r = run_cli(
      {"tokens", "create", "--data-dir", data_dir.string(), "--tenant", tenant, "--role", role});
  if (r.exit_code != 0) throw std::runtime_error("tokens create failed: " + r.err);
  std::string token = r.out;
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) token.pop_back();
  return token;
}

void copy_plugin(const fs::path& from_dir, const std::string& id, const fs::path& dir) {
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                           fs::perms::others_read | fs::perms::others_exec);
  fs::copy_file(from_dir / (id + ".json"), dir / (id + ".json"));
  fs::copy_file(from_dir / (id + ".so"), dir / (id + ".so"));
}

void sign_with_build_key(const fs::path& manifest) {
  auto read = plugins::read_manifest_file(manifest);
  if (!read.document) throw std::runtime_error(plugins::describe(manifest, read.errors));
  const Json::Value signed_document = plugins::sign_manifest(*read.document, PSAHOST_BUILD_KEY);
  std::ofstream(manifest, std::ios::trunc)
      << Json::writeString(Json::StreamWriterBuilder(), signed_document);
}

void set_config_defaults(const fs::path& manifest, const Json::Value& members) {
  Json::Value doc;
  std::string errors;
  const std::string text = read_file(manifest);
  Json::CharReaderBuilder builder;
  std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
  if (!reader->parse(text.data(), text.data() + text.size(), &doc, &errors)) {
    throw std::runtime_error(manifest.string() + " is not JSON: " + errors);
  }
  for (const auto& name : members.getMemberNames()) {
    doc["config"]["defaults"][name] = members[name];
  }
  std::ofstream(manifest, std::ios::trunc) << Json::writeString(Json::StreamWriterBuilder(), doc);
  if (doc.isMember("signature")) sign_with_build_key(manifest);
}

}  // namespace psahost::test
